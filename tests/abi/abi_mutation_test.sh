#!/usr/bin/env bash
# Proves that abi/src/abi_check.sh tells compatible from incompatible ABI changes: each case edits a
# copy of the headers, rebuilds the dump library against the copy and runs the check against the
# committed baseline, expecting pass (0) or fail (1).
#   abi_mutation_test.sh --cc CC --abi-dir ABI_DIR --work DIR
set -euo pipefail

cc="" abi_dir="" work=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --cc) cc=$2; shift 2 ;;
    --abi-dir) abi_dir=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[[ -n "$cc" && -d "$abi_dir" && -n "$work" ]] || { echo "usage: --cc CC --abi-dir DIR --work DIR" >&2; exit 2; }
rm -rf "$work"
mkdir -p "$work"

# The headers' minor and the one an append must bump it to, so the cases survive every bump.
minor=$(sed -n 's/^#define PLINTH_ABI_VERSION_MINOR \([0-9][0-9]*\)$/\1/p' "$abi_dir/include/plinth/abi.h")
[[ -n "$minor" ]] || { echo "cannot read PLINTH_ABI_VERSION_MINOR from $abi_dir/include/plinth/abi.h" >&2; exit 2; }
bump="s/^#define PLINTH_ABI_VERSION_MINOR $minor\$/#define PLINTH_ABI_VERSION_MINOR $((minor + 1))/"

failures=0
# run_case NAME EXPECTED_EXIT EXPECTED_OUTPUT_REGEX LAYOUT [FILE SED_SCRIPT]...
# LAYOUT is whether abi/src/abi_layout.c must still compile against the edited headers (pass|fail):
# the static asserts reject every layout change, appends included, until the pins are updated.
run_case() {
  local name=$1 expected=$2 pattern=$3 layout=$4
  shift 4
  local dir="$work/$name"
  mkdir -p "$dir/include/plinth"
  cp "$abi_dir"/include/plinth/*.h "$dir/include/plinth/"
  while [[ $# -gt 0 ]]; do
    local file=$1 script=$2
    shift 2
    sed -i "$script" "$dir/include/plinth/$file"
    if cmp -s "$dir/include/plinth/$file" "$abi_dir/include/plinth/$file"; then
      echo "FAIL $name: the edit '$script' did not change $file (the header moved on; update this test)"
      failures=$((failures + 1))
      return
    fi
  done
  "$cc" -std=c11 -shared -fPIC -fvisibility=hidden -g -Og -I"$dir/include" \
    "$abi_dir/src/abi_dump.c" -o "$dir/libdump.so"
  local layout_result=pass
  "$cc" -std=c11 -fsyntax-only -I"$dir/include" "$abi_dir/src/abi_layout.c" > "$dir/layout.log" 2>&1 ||
    layout_result=fail
  if [[ "$layout_result" != "$layout" ]]; then
    echo "FAIL $name: abi_layout.c static asserts: expected $layout, got $layout_result"
    sed 's/^/     /' "$dir/layout.log" | head -n 20
    failures=$((failures + 1))
    return
  fi
  local rc=0
  bash "$abi_dir/src/abi_check.sh" check --library "$dir/libdump.so" --include "$dir/include" \
    --baseline "$abi_dir/baseline" --work "$dir/check" > "$dir/check.log" 2>&1 || rc=$?
  if [[ $rc -eq $expected ]] && grep -Eq "$pattern" "$dir/check.log"; then
    echo "ok   $name (check exit $rc, layout asserts $layout_result)"
  else
    echo "FAIL $name: check exited $rc, expected $expected and output matching /$pattern/; its output:"
    sed 's/^/     /' "$dir/check.log"
    failures=$((failures + 1))
  fi
}

run_case unchanged 0 'unchanged against the baseline' pass
# A no-op edit (a comment) must not matter.
run_case comment_only 0 'unchanged against the baseline' pass abi.h 's|^#define PLINTH_ABI_H_$|#define PLINTH_ABI_H_ /* edited */|'
run_case retyped_field 1 'INCOMPATIBLE ABI change' fail abi.h 's/^  uint64_t offset;   /  uint32_t offset;   /'
run_case removed_table_entry 1 'INCOMPATIBLE ABI change' fail abi.h '/int64_t (\*last_error_vendor_code)(void);/d'
run_case inserted_middle_field 1 'INCOMPATIBLE ABI change' fail ops.h 's/^  uint32_t transpose_b;/  uint32_t extra;\n  uint32_t transpose_b;/'
# Same size, same offsets: only abidiff sees a changed signature; the static asserts cannot.
run_case changed_entry_signature 1 'INCOMPATIBLE ABI change' pass abi.h \
  's/(\*buffer_unmap)(plinth_buffer_t buffer);/(*buffer_unmap)(plinth_buffer_t buffer, uint32_t flags);/'
run_case retyped_typedef 1 'INCOMPATIBLE ABI change' fail abi.h 's/^typedef int32_t plinth_dtype_t;/typedef int64_t plinth_dtype_t;/'
run_case shrunk_array 1 'INCOMPATIBLE ABI change' fail abi.h 's/^#define PLINTH_REASON_MAX 256/#define PLINTH_REASON_MAX 128/'
# Appending is the one allowed change, and only together with a minor version bump.
run_case appended_entry_with_minor_bump 0 "OK \\(minor bumped to 1\\.$((minor + 1))\\)" fail \
  abi.h 's/^} plinth_plugin_api_t;/  plinth_status_t (*new_entry)(plinth_device_t device);\n} plinth_plugin_api_t;/' \
  abi.h "$bump"
run_case appended_field_without_minor_bump 1 'MINOR was not bumped' fail \
  ops.h 's/^} plinth_top_k_params_t;/  uint32_t largest;\n  uint32_t reserved0;\n} plinth_top_k_params_t;/'
# An append must not hide a break elsewhere in the same struct.
run_case appended_and_retyped 1 'INCOMPATIBLE ABI change' fail \
  abi.h 's/^} plinth_tensor_t;/  uint64_t extra;\n} plinth_tensor_t;/' \
  abi.h 's/^  uint64_t offset;   /  uint32_t offset;   /' \
  abi.h "$bump"

if [[ $failures -ne 0 ]]; then
  echo "$failures case(s) failed"
  exit 1
fi
echo "all cases behaved as expected"
