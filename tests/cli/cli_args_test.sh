#!/usr/bin/env bash
# Usage: cli_args_test.sh PLINTH CPU_PLUGIN
# Each case runs the real `plinth` and checks its exit status and output (see README.md).
set -uo pipefail
plinth=$1 cpu_plugin=$2
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
embeddings() { python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["embeddings"]))' "$work/$1.out" 2>/dev/null; }

# --- Cases that need no model --------------------------------------------------------------------
for seed in -1 4294967296 1e3 ""; do
  run "run-seed" run --device cpu:0 --seed "$seed"
  expect_error run-seed "is not an integer from 0 to 4294967295"
done
run generate-seed generate --seed -1 hello
expect_error generate-seed "is not an integer from 0 to 18446744073709551615"
run generate-seed-big generate --seed 18446744073709551616 hello
expect_error generate-seed-big "is not an integer from 0 to 18446744073709551615"

run unknown-device run --device cpu:1
expect_error unknown-device "no device 'cpu:1'"
expect_error unknown-device "cpu:0"
grep -q "no usable device found" "$work/unknown-device.err" && fail "unknown-device: claims no usable device"

run missing-plugin run --device cpu:0 --plugin /nonexistent/libplinth-backend-x.so
expect_error missing-plugin "plugin path '/nonexistent/libplinth-backend-x.so' does not exist"
printf 'not a plugin' >"$work/libplinth-backend-bogus.so"
run bad-plugin devices --plugin "$work/libplinth-backend-bogus.so"
expect_error bad-plugin "libplinth-backend-bogus.so' could not be loaded"

# --- Cases that need the default models --------------------------------------------------------
run probe embed --device cpu:0 probe
if [[ $(rc probe) != 0 ]] && grep -q "is not installed in" "$work/probe.err"; then
  if [[ "${PLINTH_REQUIRE_MODELS:-}" == 1 ]]; then
    fail "the default models are missing and PLINTH_REQUIRE_MODELS=1: $(cat "$work/probe.err")"
  else
    echo "PLINTH_TEST_SKIPPED: model cases: $(head -1 "$work/probe.err")"
  fi
else
  expect_ok probe
  # Bracketed text is text: one embedding each, and not that of the unbracketed word.
  for text in '[a,b]' '[x]' '[]' '[SEP]'; do
    run bracket embed --device cpu:0 "$text"
    expect_ok bracket
    [[ $(embeddings bracket) == 1 ]] || fail "embed '$text' gave $(embeddings bracket) embeddings"
  done
  run plain-x embed --device cpu:0 x
  run bracket-x embed --device cpu:0 '[x]'
  cmp -s <(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["embeddings"])' "$work/plain-x.out") \
    <(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["embeddings"])' "$work/bracket-x.out") &&
    fail "embed '[x]' gave the embedding of 'x'"
  # One path per --plugin: the text after it is a text.
  run plugin-then-text embed --device cpu:0 --plugin "$cpu_plugin" x
  expect_ok plugin-then-text
  [[ $(embeddings plugin-then-text) == 1 ]] || fail "embed --plugin F x: x was not embedded"
  run embed-missing-plugin embed x --plugin /nonexistent.so
  expect_error embed-missing-plugin "plugin path '/nonexistent.so' does not exist"
  run embed-option-typo embed --devcie cpu:0 x
  expect_error embed-option-typo "unknown option '--devcie'"
  run embed-unknown-device embed --device cpu:1 x
  expect_error embed-unknown-device "no device 'cpu:1'"
  expect_error embed-unknown-device "plinth devices -v"
  # A bracketed stop string is one string: "[Paris,x]" never occurs, so Paris is generated.
  run stop generate --device cpu:0 --temperature 0 --max-tokens 4 --stop '[Paris,x]' "The capital of France is"
  expect_ok stop
  grep -q "Paris" "$work/stop.out" || fail "generate --stop '[Paris,x]' stopped at Paris: '$(cat "$work/stop.out")'"
fi

if [[ $failures -gt 0 ]]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "all cases passed"
