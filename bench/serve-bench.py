#!/usr/bin/env python3
"""`plinth serve` under many concurrent streaming clients, beside llama.cpp's `llama-server` on the same
GGUF in the same run (the server issue's goals). Loopback only; every phase is bounded in time.

Phases, for each server (Plinth, then llama-server with 8 slots and the same threads):
  clients50   50 concurrent streaming chat clients, 32 tokens each
  clients1000 1000 concurrent streaming chat clients plus 100 slowloris connections (headers one byte a
              second), bounded by --limit seconds: what completed, what got 429, what was still
              waiting, how many slowloris connections were still open
And for Plinth alone, the HTTP overhead: N streaming /v1/completions clients (prompt of 128 token ids,
ignore_eos, 64 tokens) against `plinth bench engine` at the same concurrency, lengths and scheduling
(no prefill cap, all N running), generated tok/s from the first request to the last token.

Usage: bench/serve-bench.py [--plinth build/bin/plinth] [--llama-server PATH] [--threads 2]
                            [--limit 150] [--overhead-concurrency 16] [--json FILE]
(llama-server from bench/llama-cpp-build.sh; without it only Plinth runs.)
"""

import argparse
import asyncio
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "server"))
from load_client import percentile, run_streams, slowloris, summary  # noqa: E402

MODEL = "SmolLM2-135M-Instruct"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def wait_http(url, timeout=180):
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} never answered 200")


def decision_p99(port, outcome="rejected"):
    """The server's own p99 admission-decision time for `outcome`, as the upper bound of the bucket
    holding it (from plinth_admission_decision_seconds), and the count."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        text = r.read().decode()
    buckets = []
    for m in re.finditer(r'^plinth_admission_decision_seconds_bucket\{(.*?)\} (\S+)$', text, re.M):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        if labels.get("outcome") == outcome:
            buckets.append((float(labels["le"]), float(m.group(2))))
    buckets.sort()
    total = buckets[-1][1] if buckets else 0
    for le, count in buckets:
        if total and count >= 0.99 * total:
            return le * 1e3, int(total)
    return None, int(total)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_plinth(plinth, threads, extra):
    port = free_port()
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = subprocess.Popen([plinth, "serve", "--port", str(port), "--no-embeddings", *extra], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_http(f"http://127.0.0.1:{port}/ready")
    return proc, port


def start_llama(server, gguf, threads, slots):
    port = free_port()
    proc = subprocess.Popen([server, "-m", gguf, "--host", "127.0.0.1", "--port", str(port), "-t", str(threads),
                             "-np", str(slots), "-c", str(2048 * slots), "--no-webui"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/health")
    return proc, port


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def bounded(coro, limit):
    """Runs the load for at most `limit` seconds; what has not finished then counts as still waiting."""
    task = asyncio.ensure_future(coro)
    done, _ = await asyncio.wait({task}, timeout=limit)
    if task in done:
        return task.result(), False
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    return None, True


async def clients1000(port, model, limit):
    results = []

    async def one(i):
        from load_client import one_stream
        r = await one_stream("127.0.0.1", port, model, f"Write one sentence about the number {i}.", 32, timeout=limit)
        results.append(r)

    slow = asyncio.ensure_future(slowloris("127.0.0.1", port, 100, seconds=min(limit, 140)))
    start = time.monotonic()
    _, cut = await bounded(asyncio.gather(*[one(i) for i in range(1000)]), limit)
    elapsed = time.monotonic() - start
    slow_result = await slow
    s = summary(results)
    s["still_waiting"] = 1000 - len(results)
    s["cut_at_limit"] = cut
    s["seconds"] = round(elapsed, 1)
    s["within_2s"] = sum(1 for r in results if r.ttft is not None and r.ttft <= 2.0)
    s["slowloris_still_open"] = sum(1 for x in slow_result if x is None)
    s["slowloris_closed_after_s_max"] = max((x for x in slow_result if x is not None), default=None)
    return s


async def clients50(port, model):
    start = time.monotonic()
    results = await run_streams("127.0.0.1", port, model, 50, max_tokens=32,
                                prompt="Write one sentence about the sea.", timeout=600)
    s = summary(results)
    s["seconds"] = round(time.monotonic() - start, 1)
    s["within_2s"] = sum(1 for r in results if r.ttft is not None and r.ttft <= 2.0)
    s["generated_tok_per_s"] = round(s["tokens"] / s["seconds"], 1)
    return s


async def completions_load(port, n, prompt_tokens, gen, vocab=49152):
    """N streaming completions of `prompt_tokens` random ids, ignore_eos, exactly `gen` tokens each."""
    import load_client

    rng = random.Random(7)

    async def one(i):
        ids = [rng.randrange(256, vocab - 256) for _ in range(prompt_tokens)]
        body = json.dumps({"model": MODEL, "prompt": ids, "max_tokens": gen, "temperature": 0,
                           "ignore_eos": True, "stream": True}).encode()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(load_client.request_bytes("127.0.0.1", port, "/v1/completions", body))
        await writer.drain()
        status, headers = await load_client._read_head(reader)
        async for _ in load_client._chunks(reader, headers):
            pass  # ignore_eos: exactly `gen` tokens, read to the end
        writer.close()
        return status, gen

    start = time.monotonic()
    out = await asyncio.gather(*[one(i) for i in range(n)])
    wall = time.monotonic() - start
    assert all(s == 200 for s, _ in out), out
    return n * gen / wall, wall


def engine_reference(plinth, threads, n, prompt_tokens, gen):
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        subprocess.run([plinth, "bench", "engine", "--only", "throughput", "--concurrency", str(n), "--prompt",
                        str(prompt_tokens), "--gen", str(gen), "--json", f.name], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return json.load(open(f.name))["throughput"][0]["generated_tok_per_s"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plinth", default=os.path.join(HERE, "..", "build", "bin", "plinth"))
    ap.add_argument("--llama-server", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=float, default=150)
    ap.add_argument("--overhead-concurrency", type=int, default=16)
    ap.add_argument("--plinth-args", default="", help="extra plinth serve arguments")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 16384), hard))
    llama = args.llama_server
    if llama is None:
        guess = os.path.join(HERE, "..", ".cache", "llama.cpp", "build-11434.0.0-cpu", "bin", "llama-server")
        llama = guess if os.path.exists(guess) else None
    listed = json.loads(subprocess.run([args.plinth, "models", "--json"], capture_output=True, text=True,
                                       check=True).stdout)
    gguf = next(m["path"] for m in listed["models"] if m["name"] == MODEL)
    results = {"cores": os.cpu_count(), "threads": args.threads}

    log("== Plinth: plinth serve " + args.plinth_args)
    proc, port = start_plinth(args.plinth, args.threads, args.plinth_args.split())
    try:
        results["plinth_clients50"] = asyncio.run(clients50(port, MODEL))
        log(json.dumps(results["plinth_clients50"]))
        results["plinth_clients1000"] = asyncio.run(clients1000(port, MODEL, args.limit))
        p99_ms, n = decision_p99(port)
        results["plinth_clients1000"]["server_decision_429_p99_ms_at_most"] = p99_ms
        results["plinth_clients1000"]["server_decisions_429"] = n
        log(json.dumps(results["plinth_clients1000"]))
    finally:
        stop(proc)
    # The overhead: the engine bench's scheduling (no prefill cap, every sequence running) behind HTTP.
    n = args.overhead_concurrency
    proc, port = start_plinth(args.plinth, args.threads, ["--prefill-per-decode", "0", "--max-running", str(n),
                                                          "--max-queue-wait", "0"])
    try:
        served, wall = asyncio.run(completions_load(port, n, 128, 64))
        results["plinth_overhead"] = {"concurrency": n, "served_tok_per_s": round(served, 1)}
    finally:
        stop(proc)
    ref = engine_reference(args.plinth, args.threads, args.overhead_concurrency, 128, 64)
    results["plinth_overhead"]["engine_tok_per_s"] = round(ref, 1)
    results["plinth_overhead"]["overhead"] = round(1 - results["plinth_overhead"]["served_tok_per_s"] / ref, 3)
    log(json.dumps(results["plinth_overhead"]))

    if llama:
        log("== llama-server: 8 slots, %d threads" % args.threads)
        proc, port = start_llama(llama, gguf, args.threads, 8)
        try:
            results["llama_clients50"] = asyncio.run(clients50(port, MODEL))
            log(json.dumps(results["llama_clients50"]))
            results["llama_clients1000"] = asyncio.run(clients1000(port, MODEL, args.limit))
            log(json.dumps(results["llama_clients1000"]))
        finally:
            stop(proc)
    print(json.dumps(results, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
