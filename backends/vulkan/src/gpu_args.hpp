// The per-dispatch argument block every shader reads through its push-constant address; mirrors
// `Tensor` and `Args` in shaders/common.glsl (std430), which the static asserts pin.
#pragma once

#include <cstddef>
#include <cstdint>

namespace plinth::vulkan {

struct alignas(32) GpuTensor {
  uint64_t addr = 0;  // 0 = absent operand
  int32_t dtype = 0;
  int32_t ndim = 0;
  int32_t dims[4] = {1, 1, 1, 1};
  int64_t strides[4] = {0, 0, 0, 0};
};
static_assert(sizeof(GpuTensor) == 64);
static_assert(offsetof(GpuTensor, dims) == 16 && offsetof(GpuTensor, strides) == 32);

inline constexpr int kGpuTensors = 6;

struct alignas(32) GpuArgs {
  GpuTensor t[kGpuTensors];
  float f[8] = {};
  int32_t i[8] = {};
  uint64_t status = 0;  // address of the stream's error word
  uint32_t total = 0;   // invocations (or workgroups, for workgroup-per-output shaders)
  uint32_t pad0 = 0;
};
static_assert(offsetof(GpuArgs, f) == 384 && offsetof(GpuArgs, i) == 416 &&
              offsetof(GpuArgs, status) == 448 && offsetof(GpuArgs, total) == 456);

inline constexpr uint32_t kArgSlotBytes = 512;
static_assert(sizeof(GpuArgs) <= kArgSlotBytes);

// Shader ids: index into the table of embedded modules, in the CMake list order.
enum class Shader : uint32_t {
  kEltwise,
  kMatmul,
  kMatmulTiled,
  kGemvQuant,
  kGemvQuantSubgroup,
  kGetRows,
  kNorm,
  kSoftmax,
  kRope,
  kAttention,
  kMeanPool,
  kTopK,
  kGemvQuantFast,
  kGemvQuantFastSubgroup,
  kGemvQuantFastSingle,
  kGemvQuantFastSingleSubgroup,
  kMatmulCoopmat,
  kMatmulCoopmatNarrow,
  kDequant,
  kSetRows,
  kPagedCheck,
  kPagedAttention,
  kCount
};
inline constexpr const char* kShaderNames[] = {"eltwise",
                                               "matmul",
                                               "matmul_tiled",
                                               "gemv_quant",
                                               "gemv_quant_subgroup",
                                               "get_rows",
                                               "norm",
                                               "softmax",
                                               "rope",
                                               "attention",
                                               "mean_pool",
                                               "top_k",
                                               "gemv_quant_fast",
                                               "gemv_quant_fast_subgroup",
                                               "gemv_quant_fast_single",
                                               "gemv_quant_fast_single_subgroup",
                                               "matmul_coopmat",
                                               "matmul_coopmat_narrow",
                                               "dequant",
                                               "set_rows",
                                               "paged_check",
                                               "paged_attention"};
static_assert(sizeof(kShaderNames) / sizeof(kShaderNames[0]) == static_cast<size_t>(Shader::kCount));

// Workgroup size (x) each shader was compiled with.
inline constexpr uint32_t shader_local_size(Shader s) {
  if (s == Shader::kGemvQuantFast || s == Shader::kGemvQuantFastSubgroup ||
      s == Shader::kGemvQuantFastSingle || s == Shader::kGemvQuantFastSingleSubgroup)
    return 128u;
  if (s == Shader::kMatmulCoopmat || s == Shader::kMatmulCoopmatNarrow) return 128u;
  return s == Shader::kMatmulTiled || s == Shader::kEltwise || s == Shader::kDequant ? 256u : 64u;
}

// Status bits shaders set in the stream's error word.
inline constexpr uint32_t kStatusBadIndex = 1;
inline constexpr uint32_t kStatusBadKvLen = 2;
inline constexpr uint32_t kStatusBadBlockId = 4;        // paged_attention: block_table entry
inline constexpr uint32_t kStatusBadQueryStart = 8;     // paged_attention: query_start
inline constexpr uint32_t kStatusBadContextLen = 16;    // paged_attention: context_lens
inline constexpr uint32_t kStatusBadSetRowsIndex = 32;  // set_rows: index outside dst

}  // namespace plinth::vulkan
