#!/usr/bin/env bash
# `plinth models`, the check behind every command that takes a default model, and
# `tools/fetch_models.sh --check`, over a scratch models cache: missing default models are reported
# with the install command, a default model whose file differs from its pin is `corrupt` and refused
# (naming the file and the repair command), one that matches is `verified`, other model files are
# listed, an unreadable one with the reader's one-line reason.
# Usage: models_cli_test.sh <plinth executable> <source root>
set -euo pipefail
plinth=$1
root=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
smol=SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf

export PLINTH_MODELS_DIR=$dir/cache
unset PLINTH_MODELS_LOCK
mkdir -p "$PLINTH_MODELS_DIR"
out=$("$plinth" models)
grep -q "all-MiniLM-L6-v2 .*missing" <<<"$out" || fail "missing encoder not reported: $out"
grep -q "tools/bootstrap.sh models" <<<"$out" || fail "no install hint: $out"

mkdir -p "$PLINTH_MODELS_DIR/mine"
printf 'GGUF\x03\x00\x00\x00' >"$PLINTH_MODELS_DIR/mine/broken.gguf"  # header cut short
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
grep -q "missing  $smol" "$dir/check.log" || fail "$(cat "$dir/check.log")"

# A file that is not the pinned model, against the pins built into plinth: corrupt, and refused
# before anything is loaded.
mkdir -p "$PLINTH_MODELS_DIR/SmolLM2-135M-Instruct"
echo "not the model" >"$PLINTH_MODELS_DIR/$smol"
if "$root/tools/fetch_models.sh" --check >"$dir/check.log" 2>&1; then fail "--check accepted a tampered file"; fi
grep -q "corrupt  $smol" "$dir/check.log" || fail "$(cat "$dir/check.log")"
out=$("$plinth" models)
grep -q "SmolLM2-135M-Instruct .*corrupt" <<<"$out" || fail "corrupt decoder not reported: $out"
grep -q "corrupt: $PLINTH_MODELS_DIR/$smol has sha256 " <<<"$out" || fail "corrupt file not named: $out"
grep -q "tools/fetch_models.sh" <<<"$out" || fail "no repair hint: $out"
if "$plinth" generate --temperature 0 -n 4 "The capital of France is" >"$dir/gen.out" 2>"$dir/gen.err"; then
  fail "generate used a corrupt default model: $(cat "$dir/gen.out")"
fi
grep -q "default model 'SmolLM2-135M-Instruct' is corrupt: $PLINTH_MODELS_DIR/$smol has sha256" "$dir/gen.err" ||
  fail "refusal does not name the file: $(cat "$dir/gen.err")"
grep -q "repair it with tools/bootstrap.sh models or tools/fetch_models.sh" "$dir/gen.err" ||
  fail "refusal does not name the repair: $(cat "$dir/gen.err")"

# With a lock that pins synthetic files (PLINTH_MODELS_LOCK, read by plinth and fetch_models.sh
# alike), the states in turn: verified, corrupt after a flipped byte, missing once removed.
printf 'synthetic decoder' >"$PLINTH_MODELS_DIR/$smol"
mkdir -p "$PLINTH_MODELS_DIR/all-MiniLM-L6-v2"
printf 'synthetic encoder' >"$PLINTH_MODELS_DIR/all-MiniLM-L6-v2/model.safetensors"
cat >"$dir/models.lock" <<LOCK
file all-MiniLM-L6-v2 w/model.safetensors $(printf 'synthetic encoder' | sha256sum | cut -d' ' -f1)
file SmolLM2-135M-Instruct w/SmolLM2-135M-Instruct.Q4_1.gguf $(printf 'synthetic decoder' | sha256sum | cut -d' ' -f1)
LOCK
export PLINTH_MODELS_LOCK=$dir/models.lock
states() {
  "$plinth" models --json | python3 -c '
import json, sys
doc = json.load(sys.stdin)
print(" ".join(m["name"] + "=" + m["status"] for m in doc["models"] if m["kind"] != "unknown"))'
}
[[ "$(states)" == "all-MiniLM-L6-v2=verified SmolLM2-135M-Instruct=verified" ]] || fail "$(states)"
out=$("$plinth" models)
grep -q "SmolLM2-135M-Instruct .*verified" <<<"$out" || fail "verified decoder not reported: $out"
"$root/tools/fetch_models.sh" --check >"$dir/check.log" 2>&1 || fail "$(cat "$dir/check.log")"
# Verified, it gets past the check to the loader, which finds no GGUF in it.
if "$plinth" generate -n 1 x >"$dir/gen.out" 2>"$dir/gen.err"; then fail "generate loaded a synthetic file"; fi
if grep -q "corrupt\|not installed" "$dir/gen.err"; then fail "a verified model was refused: $(cat "$dir/gen.err")"; fi

printf 'Synthetic decoder' >"$PLINTH_MODELS_DIR/$smol"
[[ "$(states)" == "all-MiniLM-L6-v2=verified SmolLM2-135M-Instruct=corrupt" ]] || fail "$(states)"
json=$("$plinth" models --json)
python3 - "$json" "$PLINTH_MODELS_DIR/$smol" <<'PY'
import json, sys
doc = json.loads(sys.argv[1])
smol = [m for m in doc["models"] if m["name"] == "SmolLM2-135M-Instruct"][0]
assert len(smol["problems"]) == 1 and smol["problems"][0].startswith(sys.argv[2] + " has sha256 "), smol
PY
rm "$PLINTH_MODELS_DIR/all-MiniLM-L6-v2/model.safetensors"
[[ "$(states)" == "all-MiniLM-L6-v2=missing SmolLM2-135M-Instruct=corrupt" ]] || fail "$(states)"
echo "ok"
