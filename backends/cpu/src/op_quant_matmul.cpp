// MATMUL with block-quantized weights b [N, K] (transpose_b). Up to kFusedMaxRows activation rows,
// each weight block is dequantized in registers and used for up to kQuantMaxRows rows before moving
// on, so at decode sizes the weights stream through memory exactly once. Above it, panels of weight
// rows are dequantized once per thread and multiplied by oneDNN's GEMM. Threads split the weight rows.
#include <omp.h>

#include <algorithm>
#include <oneapi/dnnl/dnnl.h>
#include <vector>

#include "ops.hpp"
#include "parallel.hpp"

namespace plinth::cpu {
namespace {

QuantFormat format_of(plinth_dtype_t dtype) {
  switch (dtype) {
    case PLINTH_DTYPE_Q8_0: return QuantFormat::kQ8_0;
    case PLINTH_DTYPE_Q4_0: return QuantFormat::kQ4_0;
    default: return QuantFormat::kQ4_1;
  }
}

// Weight rows per task: enough that a task amortizes its start, small enough to balance threads.
constexpr int64_t kRowsPerTask = 16;
// Above this many activation rows the weights are dequantized into panels for oneDNN's GEMM instead
// (measured crossover: between 16 and 24 rows on AVX2).
constexpr int64_t kFusedMaxRows = 16;
// Weight rows one thread dequantizes at a time above kFusedMaxRows: 64 rows of the widest K of the
// small models (1536 floats) is 384 KiB, within L2 while every activation row streams past it.
constexpr int64_t kPanelRows = 64;

// oneDNN's GEMM sizes its OpenMP team from the calling thread's omp_get_max_threads(): pin it to one
// thread for the scope (the ICV is per thread, so other threads are unaffected).
class SingleThreadedGemm {
 public:
  SingleThreadedGemm() : saved_(omp_get_max_threads()) {
    if (saved_ != 1) omp_set_num_threads(1);
  }
  ~SingleThreadedGemm() {
    if (saved_ != 1) omp_set_num_threads(saved_);
  }
  SingleThreadedGemm(const SingleThreadedGemm&) = delete;
  SingleThreadedGemm& operator=(const SingleThreadedGemm&) = delete;

 private:
  int saved_;
};

}  // namespace

void op_quant_matmul(OpContext& ctx) {
  const auto& p = ctx.call.params.matmul;
  const KernelTable& k = ctx.k;
  CpuStream& s = ctx.stream;
  Tensor a = ctx.in[0];
  if (p.transpose_a != 0) {
    std::swap(a.dims[2], a.dims[3]);
    std::swap(a.strides[2], a.strides[3]);
  }
  const Tensor& w = ctx.in[1];
  const Tensor& c = ctx.out[0];
  if (c.numel() == 0) return;
  const int64_t rows = c.rows();  // batch * M, matching a's rows (b has no batch)
  const int64_t kdim = a.dims[3];
  const int64_t n = c.dims[3];
  const QuantFormat fmt = format_of(w.dtype);
  const float alpha = p.alpha;

  // Activations as dense f32 rows [rows, K] unless they already are.
  const float* x = nullptr;
  int64_t ldx = kdim;
  const bool x_direct = a.f32_rows() && a.dims[0] * a.dims[1] == 1 && (rows == 1 || a.strides[2] % 4 == 0);
  if (x_direct) {
    x = reinterpret_cast<const float*>(a.data);
    ldx = rows == 1 ? kdim : a.strides[2] / 4;
  } else {
    if (s.stage_a.size() < static_cast<size_t>(rows * kdim))
      s.stage_a.resize(static_cast<size_t>(rows * kdim));
    float* dst = s.stage_a.data();
    const Tensor ab = broadcast_to(a, {c.dims[0], c.dims[1], a.dims[2], a.dims[3]});
    parallel_for(rows, grain_for(kdim), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) load_row(k, ab.row(r), ab.dtype, ab.strides[3], kdim, dst + r * kdim);
    });
    x = dst;
  }

  // Output rows: in place for a single dense f32 matrix, else staged.
  const bool y_direct = c.f32_rows() && c.dims[0] * c.dims[1] == 1;
  float* y = nullptr;
  int64_t ldy = n;
  if (y_direct) {
    y = reinterpret_cast<float*>(c.data);
    ldy = rows == 1 ? n : c.strides[2] / 4;
  } else {
    if (s.stage_c.size() < static_cast<size_t>(rows * n)) s.stage_c.resize(static_cast<size_t>(rows * n));
    y = s.stage_c.data();
  }

  const auto* wdata = reinterpret_cast<const uint8_t*>(w.data);
  const int64_t wstride = w.strides[2];
  // Columns [n0, n1) of y with the fused kernel.
  auto fused = [&](int64_t begin, int64_t end) {
    parallel_for((end - begin + kRowsPerTask - 1) / kRowsPerTask, 1, [&](int64_t t0, int64_t t1) {
      const int64_t n0 = begin + t0 * kRowsPerTask;
      const int64_t n1 = std::min(end, begin + t1 * kRowsPerTask);
      for (int64_t m0 = 0; m0 < rows; m0 += kQuantMaxRows) {
        const int64_t mr = std::min(kQuantMaxRows, rows - m0);
        k.quant_matmul(fmt, wdata + n0 * wstride, wstride, n1 - n0, x + m0 * ldx, ldx, mr, kdim,
                       y + m0 * ldy + n0, ldy, alpha);
      }
    });
  };

  if (rows <= kFusedMaxRows) {
    fused(0, n);
  } else {
    // Batched decode and prefill sizes are compute-bound: each thread dequantizes a panel of weight
    // rows into its own scratch once and runs a single-threaded f32 GEMM of all activation rows
    // against it. Our pool splits the panels, so no OpenMP region is opened: libgomp's workers
    // would otherwise spin after every GEMM and take the cores from the pool's threads.
    const int64_t per_thread = kPanelRows * kdim;
    const auto scratch = static_cast<size_t>(max_threads() * per_thread);
    if (s.stage_b.size() < scratch) s.stage_b.resize(scratch);
    parallel_for((n + kPanelRows - 1) / kPanelRows, 1, [&](int64_t p0, int64_t p1) {
      float* wt = s.stage_b.data() + ThreadPool::thread_index() * per_thread;
      const SingleThreadedGemm one_thread;
      for (int64_t panel = p0; panel < p1; ++panel) {
        const int64_t n0 = panel * kPanelRows;
        const int64_t nt = std::min(kPanelRows, n - n0);
        for (int64_t r = 0; r < nt; ++r) k.dequant_row(fmt, wdata + (n0 + r) * wstride, wt + r * kdim, kdim);
        if (dnnl_sgemm('N', 'T', rows, nt, kdim, alpha, x, ldx, wt, kdim, 0.0f, y + n0, ldy) != dnnl_success) {
          for (int64_t m0 = 0; m0 < rows; m0 += kQuantMaxRows) {
            k.quant_matmul(fmt, wdata + n0 * wstride, wstride, nt, x + m0 * ldx, ldx,
                           std::min(kQuantMaxRows, rows - m0), kdim, y + m0 * ldy + n0, ldy, alpha);
          }
        }
      }
    });
  }

  if (!y_direct) {
    for (int64_t r = 0; r < rows; ++r) store_row(k, y + r * n, c.row(r), c.dtype, c.strides[3], n);
  }
}

}  // namespace plinth::cpu
