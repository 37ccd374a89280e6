"""A small asyncio load client for `plinth serve` (and any OpenAI-compatible server): many concurrent
streaming chat clients, slowloris connections, and clients that hang up mid-stream. Standard library
only; every loop is bounded in count and time, and it connects to the address it is given (the tests
and benchmarks give 127.0.0.1).

    results = asyncio.run(run_streams("127.0.0.1", 8000, model, clients=1000, max_tokens=8))
"""

import asyncio
import json
import time

HEADER_END = b"\r\n\r\n"


class StreamResult:
    """One streaming request as its client saw it."""

    def __init__(self):
        self.status = None          # HTTP status, None when the connection failed
        self.error = None           # a connection-level failure, as text
        self.retry_after = None     # the Retry-After header of a 429
        self.sent = None            # monotonic time the request was written
        self.head_at = None         # the response head arrived
        self.first_token_at = None  # the first content chunk arrived
        self.done = False           # the stream ended with data: [DONE]
        self.tokens = 0             # content chunks
        self.finish_reason = None
        self.error_event = None     # an error object sent inside the stream

    @property
    def ttft(self):
        return None if self.first_token_at is None else self.first_token_at - self.sent

    @property
    def decision(self):
        """Seconds from the request to its response head (for a 429: how fast it was refused)."""
        return None if self.head_at is None else self.head_at - self.sent


def chat_body(model, prompt, max_tokens, stream=True):
    return json.dumps({"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
                       "temperature": 0, "stream": stream}).encode()


def request_bytes(host, port, path, body, key=None):
    head = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json",
            f"Content-Length: {len(body)}", "Connection: close"]
    if key:
        head.append(f"Authorization: Bearer {key}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _read_head(reader):
    raw = await reader.readuntil(HEADER_END)
    lines = raw.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return status, headers


async def _chunks(reader, headers):
    """The body's pieces as they arrive (chunked or Content-Length)."""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size_line = await reader.readline()
            size = int(size_line.strip().split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                return
            data = await reader.readexactly(size)
            await reader.readexactly(2)
            yield data
    else:
        n = int(headers.get("content-length", "0"))
        if n:
            yield await reader.readexactly(n)


async def one_stream(host, port, model, prompt, max_tokens, key=None, hang_up_after=None, timeout=300.0):
    """One streaming chat request. hang_up_after=k closes the connection after k content chunks."""
    r = StreamResult()
    writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        r.sent = time.monotonic()
        writer.write(request_bytes(host, port, "/v1/chat/completions", chat_body(model, prompt, max_tokens), key))
        await writer.drain()
        r.status, headers = await asyncio.wait_for(_read_head(reader), timeout)
        r.head_at = time.monotonic()
        r.retry_after = headers.get("retry-after")
        buffer = b""
        async for piece in _chunks(reader, headers):
            buffer += piece
            while b"\n\n" in buffer:
                event, buffer = buffer.split(b"\n\n", 1)
                if not event.startswith(b"data: "):
                    continue
                data = event[6:]
                if data == b"[DONE]":
                    r.done = True
                    continue
                obj = json.loads(data)
                if "error" in obj:
                    r.error_event = obj["error"]
                    continue
                for choice in obj.get("choices", []):
                    if choice.get("delta", {}).get("content"):
                        r.tokens += 1
                        if r.first_token_at is None:
                            r.first_token_at = time.monotonic()
                    if choice.get("finish_reason"):
                        r.finish_reason = choice["finish_reason"]
                if hang_up_after is not None and r.tokens >= hang_up_after:
                    writer.transport.abort()
                    return r
    except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as e:
        r.error = f"{type(e).__name__}: {e}"
    finally:
        if writer is not None:
            writer.close()
    return r


async def run_streams(host, port, model, clients, max_tokens, prompt="Say hello.", key=None, hang_up_after=None,
                      timeout=300.0):
    """`clients` streaming requests at once; their StreamResults."""
    tasks = [one_stream(host, port, model, f"{prompt} ({i})", max_tokens, key, hang_up_after, timeout)
             for i in range(clients)]
    return await asyncio.gather(*tasks)


async def slowloris(host, port, connections, seconds, byte_interval=1.0):
    """Connections that send a request's header one byte per `byte_interval`. Returns, per connection,
    the seconds until the server closed it (None: still open when `seconds` ran out)."""
    header = f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nContent-Length: 10\r\n\r\n".encode()

    async def one():
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            return 0.0  # refused outright
        start = time.monotonic()
        try:
            for i in range(len(header)):
                if time.monotonic() - start > seconds:
                    return None
                writer.write(header[i:i + 1])
                await writer.drain()
                try:
                    data = await asyncio.wait_for(reader.read(1024), byte_interval)
                    if not data:
                        return time.monotonic() - start  # closed by the server
                except asyncio.TimeoutError:
                    pass
            return None
        except (ConnectionError, OSError):
            return time.monotonic() - start
        finally:
            writer.close()

    return await asyncio.gather(*[one() for _ in range(connections)])


def percentile(values, q):
    """The q-th percentile (0-100) by linear interpolation; None for no values."""
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    pos = q / 100 * (len(v) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def summary(results):
    """Counts and latencies of a list of StreamResults."""
    ok = [r for r in results if r.status == 200 and r.done and r.error_event is None]
    refused = [r for r in results if r.status == 429]
    return {
        "requests": len(results),
        "completed": len(ok),
        "rejected_429": len(refused),
        "rejected_429_with_retry_after": sum(1 for r in refused if r.retry_after),
        "connection_errors": sum(1 for r in results if r.error is not None and r.status is None),
        "status_5xx": sum(1 for r in results if r.status is not None and r.status >= 500),
        "error_events": sum(1 for r in results if r.error_event is not None),
        "other": len(results) - len(ok) - len(refused),
        "ttft_p50_s": percentile([r.ttft for r in ok], 50),
        "ttft_p99_s": percentile([r.ttft for r in ok], 99),
        "decision_429_p99_ms": (lambda p: None if p is None else p * 1e3)(percentile([r.decision for r in refused], 99)),
        "tokens": sum(r.tokens for r in ok),
    }
