#!/usr/bin/env bash
# Usage: keys_test.sh PLINTH CASE
# `plinth keys` as a user runs it (see README.md). CASE: hash | new_check | check_bad.
set -uo pipefail
plinth=$1 case=$2
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
expect_out() {  # NAME TEXT: TEXT on stdout
  grep -qF -- "$2" "$work/$1.out" || fail "$1: stdout lacks '$2': $(cat "$work/$1.out")"
}

case $case in
hash)
  # FIPS 180-2's "abc", from the command line and from stdin (with or without a line end).
  abc=sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
  run arg keys hash abc
  expect_ok arg
  [[ $(cat "$work/arg.out") == "$abc" ]] || fail "keys hash abc: $(cat "$work/arg.out")"
  printf 'abc\n' | run stdin keys hash -
  expect_ok stdin
  [[ $(cat "$work/stdin.out") == "$abc" ]] || fail "echo abc | keys hash -: $(cat "$work/stdin.out")"
  printf 'abc' | run stdin-bare keys hash -
  [[ $(cat "$work/stdin-bare.out") == "$abc" ]] || fail "printf abc | keys hash -: $(cat "$work/stdin-bare.out")"
  # A key of the generated form, against coreutils' sha256sum.
  key=sk-plinth-0123456789abcdefghijklmnopqrstuvwxyzABCDEFG
  run known keys hash "$key"
  expect_ok known
  [[ $(cat "$work/known.out") == "sha256:$(printf %s "$key" | sha256sum | cut -d' ' -f1)" ]] ||
    fail "keys hash $key: $(cat "$work/known.out") differs from sha256sum"
  printf '' | run empty keys hash -
  expect_error empty "the key is empty"
  run missing keys hash
  expect_error missing "key is required"
  ;;

new_check)
  run new keys new --tenant acme --label 'ci "quoted" label'
  expect_ok new
  key=$(sed -n 1p "$work/new.out")
  [[ $key =~ ^sk-plinth-[A-Za-z0-9_-]{43}$ ]] || fail "keys new: first line is not a key: '$key'"
  [[ -z $(sed -n 2p "$work/new.out") ]] || fail "keys new: no blank line after the key"
  grep -qF "cannot be recovered" "$work/new.err" || fail "keys new: stderr does not say the key cannot be recovered"
  grep -qF -- "$key" "$work/new.err" && fail "keys new: the key is on stderr"
  block=$(tail -n +3 "$work/new.out")
  grep -qF -- "$key" <<<"$block" && fail "keys new: the key itself is in the [[key]] block"
  # The block's hash is the key's hash.
  run hash keys hash "$key"
  grep -qF "sha256 = \"$(cat "$work/hash.out")\"" <<<"$block" || fail "keys new: block hash is not keys hash's: $block"
  # The block pasted into a configuration reads back.
  { printf '[[tenant]]\nname = "acme"\nrequests_per_minute = 600\n\n'; printf '%s\n' "$block"; } >"$work/access.toml"
  run check keys check --config "$work/access.toml"
  expect_ok check
  expect_out check "valid; 1 tenant, 1 key"
  grep -Eq '^acme +1 +1 +600 ' "$work/check.out" || fail "keys check: no row 'acme 1 key 600/min': $(cat "$work/check.out")"
  # A second key for the same tenant differs, and both count.
  run new2 keys new --tenant acme
  expect_ok new2
  [[ $(sed -n 1p "$work/new2.out") != "$key" ]] || fail "keys new gave the same key twice"
  { echo; tail -n +3 "$work/new2.out"; } >>"$work/access.toml"
  run check2 keys check --config "$work/access.toml"
  expect_ok check2
  expect_out check2 "valid; 1 tenant, 2 keys"
  # A key of the default tenant needs no [[tenant]].
  run new-default keys new --tenant default
  expect_ok new-default
  tail -n +3 "$work/new-default.out" >"$work/default.toml"
  run check-default keys check --config "$work/default.toml"
  expect_ok check-default
  expect_out check-default "valid; 0 tenants, 1 key"
  run bad-tenant keys new --tenant 'acme corp'
  expect_error bad-tenant "--tenant 'acme corp'"
  [[ -s "$work/bad-tenant.out" ]] && fail "keys new --tenant 'acme corp' printed a key"
  ;;

check_bad)
  printf '[[tenant]]\nname = "acme"\nrequests_per_minute = 600\nrequests_per_minte = 60\n' >"$work/typo.toml"
  run typo keys check --config "$work/typo.toml"
  expect_error typo "plinth: error: $work/typo.toml:4:1: tenant \"acme\": unknown key 'requests_per_minte'"
  [[ -s "$work/typo.out" ]] && fail "keys check printed a table for a bad file: $(cat "$work/typo.out")"
  printf '[[tenant]]\nname = "acme"\n\n[[key]]\ntenant = "acme"\nsha256 = "sha256:ABC"\n' >"$work/hash.toml"
  run hash keys check --config "$work/hash.toml"
  expect_error hash "$work/hash.toml:6:10: [[key]] #1: 'sha256' must be"
  printf '[[tenant]]\nname = "acme"\nweight = \n' >"$work/syntax.toml"
  run syntax keys check --config "$work/syntax.toml"
  expect_error syntax "$work/syntax.toml:3:"
  expect_error syntax "syntax error"
  run missing keys check --config "$work/absent.toml"
  expect_error missing "$work/absent.toml: cannot read: No such file or directory"
  run no-config keys check
  expect_error no-config "--config is required"
  ;;

*)
  echo "unknown case '$case'"
  exit 2
  ;;
esac

if ((failures > 0)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "keys $case: ok"
