#!/usr/bin/env python3
"""llama.cpp's server under the chunked-prefill scenario of `plinth bench engine`.

Starts llama-server on 127.0.0.1 (17 slots, continuous batching), streams 16 completions of a
128-token synthetic prompt, and once each has 40 tokens sends a 2048-token prompt. Prints the
16 decoders' inter-token latency (p50/p99) before it arrived and while it was prefilled (until its
first token), the ratio of the p99s, and the long prompt's time to first token: the same
definitions as Plinth's table. Prompts are token-id arrays (the server accepts them), drawn like
Plinth's synthetic prompts: ids away from both ends of the vocabulary.

Usage: bench/llama-server-prefill.py --server BIN --model GGUF [--threads 2] [--port 18080]
Every wait is bounded; the server is stopped on exit.
"""
import argparse
import http.client
import json
import random
import subprocess
import sys
import threading
import time

DECODERS, PROMPT, LONG_PROMPT, WARM, MEASURE_FROM = 16, 128, 2048, 8, 40
DEADLINE_S = 600


def percentile(values, q):
    if not values:
        return 0.0
    v = sorted(values)
    pos = q / 100 * (len(v) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def prompt(n, seed, vocab):
    rng = random.Random(seed)
    lo = min(256, vocab // 4)
    return [rng.randint(lo, vocab - lo - 1) for _ in range(n)]


class Stream(threading.Thread):
    """One streamed /completion; records the arrival time of every token event."""

    def __init__(self, port, tokens, n_predict):
        super().__init__(daemon=True)
        self.port, self.tokens, self.n_predict = port, tokens, n_predict
        self.times, self.error, self.submitted = [], None, None
        self.stop = threading.Event()

    def run(self):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=DEADLINE_S)
            body = json.dumps({"prompt": self.tokens, "n_predict": self.n_predict, "stream": True,
                               "temperature": 0.0, "ignore_eos": True, "cache_prompt": False})
            self.submitted = time.monotonic()
            conn.request("POST", "/completion", body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            if resp.status != 200:
                raise RuntimeError(f"HTTP {resp.status}: {resp.read()[:200]!r}")
            while not self.stop.is_set():
                line = resp.readline()
                if not line:
                    break
                if line.startswith(b"data: "):
                    event = json.loads(line[6:])
                    if event.get("content") is not None and not event.get("stop"):
                        self.times.append(time.monotonic())
                    if event.get("stop"):
                        break
            conn.close()
        except Exception as e:  # reported by the main thread
            self.error = e


def wait_until(pred, what):
    end = time.monotonic() + DEADLINE_S
    while not pred():
        if time.monotonic() > end:
            sys.exit(f"error: timed out waiting for {what}")
        time.sleep(0.005)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", required=True, help="llama-server binary")
    ap.add_argument("--model", required=True, help="GGUF file")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--port", type=int, default=18080)
    ap.add_argument("--vocab", type=int, default=49152)
    args = ap.parse_args()

    slots = DECODERS + 1
    ctx = slots * (LONG_PROMPT + 256)
    server = subprocess.Popen(
        [args.server, "-m", args.model, "--host", "127.0.0.1", "--port", str(args.port), "-np", str(slots),
         "-c", str(ctx), "-t", str(args.threads), "-tb", str(args.threads), "-cb", "--no-webui"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def healthy():
            if server.poll() is not None:
                sys.exit("error: llama-server exited: " + server.stderr.read().decode()[-2000:])
            try:
                c = http.client.HTTPConnection("127.0.0.1", args.port, timeout=2)
                c.request("GET", "/health")
                return c.getresponse().status == 200
            except OSError:
                return False
        wait_until(healthy, "llama-server to load the model")

        decoders = [Stream(args.port, prompt(PROMPT, 2000 + i, args.vocab), 100000) for i in range(DECODERS)]
        for d in decoders:
            d.start()
        wait_until(lambda: all(len(d.times) >= WARM or d.error for d in decoders), "the decoders to warm up")
        warm = time.monotonic()
        wait_until(lambda: all(len(d.times) >= MEASURE_FROM or d.error for d in decoders), "the decoders")
        big = Stream(args.port, prompt(LONG_PROMPT, 7, args.vocab), 1)
        big.start()
        wait_until(lambda: big.times or big.error, "the long prompt's first token")
        for s in decoders + [big]:
            if s.error:
                sys.exit(f"error: a stream failed: {s.error}")
        arrived, first = big.submitted, big.times[0]
        before, during = [], []
        for d in decoders:
            for a, b in zip(d.times, d.times[1:]):
                if warm <= b < arrived:
                    before.append(b - a)
                elif arrived <= b < first:
                    during.append(b - a)
        for d in decoders:
            d.stop.set()
        p99_before, p99_during = percentile(before, 99) * 1e3, percentile(during, 99) * 1e3
        print(f"\n== llama.cpp server ({slots} slots, {args.threads} threads): a {LONG_PROMPT}-token prompt arrives "
              f"while {DECODERS} sequences decode ==")
        print(f"decoders' ITL p50/p99 before: {percentile(before, 50) * 1e3:.1f} / {p99_before:.1f} ms; during the "
              f"prefill: {percentile(during, 50) * 1e3:.1f} / {p99_during:.1f} ms; p99 ratio "
              f"{p99_during / p99_before if p99_before else 0:.2f}x; long prompt TTFT {(first - arrived) * 1e3:.0f} ms")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
