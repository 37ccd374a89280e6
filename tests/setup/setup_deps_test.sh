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
#       outside tests/server/, and a PyPI-only module imported
#       by code that `tools/bootstrap.sh test` runs, fail naming the module and the importing file.
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
[[ -n "$build" && -n "$source" && -n "$work" ]] || { echo "usage: $0 check|detects --build D --source D --work D" >&2; exit 2; }

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
    # A test-only PyPI module (tools/test-requirements.txt): fine in a server test, not in tools/.
    mkdir -p "$work/src/tests/server"
    printf 'import openai\n' >"$work/src/tests/server/client_test.py"
    printf 'import openai\n' >"$work/src/tools/uses_client.py"
    rc=0
    "${CHECK[@]}" --no-system --source "$work/src" --packages "$LIST" --python-requirements "$REQS" \
      --test-requirements "$source/tools/test-requirements.txt" >"$work/python-test.log" 2>&1 || rc=$?
    expect_failure python-test $rc "python module 'openai' (imported by tools/uses_client.py)" \
      "only the tests under tests/server/"
    grep -q "tests/server/client_test.py" "$work/python-test.log" && fail "python-test: the server test was reported"
    rm "$work/src/tools/uses_client.py"
    rc=0
    "${CHECK[@]}" --no-system --source "$work/src" --packages "$LIST" --python-requirements "$REQS" \
      --test-requirements "$source/tools/test-requirements.txt" >"$work/python-test-ok.log" 2>&1 || rc=$?
    if [[ $rc -eq 0 ]]; then echo "ok: a server test may import a test requirement"; else
      fail "python-test-ok: expected a pass, got exit $rc"; sed 's/^/    /' "$work/python-test-ok.log" >&2; fi
    ;;
  *) echo "unknown mode '$mode' (check or detects)" >&2; exit 2 ;;
esac

if [[ $failures -gt 0 ]]; then
  echo "$failures failure(s); logs in $work" >&2
  exit 1
fi
