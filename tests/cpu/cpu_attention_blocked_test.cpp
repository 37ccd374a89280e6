// ATTENTION with many queries per (batch, head), the prefill / encoder shapes that take the blocked
// path: query blocks that end mid-tile, key blocks cut by causality and kv_lens, strided views of a
// fused projection, head sizes that are not multiples of the vector tiles.
#include <limits>

#include "attention_reference.hpp"
#include "cpu_test_harness.hpp"

namespace plinth::cpu_test {
namespace {

using CpuAttentionBlockedTest = CpuPlugin;

HostTensor zeros(const Shape& s) {
  return make(PLINTH_DTYPE_F32, {s.b, s.hq, s.sq, s.dv},
              std::vector<double>(static_cast<size_t>(s.b * s.hq * s.sq * s.dv), 0.0));
}

// A [1, heads, rows, d] view of column block `first` of a dense [rows, total_heads * d] matrix, as a
// fused QKV projection produces.
HostTensor column_slice(int64_t rows, int64_t heads, int64_t first, int64_t total_heads, int64_t d,
                        uint32_t seed) {
  HostTensor t = random_tensor(PLINTH_DTYPE_F32, {rows, total_heads * d}, seed);
  t.dims = {1, heads, rows, d};
  t.strides = {rows * total_heads * d * 4, d * 4, total_heads * d * 4, 4};
  t.offset = first * d * 4;
  return t;
}

TEST_P(CpuAttentionBlockedTest, CausalGroupedQueryOnStridedViews) {
  // Prefill shape in miniature: Sq = Skv spans several query and key blocks and ends mid-tile.
  const Shape s{1, 6, 2, 150, 150, 64, 64};
  const HostTensor q = column_slice(s.sq, s.hq, 0, s.hq + 2 * s.hkv, s.d, 90);
  const HostTensor k = column_slice(s.skv, s.hkv, s.hq, s.hq + 2 * s.hkv, s.d, 90);
  const HostTensor v = column_slice(s.skv, s.hkv, s.hq + s.hkv, s.hq + 2 * s.hkv, s.d, 90);
  plinth_attention_params_t p{};
  p.struct_size = sizeof p;
  p.causal = 1;
  const auto got = run(PLINTH_OP_ATTENTION, {&q, &k, &v}, {zeros(s)}, &p)[0];
  const auto want = attention_reference(s, values(q), values(k), values(v), nullptr, {s.skv}, true, 1.0 / 8.0);
  EXPECT_LT(nmse(got, want), 1e-9);
}

TEST_P(CpuAttentionBlockedTest, CausalWithCacheLongerThanQueries) {
  // Chunked prefill: 37 new queries attend to kv_lens keys of a 200-row cache, lens differ per batch.
  const Shape s{2, 4, 1, 37, 200, 24, 40};
  const HostTensor q = random_tensor(PLINTH_DTYPE_F32, {s.b, s.hq, s.sq, s.d}, 91);
  const HostTensor k = random_tensor(PLINTH_DTYPE_F32, {s.b, s.hkv, s.skv, s.d}, 92);
  const HostTensor v = random_tensor(PLINTH_DTYPE_F32, {s.b, s.hkv, s.skv, s.dv}, 93);
  const HostTensor lens = make(PLINTH_DTYPE_I32, {s.b}, {200, 70});
  plinth_attention_params_t p{};
  p.struct_size = sizeof p;
  p.causal = 1;
  p.scale = 0.2f;
  const auto got = run(PLINTH_OP_ATTENTION, {&q, &k, &v, nullptr, &lens}, {zeros(s)}, &p)[0];
  const auto want = attention_reference(s, values(q), values(k), values(v), nullptr, {200, 70}, true, 0.2);
  EXPECT_LT(nmse(got, want), 1e-9);
}

TEST_P(CpuAttentionBlockedTest, EncoderWithKvLensMaskAndEmptySequence) {
  // Encoder shape: no causality, padded batch (one sequence empty), mask hides some keys entirely
  // from query 5, half-precision operands and output.
  const Shape s{3, 2, 2, 33, 33, 20, 12};
  const HostTensor q = random_tensor(PLINTH_DTYPE_F16, {s.b, s.hq, s.sq, s.d}, 94);
  const HostTensor k = random_tensor(PLINTH_DTYPE_BF16, {s.b, s.hkv, s.skv, s.d}, 95);
  const HostTensor v = random_tensor(PLINTH_DTYPE_F32, {s.b, s.hkv, s.skv, s.dv}, 96);
  const HostTensor lens = make(PLINTH_DTYPE_I32, {s.b}, {33, 0, 9});
  std::vector<double> mv = random_values(s.sq * s.skv, 97);
  for (int64_t j = 0; j < s.skv; ++j)
    mv[static_cast<size_t>(5 * s.skv + j)] = -std::numeric_limits<double>::infinity();
  const HostTensor mask = make(PLINTH_DTYPE_F32, {s.sq, s.skv}, mv);
  const HostTensor o = make(PLINTH_DTYPE_F16, {s.b, s.hq, s.sq, s.dv},
                            std::vector<double>(static_cast<size_t>(s.b * s.hq * s.sq * s.dv), 3.0));
  const auto got = run(PLINTH_OP_ATTENTION, {&q, &k, &v, &mask, &lens}, {o}, nullptr)[0];
  const auto vm = values(mask);
  const auto want =
      attention_reference(s, values(q), values(k), values(v), &vm, {33, 0, 9}, false, 1.0 / std::sqrt(20.0));
  EXPECT_LT(nmse(got, want), 1e-6);  // f16 output
  for (int64_t b = 0; b < s.b; ++b) {
    for (int64_t h = 0; h < s.hq; ++h) {
      for (int64_t c = 0; c < s.dv; ++c) {
        EXPECT_EQ(got[static_cast<size_t>(((b * s.hq + h) * s.sq + 5) * s.dv + c)], 0.0)
            << "fully masked query gives zeros";
      }
    }
  }
  for (size_t x = static_cast<size_t>(s.hq * s.sq * s.dv); x < static_cast<size_t>(2 * s.hq * s.sq * s.dv);
       ++x)
    ASSERT_EQ(got[x], 0.0) << "a sequence with kv_lens 0 gives zeros";
}

PLINTH_CPU_INSTANTIATE(CpuAttentionBlockedTest);

}  // namespace
}  // namespace plinth::cpu_test
