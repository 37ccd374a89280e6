#!/usr/bin/env python3
"""llama.cpp's prefill and decode speed on the same GGUF and the same synthetic token ids as
plinth_decoder_bench, printed the same way, so the two can be compared line by line.

  OMP_NUM_THREADS=2 python3 bench_llama_cpp.py [--model PATH] [--threads 2] [--prefill 512]
                                               [--prompt 32] [--decode 128] [--repeat 3]
Each figure is the best of --repeat runs (n_batch=512, greedy decode).
"""
import argparse
import os
import time

import numpy as np
from llama_cpp import Llama

from make_golden import default_model


def synthetic_tokens(n):
    return [1000 + (i * 7919) % 40000 for i in range(n)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=default_model())
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prefill", type=int, default=512)
    ap.add_argument("--prompt", type=int, default=32)
    ap.add_argument("--decode", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    ctx = max(args.prefill, args.prompt + args.decode)
    llm = Llama(model_path=args.model, n_ctx=ctx, n_threads=args.threads, n_threads_batch=args.threads,
                n_batch=512, logits_all=False, verbose=False)
    print(f"model: {os.path.basename(args.model)} (llama.cpp via llama-cpp-python)")
    print(f"threads: {args.threads}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    long_prompt = synthetic_tokens(args.prefill)
    prompt = synthetic_tokens(args.prompt)
    llm.reset()
    llm.eval(prompt)  # warm-up
    best_prefill = best_ttft = best_decode = float("inf")
    for _ in range(args.repeat):
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(long_prompt)
        best_prefill = min(best_prefill, time.perf_counter() - t0)

        llm.reset()
        t0 = time.perf_counter()
        llm.eval(prompt)
        tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        best_ttft = min(best_ttft, time.perf_counter() - t0)
        t0 = time.perf_counter()
        for _ in range(args.decode):
            llm.eval([tok])
            tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        best_decode = min(best_decode, time.perf_counter() - t0)
    print(f"prefill: {args.prefill} tokens in {best_prefill * 1e3:.1f} ms = {args.prefill / best_prefill:.1f} tok/s")
    print(f"decode: {args.decode} tokens after a {args.prompt}-token prompt in {best_decode * 1e3:.1f} ms = "
          f"{args.decode / best_decode:.1f} tok/s")
    print(f"time to first token: {best_ttft * 1e3:.1f} ms ({args.prompt}-token prompt)")


if __name__ == "__main__":
    main()
