"""Load, slowloris and disconnect storm against a real `plinth serve` on 127.0.0.1 (bounded in count and
time). What it checks (no timings: those are bench/'s):
  - 1000 concurrent streaming clients: no connection error, no 5xx, no error event; every request
    either completes its stream or gets a 429 with Retry-After;
  - 200 slowloris connections (headers one byte a second) are all cut off by the read timeout while the
    streams are served;
  - 200 clients that hang up after their first token: their requests are cancelled and the engine is
    idle again afterwards;
  - the server still answers, and SIGTERM exits 0.
It prints the measured summary (time to first token, 429 decision time) for the record.

Usage: load_test.py PLINTH_BINARY   (exit 77: skipped without the default decoder)"""

import asyncio
import json
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from load_client import run_streams, slowloris, summary  # noqa: E402
from serve_fixture import DECODER, Server  # noqa: E402

CLIENTS = 1000
SLOWLORIS = 200
STORM = 200
READ_TIMEOUT_S = 5


def fail(message, server):
    print("FAIL: " + message)
    print("\n".join(server.log[-40:]))
    server.kill()
    sys.exit(1)


async def scenario(port):
    # The streams and the slowloris connections at once; then the storm, on a server with room for it.
    slow = asyncio.create_task(slowloris("127.0.0.1", port, SLOWLORIS, seconds=READ_TIMEOUT_S * 4))
    streams = asyncio.create_task(run_streams("127.0.0.1", port, DECODER, CLIENTS, max_tokens=4, timeout=240))
    streams, slow = await asyncio.wait_for(asyncio.gather(streams, slow), 300)
    storm = await asyncio.wait_for(run_streams("127.0.0.1", port, DECODER, STORM, max_tokens=64, hang_up_after=1,
                                               prompt="Tell me a story.", timeout=240), 300)
    return streams, slow, storm


def main():
    plinth = sys.argv[1]
    listed = json.loads(subprocess.run([plinth, "models", "--json"], capture_output=True, text=True, check=True).stdout)
    if not any(m["name"] == DECODER and m["status"] == "verified" for m in listed["models"]):
        print("SKIP: the default decoder is not installed (tools/bootstrap.sh models)")
        sys.exit(1 if os.environ.get("PLINTH_REQUIRE_MODELS") == "1" else 77)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))

    args = ["--no-embeddings", "--max-running", "32", "--max-queued", "96", "--read-timeout", str(READ_TIMEOUT_S),
            "--max-queue-wait", "1"]
    with Server(plinth, args) as server:
        server.wait_ready()
        t0 = time.monotonic()
        streams, slow, storm = asyncio.run(scenario(server.port))
        elapsed = time.monotonic() - t0
        s = summary(streams)
        st = summary(storm)
        print(json.dumps({"streams": s, "storm": st, "seconds": round(elapsed, 1),
                          "slowloris_closed": sum(1 for x in slow if x is not None),
                          "slowloris_longest_open_s": max((x for x in slow if x is not None), default=None)}, indent=2))
        if s["connection_errors"] or s["status_5xx"] or s["error_events"]:
            fail(f"streams: {s['connection_errors']} connection errors, {s['status_5xx']} 5xx, "
                 f"{s['error_events']} error events", server)
        if s["completed"] + s["rejected_429"] != CLIENTS:
            bad = [r for r in streams if not ((r.status == 200 and r.done) or r.status == 429)][:5]
            fail(f"streams: {s['other']} neither completed nor 429: " +
                 "; ".join(f"status={r.status} error={r.error} done={r.done}" for r in bad), server)
        if s["rejected_429_with_retry_after"] != s["rejected_429"]:
            fail("a 429 without Retry-After", server)
        if s["completed"] == 0:
            fail("no stream completed", server)
        if any(x is None for x in slow):
            fail(f"{sum(1 for x in slow if x is None)} slowloris connections were still open", server)
        if st["connection_errors"] or st["status_5xx"]:
            fail(f"storm: {st['connection_errors']} connection errors, {st['status_5xx']} 5xx", server)
        hung_up = sum(1 for r in storm if r.status == 200 and r.tokens >= 1 and not r.done)
        if hung_up + st["rejected_429"] != STORM or hung_up == 0:
            fail(f"storm: {hung_up} hung up after a token and {st['rejected_429']} got 429, of {STORM}", server)
        # The hung-up requests are cancelled: nothing runs or waits once the storm is over.
        give_up = time.monotonic() + 60
        while time.monotonic() < give_up:
            busy = server.metric("plinth_requests_running") + server.metric("plinth_requests_waiting")
            if busy == 0:
                break
            time.sleep(0.2)
        else:
            fail(f"the engine still holds {busy} requests after the storm", server)
        if server.metric("plinth_requests_total", status="499") < 1:
            fail("no request was recorded as cancelled by its client", server)
        status, _ = server.get("/health")
        if status != 200:
            fail(f"/health answered {status} after the load", server)
        code = server.stop()
        if code != 0:
            fail(f"plinth serve exited {code}", server)
    print("PASS")


if __name__ == "__main__":
    main()
