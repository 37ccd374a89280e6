// SET_ROWS and PAGED_ATTENTION (ABI 1.2, the paged KV cache) against double-precision host loops:
// shared and out-of-order blocks, partly filled last blocks, ragged batches, GQA, f16/f32 caches and
// the data-dependent errors, which must be reported from the stream without touching other memory.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <tuple>

#include "vulkan_harness.hpp"

namespace plinth::vulkan_test {
namespace {

using VulkanSetRows = VulkanTest;

// Expects the next synchronize to fail with INVALID_ARGUMENT naming `what`, and the error to be
// reported once.
void expect_async_error(const plinth_plugin_api_t* api, plinth_stream_t stream, const std::string& what) {
  EXPECT_EQ(api->stream_synchronize(stream), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(api->last_error_message()).find(what), std::string::npos)
      << api->last_error_message();
  EXPECT_EQ(api->stream_synchronize(stream), PLINTH_OK) << "the error is reported once";
}

TEST_F(VulkanSetRows, F32StridedOutOfOrderKeepsOtherRows) {
  const int64_t N = 3, W = 5, R = 6, pitch = 8;  // dst rows padded to 8 floats
  auto src = random_floats(N * W, 60);
  auto dst = random_floats(R * pitch, 61);
  std::vector<int32_t> idx = {4, 0, 2};
  plinth_buffer_t bs = upload(src), bi = upload(idx), bd = upload(dst);
  auto ts = tensor(bs, PLINTH_DTYPE_F32, {N, W});
  auto ti = tensor(bi, PLINTH_DTYPE_I32, {N});
  auto td = tensor(bd, PLINTH_DTYPE_F32, {R, W}, {pitch * 4, 4});
  run(PLINTH_OP_SET_ROWS, {&ts, &ti}, {&td});
  auto want = dst;
  for (int64_t i = 0; i < N; ++i)
    for (int64_t w = 0; w < W; ++w) want[idx[i] * pitch + w] = src[i * W + w];
  EXPECT_EQ(download<float>(bd, want.size()), want);
}

TEST_F(VulkanSetRows, ConvertsToHalfAndBf16AndCopiesHalfExactly) {
  const int64_t N = 2, W = 7, R = 4;  // odd W: rows share words, so halves must not clobber neighbours
  auto src = random_floats(N * W, 62);
  std::vector<int32_t> idx = {3, 1};
  plinth_buffer_t bs = upload(src), bi = upload(idx);
  auto ts = tensor(bs, PLINTH_DTYPE_F32, {N, W});
  auto ti = tensor(bi, PLINTH_DTYPE_I32, {N});
  std::vector<uint16_t> init(R * W);
  for (size_t e = 0; e < init.size(); ++e) init[e] = static_cast<uint16_t>(0x3c00 + e);
  for (plinth_dtype_t dt : {PLINTH_DTYPE_F16, PLINTH_DTYPE_BF16}) {
    plinth_buffer_t bd = upload(init);
    auto td = tensor(bd, dt, {R, W});
    run(PLINTH_OP_SET_ROWS, {&ts, &ti}, {&td});
    auto want = init;
    for (int64_t i = 0; i < N; ++i)
      for (int64_t w = 0; w < W; ++w) {
        const float x = src[i * W + w];
        want[idx[i] * W + w] = dt == PLINTH_DTYPE_F16 ? sdk::f32_to_f16(x) : sdk::f32_to_bf16(x);
      }
    EXPECT_EQ(download<uint16_t>(bd, want.size()), want) << sdk::dtype_name(dt);
  }
  // f16 -> f16 moves bits (a NaN payload survives); f16 -> f32 widens exactly.
  std::vector<uint16_t> hsrc(N * W);
  for (size_t e = 0; e < hsrc.size(); ++e) hsrc[e] = sdk::f32_to_f16(src[e]);
  hsrc[3] = 0x7e01;
  plinth_buffer_t bh = upload(hsrc), bd = upload(init), bf = alloc(R * W * 4);
  auto th = tensor(bh, PLINTH_DTYPE_F16, {N, W});
  auto td = tensor(bd, PLINTH_DTYPE_F16, {R, W});
  auto tf = tensor(bf, PLINTH_DTYPE_F32, {R, W});
  run(PLINTH_OP_SET_ROWS, {&th, &ti}, {&td});
  run(PLINTH_OP_SET_ROWS, {&th, &ti}, {&tf});
  auto half = download<uint16_t>(bd, R * W);
  auto wide = download<float>(bf, R * W);
  for (int64_t i = 0; i < N; ++i)
    for (int64_t w = 0; w < W; ++w) {
      EXPECT_EQ(half[idx[i] * W + w], hsrc[i * W + w]);
      if (i * W + w != 3) {
        EXPECT_EQ(wide[idx[i] * W + w], sdk::f16_to_f32(hsrc[i * W + w]));
      }
    }
}

TEST_F(VulkanSetRows, BadIndexIsReportedAndWritesNothingOutsideDst) {
  const int64_t N = 3, W = 4, R = 2;
  auto src = random_floats(N * W, 63);
  // dst is the first R rows of a larger buffer: the words after it are a guard that must survive.
  std::vector<float> buffer(8 * W, 7.0f);
  plinth_buffer_t bs = upload(src), bd = upload(buffer);
  auto ts = tensor(bs, PLINTH_DTYPE_F32, {N, W});
  auto td = tensor(bd, PLINTH_DTYPE_F32, {R, W});
  for (std::vector<int32_t> idx : {std::vector<int32_t>{0, 2, 1}, std::vector<int32_t>{1, -1, 0}}) {
    plinth_buffer_t bi = upload(idx);
    auto ti = tensor(bi, PLINTH_DTYPE_I32, {N});
    run(PLINTH_OP_SET_ROWS, {&ts, &ti}, {&td});
    expect_async_error(api_, stream_, "set_rows");
    auto got = download<float>(bd, buffer.size());
    for (size_t e = R * W; e < got.size(); ++e) ASSERT_EQ(got[e], 7.0f) << "guard word " << e;
  }
}

// ---- PAGED_ATTENTION ------------------------------------------------------------------------------

struct Sequence {
  int n;                    // new query rows
  int L;                    // tokens in the cache, new ones included
  std::vector<int> blocks;  // its block table row (the rest of the row is -1)
};

struct PagedCase {
  int Hq, Hkv, D, Dv, BS, NB;
  std::vector<Sequence> seqs;
  bool causal;
  plinth_dtype_t cache_dtype;
};

// Values as the device sees them: f16 caches hold the f16-rounded values.
std::vector<float> round_to(plinth_dtype_t dt, std::vector<float> v) {
  if (dt == PLINTH_DTYPE_F16)
    for (float& x : v) x = sdk::f16_to_f32(sdk::f32_to_f16(x));
  return v;
}

std::vector<uint16_t> to_f16(const std::vector<float>& v) {
  std::vector<uint16_t> h(v.size());
  std::transform(v.begin(), v.end(), h.begin(), [](float x) { return sdk::f32_to_f16(x); });
  return h;
}

int max_blocks(const PagedCase& c) {
  int mb = 1;
  for (const auto& s : c.seqs) mb = std::max<int>(mb, static_cast<int>(s.blocks.size()));
  return mb;
}

std::vector<int32_t> block_table(const PagedCase& c) {
  const int mb = max_blocks(c);
  std::vector<int32_t> t(c.seqs.size() * mb, -1);
  for (size_t s = 0; s < c.seqs.size(); ++s)
    std::copy(c.seqs[s].blocks.begin(), c.seqs[s].blocks.end(), t.begin() + static_cast<int64_t>(s) * mb);
  return t;
}

std::vector<int32_t> query_starts(const PagedCase& c) {
  std::vector<int32_t> st = {0};
  for (const auto& s : c.seqs) st.push_back(st.back() + s.n);
  return st;
}

// The op's definition, in double: q [T,Hq,D], caches [NB,BS,Hkv,D|Dv], o [T,Hq,Dv].
std::vector<float> reference(const PagedCase& c, const std::vector<float>& q, const std::vector<float>& k,
                             const std::vector<float>& v) {
  const auto starts = query_starts(c);
  std::vector<float> o(static_cast<size_t>(starts.back()) * c.Hq * c.Dv);
  const double scale = 1.0 / std::sqrt(double(c.D));
  for (size_t s = 0; s < c.seqs.size(); ++s) {
    const Sequence& seq = c.seqs[s];
    for (int i = 0; i < seq.n; ++i) {
      const int t = starts[s] + i;
      const int seen = c.causal ? seq.L - seq.n + i + 1 : seq.L;
      for (int h = 0; h < c.Hq; ++h) {
        const int hk = h / (c.Hq / c.Hkv);
        auto row = [&](int j, int width) {  // offset of key/value j's head-hk row in its cache
          return ((static_cast<int64_t>(seq.blocks[j / c.BS]) * c.BS + j % c.BS) * c.Hkv + hk) * width;
        };
        std::vector<double> p(seen);
        double mx = -INFINITY, sum = 0;
        for (int j = 0; j < seen; ++j) {
          double dot = 0;
          for (int d = 0; d < c.D; ++d)
            dot += double(q[(int64_t(t) * c.Hq + h) * c.D + d]) * k[row(j, c.D) + d];
          mx = std::max(mx, p[j] = dot * scale);
        }
        for (double& e : p) sum += (e = std::exp(e - mx));
        for (int e = 0; e < c.Dv; ++e) {
          double acc = 0;
          for (int j = 0; j < seen; ++j) acc += p[j] / sum * v[row(j, c.Dv) + e];
          o[(int64_t(t) * c.Hq + h) * c.Dv + e] = static_cast<float>(acc);
        }
      }
    }
  }
  return o;
}

// A batch that covers the layouts the serving engine produces (BS = 4): a length-1 sequence, a
// long decode over more than one 64-key tile with out-of-order blocks and a partly filled last
// block, a prefill chunk after earlier context sharing the long sequence's first blocks, a fresh
// prefill, and a sequence with no new rows.
PagedCase mixed_batch(int Hq, int Hkv, bool causal, plinth_dtype_t dt) {
  std::vector<int> long_blocks = {21, 3, 17, 0,  9, 12, 5, 19, 1,
                                  14, 7, 22, 10, 2, 16, 8, 23, 11};  // 18 x 4 >= 70
  std::vector<int> chunk_blocks = {21, 3, 6, 18};  // first two shared with the long sequence
  return PagedCase{Hq,
                   Hkv,
                   16,
                   12,
                   4,
                   24,
                   {{1, 1, {4}}, {1, 70, long_blocks}, {5, 13, chunk_blocks}, {3, 3, {13}}, {0, 5, {15, 20}}},
                   causal,
                   dt};
}

class VulkanPaged : public VulkanTest {
 protected:
  // Runs the op on `c` (q and o f32 contiguous) and returns o.
  std::vector<float> run_case(const PagedCase& c, const std::vector<float>& q, const std::vector<float>& k,
                              const std::vector<float>& v) {
    const auto starts = query_starts(c);
    const auto table = block_table(c);
    std::vector<int32_t> lens;
    for (const auto& s : c.seqs) lens.push_back(s.L);
    const int64_t T = starts.back(), S = static_cast<int64_t>(c.seqs.size());
    const bool half = c.cache_dtype == PLINTH_DTYPE_F16;
    plinth_buffer_t bq = upload(q), bk = half ? upload(to_f16(k)) : upload(k),
                    bv = half ? upload(to_f16(v)) : upload(v), bt = upload(table), bs = upload(starts),
                    bl = upload(lens), bo = alloc(T * c.Hq * c.Dv * 4);
    auto tq = tensor(bq, PLINTH_DTYPE_F32, {T, c.Hq, c.D});
    auto tk = tensor(bk, c.cache_dtype, {c.NB, c.BS, c.Hkv, c.D});
    auto tv = tensor(bv, c.cache_dtype, {c.NB, c.BS, c.Hkv, c.Dv});
    auto tt = tensor(bt, PLINTH_DTYPE_I32, {S, max_blocks(c)});
    auto ts = tensor(bs, PLINTH_DTYPE_I32, {S + 1});
    auto tl = tensor(bl, PLINTH_DTYPE_I32, {S});
    auto to = tensor(bo, PLINTH_DTYPE_F32, {T, c.Hq, c.Dv});
    plinth_attention_params_t p{};
    p.struct_size = sizeof p;
    p.causal = c.causal ? 1 : 0;
    run(PLINTH_OP_PAGED_ATTENTION, {&tq, &tk, &tv, &tt, &ts, &tl}, {&to}, &p);
    EXPECT_EQ(api_->stream_synchronize(stream_), PLINTH_OK) << api_->last_error_message();
    return download<float>(bo, T * c.Hq * c.Dv);
  }

  void check_case(const PagedCase& c, uint32_t seed) {
    const int64_t T = query_starts(c).back();
    auto q = random_floats(T * c.Hq * c.D, seed);
    auto k = round_to(c.cache_dtype, random_floats(int64_t(c.NB) * c.BS * c.Hkv * c.D, seed + 1));
    auto v = round_to(c.cache_dtype, random_floats(int64_t(c.NB) * c.BS * c.Hkv * c.Dv, seed + 2));
    expect_near_all(run_case(c, q, k, v), reference(c, q, k, v), 2e-5f);
  }
};

// (GQA ratio Hq / Hkv, cache dtype, causal)
class VulkanPagedBatch : public VulkanPaged,
                         public ::testing::WithParamInterface<std::tuple<int, plinth_dtype_t, bool>> {};

TEST_P(VulkanPagedBatch, MatchesHostReference) {
  const auto [ratio, dt, causal] = GetParam();
  const int Hkv = ratio == 8 ? 1 : 2;
  check_case(mixed_batch(ratio * Hkv, Hkv, causal, dt), 70 + ratio);
}

INSTANTIATE_TEST_SUITE_P(Paged, VulkanPagedBatch,
                         ::testing::Combine(::testing::Values(1, 4, 8),
                                            ::testing::Values(PLINTH_DTYPE_F32, PLINTH_DTYPE_F16),
                                            ::testing::Bool()),
                         [](const auto& param_info) {
                           const auto& c = param_info.param;
                           return "gqa" + std::to_string(std::get<0>(c)) + "_" +
                                  sdk::dtype_name(std::get<1>(c)) + (std::get<2>(c) ? "_causal" : "_full");
                         });

// More than one 256-dim output chunk, and a wider block than the query row count.
TEST_F(VulkanPaged, WideValueRowsSpanChunks) {
  PagedCase c{2, 1, 8, 300, 16, 3, {{2, 20, {2, 0}}}, true, PLINTH_DTYPE_F32};
  check_case(c, 80);
}

// Scores that grow with the key position, so every 64-key tile raises the running max and the
// accumulators must be rescaled (random data raises it in only some heads).
TEST_F(VulkanPaged, LaterTilesRaiseTheMax) {
  std::vector<int> blocks(19);
  for (int b = 0; b < 19; ++b) blocks[b] = 18 - b;  // reversed order
  PagedCase c{2, 1, 4, 4, 8, 19, {{2, 150, blocks}}, true, PLINTH_DTYPE_F32};
  std::vector<float> q(2 * c.Hq * c.D, 1.0f);
  std::vector<float> k(int64_t(c.NB) * c.BS * c.D);
  for (int j = 0; j < 150; ++j)
    for (int d = 0; d < c.D; ++d)
      k[(int64_t(blocks[j / c.BS]) * c.BS + j % c.BS) * c.D + d] = float(j) / 50.0f;
  auto v = random_floats(int64_t(c.NB) * c.BS * c.Dv, 84);
  expect_near_all(run_case(c, q, k, v), reference(c, q, k, v), 2e-5f);
}

// f16 queries and a bf16 output with padded row strides: the float dtypes and strides any op accepts.
TEST_F(VulkanPaged, HalfQueriesStridedOutput) {
  PagedCase c{4, 2, 8, 8, 4, 4, {{2, 6, {3, 1}}, {1, 3, {0}}}, true, PLINTH_DTYPE_F32};
  const int64_t T = 3, qpitch = c.Hq * c.D + 8, opitch = c.Hq * c.Dv + 4;
  auto qf = round_to(PLINTH_DTYPE_F16, random_floats(T * qpitch, 81));
  auto k = random_floats(int64_t(c.NB) * c.BS * c.Hkv * c.D, 82);
  auto v = random_floats(int64_t(c.NB) * c.BS * c.Hkv * c.Dv, 83);
  std::vector<float> qdense;  // the [T, Hq, D] view the reference reads
  for (int64_t t = 0; t < T; ++t)
    qdense.insert(qdense.end(), qf.begin() + t * qpitch, qf.begin() + t * qpitch + c.Hq * c.D);
  const auto want = reference(c, qdense, k, v);
  std::vector<int32_t> table = block_table(c), starts = query_starts(c), lens = {6, 3};
  plinth_buffer_t bq = upload(to_f16(qf)), bk = upload(k), bv = upload(v), bt = upload(table),
                  bs = upload(starts), bl = upload(lens), bo = alloc(T * opitch * 2);
  auto tq = tensor(bq, PLINTH_DTYPE_F16, {T, c.Hq, c.D}, {qpitch * 2, c.D * 2, 2});
  auto tk = tensor(bk, PLINTH_DTYPE_F32, {c.NB, c.BS, c.Hkv, c.D});
  auto tv = tensor(bv, PLINTH_DTYPE_F32, {c.NB, c.BS, c.Hkv, c.Dv});
  auto tt = tensor(bt, PLINTH_DTYPE_I32, {2, max_blocks(c)});
  auto ts = tensor(bs, PLINTH_DTYPE_I32, {3});
  auto tl = tensor(bl, PLINTH_DTYPE_I32, {2});
  auto to = tensor(bo, PLINTH_DTYPE_BF16, {T, c.Hq, c.Dv}, {opitch * 2, c.Dv * 2, 2});
  plinth_attention_params_t p{};
  p.struct_size = sizeof p;
  p.causal = 1;
  run(PLINTH_OP_PAGED_ATTENTION, {&tq, &tk, &tv, &tt, &ts, &tl}, {&to}, &p);
  auto got = download<uint16_t>(bo, T * opitch);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t e = 0; e < c.Hq * c.Dv; ++e)
      EXPECT_NEAR(sdk::bf16_to_f32(got[t * opitch + e]), want[t * c.Hq * c.Dv + e], 8e-3) << t << " " << e;
}

// The engine's decode step: set_rows writes the new tokens' k and v into f16 caches viewed as
// [NB * BS, Hkv * D] slot rows, and paged_attention reads them back in the same stream.
TEST_F(VulkanPaged, SetRowsThenAttendInOneStream) {
  PagedCase c{4, 2, 8, 8, 4, 4, {{1, 6, {2, 0}}, {2, 3, {3}}}, true, PLINTH_DTYPE_F16};
  const int64_t slots = int64_t(c.NB) * c.BS, width = int64_t(c.Hkv) * c.D, T = 3;
  auto k = round_to(PLINTH_DTYPE_F16, random_floats(slots * width, 85));
  auto v = round_to(PLINTH_DTYPE_F16, random_floats(slots * width, 86));
  // New tokens: sequence 0 position 5 (block 0, slot 1), sequence 1 positions 1, 2 (block 3).
  const std::vector<int32_t> new_slots = {0 * 4 + 1, 3 * 4 + 1, 3 * 4 + 2};
  auto knew = round_to(PLINTH_DTYPE_F16, random_floats(T * width, 87));
  auto vnew = round_to(PLINTH_DTYPE_F16, random_floats(T * width, 88));
  auto q = random_floats(T * c.Hq * c.D, 89);
  std::vector<int32_t> table = block_table(c), starts = query_starts(c), lens = {6, 3};
  plinth_buffer_t bk = upload(to_f16(k)), bv = upload(to_f16(v)), bkn = upload(knew), bvn = upload(vnew),
                  bi = upload(new_slots), bq = upload(q), bt = upload(table), bs = upload(starts),
                  bl = upload(lens), bo = alloc(T * c.Hq * c.Dv * 4);
  auto krows = tensor(bk, PLINTH_DTYPE_F16, {slots, width});
  auto vrows = tensor(bv, PLINTH_DTYPE_F16, {slots, width});
  auto tkn = tensor(bkn, PLINTH_DTYPE_F32, {T, width});
  auto tvn = tensor(bvn, PLINTH_DTYPE_F32, {T, width});
  auto ti = tensor(bi, PLINTH_DTYPE_I32, {T});
  run(PLINTH_OP_SET_ROWS, {&tkn, &ti}, {&krows});
  run(PLINTH_OP_SET_ROWS, {&tvn, &ti}, {&vrows});
  auto tq = tensor(bq, PLINTH_DTYPE_F32, {T, c.Hq, c.D});
  auto tk = tensor(bk, PLINTH_DTYPE_F16, {c.NB, c.BS, c.Hkv, c.D});
  auto tv = tensor(bv, PLINTH_DTYPE_F16, {c.NB, c.BS, c.Hkv, c.Dv});
  auto tt = tensor(bt, PLINTH_DTYPE_I32, {2, max_blocks(c)});
  auto ts = tensor(bs, PLINTH_DTYPE_I32, {3});
  auto tl = tensor(bl, PLINTH_DTYPE_I32, {2});
  auto to = tensor(bo, PLINTH_DTYPE_F32, {T, c.Hq, c.Dv});
  plinth_attention_params_t p{};
  p.struct_size = sizeof p;
  p.causal = 1;
  run(PLINTH_OP_PAGED_ATTENTION, {&tq, &tk, &tv, &tt, &ts, &tl}, {&to}, &p);
  for (int64_t i = 0; i < T; ++i) {
    std::copy_n(knew.begin() + i * width, width, k.begin() + new_slots[i] * width);
    std::copy_n(vnew.begin() + i * width, width, v.begin() + new_slots[i] * width);
  }
  expect_near_all(download<float>(bo, T * c.Hq * c.Dv), reference(c, q, k, v), 2e-5f);
}

// Each data-dependent error is reported from the stream, once, naming the bad input; the block ids
// are far outside the exactly sized caches, so a read through them would fault or read garbage.
TEST_F(VulkanPaged, DataErrorsAreReported) {
  const int64_t NB = 3, BS = 4, H = 2, D = 4, MB = 2;
  auto q = random_floats(3 * H * D, 90);
  auto k = random_floats(NB * BS * H * D, 91);
  plinth_buffer_t bq = upload(q), bk = upload(k), bv = upload(k), bo = alloc(3 * H * D * 4);
  auto tq = tensor(bq, PLINTH_DTYPE_F32, {3, H, D});
  auto tk = tensor(bk, PLINTH_DTYPE_F32, {NB, BS, H, D});
  auto tv = tensor(bv, PLINTH_DTYPE_F32, {NB, BS, H, D});
  auto to = tensor(bo, PLINTH_DTYPE_F32, {3, H, D});
  plinth_attention_params_t p{};
  p.struct_size = sizeof p;
  p.causal = 1;
  struct Bad {
    std::vector<int32_t> table, starts, lens;
    const char* what;
  };
  const std::vector<Bad> cases = {
      {{0, 1, 2, 1 << 28}, {0, 1, 3}, {1, 6}, "block_table"},  // block id past NB
      {{-1, 1, 2, -1}, {0, 1, 3}, {1, 2}, "block_table"},      // negative block id
      {{0, 1, 2, 0}, {0, 1, 3}, {1, 1}, "context_lens"},       // L_s < n_s
      {{0, 1, 2, 0}, {0, 1, 3}, {9, 2}, "context_lens"},       // L_s > MB * BS
      {{0, 1, 2, 0}, {0, 4, 3}, {4, 2}, "query_start"},        // decreasing (sequence 1 owns no row)
      {{0, 1, 2, 0}, {0, 1, 2}, {1, 2}, "query_start"},        // does not end at T
      {{0, 1, 2, 0}, {1, 1, 3}, {1, 2}, "query_start"},        // does not start at 0
  };
  for (const Bad& bad : cases) {
    SCOPED_TRACE(bad.what);
    plinth_buffer_t bt = upload(bad.table), bs = upload(bad.starts), bl = upload(bad.lens);
    auto tt = tensor(bt, PLINTH_DTYPE_I32, {2, MB});
    auto ts = tensor(bs, PLINTH_DTYPE_I32, {3});
    auto tl = tensor(bl, PLINTH_DTYPE_I32, {2});
    run(PLINTH_OP_PAGED_ATTENTION, {&tq, &tk, &tv, &tt, &ts, &tl}, {&to}, &p);
    expect_async_error(api_, stream_, bad.what);
  }
}

}  // namespace
}  // namespace plinth::vulkan_test
