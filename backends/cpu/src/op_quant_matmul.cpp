// MATMUL with block-quantized weights b [N, K] (transpose_b). Each weight block is dequantized in
// registers and used for up to kQuantMaxRows activation rows before moving on, so at decode sizes
// the weights stream through memory exactly once. Threads split the weight rows.
#include <algorithm>
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
// Above this many activation rows the weights are dequantized into tiles for oneDNN instead.
constexpr int64_t kFusedMaxRows = 32;
constexpr int64_t kDequantTileRows = 512;

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
    // Prefill sizes are compute-bound: dequantize a tile of weight rows once and let oneDNN's f32
    // GEMM reuse it across all activation rows.
    const int64_t tile = std::min(n, kDequantTileRows);
    if (s.stage_b.size() < static_cast<size_t>(tile * kdim))
      s.stage_b.resize(static_cast<size_t>(tile * kdim));
    float* wt = s.stage_b.data();
    for (int64_t n0 = 0; n0 < n; n0 += tile) {
      const int64_t nt = std::min(tile, n - n0);
      parallel_for(nt, 4, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) k.dequant_row(fmt, wdata + (n0 + r) * wstride, wt + r * kdim, kdim);
      });
      OneDnnMatmul::Operand oa;
      oa.data = const_cast<float*>(x);
      oa.dims = {rows, kdim, 0, 0};
      oa.strides = {ldx, 1, 0, 0};
      OneDnnMatmul::Operand ob;
      ob.data = wt;
      ob.dims = {kdim, nt, 0, 0};
      ob.strides = {1, kdim, 0, 0};
      OneDnnMatmul::Operand oc;
      oc.data = y + n0;
      oc.dims = {rows, nt, 0, 0};
      oc.strides = {ldy, 1, 0, 0};
      if (!s.matmul.run(oa, ob, oc, alpha)) fused(n0, n0 + nt);
    }
  }

  if (!y_direct) {
    for (int64_t r = 0; r < rows; ++r) store_row(k, y + r * n, c.row(r), c.dtype, c.strides[3], n);
  }
}

}  // namespace plinth::cpu
