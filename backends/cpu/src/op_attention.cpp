// Fused attention with an online softmax (running max and sum), so the score matrix is never
// materialized. Decode (few queries) runs one task per (batch, query head, query); prefill and
// encoder shapes run one task per (batch, query head, block of queries) and treat each key block as
// two small GEMMs (S = Q K^T, then O += P V) on packed tiles, so every loaded key and value row
// serves a whole block of queries.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "attention_tiles.hpp"
#include "ops.hpp"
#include "parallel.hpp"
#include "plinth/sdk/status.hpp"

namespace plinth::cpu {
namespace {

constexpr int64_t kKeyChunk = 128;

// Blocked path: queries per task (key blocks and register tiles come from attention_tiles.hpp).
constexpr int64_t kQueryBlock = 32;
using tiles::kColTile;
using tiles::kKeyBlock;
using tiles::kRowTile;
using tiles::round_up;
// Below this many queries per (batch, head) the per-query path is at least as fast.
constexpr int64_t kMinBlockedQueries = 4;

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

  if (sq >= kMinBlockedQueries) {
    const tiles::Isa isa = tiles::isa_of(k);
    const int64_t nqb = (sq + kQueryBlock - 1) / kQueryBlock;
    const int64_t dvp = round_up(std::max<int64_t>(dv, 1), kColTile);
    const int64_t skv_pad = round_up(std::max<int64_t>(skv, 1), kKeyBlock);
    parallel_for(
        batch * hq * nqb, grain_for(std::max<int64_t>(1, skv) * (d + dv) * kQueryBlock, 8192),
        [&](int64_t t0, int64_t t1) {
          float* qs = thread_scratch(0, kQueryBlock * std::max<int64_t>(d, 1));
          // K^T [d][skv_pad] and V [skv_pad][dvp] of one (batch, kv head), packed a key block at a
          // time as first needed and kept while the thread's consecutive tasks (the query blocks
          // of one head, then the other heads of its group) read the same kv head.
          float* ktp = thread_scratch(1, std::max<int64_t>(d, 1) * skv_pad);
          float* vp = thread_scratch(2, skv_pad * dvp);
          int64_t packed_b = -1;
          int64_t packed_hk = -1;
          int64_t packed_upto = 0;
          float* s = thread_scratch(3, kQueryBlock * kKeyBlock + 2 * kQueryBlock + std::max(d, dvp));
          float* acc = thread_scratch(4, kQueryBlock * dvp);
          float* run_max = s + kQueryBlock * kKeyBlock;
          float* run_sum = run_max + kQueryBlock;
          float* out_row = run_sum + kQueryBlock;  // also stages a converted query row
          float* mstage = mask_in != nullptr ? thread_scratch(5, kQueryBlock * skv) : nullptr;
          std::array<const float*, kQueryBlock> mrows{};
          for (int64_t t = t0; t < t1; ++t) {
            // Under causality later query blocks cost more; alternating first and last blocks
            // keeps the threads' contiguous task ranges equally expensive.
            const int64_t r = t % nqb;
            const int64_t qb = r % 2 == 0 ? r / 2 : nqb - 1 - r / 2;
            const int64_t h = (t / nqb) % hq;
            const int64_t b = t / (nqb * hq);
            const int64_t hk = h / group;
            const int64_t len = lens[static_cast<size_t>(b)];
            const int64_t i0 = qb * kQueryBlock;
            const int64_t mi = std::min(kQueryBlock, sq - i0);
            const int64_t rows = round_up(mi, kRowTile);
            const int64_t row0 = (b * hq + h) * sq + i0;  // flat row of query i0
            // Keys visible to query i of the block; the block needs the last query's.
            auto limit_of = [&](int64_t i) { return causal ? std::min(len, len - sq + i0 + i + 1) : len; };
            const int64_t block_limit = limit_of(mi - 1);
            if (b != packed_b || hk != packed_hk) {
              packed_b = b;
              packed_hk = hk;
              packed_upto = 0;
            }

            for (int64_t i = 0; i < mi; ++i) {
              const float* qr = row_as_f32(k, q, row0 + i, out_row);
              std::memcpy(qs + i * d, qr, static_cast<size_t>(d) * sizeof(float));
              if (mask_in != nullptr)
                mrows[static_cast<size_t>(i)] = row_as_f32(k, mask, row0 + i, mstage + i * skv);
              run_max[i] = kNegInf;
              run_sum[i] = 0.0f;
            }
            std::fill(qs + mi * d, qs + rows * d, 0.0f);
            std::fill(acc, acc + rows * dvp, 0.0f);

            for (int64_t j0 = 0; j0 < block_limit; j0 += kKeyBlock) {
              const int64_t nj = std::min(kKeyBlock, block_limit - j0);
              if (j0 >= packed_upto) {
                // Every key below len, not only this block's causal limit, so later query blocks
                // reuse it; keys past a query's limit get zero weight below.
                const int64_t np = std::min(kKeyBlock, len - j0);
                for (int64_t j = 0; j < np; ++j) {
                  const auto* kr = reinterpret_cast<const float*>(kt.at(b, hk, j0 + j, 0));
                  for (int64_t c = 0; c < d; ++c) ktp[c * skv_pad + j0 + j] = kr[c];
                  const auto* vr = reinterpret_cast<const float*>(vt.at(b, hk, j0 + j, 0));
                  float* vd = vp + (j0 + j) * dvp;
                  std::memcpy(vd, vr, static_cast<size_t>(dv) * sizeof(float));
                  std::fill(vd + dv, vd + dvp, 0.0f);
                }
                for (int64_t c = 0; c < d; ++c)
                  std::fill(ktp + c * skv_pad + j0 + np, ktp + c * skv_pad + j0 + kKeyBlock, 0.0f);
                packed_upto = j0 + kKeyBlock;
              }

              tiles::scores(isa, qs, ktp + j0, skv_pad, rows, d, scale, s);

              for (int64_t i = 0; i < rows; ++i) {
                float* sr = s + i * kKeyBlock;
                const int64_t ni = i < mi ? std::clamp<int64_t>(limit_of(i) - j0, 0, nj) : 0;
                const float* mr = mask_in != nullptr && i < mi ? mrows[static_cast<size_t>(i)] + j0 : nullptr;
                if (mr != nullptr) k.add(sr, sr, mr, ni);
                const float chunk_max = k.max(sr, ni);
                if (chunk_max == kNegInf) {  // every key of the block is masked for this query
                  std::fill(sr, sr + kKeyBlock, 0.0f);
                  continue;
                }
                const float new_max = std::max(run_max[i], chunk_max);
                if (run_max[i] != kNegInf && new_max != run_max[i]) {
                  const float factor = std::exp(run_max[i] - new_max);
                  k.scale_rows(acc + i * dvp, factor, dvp);
                  run_sum[i] *= factor;
                }
                run_max[i] = new_max;
                run_sum[i] += k.exp_sub_sum(sr, sr, new_max, ni);
                std::fill(sr + ni, sr + kKeyBlock, 0.0f);
              }

              tiles::pv(isa, s, vp + j0 * dvp, rows, nj, dvp, acc);
            }

            for (int64_t i = 0; i < mi; ++i) {
              const float inv = run_sum[i] > 0.0f ? 1.0f / run_sum[i] : 0.0f;
              std::byte* dst = o.at(b, h, i0 + i, 0);
              if (o.f32_rows()) {
                k.affine(reinterpret_cast<float*>(dst), acc + i * dvp, inv, 0.0f, dv);
              } else {
                k.affine(out_row, acc + i * dvp, inv, 0.0f, dv);
                store_row(k, out_row, dst, o.dtype, o.strides[3], dv);
              }
            }
          }
        });
    return;
  }

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
