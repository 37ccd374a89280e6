// Float MATMUL through oneDNN. f32 and (where oneDNN runs it) bf16 operands go to oneDNN in place,
// described by their own strides; anything else (f16, odd strides, mixed dtypes) is converted to
// dense f32 staging first.
#include <algorithm>
#include <vector>

#include "ops.hpp"
#include "parallel.hpp"
#include "plinth/sdk/status.hpp"

namespace plinth::cpu {
namespace {

using dt = dnnl::memory::data_type;

// The logical [..., rows, cols] view of a matmul operand (transposes swap the last two dims).
Tensor logical(const Tensor& t, bool transpose) {
  Tensor v = t;
  if (transpose) {
    std::swap(v.dims[2], v.dims[3]);
    std::swap(v.strides[2], v.strides[3]);
  }
  return v;
}

// Describes `t` (last nd dims) for oneDNN in element strides; false if oneDNN cannot read it in place.
bool describe(const Tensor& t, int nd, dt type, OneDnnMatmul::Operand& op) {
  const int64_t es = element_size(t.dtype);
  if (reinterpret_cast<uintptr_t>(t.data) % static_cast<uintptr_t>(es) != 0) return false;
  op.data = t.data;
  op.type = type;
  op.ndim = nd;
  for (int i = 0; i < nd; ++i) {
    const auto src = static_cast<size_t>(4 - nd + i);
    op.dims[static_cast<size_t>(i)] = t.dims[src];
    if (t.strides[src] % es != 0) return false;
    op.strides[static_cast<size_t>(i)] = t.strides[src] / es;
  }
  // Extent-1 dims may carry any stride (even 0); give them a harmless positive one.
  for (int i = nd - 1; i >= 0; --i) {
    const auto u = static_cast<size_t>(i);
    if (op.dims[u] == 1) {
      op.strides[u] = i == nd - 1 ? 1 : op.dims[u + 1] * op.strides[u + 1];
    } else if (op.strides[u] <= 0) {
      return false;  // a real broadcast by stride 0: not expressible
    }
  }
  // oneDNN's fast kernels want one of the two matrix dims to be unit-stride.
  return op.strides[static_cast<size_t>(nd - 1)] == 1 || op.strides[static_cast<size_t>(nd - 2)] == 1;
}

// Dense f32 copy of a logical operand. A transposed operand (unit stride in its second-to-last dim)
// is copied in its stored orientation, so rows are read contiguously, and viewed transposed again.
Tensor stage_f32(const KernelTable& k, const Tensor& t, std::vector<float>& stage) {
  if (stage.size() < static_cast<size_t>(t.numel())) stage.resize(static_cast<size_t>(t.numel()));
  const int64_t es = element_size(t.dtype);
  const bool transposed = t.strides[3] != es && t.strides[2] == es && t.dims[2] > 1;
  Tensor src = t;
  if (transposed) {
    std::swap(src.dims[2], src.dims[3]);
    std::swap(src.strides[2], src.strides[3]);
  }
  Tensor dense = src;
  dense.dtype = PLINTH_DTYPE_F32;
  dense.data = reinterpret_cast<std::byte*>(stage.data());
  dense.strides = {src.dims[1] * src.dims[2] * src.dims[3] * 4, src.dims[2] * src.dims[3] * 4,
                   src.dims[3] * 4, 4};
  const int64_t n = src.cols();
  parallel_for(src.rows(), grain_for(n), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      load_row(k, src.row(r), src.dtype, src.strides[3], n, reinterpret_cast<float*>(dense.row(r)));
    }
  });
  if (transposed) {
    std::swap(dense.dims[2], dense.dims[3]);
    std::swap(dense.strides[2], dense.strides[3]);
  }
  return dense;
}

// Last resort when oneDNN declines a shape (unusual batch broadcasts): a plain loop over f32
// operands with any element-multiple strides; c is dense.
void naive_matmul(const Tensor& a, const Tensor& b, const Tensor& c, float alpha) {
  const Tensor ab = broadcast_to(a, {c.dims[0], c.dims[1], a.dims[2], a.dims[3]});
  const Tensor bb = broadcast_to(b, {c.dims[0], c.dims[1], b.dims[2], b.dims[3]});
  const int64_t kk = a.dims[3];
  const int64_t n = c.dims[3];
  parallel_for(c.rows(), grain_for(kk * n), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t m = r % c.dims[2];
      const int64_t i1 = (r / c.dims[2]) % c.dims[1];
      const int64_t i0 = r / (c.dims[2] * c.dims[1]);
      auto* out = reinterpret_cast<float*>(c.row(r));
      for (int64_t j = 0; j < n; ++j) {
        float sum = 0.0f;
        for (int64_t x = 0; x < kk; ++x) {
          sum += *reinterpret_cast<const float*>(ab.at(i0, i1, m, x)) *
                 *reinterpret_cast<const float*>(bb.at(i0, i1, x, j));
        }
        out[j] = alpha * sum;
      }
    }
  });
}

}  // namespace

void op_matmul(OpContext& ctx) {
  const auto& p = ctx.call.params.matmul;
  const Tensor a = logical(ctx.in[0], p.transpose_a != 0);
  const Tensor b = logical(ctx.in[1], p.transpose_b != 0);
  const Tensor& c = ctx.out[0];
  const float alpha = p.alpha;
  if (c.numel() == 0) return;
  const KernelTable& k = ctx.k;
  CpuStream& s = ctx.stream;
  if (a.dims[3] == 0) {  // K == 0: the product is all zeros
    std::vector<float> zeros(static_cast<size_t>(c.cols()), 0.0f);
    for (int64_t r = 0; r < c.rows(); ++r)
      store_row(k, zeros.data(), c.row(r), c.dtype, c.strides[3], c.cols());
    return;
  }
  const int nd = std::clamp(std::max({ctx.in[0].ndim, ctx.in[1].ndim, c.ndim}), 2, 4);

  // In place: f32 x f32 -> f32, or bf16 x bf16 -> f32/bf16 where oneDNN has native bf16.
  const bool f32_case =
      a.dtype == PLINTH_DTYPE_F32 && b.dtype == PLINTH_DTYPE_F32 && c.dtype == PLINTH_DTYPE_F32;
  const bool bf16_case = ctx.device.native_bf16() && a.dtype == PLINTH_DTYPE_BF16 &&
                         b.dtype == PLINTH_DTYPE_BF16 &&
                         (c.dtype == PLINTH_DTYPE_F32 || c.dtype == PLINTH_DTYPE_BF16);
  if (f32_case || bf16_case) {
    OneDnnMatmul::Operand oa;
    OneDnnMatmul::Operand ob;
    OneDnnMatmul::Operand oc;
    const dt in_type = f32_case ? dt::f32 : dt::bf16;
    const dt out_type = c.dtype == PLINTH_DTYPE_F32 ? dt::f32 : dt::bf16;
    if (describe(a, nd, in_type, oa) && describe(b, nd, in_type, ob) && describe(c, nd, out_type, oc) &&
        s.matmul.run(oa, ob, oc, alpha)) {
      return;
    }
  }

  // Staged: dense f32 operands, f32 result (in place when c allows it).
  const Tensor da = a.f32_rows() && a.dtype == PLINTH_DTYPE_F32 ? a : stage_f32(k, a, s.stage_a);
  const Tensor db = b.f32_rows() && b.dtype == PLINTH_DTYPE_F32 ? b : stage_f32(k, b, s.stage_b);
  OneDnnMatmul::Operand oa;
  OneDnnMatmul::Operand ob;
  OneDnnMatmul::Operand oc;
  const bool a_ok = describe(da, nd, dt::f32, oa);
  const bool b_ok = describe(db, nd, dt::f32, ob);
  const Tensor ra = a_ok ? da : stage_f32(k, da, s.stage_a);
  const Tensor rb = b_ok ? db : stage_f32(k, db, s.stage_b);
  if (!a_ok) describe(ra, nd, dt::f32, oa);
  if (!b_ok) describe(rb, nd, dt::f32, ob);
  if (c.dtype == PLINTH_DTYPE_F32 && describe(c, nd, dt::f32, oc) && s.matmul.run(oa, ob, oc, alpha)) return;

  if (s.stage_c.size() < static_cast<size_t>(c.numel())) s.stage_c.resize(static_cast<size_t>(c.numel()));
  Tensor dc = c;
  dc.dtype = PLINTH_DTYPE_F32;
  dc.data = reinterpret_cast<std::byte*>(s.stage_c.data());
  dc.strides = {c.dims[1] * c.dims[2] * c.dims[3] * 4, c.dims[2] * c.dims[3] * 4, c.dims[3] * 4, 4};
  describe(dc, nd, dt::f32, oc);
  if (!s.matmul.run(oa, ob, oc, alpha)) naive_matmul(ra, rb, dc, alpha);
  const int64_t n = c.cols();
  for (int64_t r = 0; r < c.rows(); ++r) {
    store_row(k, reinterpret_cast<const float*>(dc.row(r)), c.row(r), c.dtype, c.strides[3], n);
  }
}

}  // namespace plinth::cpu
