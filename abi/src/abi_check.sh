#!/usr/bin/env bash
# ABI dump and compatibility check for the plugin ABI (docs/abi.md, "The ABI check").
#
#   abi_check.sh dump   --library LIB --out FILE.xml
#   abi_check.sh check  --library LIB --include DIR --baseline DIR [--work DIR]
#   abi_check.sh update --library LIB --include DIR --baseline DIR
#
# LIB is the abi_dump shared library (abi/src/abi_dump.c) built against the headers in DIR/plinth.
# The baseline directory holds plinth-abi.xml (abidw's description of LIB) and plinth-abi.version
# ("MAJOR.MINOR" of the headers it was made from).
#
# `check` exits 0 when the ABI is unchanged or only extended (new types, members appended at the end
# of a struct, entries appended to the function table) and the minor version was bumped for the
# extension; it exits 1 on anything else. abidiff's own ABI_INCOMPATIBLE_CHANGE bit only covers
# removed symbols; a retyped, removed or moved struct member only sets ABI_CHANGE. So every change
# abidiff reports is read from its leaf-change report and must match the one shape known to be
# compatible; anything it does not recognise counts as incompatible.
set -euo pipefail

ABIDW=${ABIDW:-abidw}
ABIDIFF=${ABIDIFF:-abidiff}
# No locations, no paths: the dump depends only on the types, not on where the tree was built.
ABIDW_FLAGS=(--no-corpus-path --no-comp-dir-path --no-show-locs --no-architecture --no-elf-needed
             --type-id-style hash)
ABIDIFF_FLAGS=(--no-show-locs --leaf-changes-only --no-added-syms)

die() { echo "abi_check: $*" >&2; exit 2; }

mode=${1:-}
[[ -n "$mode" ]] || die "usage: abi_check.sh dump|check|update --library LIB [--include DIR] [--baseline DIR] [--out FILE]"
shift
library="" include="" baseline="" out="" work=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --library) library=$2; shift 2 ;;
    --include) include=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) die "unknown argument '$1'" ;;
  esac
done
[[ -f "$library" ]] || die "library '$library' not found (build the plinth_abi_dump target)"
command -v "$ABIDW" >/dev/null || die "abidw not found (Debian package abigail-tools)"

dump() { "$ABIDW" "${ABIDW_FLAGS[@]}" --out-file "$2" "$1"; }

header_version() {
  local h="$include/plinth/abi.h" major minor
  [[ -f "$h" ]] || die "header '$h' not found"
  major=$(sed -n 's/^#define PLINTH_ABI_VERSION_MAJOR \([0-9]\+\).*/\1/p' "$h")
  minor=$(sed -n 's/^#define PLINTH_ABI_VERSION_MINOR \([0-9]\+\).*/\1/p' "$h")
  [[ -n "$major" && -n "$minor" ]] || die "no PLINTH_ABI_VERSION_MAJOR/MINOR in $h"
  echo "$major.$minor"
}

# Reads an abidiff leaf report on stdin. Prints one line per change: "ADD <what>" for a compatible
# addition, "BREAK <what>" for anything else.
classify() {
  awk '
    function flush() {
      if (block == "") return
      if (ok && grew) print "ADD " block " (members appended)"
      else print "BREAK " block
      block = ""
    }
    /^Removed\/Changed\/Added (functions|variables) summary:/ {
      if (match($0, /[0-9]+ Removed/) && substr($0, RSTART, RLENGTH) + 0 > 0) print "BREAK " $0
      if (match($0, /[0-9]+ Changed/) && substr($0, RSTART, RLENGTH) + 0 > 0) print "BREAK " $0
      if (match($0, /[0-9]+ Added/) && substr($0, RSTART, RLENGTH) + 0 > 0) print "ADD " $0
      next
    }
    /^(Leaf changes summary|Changed leaf types summary|Removed\/Changed\/Added)/ { next }
    /^[^ ]/ && /changed:$/ { flush(); block = $0; ok = 1; grew = 0; old = -1; next }
    /^[^ ]/ { flush(); next }   # headers of removed/added symbol lists, counted above
    /^ *$/ { next }
    block != "" && /^  type size changed from [0-9]+ to [0-9]+ \(in bits\)$/ {
      old = $5 + 0; if ($7 + 0 <= old) ok = 0; next
    }
    block != "" && /^  [0-9a-z]+ data member insertions?:$/ { next }
    block != "" && /^    .*, at offset [0-9]+ \(in bits\)$/ {
      n = split($0, w, " "); off = w[n - 2] + 0
      if (old < 0 || off < old) ok = 0; else grew = 1
      next
    }
    block != "" { ok = 0; next }
    END { flush() }
  '
}

case "$mode" in
  dump)
    [[ -n "$out" ]] || die "dump needs --out"
    dump "$library" "$out"
    ;;
  update)
    [[ -n "$baseline" && -n "$include" ]] || die "update needs --include and --baseline"
    mkdir -p "$baseline"
    dump "$library" "$baseline/plinth-abi.xml"
    header_version > "$baseline/plinth-abi.version"
    echo "abi_check: baseline updated to ABI $(cat "$baseline/plinth-abi.version") in $baseline"
    ;;
  check)
    [[ -n "$baseline" && -n "$include" ]] || die "check needs --include and --baseline"
    command -v "$ABIDIFF" >/dev/null || die "abidiff not found (Debian package abigail-tools)"
    [[ -f "$baseline/plinth-abi.xml" && -f "$baseline/plinth-abi.version" ]] ||
      die "no baseline in '$baseline' (plinth-abi.xml, plinth-abi.version)"
    if [[ -z "$work" ]]; then
      work=$(mktemp -d)
      trap 'rm -rf "$work"' EXIT
    fi
    mkdir -p "$work"
    dump "$library" "$work/current.xml"
    set +e
    "$ABIDIFF" "${ABIDIFF_FLAGS[@]}" "$baseline/plinth-abi.xml" "$work/current.xml" > "$work/report.txt" 2>&1
    rc=$?
    set -e
    if (( rc & 1 || rc & 2 )); then
      cat "$work/report.txt" >&2
      die "abidiff failed to run (exit $rc)"
    fi
    base_version=$(tr -d '[:space:]' < "$baseline/plinth-abi.version")
    cur_version=$(header_version)
    if (( rc == 0 )); then
      echo "abi_check: ABI $cur_version unchanged against the baseline (ABI $base_version)"
      if [[ "$cur_version" != "$base_version" ]]; then
        echo "abi_check: note: the headers say $cur_version, the baseline $base_version; run the abi_baseline target"
      fi
      exit 0
    fi
    verdicts=$(classify < "$work/report.txt")
    if (( rc & 8 )) || grep -q '^BREAK' <<<"$verdicts"; then
      echo "abi_check: INCOMPATIBLE ABI change against the baseline (abidiff exit $rc):"
      grep '^BREAK' <<<"$verdicts" | sed 's/^BREAK /  - /' || true
      echo "---- abidiff report ----"
      cat "$work/report.txt"
      echo "------------------------"
      echo "Within a major version the ABI is append-only (docs/abi.md)."
      exit 1
    fi
    echo "abi_check: compatible additions against the baseline (ABI $base_version):"
    echo "${verdicts//ADD /  + }"
    base_major=${base_version%%.*} base_minor=${base_version#*.}
    cur_major=${cur_version%%.*} cur_minor=${cur_version#*.}
    if [[ "$cur_major" != "$base_major" ]] || (( cur_minor <= base_minor )); then
      echo "abi_check: FAIL: the ABI grew but PLINTH_ABI_VERSION_MINOR was not bumped (headers $cur_version," \
           "baseline $base_version). Bump it and run the abi_baseline target in the same commit."
      exit 1
    fi
    echo "abi_check: OK (minor bumped to $cur_version); run the abi_baseline target to record it"
    ;;
  *)
    die "unknown mode '$mode'"
    ;;
esac
