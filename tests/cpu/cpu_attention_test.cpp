// ATTENTION: grouped-query heads, causal masking, additive masks and per-sequence kv_lens.
#include <limits>

#include "attention_reference.hpp"
#include "cpu_test_harness.hpp"

namespace plinth::cpu_test {
namespace {

using CpuAttentionTest = CpuPlugin;

TEST_P(CpuAttentionTest, GroupedQueryCausalWithKvLens) {
  const Shape s{2, 4, 2, 3, 150, 16, 8};  // Skv above one key chunk
  const HostTensor q = random_tensor(PLINTH_DTYPE_F32, {s.b, s.hq, s.sq, s.d}, 80);
  const HostTensor k = random_tensor(PLINTH_DTYPE_F32, {s.b, s.hkv, s.skv, s.d}, 81);
  const HostTensor v = random_tensor(PLINTH_DTYPE_F32, {s.b, s.hkv, s.skv, s.dv}, 82);
  const HostTensor lens = make(PLINTH_DTYPE_I32, {s.b}, {150, 97});
  const HostTensor o = make(PLINTH_DTYPE_F32, {s.b, s.hq, s.sq, s.dv},
                            std::vector<double>(static_cast<size_t>(s.b * s.hq * s.sq * s.dv), 0.0));
  plinth_attention_params_t p{};
  p.struct_size = sizeof p;
  p.causal = 1;
  const auto got = run(PLINTH_OP_ATTENTION, {&q, &k, &v, nullptr, &lens}, {o}, &p)[0];
  const auto want =
      attention_reference(s, values(q), values(k), values(v), nullptr, {150, 97}, true, 1.0 / std::sqrt(16.0));
  EXPECT_LT(nmse(got, want), 1e-9);
}

TEST_P(CpuAttentionTest, MaskAndHalfPrecisionOperands) {
  const Shape s{1, 2, 1, 4, 6, 8, 8};
  const HostTensor q = random_tensor(PLINTH_DTYPE_F16, {s.b, s.hq, s.sq, s.d}, 83);
  const HostTensor k = random_tensor(PLINTH_DTYPE_BF16, {s.b, s.hkv, s.skv, s.d}, 84);
  const HostTensor v = random_tensor(PLINTH_DTYPE_F16, {s.b, s.hkv, s.skv, s.dv}, 85);
  std::vector<double> mv = random_values(s.sq * s.skv, 86);
  for (int j = 0; j < 6; ++j)
    mv[static_cast<size_t>(j)] = -std::numeric_limits<double>::infinity();  // query 0 sees nothing
  const HostTensor mask = make(PLINTH_DTYPE_F32, {s.sq, s.skv}, mv);
  const HostTensor o = make(PLINTH_DTYPE_F32, {s.b, s.hq, s.sq, s.dv},
                            std::vector<double>(static_cast<size_t>(s.hq * s.sq * s.dv), 5.0));
  plinth_attention_params_t p{};
  p.struct_size = sizeof p;
  p.scale = 0.3f;
  const auto got = run(PLINTH_OP_ATTENTION, {&q, &k, &v, &mask}, {o}, &p)[0];
  const auto vm = values(mask);
  const auto want = attention_reference(s, values(q), values(k), values(v), &vm, {6}, false, 0.3);
  EXPECT_LT(nmse(got, want), 1e-9);
  for (int c = 0; c < 8; ++c) EXPECT_EQ(got[static_cast<size_t>(c)], 0.0) << "fully masked query gives zeros";
}

TEST_P(CpuAttentionTest, KvLensOutOfRangeIsRejected) {
  const HostTensor q = random_tensor(PLINTH_DTYPE_F32, {1, 1, 1, 4}, 87);
  const HostTensor k = random_tensor(PLINTH_DTYPE_F32, {1, 1, 3, 4}, 88);
  const HostTensor lens = make(PLINTH_DTYPE_I32, {1}, {4});
  const HostTensor o = make(PLINTH_DTYPE_F32, {1, 1, 1, 4}, {1, 1, 1, 1});
  const plinth_tensor_t dq = upload(q);
  const plinth_tensor_t dk = upload(k);
  const plinth_tensor_t dl = upload(lens);
  const plinth_tensor_t dout = upload(o);
  EXPECT_EQ(launch(PLINTH_OP_ATTENTION, {&dq, &dk, &dk, nullptr, &dl}, {&dout}, nullptr),
            PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(values(download(dout, o)), std::vector<double>(4, 1.0));
}

PLINTH_CPU_INSTANTIATE(CpuAttentionTest);

}  // namespace
}  // namespace plinth::cpu_test
