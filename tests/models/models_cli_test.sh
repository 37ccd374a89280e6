#!/usr/bin/env bash
# `plinth models` and `tools/fetch_models.sh --check` over a scratch models cache: missing default
# models are reported with the install command, other model files are listed, a corrupt one with
# the reader's one-line reason, and --check refuses an incomplete or tampered cache.
# Usage: models_cli_test.sh <plinth executable> <source root>
set -euo pipefail
plinth=$1
root=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

export PLINTH_MODELS_DIR=$dir
out=$("$plinth" models)
grep -q "all-MiniLM-L6-v2 .*missing" <<<"$out" || fail "missing encoder not reported: $out"
grep -q "tools/bootstrap.sh models" <<<"$out" || fail "no install hint: $out"

mkdir -p "$dir/mine"
printf 'GGUF\x03\x00\x00\x00' >"$dir/mine/broken.gguf"  # header cut short
json=$("$plinth" models --json)
python3 - "$json" <<'PY'
import json, sys
doc = json.loads(sys.argv[1])
other = [m for m in doc["models"] if m["name"] == "mine/broken.gguf"]
assert other, doc
assert other[0]["status"] == "found" and other[0]["architecture"].startswith("unreadable: "), other
assert "broken.gguf" in other[0]["architecture"], other  # the reason names the file
assert {m["status"] for m in doc["models"] if m["kind"] != "unknown"} == {"missing"}, doc
PY

if "$root/tools/fetch_models.sh" --check >"$dir/check.log" 2>&1; then fail "--check passed on an empty cache"; fi
grep -q "missing  SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf" "$dir/check.log" || fail "$(cat "$dir/check.log")"
mkdir -p "$dir/SmolLM2-135M-Instruct"
echo "not the model" >"$dir/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
if "$root/tools/fetch_models.sh" --check >"$dir/check.log" 2>&1; then fail "--check accepted a tampered file"; fi
grep -q "corrupt  SmolLM2-135M-Instruct/" "$dir/check.log" || fail "$(cat "$dir/check.log")"
echo "ok"
