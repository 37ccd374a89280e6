# The helpers the CLI test scripts share; source it after setting $plinth. It makes $work (removed at
# exit) and counts failures in $failures.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# run NAME ARGS...: runs plinth, keeping stdout, stderr and the status in $work/NAME.{out,err,rc}.
run() {
  local name=$1
  shift
  "$plinth" "$@" >"$work/$name.out" 2>"$work/$name.err"
  echo $? >"$work/$name.rc"
}
rc() { cat "$work/$1.rc"; }
expect_ok() { [[ $(rc "$1") == 0 ]] || fail "$1: exit $(rc "$1"): $(cat "$work/$1.err")"; }
expect_error() {  # NAME TEXT: non-zero exit, not a signal, and TEXT on stderr
  local status
  status=$(rc "$1")
  [[ $status != 0 && $status -lt 128 ]] || fail "$1: exit $status, expected a clean failure"
  grep -qF -- "$2" "$work/$1.err" || fail "$1: stderr lacks '$2': $(cat "$work/$1.err")"
}
