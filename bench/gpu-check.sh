#!/usr/bin/env bash
# One-command certification run of the CUDA backend on a machine with an NVIDIA GPU, from the repo
# root:   bench/gpu-check.sh
# Builds only what it needs (CUDA plugin, plinth CLI with the CTS, the GPU tests and check driver;
# SASS for one architecture for speed), then runs: the check driver (every op against a double
# reference, plus bandwidth / launch / graph measurements), the GPU GoogleTest suite, the CTS at level
# inference-2, `plinth bench ops`, the cuBLAS baseline, a forced-PTX-JIT pass and compute-sanitizer.
# First of all the runs: the paged-attention decode benchmark (achieved GB/s and its ratio to peak).
# Every step's failure is recorded in the report and the run goes on. Output: $OUT (or ./gpu-report)/report.txt
# plus one log per step.
# When a Vulkan plugin is at hand (built here, or in PREBUILT) and the machine has a Vulkan loader, the
# same checks run on it: check driver, CTS, `plinth bench ops --device vulkan:0`.
# Environment: OUT, BUILD (default build-gpu), JOBS (16), CUDA_ARCH (detected, else 90),
#   BENCH_OPS_ARGS: extra arguments of `plinth bench ops` (e.g. --quick).
#   BUDGET_S: seconds the whole run may take (steps are clamped to it, later ones skipped).
#   ENGINE_MODEL=GGUF: also `plinth bench engine` (throughput at ENGINE_CONCURRENCY, "64 256") on
#   cuda:0 and vulkan:0.   CTS_LEVEL: the conformance level (inference-2).
#   PREBUILT=DIR: use binaries built elsewhere instead of building (for a GPU machine without the
#   build dependencies): DIR/bin (plinth, plinth_gpu_check_driver, plinth_gpu_*_tests_cuda,
#   cublas_baseline), DIR/plugins (libplinth-backend-*.so), DIR/lib (shared libraries they need).
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${OUT:-$ROOT/gpu-report}"
BUILD="${BUILD:-$ROOT/build-gpu}"
JOBS="${JOBS:-16}"
mkdir -p "$OUT" "$BUILD"
REPORT="$OUT/report.txt"
: > "$REPORT"
T0=$(date +%s)
export PATH="$PATH:/usr/local/cuda/bin"

note() { echo "$*" | tee -a "$REPORT"; }
# step NAME TIMEOUT CMD...: runs CMD with a time limit, logs to $OUT/NAME.log, records rc and time.
step() {
  local name="$1" limit="$2"
  shift 2
  local start=$(date +%s)
  if [ "${BUDGET_S:-0}" -gt 0 ]; then  # clamp to what is left of the budget; skip under 15 s
    local left=$(( T0 + BUDGET_S - start ))
    if [ "$left" -lt 15 ]; then note "[$name] skipped: the ${BUDGET_S}s budget is spent"; return 125; fi
    [ "$left" -lt "$limit" ] && limit=$left
  fi
  timeout --kill-after=10 "$limit" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  note "[$name] rc=$rc $(( $(date +%s) - start ))s (t+$(( $(date +%s) - T0 ))s)"
  return $rc
}

note "== plinth gpu-check $(date -u +%FT%TZ) =="
note "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>&1 | sed 's/^/gpu: /' | tee -a "$REPORT"
NVCC="$(command -v nvcc || true)"
note "nvcc: ${NVCC:-missing} $($NVCC --version 2>/dev/null | tail -1)"
if [ -z "${CUDA_ARCH:-}" ]; then
  CUDA_ARCH="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '. ')"
  [ -n "$CUDA_ARCH" ] || CUDA_ARCH=90
fi
note "building for sm_$CUDA_ARCH (SASS + PTX)"
GEN="Unix Makefiles"
command -v ninja > /dev/null && GEN="Ninja"
note "cmake: $(cmake --version 2>/dev/null | head -1), generator $GEN"

PLUGIN="$BUILD/lib/plinth/plugins/libplinth-backend-cuda.so"
VK_PLUGIN="$BUILD/lib/plinth/plugins/libplinth-backend-vulkan.so"
CLI="$BUILD/bin/plinth"
DRIVER="$BUILD/bin/plinth_gpu_check_driver"
TESTS_DIR="$BUILD/bin"
CUBLAS_BASELINE="$BUILD/cublas_baseline"
if [ -n "${PREBUILT:-}" ]; then
  PREBUILT="$(cd "$PREBUILT" && pwd)"
  note "prebuilt binaries: $PREBUILT"
  PLUGIN="$PREBUILT/plugins/libplinth-backend-cuda.so"
  VK_PLUGIN="$PREBUILT/plugins/libplinth-backend-vulkan.so"
  CLI="$PREBUILT/bin/plinth"
  DRIVER="$PREBUILT/bin/plinth_gpu_check_driver"
  TESTS_DIR="$PREBUILT/bin"
  CUBLAS_BASELINE="$PREBUILT/bin/cublas_baseline"
  export LD_LIBRARY_PATH="$PREBUILT/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

# ---- Build --------------------------------------------------------------------------------------
if [ -z "${PREBUILT:-}" ]; then
COMMON=(-G "$GEN" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$CUDA_ARCH" -DPLINTH_WERROR=OFF
        -DPLINTH_BACKEND_CPU=OFF -DPLINTH_BACKEND_VULKAN=OFF -DPLINTH_BACKEND_ROCM=OFF -DPLINTH_BACKEND_CUDA=ON
        -DCMAKE_CUDA_COMPILER="${NVCC:-nvcc}")
if ! step configure 120 cmake -S "$ROOT" -B "$BUILD" "${COMMON[@]}"; then
  note "full configure failed (missing packages?); retrying without the test tree"
  rm -f "$BUILD/CMakeCache.txt"
  if ! step configure-no-tests 120 cmake -S "$ROOT" -B "$BUILD" "${COMMON[@]}" -DPLINTH_BUILD_TESTS=OFF; then
    note "retrying without tools and tests"
    rm -f "$BUILD/CMakeCache.txt"
    step configure-minimal 120 cmake -S "$ROOT" -B "$BUILD" "${COMMON[@]}" -DPLINTH_BUILD_TESTS=OFF -DPLINTH_BUILD_TOOLS=OFF
  fi
fi
if [ -f "$BUILD/CMakeCache.txt" ]; then
  step build-plugin 300 cmake --build "$BUILD" -j "$JOBS" --target plinth_backend_cuda
  step build-driver 120 cmake --build "$BUILD" -j "$JOBS" --target plinth_gpu_check_driver
  step build-tests 200 cmake --build "$BUILD" -j "$JOBS" --target plinth_gpu_probe_tests_cuda plinth_gpu_device_tests_cuda
  step build-cli 240 cmake --build "$BUILD" -j "$JOBS" --target plinth
fi

# Fallback when CMake could not build the plugin: compile it directly, exactly from the same sources.
if [ ! -f "$PLUGIN" ]; then
  note "CMake did not produce the plugin; building it directly"
  manual_build() {
    set -e
    local dir="$BUILD/manual"
    mkdir -p "$dir" "$(dirname "$PLUGIN")"
    local inc=(-I"$ROOT/abi/include" -I"$ROOT/plugins/sdk/include" -I"$ROOT/backends/gpu")
    local defs=(-DPLINTH_GPU_PLUGIN_NAME='"cuda"' -DPLINTH_GPU_MIN_CC="$CUDA_ARCH")
    local objs=()
    for src in "$ROOT"/backends/gpu/*.cu; do
      nvcc -std=c++17 -O2 -Xcompiler -fPIC,-fvisibility=hidden -gencode "arch=compute_$CUDA_ARCH,code=[sm_$CUDA_ARCH,compute_$CUDA_ARCH]" \
        "${inc[@]}" "${defs[@]}" -c "$src" -o "$dir/$(basename "$src").o" &
      objs+=("$dir/$(basename "$src").o")
    done
    for src in "$ROOT"/backends/gpu/*.cpp "$ROOT"/plugins/sdk/src/*.cpp; do
      g++ -std=c++20 -O2 -fPIC -fvisibility=hidden -I/usr/local/cuda/include "${inc[@]}" "${defs[@]}" -c "$src" \
        -o "$dir/$(basename "$src").o" &
      objs+=("$dir/$(basename "$src").o")
    done
    wait
    g++ -shared -o "$PLUGIN" "${objs[@]}" -L/usr/local/cuda/lib64 -Wl,-rpath,/usr/local/cuda/lib64 -lcublas \
      /usr/local/cuda/lib64/libcudart_static.a -ldl -lpthread -lrt
  }
  export ROOT BUILD PLUGIN CUDA_ARCH
  export -f manual_build
  step build-plugin-direct 300 bash -c manual_build
fi
DRIVER="$BUILD/bin/plinth_gpu_check_driver"
if [ ! -x "$DRIVER" ]; then
  DRIVER="$BUILD/plinth_gpu_check_driver"
  step build-driver-direct 120 g++ -std=c++20 -O2 -I"$ROOT/abi/include" -I"$ROOT/tests/gpu" \
    "$ROOT/tests/gpu/gpu_check_driver.cpp" -o "$DRIVER" -ldl
fi
# The GPU GoogleTest suite, compiled directly when the test tree could not be configured.
for kind in probe device; do
  t="plinth_gpu_${kind}_tests_cuda"
  if [ ! -x "$BUILD/bin/$t" ] && [ -f "$PLUGIN" ]; then
    mkdir -p "$BUILD/bin"
    step "build-$t-direct" 120 g++ -std=c++20 -O1 -I"$ROOT/abi/include" -I"$ROOT/tests/gpu" \
      -DPLINTH_TEST_PLUGIN_PATH="\"$PLUGIN\"" -DPLINTH_TEST_PLUGIN_NAME='"cuda"' \
      "$ROOT/tests/gpu/gpu_${kind}_test.cpp" -o "$BUILD/bin/$t" -lgtest -lgtest_main -ldl -pthread
  fi
done
step build-cublas-baseline 120 nvcc -O2 -arch="sm_$CUDA_ARCH" "$ROOT/bench/cublas_baseline.cu" -lcublas -o "$BUILD/cublas_baseline"
fi  # PREBUILT

# ---- Runs ---------------------------------------------------------------------------------------
# In order of what the open GPU goals need most, so that a run cut short by BUDGET_S (or by the
# machine's time limit) has measured the most important things first.
# have_vk: the Vulkan plugin is at hand and the loader sees a device through it.
have_vk() { [ -f "$VK_PLUGIN" ] && grep -q "^device:" "$OUT/vk-driver.log" 2>/dev/null; }
engine_bench() {  # engine_bench DEVICE PLUGIN_DIR NAME: the serving engine's aggregate tok/s
  [ -n "${ENGINE_MODEL:-}" ] && [ -x "$CLI" ] || return 0
  PLINTH_PLUGIN_PATH="$2" step "$3" "${ENGINE_LIMIT:-150}" "$CLI" bench engine --model "$ENGINE_MODEL" --device "$1" \
    --only throughput $(for c in ${ENGINE_CONCURRENCY:-64 256}; do echo --concurrency "$c"; done) \
    --json "$OUT/$3.json"
  grep -v "^\s*$" "$OUT/$3.log" | tail -12 | sed "s/^/  $3: /" | tee -a "$REPORT"
}
if [ -f "$PLUGIN" ]; then
  note "plugin: $PLUGIN ($(du -h "$PLUGIN" | cut -f1))"
  # Paged-attention decode (64 seqs x 2048 ctx, f16 cache) against peak bandwidth. PLINTH_PEAK_GBS
  # overrides the driver's GPU table.
  step paged-attention-bench 120 "$DRIVER" "$PLUGIN" --paged-attention-bench
  grep -E "^(bench|FAIL|SKIP)" "$OUT/paged-attention-bench.log" | sed 's/^/  /' | tee -a "$REPORT"
  # Every op against a double reference, then the matmul / decode / attention / launch timings.
  step driver 240 "$DRIVER" "$PLUGIN"
  grep -E "^(PASS|FAIL|SKIP|OK|FAILED|bench|device|probe)" "$OUT/driver.log" | sed 's/^/  /' | tee -a "$REPORT"
else
  note "no plugin was built: see the build logs"
fi
[ -x "$CUBLAS_BASELINE" ] && step cublas-baseline 120 "$CUBLAS_BASELINE" &&
  sed 's/^/  /' "$OUT/cublas-baseline.log" | tee -a "$REPORT"
# The Vulkan plugin on the same GPU (through the vendor's Vulkan driver), when there is one.
if [ -f "$VK_PLUGIN" ]; then
  note "vulkan plugin: $VK_PLUGIN"
  [ -x "$CLI" ] && PLINTH_LOG=info PLINTH_PLUGIN_PATH="$(dirname "$VK_PLUGIN")" step vk-devices 60 "$CLI" devices -v &&
    grep -i -E "vulkan|coopmat" "$OUT/vk-devices.log" | head -8 | sed 's/^/  vk: /' | tee -a "$REPORT"
  step vk-driver 240 "$DRIVER" "$VK_PLUGIN"
  grep -E "^(PASS|FAIL|SKIP|OK|FAILED|bench|device|probe)" "$OUT/vk-driver.log" | sed 's/^/  vk: /' | tee -a "$REPORT"
fi
# The serving engine on both plugins (ENGINE_MODEL: a GGUF, e.g. SmolLM2-135M-Instruct.Q4_1.gguf).
[ -f "$PLUGIN" ] && engine_bench cuda:0 "$(dirname "$PLUGIN")" engine-cuda
have_vk && engine_bench vulkan:0 "$(dirname "$VK_PLUGIN")" engine-vulkan
# Conformance, at the level with the paged KV-cache ops.
CTS_LEVEL="${CTS_LEVEL:-inference-2}"
if [ -x "$CLI" ] && [ -f "$PLUGIN" ]; then
  step cts 240 "$CLI" cts --plugin "$PLUGIN" --level "$CTS_LEVEL" --json "$OUT/cts.json"
  grep -E "^ *(\[failed\]|Result:)" "$OUT/cts.log" | head -40 | sed "s/^/  /" | tee -a "$REPORT"
fi
if have_vk && [ -x "$CLI" ]; then
  step vk-cts 300 "$CLI" cts --plugin "$VK_PLUGIN" --level "$CTS_LEVEL" --json "$OUT/vk-cts.json"
  grep -E "^ *(\[failed\]|\[unsupported\]|Result:)" "$OUT/vk-cts.log" | head -40 | sed "s/^/  vk: /" | tee -a "$REPORT"
fi
if have_vk; then
  # The narrow (128x64-tile) cooperative-matrix build and the portable matmul, timed beside the default.
  PLINTH_VULKAN_COOPMAT=narrow step vk-driver-narrow 180 "$DRIVER" "$VK_PLUGIN"
  grep -E "^(FAIL|OK|FAILED|bench matmul f16)" "$OUT/vk-driver-narrow.log" | sed 's/^/  vk narrow: /' | tee -a "$REPORT"
  PLINTH_VULKAN_COOPMAT=0 step vk-driver-portable 180 "$DRIVER" "$VK_PLUGIN"
  grep -E "^(FAIL|OK|FAILED|bench matmul)" "$OUT/vk-driver-portable.log" | sed 's/^/  vk portable: /' | tee -a "$REPORT"
fi
if [ -x "$CLI" ] && [ -f "$PLUGIN" ]; then
  PLINTH_PLUGIN_PATH="$(dirname "$PLUGIN")" step bench-ops 120 "$CLI" bench ops --device cuda:0 ${BENCH_OPS_ARGS:-}
  tail -30 "$OUT/bench-ops.log" | sed 's/^/  /' | tee -a "$REPORT"
else
  note "plinth CLI not built: CTS and bench ops skipped (the check driver above covers every op)"
fi
if have_vk && [ -x "$CLI" ]; then
  PLINTH_PLUGIN_PATH="$(dirname "$VK_PLUGIN")" step vk-bench-ops 180 "$CLI" bench ops --device vulkan:0 ${BENCH_OPS_ARGS:-}
  tail -30 "$OUT/vk-bench-ops.log" | sed 's/^/  vk: /' | tee -a "$REPORT"
fi
if [ -f "$PLUGIN" ]; then
  # The exact f32-activation decode kernel, for comparison with the default 8-bit-activation one.
  PLINTH_CUDA_DECODE=f32 step driver-f32-decode 120 "$DRIVER" "$PLUGIN"
  grep -E "^(FAIL|OK|FAILED|bench q4_1)" "$OUT/driver-f32-decode.log" | sed 's/^/  f32 decode: /' | tee -a "$REPORT"
fi
for t in plinth_gpu_probe_tests_cuda plinth_gpu_device_tests_cuda; do
  if [ -x "$TESTS_DIR/$t" ]; then
    PLINTH_TEST_PLUGIN="$PLUGIN" step "$t" 180 "$TESTS_DIR/$t" --gtest_brief=1
    tail -3 "$OUT/$t.log" | sed 's/^/  /' | tee -a "$REPORT"
  fi
done
if have_vk; then
  for t in plinth_vulkan_tests plinth_vulkan_gemv_tests; do
    if [ -x "$TESTS_DIR/$t" ]; then
      # One process for all tests: the missing-ICD probe test hides the driver from the loader for
      # the rest of the process (ctest runs it in a process of its own).
      PLINTH_TEST_PLUGIN="$VK_PLUGIN" step "$t" 180 "$TESTS_DIR/$t" --gtest_brief=1 \
        --gtest_filter=-VulkanProbe.MissingIcdIsAReasonNotACrash
      grep -E "^\[ device|PASSED|FAILED" "$OUT/$t.log" | head -12 | sed 's/^/  vk: /' | tee -a "$REPORT"
    fi
  done
  if [ -x "$TESTS_DIR/plinth_vulkan_tests" ]; then
    PLINTH_VULKAN_COOPMAT=narrow PLINTH_TEST_PLUGIN="$VK_PLUGIN" step vk-coopmat-narrow 120 \
      "$TESTS_DIR/plinth_vulkan_tests" --gtest_brief=1 --gtest_filter='VulkanCoopmat*'
    grep -E "PASSED|FAILED" "$OUT/vk-coopmat-narrow.log" | head -5 | sed 's/^/  vk narrow: /' | tee -a "$REPORT"
  fi
fi
# New GPU generations run the embedded PTX: force the JIT path to prove it works. cuBLAS ships its
# own kernels (not all as PTX), so this pass runs the project's kernels only (tiled matmul).
if [ -f "$PLUGIN" ]; then
  CUDA_FORCE_PTX_JIT=1 PLINTH_CUDA_MATMUL=tiled step ptx-jit 90 "$DRIVER" "$PLUGIN" --no-bench
  grep -E "^(FAIL|OK|FAILED)" "$OUT/ptx-jit.log" | sed 's/^/  /' | tee -a "$REPORT"
fi
# Out-of-bounds or misaligned device accesses anywhere in the checks (both matmul paths).
SANITIZER="$(command -v compute-sanitizer || true)"
if [ -n "$SANITIZER" ] && [ -f "$PLUGIN" ]; then
  step memcheck 120 "$SANITIZER" --tool memcheck --leak-check no --error-exitcode 3 "$DRIVER" "$PLUGIN" --no-bench
  grep -E "ERROR SUMMARY|^(FAIL|OK|FAILED)" "$OUT/memcheck.log" | sed 's/^/  /' | tee -a "$REPORT"
fi
note "== done in $(( $(date +%s) - T0 ))s =="
exit 0
