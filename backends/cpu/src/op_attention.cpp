// Fused attention: one task per (batch, query head, query), keys visited in chunks with an online
// softmax (running max and sum), so the score matrix is never materialized.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "ops.hpp"
#include "parallel.hpp"
#include "plinth/sdk/status.hpp"

namespace plinth::cpu {
namespace {

constexpr int64_t kKeyChunk = 128;

// Rows of K or V as f32 with unit inner stride: the tensor itself when it already is, else a dense copy.
Tensor as_f32_rows(const KernelTable& k, const Tensor& t, std::vector<float>& stage) {
  if (t.f32_rows()) return t;
  stage.resize(static_cast<size_t>(t.numel()));
  Tensor dense = t;
  dense.dtype = PLINTH_DTYPE_F32;
  dense.data = reinterpret_cast<std::byte*>(stage.data());
  dense.strides = {t.dims[1] * t.dims[2] * t.dims[3] * 4, t.dims[2] * t.dims[3] * 4, t.dims[3] * 4, 4};
  const int64_t n = t.cols();
  parallel_for(t.rows(), grain_for(n), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      load_row(k, t.row(r), t.dtype, t.strides[3], n, reinterpret_cast<float*>(dense.row(r)));
    }
  });
  return dense;
}

}  // namespace

void op_attention(OpContext& ctx) {
  const KernelTable& k = ctx.k;
  const Tensor& q = ctx.in[0];
  const Tensor& o = ctx.out[0];
  const int64_t batch = q.dims[0];
  const int64_t hq = q.dims[1];
  const int64_t sq = q.dims[2];
  const int64_t d = q.dims[3];
  const int64_t hkv = ctx.in[1].dims[1];
  const int64_t skv = ctx.in[1].dims[2];
  const int64_t dv = ctx.in[2].dims[3];
  if (o.numel() == 0) return;
  const int64_t group = hkv > 0 ? hq / hkv : 1;
  const float scale = ctx.call.params.attention.scale == 0.0f ? 1.0f / std::sqrt(static_cast<float>(d))
                                                              : ctx.call.params.attention.scale;
  const bool causal = ctx.call.params.attention.causal != 0;

  // Checked before any output is written, so a rejected call has no effect.
  std::vector<int64_t> lens(static_cast<size_t>(batch), skv);
  if (const Tensor* kl = ctx.input(4); kl != nullptr) {
    for (int64_t b = 0; b < batch; ++b) {
      int32_t v;
      std::memcpy(&v, kl->data + b * kl->strides[3], sizeof v);
      if (v < 0 || v > skv) {
        sdk::fail(PLINTH_ERROR_INVALID_ARGUMENT, "attention: kv_lens[" + std::to_string(b) +
                                                     "] = " + std::to_string(v) + " lies outside [0, " +
                                                     std::to_string(skv) + "]");
      }
      lens[static_cast<size_t>(b)] = v;
    }
  }

  const Tensor kt = as_f32_rows(k, ctx.in[1], ctx.stream.stage_b);
  const Tensor vt = as_f32_rows(k, ctx.in[2], ctx.stream.stage_c);
  const Tensor* mask_in = ctx.input(3);
  const Tensor mask = mask_in != nullptr ? broadcast_to(*mask_in, {batch, hq, sq, skv}) : Tensor{};
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();

  parallel_for(batch * hq * sq, grain_for(std::max<int64_t>(1, skv) * (d + dv), 8192),
               [&](int64_t t0, int64_t t1) {
                 float* sq_row = thread_scratch(0, d);
                 float* acc = thread_scratch(1, dv);
                 float* scores = thread_scratch(2, kKeyChunk);
                 float* mrow = thread_scratch(3, skv);
                 float* out_row = thread_scratch(4, dv);
                 for (int64_t t = t0; t < t1; ++t) {
                   const int64_t i = t % sq;
                   const int64_t h = (t / sq) % hq;
                   const int64_t b = t / (sq * hq);
                   const int64_t hk = h / group;
                   const int64_t len = lens[static_cast<size_t>(b)];
                   int64_t limit = len;
                   if (causal) limit = std::min(len, len - sq + i + 1);
                   const float* qr = row_as_f32(k, q, t, sq_row);
                   const float* mr = mask_in != nullptr ? row_as_f32(k, mask, t, mrow) : nullptr;
                   for (int64_t c = 0; c < dv; ++c) acc[c] = 0.0f;
                   float run_max = kNegInf;
                   float run_sum = 0.0f;
                   for (int64_t j0 = 0; j0 < limit; j0 += kKeyChunk) {
                     const int64_t nj = std::min(kKeyChunk, limit - j0);
                     for (int64_t j = 0; j < nj; ++j) {
                       const auto* kr = reinterpret_cast<const float*>(kt.at(b, hk, j0 + j, 0));
                       scores[j] = scale * k.dot(qr, kr, d) + (mr != nullptr ? mr[j0 + j] : 0.0f);
                     }
                     const float chunk_max = k.max(scores, nj);
                     if (chunk_max == kNegInf) continue;  // every key of the chunk is masked
                     const float new_max = std::max(run_max, chunk_max);
                     if (run_max != kNegInf && new_max != run_max) {
                       const float factor = std::exp(run_max - new_max);
                       k.scale_rows(acc, factor, dv);
                       run_sum *= factor;
                     }
                     run_max = new_max;
                     run_sum += k.exp_sub_sum(scores, scores, run_max, nj);
                     for (int64_t j = 0; j < nj; ++j) {
                       if (scores[j] != 0.0f)
                         k.axpy(acc, scores[j], reinterpret_cast<const float*>(vt.at(b, hk, j0 + j, 0)), dv);
                     }
                   }
                   const float inv = run_sum > 0.0f ? 1.0f / run_sum : 0.0f;
                   std::byte* dst = o.at(b, h, i, 0);
                   if (o.f32_rows()) {
                     k.affine(reinterpret_cast<float*>(dst), acc, inv, 0.0f, dv);
                   } else {
                     k.affine(out_row, acc, inv, 0.0f, dv);
                     store_row(k, out_row, dst, o.dtype, o.strides[3], dv);
                   }
                 }
               });
}

}  // namespace plinth::cpu
