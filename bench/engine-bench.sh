#!/usr/bin/env bash
# The serving engine beside llama.cpp, in one run on one machine (the engine issue's benchmark):
#   throughput     aggregate generated tok/s at 1, 8, 32 and 64 concurrent sequences (prompt 128,
#                  generation 128), Plinth's `plinth bench engine` beside llama.cpp's
#                  llama-batched-bench on the same GGUF with the same thread count; ratio of the
#                  generation rates (S_TG) and of the whole-run rates.
#   other rows     chunked prefill (a 2048-token prompt among 16 decoders), prefix cache (64 requests
#                  sharing a 512-token system prompt) and KV memory, from `plinth bench engine`; the
#                  chunked-prefill scenario also on llama.cpp's llama-server (llama-server-prefill.py).
#
# Usage: bench/engine-bench.sh [--device ID] [--threads N] [--build DIR] [--concurrency LIST]
#                              [--gen N] [--skip-baseline]
# Needs: a build (cmake --build --preset default), the default models (tools/bootstrap.sh models)
# and, for the baseline, llama.cpp's tools from bench/llama-cpp-build.sh (built on first use).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEVICE=cpu:0
THREADS=2
BUILD="$ROOT/build"
CONCURRENCY=1,8,32,64
GEN=128
BASELINE=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --device) DEVICE=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --gen) GEN=$2; shift 2 ;;
    --skip-baseline) BASELINE=0; shift ;;
    -h | --help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
export OMP_NUM_THREADS=$THREADS

echo "==> building plinth" >&2
cmake --build "$BUILD" --target plinth >&2
"$ROOT/tools/fetch_models.sh" --check >/dev/null ||
  { echo "error: default models missing: run tools/bootstrap.sh models" >&2; exit 1; }
GGUF=$("$BUILD/bin/plinth" models --json | python3 -c \
  'import json,sys; print([m["path"] for m in json.load(sys.stdin)["models"] if m["name"]=="SmolLM2-135M-Instruct"][0])')
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

CONC_ARGS=()
IFS=, read -ra LEVELS <<<"$CONCURRENCY"
for c in "${LEVELS[@]}"; do CONC_ARGS+=(--concurrency "$c"); done

echo "==> plinth bench engine on $DEVICE, $THREADS threads" >&2
"$BUILD/bin/plinth" bench engine --device "$DEVICE" --gen "$GEN" "${CONC_ARGS[@]}" --json "$TMP/plinth.json" | tee "$TMP/plinth.txt"

if [[ "$BASELINE" == 1 ]]; then
  BIN=$("$ROOT/bench/llama-cpp-build.sh" | tail -n 1)
  MAXC=$(printf '%s\n' "${LEVELS[@]}" | sort -n | tail -n 1)
  CTX=$(( MAXC * (128 + GEN) + 256 ))
  echo "==> llama-batched-bench, $THREADS threads" >&2
  "$BIN/llama-batched-bench" -m "$GGUF" -c "$CTX" -b 2048 -ub 512 -npp 128 -ntg "$GEN" -npl "$CONCURRENCY" \
    -t "$THREADS" -tb "$THREADS" --output-format jsonl 2>"$TMP/llama.log" | grep '^{' >"$TMP/llama.jsonl" ||
    { tail -n 20 "$TMP/llama.log" >&2; exit 1; }
  python3 - "$TMP/plinth.json" "$TMP/llama.jsonl" <<'PY'
import json, sys
plinth = {r["sequences"]: r for r in json.load(open(sys.argv[1]))["throughput"]}
llama = {}
for line in open(sys.argv[2]):
    r = json.loads(line)
    llama[r["pl"]] = r
print("\n== throughput beside llama.cpp (llama-batched-bench, same GGUF, same threads) ==")
print("   B | plinth S_TG | llama.cpp S_TG | ratio | plinth S (all tokens) | llama.cpp S | ratio")
for b in sorted(plinth):
    p, l = plinth[b], llama.get(b)
    if l is None:
        continue
    print(f"{b:4d} | {p['s_tg_tok_per_s']:11.1f} | {l['speed_tg']:14.1f} | {p['s_tg_tok_per_s'] / l['speed_tg']:4.2f}x"
          f" | {p['s_tok_per_s']:21.1f} | {l['speed']:11.1f} | {p['s_tok_per_s'] / l['speed']:4.2f}x")
PY
  echo "==> llama-server under the chunked-prefill scenario, $THREADS threads" >&2
  python3 "$ROOT/bench/llama-server-prefill.py" --server "$BIN/llama-server" --model "$GGUF" --threads "$THREADS"
fi
