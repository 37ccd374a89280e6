// ROPE, normal and neox pairing. Angles are computed in double once per token and shared by all heads.
#include <cmath>
#include <cstring>

#include "ops.hpp"
#include "parallel.hpp"

namespace plinth::cpu {

void op_rope(OpContext& ctx) {
  const Tensor& x = ctx.in[0];
  const Tensor& pos = ctx.in[1];
  const Tensor& y = ctx.out[0];
  const auto& p = ctx.call.params.rope;
  const KernelTable& k = ctx.k;
  const int64_t batch = y.dims[0];
  const int64_t seq = y.dims[1];
  const int64_t heads = y.dims[2];
  const int64_t d = y.dims[3];
  const int64_t n_dims = p.n_dims == 0 ? d : static_cast<int64_t>(p.n_dims);
  const int64_t half = n_dims / 2;
  const bool neox = p.mode == PLINTH_ROPE_NEOX;
  if (y.numel() == 0) return;
  const Tensor positions = broadcast_to(pos, {1, 1, batch, seq});
  parallel_for(batch * seq, grain_for(heads * d), [&](int64_t t0, int64_t t1) {
    float* cs = thread_scratch(0, 2 * half);
    float* row = thread_scratch(1, d);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t b = t / seq;
      const int64_t s = t % seq;
      int32_t position;
      std::memcpy(&position, positions.at(0, 0, b, s), sizeof position);
      for (int64_t i = 0; i < half; ++i) {
        const double theta = static_cast<double>(position) * static_cast<double>(p.freq_scale) *
                             std::pow(static_cast<double>(p.freq_base),
                                      -2.0 * static_cast<double>(i) / static_cast<double>(n_dims));
        cs[2 * i] = static_cast<float>(std::cos(theta));
        cs[2 * i + 1] = static_cast<float>(std::sin(theta));
      }
      for (int64_t h = 0; h < heads; ++h) {
        load_row(k, x.at(b, s, h, 0), x.dtype, x.strides[3], d, row);
        for (int64_t i = 0; i < half; ++i) {
          const int64_t i0 = neox ? i : 2 * i;
          const int64_t i1 = neox ? i + half : 2 * i + 1;
          const float a = row[i0];
          const float c = row[i1];
          row[i0] = a * cs[2 * i] - c * cs[2 * i + 1];
          row[i1] = a * cs[2 * i + 1] + c * cs[2 * i];
        }
        store_row(k, row, y.at(b, s, h, 0), y.dtype, y.strides[3], d);
      }
    }
  });
}

}  // namespace plinth::cpu
