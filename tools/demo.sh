#!/usr/bin/env bash
# The default models at work on every usable device, as a newcomer would first try them: a greedy
# completion (SmolLM2-135M-Instruct, `plinth generate`) and sentence embeddings (all-MiniLM-L6-v2,
# `plinth embed`, shown as the dimension, the first values and the cosine similarities of a related
# and an unrelated pair), each with its wall time. The last stage of `tools/bootstrap.sh run`.
#
# Usage: tools/demo.sh [--build DIR] [--device ID]... [--max-tokens N] [--virtual-tokens N] [--prompt TEXT]
#   default devices: every device `plinth devices --json` lists as usable
#   --max-tokens: tokens to generate (24); --virtual-tokens: at most this many (8) on a device of type
#   'virtual', a GPU emulated on the CPU such as Mesa's lavapipe, where each token takes seconds
# Needs the default models (tools/fetch_models.sh). Exit status 1 when a model fails on a device;
# the output says which, and why (the command's last lines of stderr).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build"
DEVICES=()
MAX_TOKENS=24
VIRTUAL_TOKENS=8
PROMPT="The capital of France is"
SENTENCES=("A cat is sleeping on the sofa." "A kitten naps on the couch." "The stock market fell sharply today.")
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --device) DEVICES+=("$2"); shift 2 ;;
    --max-tokens) MAX_TOKENS=$2; shift 2 ;;
    --virtual-tokens) VIRTUAL_TOKENS=$2; shift 2 ;;
    --prompt) PROMPT=$2; shift 2 ;;
    -h | --help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
PLINTH="$BUILD/bin/plinth"
[[ -x "$PLINTH" ]] || { echo "error: $PLINTH not built (cmake --build --preset run)" >&2; exit 1; }

# Every usable device, and its type.
declare -A TYPE=()
ALL=()
while read -r id type; do
  TYPE[$id]=$type
  ALL+=("$id")
done < <("$PLINTH" devices --json |
  python3 -c 'import json, sys; [print(d["id"], d["type"]) for d in json.load(sys.stdin)["devices"]]')
[[ ${#DEVICES[@]} -gt 0 ]] || DEVICES=("${ALL[@]}")
[[ ${#DEVICES[@]} -gt 0 ]] || { echo "error: plinth devices found no usable device" >&2; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# elapsed START: seconds since START (an $EPOCHREALTIME value), to the millisecond.
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$EPOCHREALTIME"; }
# why FILE: the last lines of a failed command's stderr, indented.
why() { tail -n 5 "$1" | sed 's/^/      /'; }

# Summarizes `plinth embed` JSON: dimension, first values, cosine of pair 0-1 (related) and 0-2.
summarize_embeddings() {
  python3 - "$1" <<'PY'
import json, sys
out = json.load(open(sys.argv[1]))
e = out["embeddings"]
cos = lambda a, b: sum(x * y for x, y in zip(a, b))  # rows are L2-normalized
first = ", ".join(f"{v:+.3f}" for v in e[0][:4])
print(f"dim {out['dim']}, first values [{first}, ...]; cosine: related pair {cos(e[0], e[1]):.2f}, "
      f"unrelated pair {cos(e[0], e[2]):.2f}")
PY
}

failures=0
declare -a ROWS=()
echo "prompt: \"$PROMPT\" (greedy, $MAX_TOKENS tokens)"
echo "sentences: $(printf '"%s" ' "${SENTENCES[@]}")"
for dev in "${DEVICES[@]}"; do
  echo
  echo "== $dev"
  gen_time="-" emb_time="-"

  tokens=$MAX_TOKENS
  if [[ "${TYPE[$dev]:-}" == virtual && $VIRTUAL_TOKENS -lt $MAX_TOKENS ]]; then
    tokens=$VIRTUAL_TOKENS
    echo "  (an emulated device: $tokens tokens)"
  fi
  start=$EPOCHREALTIME
  if "$PLINTH" generate --device "$dev" --temperature 0 --max-tokens "$tokens" "$PROMPT" \
    >"$TMP/gen.out" 2>"$TMP/gen.err"; then
    gen_time=$(elapsed "$start")
    printf '  generate  %6ss  %s%s\n' "$gen_time" "$PROMPT" "$(tr '\n' ' ' <"$TMP/gen.out")"
    rates=$(grep -iE 'tok/s|tokens' "$TMP/gen.err" | tail -n 1 | sed 's/ | seed: [0-9]*//' || true)
    [[ -z "$rates" ]] || echo "            $rates"
  else
    gen_time="FAILED"
    failures=$((failures + 1))
    echo "  generate  FAILED on $dev (SmolLM2-135M-Instruct):"
    why "$TMP/gen.err"
  fi

  start=$EPOCHREALTIME
  if "$PLINTH" embed --device "$dev" "${SENTENCES[@]}" >"$TMP/emb.json" 2>"$TMP/emb.err" &&
    summary=$(summarize_embeddings "$TMP/emb.json" 2>>"$TMP/emb.err"); then
    emb_time=$(elapsed "$start")
    printf '  embed     %6ss  %s\n' "$emb_time" "$summary"
  else
    emb_time="FAILED"
    failures=$((failures + 1))
    echo "  embed     FAILED on $dev (all-MiniLM-L6-v2):"
    why "$TMP/emb.err"
  fi
  ROWS+=("$(printf '  %-12s %12s %12s' "$dev" "$gen_time" "$emb_time")")
done

echo
printf '  %-12s %12s %12s\n' device "generate (s)" "embed (s)"
printf '%s\n' "${ROWS[@]}"
echo "  (wall times of whole processes: plugin loading, model loading and the work itself)"
if [[ $failures -gt 0 ]]; then
  echo "$failures model run(s) failed; see above" >&2
  exit 1
fi
