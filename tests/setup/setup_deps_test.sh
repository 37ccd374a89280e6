#!/usr/bin/env bash
# Tests of tools/check_setup_deps.py, the check that tools/packages.txt installs every package a build
# used (see tests/setup/README.md).
#
#   setup_deps_test.sh check   --build DIR --source DIR --work DIR
#       The real lists pass against the build tree: nothing the build read is missing from them.
#   setup_deps_test.sh detects --build DIR --source DIR --work DIR
#       Copies of the lists with a needed entry removed fail, and the message names the package and
#       a file of it the build read: ocl-icd-opencl-dev (libOpenCL.so, the bug a fresh machine hit:
#       oneDNN's CMake package needs it, and it is only a Recommends of libdnnl-dev) and libdnnl-dev;
#       a Python module missing from tools/python-requirements.txt, a test requirement imported
#       outside tests/server/ (and developer scripts), and a PyPI-only module imported by code that
#       `tools/bootstrap.sh test` runs, fail naming the module and the importing file; a server test
#       importing a test requirement passes; a .venv-test without a pin's version fails.
#   setup_deps_test.sh help --source DIR --work DIR
#       `tools/bootstrap.sh --help` offers `testdeps` (the test suite's PyPI packages) and says that
#       `test` installs them. Needs neither dpkg nor a build tree.
set -euo pipefail

mode=${1:-}
shift || true
build="" source="" work=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --source) source=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n "$source" && -n "$work" && ( -n "$build" || "$mode" == help ) ]] ||
  { echo "usage: $0 check|detects|help [--build D] --source D --work D" >&2; exit 2; }

if [[ "$mode" == help ]]; then
  rm -rf "$work"
  mkdir -p "$work"
  rc=0
  "$source/tools/bootstrap.sh" --help >"$work/help.log" 2>&1 || rc=$?
  [[ $rc -eq 0 ]] || { echo "FAIL: tools/bootstrap.sh --help exited $rc" >&2; cat "$work/help.log" >&2; exit 1; }
  failures=0
  # A command line of its own ("  testdeps"), the file it installs, and `test` saying it installs it.
  for pattern in '^  testdeps$' 'tools/test-requirements.txt' '\.venv-test/'; do
    grep -qE -- "$pattern" "$work/help.log" ||
      { echo "FAIL: tools/bootstrap.sh --help does not match '$pattern'" >&2; failures=$((failures + 1)); }
  done
  if ! sed -n '/^  test /,/^  [a-z]/p' "$work/help.log" | grep -q 'test-requirements'; then
    echo "FAIL: the help of 'test' does not say it installs tools/test-requirements.txt" >&2
    failures=$((failures + 1))
  fi
  [[ $failures -eq 0 ]] || exit 1
  echo "ok: tools/bootstrap.sh --help offers testdeps, and test installs tools/test-requirements.txt"
  exit 0
fi

if [[ ! -d /var/lib/dpkg/info ]] || ! command -v apt-cache >/dev/null || ! command -v ninja >/dev/null; then
  echo "skipped: needs a Debian system (dpkg's database, apt-cache) and ninja"
  exit 0
fi
if [[ ! -f "$build/build.ninja" ]]; then
  echo "skipped: $build is not a Ninja build tree"
  exit 0
fi

CHECK=(python3 "$source/tools/check_setup_deps.py")
LIST="$source/tools/packages.txt"
REQS="$source/tools/python-requirements.txt"
rm -rf "$work"
mkdir -p "$work"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# expect_failure NAME PATTERN... : the last run (log $work/NAME.log) exited 1 and its output has every
# pattern (grep -F).
expect_failure() {
  local name=$1 rc=$2 pattern
  shift 2
  if [[ $rc -ne 1 ]]; then
    fail "$name: expected the check to fail (exit 1), got exit $rc"
    sed 's/^/    /' "$work/$name.log" >&2
    return
  fi
  for pattern in "$@"; do
    grep -qF -- "$pattern" "$work/$name.log" || fail "$name: the output does not mention '$pattern'"
  done
  echo "ok: $name fails and names: $*"
}

# without PACKAGE: a copy of the package list with PACKAGE's line removed.
without() {
  grep -vE "^[[:space:]]*$1([[:space:]]|#|$)" "$LIST" >"$work/packages-without-$1.txt"
  if cmp -s "$LIST" "$work/packages-without-$1.txt"; then
    fail "$1 is not in $LIST: the test needs updating"
  fi
  echo "$work/packages-without-$1.txt"
}

case "$mode" in
  check)
    rc=0
    "${CHECK[@]}" --build "$build" --packages "$LIST" --python-requirements "$REQS" >"$work/real.log" 2>&1 || rc=$?
    cat "$work/real.log"
    [[ $rc -eq 0 ]] || fail "the check fails with the real lists (exit $rc)"
    ;;
  detects)
    # The bug a fresh machine hit. The file is the library oneDNN's imported target links.
    rc=0
    "${CHECK[@]}" --no-python --build "$build" --packages "$(without ocl-icd-opencl-dev)" \
      >"$work/no-opencl.log" 2>&1 || rc=$?
    expect_failure no-opencl $rc "Debian package ocl-icd-opencl-dev," "/libOpenCL.so" \
      "add ocl-icd-opencl-dev to" "packages-without-ocl-icd-opencl-dev.txt"
    rc=0
    "${CHECK[@]}" --no-python --build "$build" --packages "$(without libdnnl-dev)" \
      >"$work/no-dnnl.log" 2>&1 || rc=$?
    expect_failure no-dnnl $rc "Debian package libdnnl-dev," "dnnl" "add libdnnl-dev to"

    # Python: a source tree of two scripts, a developer one under tests/reference/ and one that
    # `test` would run under tools/, checked against a requirements file without numpy.
    mkdir -p "$work/src/tests/reference/x" "$work/src/tools"
    printf 'import json\nimport numpy as np\nfrom helper import thing\n' >"$work/src/tests/reference/x/make.py"
    printf 'thing = 1\n' >"$work/src/tests/reference/x/helper.py"
    printf '#!/bin/sh\npython3 - "$1" <<'"'"'PY'"'"'\nimport sys\nimport tokenizers\nPY\n' >"$work/src/tools/step.sh"
    grep -v '^numpy==' "$REQS" >"$work/requirements-without-numpy.txt"
    rc=0
    "${CHECK[@]}" --no-system --source "$work/src" --packages "$LIST" \
      --python-requirements "$work/requirements-without-numpy.txt" >"$work/python.log" 2>&1 || rc=$?
    expect_failure python $rc "python module 'numpy' (imported by tests/reference/x/make.py)" \
      "python module 'tokenizers' (imported by tools/step.sh)" "only \`tools/bootstrap.sh pydeps\` installs"
    grep -q "'helper'" "$work/python.log" && fail "python: a module of the tree (helper) was reported"
    grep -q "'json'\|'sys'" "$work/python.log" && fail "python: a standard-library module was reported"
    # With numpy pinned and the PyPI import moved to a developer script, the same tree passes.
    mv "$work/src/tools/step.sh" "$work/src/tests/reference/x/step.sh"
    rc=0
    "${CHECK[@]}" --no-system --source "$work/src" --packages "$LIST" --python-requirements "$REQS" \
      >"$work/python-ok.log" 2>&1 || rc=$?
    if [[ $rc -eq 0 ]]; then echo "ok: python passes with the module pinned"; else
      fail "python-ok: expected a pass, got exit $rc"; sed 's/^/    /' "$work/python-ok.log" >&2; fi
    # A test-only PyPI module (tools/test-requirements.txt): fine in a server test and in a developer
    # script, not in tools/. No test environment here (mapped by the pins' names), so the machine's
    # own .venv-test does not matter.
    TREQS="$source/tools/test-requirements.txt"
    grep -q '^openai==' "$TREQS" || fail "openai is not pinned in $TREQS: the test needs updating"
    NOVENV=(--test-venv-python "$work/no-venv-test/bin/python3")
    mkdir -p "$work/src/tests/server" "$work/src/bench"
    printf 'import openai\n' >"$work/src/tests/server/client_test.py"
    printf 'from openai import OpenAI\n' >"$work/src/bench/drive_server.py"
    printf 'import openai\n' >"$work/src/tools/uses_client.py"
    rc=0
    "${CHECK[@]}" --no-system --source "$work/src" --packages "$LIST" --python-requirements "$REQS" \
      --test-requirements "$TREQS" "${NOVENV[@]}" >"$work/python-test.log" 2>&1 || rc=$?
    expect_failure python-test $rc "python module 'openai' (imported by tools/uses_client.py)" \
      "in tools/test-requirements.txt)" "only the tests under tests/server/"
    grep -q "tests/server/client_test.py\|bench/drive_server.py" "$work/python-test.log" &&
      fail "python-test: the server test or the developer script was reported"
    rm "$work/src/tools/uses_client.py"
    rc=0
    "${CHECK[@]}" --no-system --source "$work/src" --packages "$LIST" --python-requirements "$REQS" \
      --test-requirements "$TREQS" "${NOVENV[@]}" >"$work/python-test-ok.log" 2>&1 || rc=$?
    if [[ $rc -eq 0 ]]; then echo "ok: a server test and a developer script may import a test requirement"; else
      fail "python-test-ok: expected a pass, got exit $rc"; sed 's/^/    /' "$work/python-test-ok.log" >&2; fi
    # A server test importing a developer-only pin (numpy): the message says to pin it for the tests.
    printf 'import numpy\n' >"$work/src/tests/server/uses_numpy.py"
    rc=0
    "${CHECK[@]}" --no-system --source "$work/src" --packages "$LIST" --python-requirements "$REQS" \
      --test-requirements "$TREQS" "${NOVENV[@]}" >"$work/python-test-dev.log" 2>&1 || rc=$?
    expect_failure python-test-dev $rc "python module 'numpy' (imported by tests/server/uses_numpy.py)" \
      "pinned in tools/test-requirements.txt too"
    rm "$work/src/tests/server/uses_numpy.py"

    # The test environment must have every pin at its version (an edited pin without
    # `tools/bootstrap.sh testdeps` would test the old package): a venv without pip, whose only
    # distribution is a bare openai dist-info, against a one-line requirements file.
    if python3 -m venv --without-pip "$work/venv-test" >"$work/venv.log" 2>&1; then
      purelib=$("$work/venv-test/bin/python3" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
      printf 'openai==1.2.3\n' >"$work/test-requirements.txt"
      fake_dist() {  # fake_dist VERSION: the venv's openai is at VERSION
        rm -rf "$purelib"/openai-*.dist-info
        mkdir -p "$purelib/openai-$1.dist-info"
        printf 'Metadata-Version: 2.1\nName: openai\nVersion: %s\n' "$1" >"$purelib/openai-$1.dist-info/METADATA"
        printf 'openai\n' >"$purelib/openai-$1.dist-info/top_level.txt"
      }
      VENV_ARGS=(--no-system --source "$work/src" --packages "$LIST" --python-requirements "$REQS"
                 --test-requirements "$work/test-requirements.txt" --test-venv-python "$work/venv-test/bin/python3")
      fake_dist 1.2.0
      rc=0
      "${CHECK[@]}" "${VENV_ARGS[@]}" >"$work/venv-stale.log" 2>&1 || rc=$?
      expect_failure venv-stale $rc "pins openai==1.2.3, but" "venv-test has openai 1.2.0" \
        "run tools/bootstrap.sh testdeps"
      rm -rf "$purelib"/openai-*.dist-info
      rc=0
      "${CHECK[@]}" "${VENV_ARGS[@]}" >"$work/venv-missing.log" 2>&1 || rc=$?
      expect_failure venv-missing $rc "pins openai==1.2.3, but" "venv-test has no openai"
      fake_dist 1.2.3
      rc=0
      "${CHECK[@]}" "${VENV_ARGS[@]}" >"$work/venv-ok.log" 2>&1 || rc=$?
      if [[ $rc -eq 0 ]]; then echo "ok: a test environment with every pin installed passes"; else
        fail "venv-ok: expected a pass, got exit $rc"; sed 's/^/    /' "$work/venv-ok.log" >&2; fi
    else
      fail "python3 -m venv --without-pip failed: $(cat "$work/venv.log")"
    fi
    ;;
  *) echo "unknown mode '$mode' (check, detects or help)" >&2; exit 2 ;;
esac

if [[ $failures -gt 0 ]]; then
  echo "$failures failure(s); logs in $work" >&2
  exit 1
fi
