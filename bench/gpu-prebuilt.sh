#!/usr/bin/env bash
# Packs what bench/gpu-check.sh runs into one folder, for a GPU machine that lacks the build
# dependencies (spdlog, oneDNN, GoogleTest, the Vulkan headers and glslc):
#   bench/gpu-prebuilt.sh BUILD_DIR DEST_DIR
# then, on the GPU machine:   PREBUILT=DEST_DIR bench/gpu-check.sh
# BUILD_DIR is a build configured with the CUDA architecture of the target GPU (for example
# -DCMAKE_CUDA_ARCHITECTURES=90 for an H100/H200) and built with the targets listed below. DEST_DIR gets
# bin/, plugins/ and lib/ (the shared libraries those binaries need that are not part of the C/C++
# runtime, the GPU driver or the CUDA toolkit, which the GPU machine provides).
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR DEST_DIR" >&2
  exit 2
fi
BUILD="$(cd "$1" && pwd)"
DEST="$2"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$DEST/bin" "$DEST/plugins" "$DEST/lib"
missing=0
copy() {  # copy SRC DIR: warns about (and counts) a missing file instead of stopping
  if [ -f "$1" ]; then
    cp -L "$1" "$2/"
  else
    echo "missing: $1 (build its target first)" >&2
    missing=$((missing + 1))
  fi
}
for b in plinth plinth_gpu_check_driver plinth_gpu_probe_tests_cuda plinth_gpu_device_tests_cuda plinth_vulkan_tests \
         plinth_vulkan_gemv_tests; do
  copy "$BUILD/bin/$b" "$DEST/bin"
done
# The GPU plugins only: the CPU plugin would bring oneDNN (tens of MB) that no GPU check uses.
for p in cuda vulkan; do
  copy "$BUILD/lib/plinth/plugins/libplinth-backend-$p.so" "$DEST/plugins"
done
if command -v nvcc > /dev/null || [ -x /usr/local/cuda/bin/nvcc ]; then
  arch="$(sed -n 's/^CMAKE_CUDA_ARCHITECTURES:[A-Z]*=\([0-9]*\).*/\1/p' "$BUILD/CMakeCache.txt" | head -1)"
  "$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)" -O2 -arch="sm_${arch:-90}" "$ROOT/bench/cublas_baseline.cu" \
    -lcublas -o "$DEST/bin/cublas_baseline"
fi
# Debug info is most of a RelWithDebInfo binary's size; the GPU machine needs none of it.
strip --strip-debug "$DEST"/bin/* "$DEST"/plugins/*.so 2> /dev/null || true
# Shared libraries: everything ldd resolves except the C/C++ runtime, the loader and GPU vendor
# libraries (the GPU machine's own versions must be used for those).
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libpthread|libdl\.so|librt\.so|libstdc\+\+|libgcc_s|libcuda|libcublas|libcudart|libnvidia|libvulkan)'
for f in "$DEST"/bin/* "$DEST"/plugins/*.so; do
  ldd "$f" 2> /dev/null | awk '$3 ~ /^\// {print $1, $3}' | while read -r name path; do
    if ! [[ "$name" =~ $skip ]] && [ ! -f "$DEST/lib/$name" ]; then cp -L "$path" "$DEST/lib/$name"; fi
  done
done
strip --strip-debug "$DEST"/lib/*.so* 2> /dev/null || true
echo "packed into $DEST: $(du -sh "$DEST" | cut -f1) ($missing missing)"
