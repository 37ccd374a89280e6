#!/usr/bin/env bash
# Model-level benchmarks beside llama.cpp, measured in one run on one machine (medians of R rounds,
# Plinth and the baseline interleaved so a change in machine load hits both):
#   decoder  SmolLM2-135M Q4_1: prefill tok/s (512-token prompt), decode tok/s (128 tokens after a
#            32-token prompt), in-process time to first token; baseline llama.cpp through
#            llama-cpp-python on the same GGUF with the same thread count.
#   process  peak resident memory and time from process start to the first streamed token of
#            `plinth generate` beside a llama-cpp-python script doing the same (128 tokens).
#   encoder  all-MiniLM-L6-v2: sentences/s for 256 sentences of 64 tokens and the achieved GFLOP/s as
#            a fraction of the same device's f32 matmul rate from `plinth bench ops` (1024^3).
#
# Usage: bench/models-bench.sh [--device ID] [--threads N] [--rounds R] [--build DIR]
# Needs: a build (cmake --build --preset default), the default models (tools/bootstrap.sh models) and,
# for the baseline, llama-cpp-python and numpy: `tools/bootstrap.sh pydeps` installs them, pinned, into
# .venv/, whose python3 runs the baseline when it exists (else python3). Prints a table; nothing is written.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEVICE=cpu:0
THREADS=2
ROUNDS=5
BUILD="$ROOT/build"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --device) DEVICE=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    -h | --help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
export OMP_NUM_THREADS=$THREADS
BASELINE_PY=python3
[[ -x "$ROOT/.venv/bin/python3" ]] && BASELINE_PY="$ROOT/.venv/bin/python3"
REF="$ROOT/tests/reference/decoder"

echo "==> building the measuring tools" >&2
cmake --build "$BUILD" --target plinth plinth_decoder_bench plinth_encoder_bench >&2
"$BASELINE_PY" -c "import llama_cpp, numpy" 2>/dev/null ||
  { echo "error: the baseline needs llama-cpp-python and numpy: tools/bootstrap.sh pydeps" >&2; exit 1; }
"$ROOT/tools/fetch_models.sh" --check >/dev/null ||
  { echo "error: default models missing: run tools/bootstrap.sh models" >&2; exit 1; }
GGUF=$("$BUILD/bin/plinth" models --json | python3 -c \
  'import json,sys; print([m["path"] for m in json.load(sys.stdin)["models"] if m["name"]=="SmolLM2-135M-Instruct"][0])')

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Pulls "<label>: ... = X tok/s" or "time to first token: X ms" out of a bench's output.
rate() { sed -n "s/^$1: .* = \([0-9.]*\) tok\/s.*/\1/p" "$2"; }
ttft() { sed -n 's/^time to first token: \([0-9.]*\) ms.*/\1/p' "$1"; }
median() { sort -g | awk '{v[NR]=$1} END {if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

echo "==> decoder: $ROUNDS rounds, plinth ($DEVICE) and llama.cpp interleaved, $THREADS threads" >&2
for r in $(seq "$ROUNDS"); do
  "$BUILD/bin/plinth_decoder_bench" --device "$DEVICE" --repeat 1 >"$TMP/p$r" 2>&1
  (cd "$REF" && "$BASELINE_PY" bench_llama_cpp.py --model "$GGUF" --threads "$THREADS" --repeat 1) >"$TMP/l$r" 2>&1
  printf '  round %s: plinth decode %s tok/s, llama.cpp %s tok/s\n' "$r" "$(rate decode "$TMP/p$r")" \
    "$(rate decode "$TMP/l$r")" >&2
done
for side in p l; do
  for what in prefill decode; do
    for r in $(seq "$ROUNDS"); do rate "$what" "$TMP/$side$r"; done | median >"$TMP/$side.$what"
  done
  for r in $(seq "$ROUNDS"); do ttft "$TMP/$side$r"; done | median >"$TMP/$side.ttft"
done

# Peak RSS and start-to-first-token of whole processes (128 greedy tokens after a short prompt).
cat >"$TMP/first_token.py" <<'PY'
import subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
first = proc.stdout.read(1)
t = time.perf_counter() - start
proc.stdout.read()
proc.wait()
print(f"{t * 1e3:.1f}" if first else "nan")
PY
cat >"$TMP/llama_generate.py" <<'PY'
import sys
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=512, n_threads=int(sys.argv[2]), n_threads_batch=int(sys.argv[2]),
            verbose=False)
for chunk in llm("The capital of France is", max_tokens=128, temperature=0.0, stream=True):
    sys.stdout.write(chunk["choices"][0]["text"])
    sys.stdout.flush()
PY
PLINTH_CMD=("$BUILD/bin/plinth" generate --device "$DEVICE" --model "$GGUF" --temperature 0 -n 128
            "The capital of France is")
LLAMA_CMD=("$BASELINE_PY" "$TMP/llama_generate.py" "$GGUF" "$THREADS")
echo "==> process: peak RSS and start-to-first-token, $ROUNDS rounds each" >&2
for r in $(seq "$ROUNDS"); do
  /usr/bin/time -f "%M" -o "$TMP/p.rss$r" "${PLINTH_CMD[@]}" >/dev/null 2>"$TMP/p.gen$r" || true
  /usr/bin/time -f "%M" -o "$TMP/l.rss$r" "${LLAMA_CMD[@]}" >/dev/null 2>&1
  python3 "$TMP/first_token.py" "${PLINTH_CMD[@]}" >>"$TMP/p.first"
  python3 "$TMP/first_token.py" "${LLAMA_CMD[@]}" >>"$TMP/l.first"
done
for side in p l; do
  for r in $(seq "$ROUNDS"); do tail -1 "$TMP/$side.rss$r"; done | median >"$TMP/$side.rss"
  median <"$TMP/$side.first" >"$TMP/$side.first.m"
done
PY_BASE=$( (/usr/bin/time -f "%M" "$BASELINE_PY" -c "import llama_cpp" >/dev/null) 2>&1 | tail -1)

echo "==> encoder: 256 sentences x 64 tokens on $DEVICE; f32 matmul rate from plinth bench ops" >&2
for r in $(seq "$ROUNDS"); do
  "$BUILD/bin/plinth_encoder_bench" --device "$DEVICE" --sentences 256 --tokens 64 --repeat 1 >>"$TMP/enc" 2>&1
done
"$BUILD/bin/plinth" bench ops --device "$DEVICE" --only matmul --quick >"$TMP/ops" 2>&1
ENC_SPS=$(sed -n 's/.* \([0-9.]*\) sentences\/s.*/\1/p' "$TMP/enc" | median)
ENC_GF=$(sed -n 's/.* \([0-9.]*\) GFLOP\/s.*/\1/p' "$TMP/enc" | median)
PEAK=$(awk '/^matmul f32 m1024 k1024 n1024/ {for (i = 1; i <= NF; i++) if ($i == "GFLOP/s") {print $(i-1); exit}}' "$TMP/ops")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2fx", a / b; else print "n/a"}'; }
echo
echo "Models benchmark: device $DEVICE, OMP_NUM_THREADS=$THREADS, medians of $ROUNDS rounds, $(nproc) CPUs"
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf '%-44s %12s %12s %10s\n' "measure" "plinth" "llama.cpp" "ratio"
printf '%-44s %12s %12s %10s\n' "prefill 512 tokens (tok/s)" "$(cat "$TMP/p.prefill")" "$(cat "$TMP/l.prefill")" \
  "$(ratio "$(cat "$TMP/p.prefill")" "$(cat "$TMP/l.prefill")")"
printf '%-44s %12s %12s %10s\n' "decode 128 after 32 (tok/s)" "$(cat "$TMP/p.decode")" "$(cat "$TMP/l.decode")" \
  "$(ratio "$(cat "$TMP/p.decode")" "$(cat "$TMP/l.decode")")"
printf '%-44s %12s %12s %10s\n' "first token, 32-token prompt, in process (ms)" "$(cat "$TMP/p.ttft")" \
  "$(cat "$TMP/l.ttft")" "$(ratio "$(cat "$TMP/l.ttft")" "$(cat "$TMP/p.ttft")")"
printf '%-44s %12s %12s %10s\n' "process start to first token (ms)" "$(cat "$TMP/p.first.m")" \
  "$(cat "$TMP/l.first.m")" "$(ratio "$(cat "$TMP/l.first.m")" "$(cat "$TMP/p.first.m")")"
printf '%-44s %12s %12s %10s\n' "peak RSS, generate 128 tokens (MiB)" \
  "$(awk -v k="$(cat "$TMP/p.rss")" 'BEGIN {printf "%.0f", k / 1024}')" \
  "$(awk -v k="$(cat "$TMP/l.rss")" 'BEGIN {printf "%.0f", k / 1024}')" \
  "$(ratio "$(cat "$TMP/l.rss")" "$(cat "$TMP/p.rss")")"
echo "  (ratios: above 1 means plinth is better; llama.cpp's RSS includes Python and llama_cpp's import,"
echo "   $(awk -v k="$PY_BASE" 'BEGIN {printf "%.0f", k / 1024}') MiB on their own)"
echo
echo "encoder all-MiniLM-L6-v2, 256 x 64 tokens: $ENC_SPS sentences/s, $ENC_GF GFLOP/s"
echo "f32 matmul 1024^3 on $DEVICE (plinth bench ops --quick): $PEAK GFLOP/s"
echo "encoder fraction of matmul rate: $(awk -v a="$ENC_GF" -v b="$PEAK" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}')"
