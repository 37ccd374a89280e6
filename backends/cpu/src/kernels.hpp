// The table of vectorized row kernels. One instance per instruction set is compiled from
// kernels_isa.inc; select_kernels() picks the widest one the running CPU supports.
#pragma once

#include <cstdint>

namespace plinth::cpu {

// Weight formats the quantized matmul kernel reads (GGUF blocks of 32).
enum class QuantFormat : int { kQ8_0, kQ4_0, kQ4_1 };

struct KernelTable {
  const char* isa;  // "avx512", "avx2", "generic"

  // Reductions and BLAS-1 style rows (all pointers contiguous f32).
  float (*dot)(const float* a, const float* b, int64_t n);
  void (*axpy)(float* y, float a, const float* x, int64_t n);          // y += a * x
  void (*scale_rows)(float* y, float a, int64_t n);                    // y *= a
  float (*max)(const float* x, int64_t n);                             // -inf for n == 0
  float (*exp_sub_sum)(float* y, const float* x, float m, int64_t n);  // y = exp(x - m); returns sum

  // Elementwise (y may equal an input pointer).
  void (*add)(float* y, const float* a, const float* b, int64_t n);
  void (*mul)(float* y, const float* a, const float* b, int64_t n);
  void (*affine)(float* y, const float* x, float scale, float bias, int64_t n);
  void (*silu)(float* y, const float* x, int64_t n);
  void (*gelu_erf)(float* y, const float* x, int64_t n);
  void (*gelu_tanh)(float* y, const float* x, int64_t n);
  void (*swiglu)(float* y, const float* gate, const float* up, int64_t n);

  // Norms over one row; weight/gamma/beta may be null.
  void (*rms_norm)(float* y, const float* x, const float* weight, int64_t n, float eps);
  void (*layer_norm)(float* y, const float* x, const float* gamma, const float* beta, int64_t n, float eps);
  float (*sum_squares)(const float* x, int64_t n);

  // Contiguous conversions.
  void (*f16_to_f32)(const uint16_t* x, float* y, int64_t n);
  void (*f32_to_f16)(const float* x, uint16_t* y, int64_t n);
  void (*bf16_to_f32)(const uint16_t* x, float* y, int64_t n);
  void (*f32_to_bf16)(const float* x, uint16_t* y, int64_t n);

  // Dequantizes k elements (k % 32 == 0) of one block row.
  void (*dequant_row)(QuantFormat format, const uint8_t* row, float* y, int64_t k);

  // y[m * ldy + r] = alpha * dot(x[m * ldx .. + k], dequant(w row r)) for r in [0, rows), m in [0, mrows)
  // with mrows <= kQuantMaxRows. Weight rows are w + r * w_stride bytes. Streams each weight block
  // once for all mrows activation rows.
  void (*quant_matmul)(QuantFormat format, const uint8_t* w, int64_t w_stride, int64_t rows, const float* x,
                       int64_t ldx, int64_t mrows, int64_t k, float* y, int64_t ldy, float alpha);
};

inline constexpr int64_t kQuantMaxRows = 8;

// Per-ISA tables, defined in kernels_<isa>.cpp.
namespace generic {
const KernelTable& kernel_table() noexcept;
}
namespace avx2 {
const KernelTable& kernel_table() noexcept;
}
namespace avx512 {
const KernelTable& kernel_table() noexcept;
}

enum class IsaLevel : int { kGeneric, kAvx2, kAvx512 };
// The widest level this CPU (and OS) supports; PLINTH_CPU_ISA=generic|avx2|avx512 caps it.
IsaLevel detect_isa() noexcept;
const KernelTable& select_kernels(IsaLevel level) noexcept;

}  // namespace plinth::cpu
