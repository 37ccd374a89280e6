// PAGED_ATTENTION and SET_ROWS (the paged KV-cache ops of ABI 1.2) against double-precision loops
// that follow the op catalogue's wording: ragged batches, shared and out-of-order blocks, partly
// filled last blocks, grouped-query heads, prefill chunks, and the data-dependent errors.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "cpu_test_harness.hpp"

namespace plinth::cpu_test {
namespace {

using CpuPagedAttentionTest = CpuPlugin;
using CpuSetRowsTest = CpuPlugin;

struct Seq {
  int64_t n;    // query rows of this call
  int64_t len;  // L_s: tokens in the cache, the new ones included
};

struct PagedCase {
  std::vector<Seq> seqs;
  int64_t hq = 4, hkv = 1, d = 16, dv = 16, bs = 16;
  plinth_dtype_t cache = PLINTH_DTYPE_F32;
  plinth_dtype_t qo = PLINTH_DTYPE_F32;
  bool causal = true;
  bool share_first_block = false;  // every sequence reuses sequence 0's first block (a shared prefix)
  uint32_t seed = 1;
};

// The host-side operands of a case; the block table shuffles block ids so sequences' blocks are
// neither contiguous nor in order, and pads every row with -1 past the blocks it uses.
struct PagedInputs {
  HostTensor q, k, v, table, starts, lens, o;
  int64_t t = 0, nb = 0, mb = 0;
  std::vector<std::vector<int32_t>> blocks;
};

PagedInputs make_inputs(const PagedCase& c) {
  PagedInputs in;
  const auto s = static_cast<int64_t>(c.seqs.size());
  int64_t needed = 0;
  for (const Seq& q : c.seqs) {
    in.t += q.n;
    in.mb = std::max(in.mb, (q.len + c.bs - 1) / c.bs + 1);
    needed += (q.len + c.bs - 1) / c.bs;
  }
  in.nb = needed + 3;  // spare blocks hold keys no sequence may see
  std::vector<int32_t> ids(static_cast<size_t>(in.nb));
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), std::mt19937(c.seed));
  size_t next = 0;
  std::vector<double> table(static_cast<size_t>(s * in.mb), -1.0);
  std::vector<double> starts{0};
  std::vector<double> lens;
  for (int64_t i = 0; i < s; ++i) {
    const Seq& q = c.seqs[static_cast<size_t>(i)];
    std::vector<int32_t> mine;
    for (int64_t m = 0; m < (q.len + c.bs - 1) / c.bs; ++m) {
      const bool shared = c.share_first_block && i > 0 && m == 0 && !in.blocks[0].empty();
      mine.push_back(shared ? in.blocks[0][0] : ids[next++]);
      table[static_cast<size_t>(i * in.mb + m)] = mine.back();
    }
    in.blocks.push_back(mine);
    starts.push_back(starts.back() + static_cast<double>(q.n));
    lens.push_back(static_cast<double>(q.len));
  }
  in.q = random_tensor(c.qo, {in.t, c.hq, c.d}, c.seed + 1);
  in.k = random_tensor(c.cache, {in.nb, c.bs, c.hkv, c.d}, c.seed + 2);
  in.v = random_tensor(c.cache, {in.nb, c.bs, c.hkv, c.dv}, c.seed + 3);
  in.table = make(PLINTH_DTYPE_I32, {s, in.mb}, table);
  in.starts = make(PLINTH_DTYPE_I32, {s + 1}, starts);
  in.lens = make(PLINTH_DTYPE_I32, {s}, lens);
  in.o = make(c.qo, {in.t, c.hq, c.dv}, std::vector<double>(static_cast<size_t>(in.t * c.hq * c.dv), 7.0));
  return in;
}

// o per the catalogue: query i of sequence s sits at L - n + i and sees keys j <= that (causal) or
// all L keys; key j lives in slot j % BS of block table[s][j / BS].
std::vector<double> paged_reference(const PagedCase& c, const PagedInputs& in, double scale) {
  const auto q = values(in.q);
  const auto k = values(in.k);
  const auto v = values(in.v);
  std::vector<double> o(static_cast<size_t>(in.t * c.hq * c.dv), 0.0);
  const int64_t group = c.hq / c.hkv;
  int64_t row = 0;
  for (size_t s = 0; s < c.seqs.size(); ++s) {
    const Seq& sq = c.seqs[s];
    for (int64_t i = 0; i < sq.n; ++i, ++row) {
      const int64_t visible = c.causal ? sq.len - sq.n + i + 1 : sq.len;
      for (int64_t h = 0; h < c.hq; ++h) {
        const int64_t hk = h / group;
        auto kv_index = [&](int64_t j, int64_t width) {
          const int64_t block = in.blocks[s][static_cast<size_t>(j / c.bs)];
          return ((block * c.bs + j % c.bs) * c.hkv + hk) * width;
        };
        std::vector<double> sc(static_cast<size_t>(visible));
        double mx = -INFINITY;
        for (int64_t j = 0; j < visible; ++j) {
          double dot = 0;
          for (int64_t e = 0; e < c.d; ++e)
            dot += q[static_cast<size_t>((row * c.hq + h) * c.d + e)] *
                   k[static_cast<size_t>(kv_index(j, c.d) + e)];
          sc[static_cast<size_t>(j)] = scale * dot;
          mx = std::max(mx, scale * dot);
        }
        double sum = 0;
        for (double& x : sc) sum += (x = std::exp(x - mx));
        for (int64_t j = 0; j < visible; ++j) {
          for (int64_t e = 0; e < c.dv; ++e) {
            o[static_cast<size_t>((row * c.hq + h) * c.dv + e)] +=
                sc[static_cast<size_t>(j)] / sum * v[static_cast<size_t>(kv_index(j, c.dv) + e)];
          }
        }
      }
    }
  }
  return o;
}

std::string describe(const PagedCase& c) {
  std::string s = "hq=" + std::to_string(c.hq) + " hkv=" + std::to_string(c.hkv) +
                  " bs=" + std::to_string(c.bs) + " cache=" + sdk::dtype_name(c.cache) +
                  " causal=" + std::to_string(c.causal) + " seqs=";
  for (const Seq& q : c.seqs) s += "(" + std::to_string(q.n) + "," + std::to_string(q.len) + ")";
  return s;
}

// A realistic mixed batch: decode steps of short and long sequences, a prefill chunk with earlier
// context, a first prefill (n = L), a length-1 sequence and a sequence with a partly filled block.
std::vector<Seq> mixed_batch() { return {{1, 1}, {1, 300}, {7, 40}, {12, 12}, {1, 17}, {3, 64}}; }

TEST_P(CpuPagedAttentionTest, MatchesReferenceAcrossGroupsDtypesAndMasking) {
  for (const int64_t group : {1, 4, 8}) {
    for (const plinth_dtype_t cache : {PLINTH_DTYPE_F32, PLINTH_DTYPE_F16, PLINTH_DTYPE_BF16}) {
      for (const bool causal : {true, false}) {
        PagedCase c;
        c.seqs = mixed_batch();
        c.hkv = 2;
        c.hq = 2 * group;
        c.cache = cache;
        c.causal = causal;
        c.seed = static_cast<uint32_t>(group * 10 + (causal ? 1 : 0));
        const PagedInputs in = make_inputs(c);
        plinth_attention_params_t p{};
        p.struct_size = sizeof p;
        p.causal = causal ? 1 : 0;
        const auto got = run(PLINTH_OP_PAGED_ATTENTION,
                             {&in.q, &in.k, &in.v, &in.table, &in.starts, &in.lens}, {in.o}, &p)[0];
        const auto want = paged_reference(c, in, 1.0 / std::sqrt(static_cast<double>(c.d)));
        SCOPED_TRACE(describe(c));
        expect_close(got, want, 2e-5);
      }
    }
  }
}

TEST_P(CpuPagedAttentionTest, SharedBlocksSmallBlocksAndExplicitScale) {
  PagedCase c;
  c.seqs = {{1, 23}, {2, 9}, {1, 1}, {5, 31}};
  c.bs = 4;  // many blocks per sequence, and key chunks end at every block boundary
  c.hq = 6;
  c.hkv = 3;
  c.d = 64;
  c.dv = 32;  // Dv differs from D
  c.cache = PLINTH_DTYPE_F16;
  c.share_first_block = true;
  c.seed = 5;
  const PagedInputs in = make_inputs(c);
  plinth_attention_params_t p{};
  p.struct_size = sizeof p;
  p.causal = 1;
  p.scale = 0.2f;
  const auto got =
      run(PLINTH_OP_PAGED_ATTENTION, {&in.q, &in.k, &in.v, &in.table, &in.starts, &in.lens}, {in.o}, &p)[0];
  expect_close(got, paged_reference(c, in, 0.2), 2e-5);
}

TEST_P(CpuPagedAttentionTest, DecodeShapeOfTheSmallModelWithLongContexts) {
  // 9 query heads over 3 kv heads, D = 64: one decode token each, one context past a key chunk of
  // 2048 tokens and one next to it of length 1; f16 q and o exercise the converted paths.
  PagedCase c;
  c.seqs = {{1, 2048}, {1, 1}, {1, 777}};
  c.hq = 9;
  c.hkv = 3;
  c.d = 64;
  c.dv = 64;
  c.bs = 32;
  c.cache = PLINTH_DTYPE_F16;
  c.qo = PLINTH_DTYPE_F16;
  c.seed = 9;
  const PagedInputs in = make_inputs(c);
  plinth_attention_params_t p{};
  p.struct_size = sizeof p;
  p.causal = 1;
  const auto got =
      run(PLINTH_OP_PAGED_ATTENTION, {&in.q, &in.k, &in.v, &in.table, &in.starts, &in.lens}, {in.o}, &p)[0];
  expect_close(got, paged_reference(c, in, 0.125), 2e-3);  // o is rounded to f16
}

TEST_P(CpuPagedAttentionTest, LongPrefillChunkSplitsIntoSeveralTasks) {
  PagedCase c;
  c.seqs = {{150, 200}, {1, 5}};
  c.hq = 8;
  c.hkv = 1;
  c.bs = 16;
  c.seed = 11;
  const PagedInputs in = make_inputs(c);
  plinth_attention_params_t p{};
  p.struct_size = sizeof p;
  p.causal = 1;
  const auto got =
      run(PLINTH_OP_PAGED_ATTENTION, {&in.q, &in.k, &in.v, &in.table, &in.starts, &in.lens}, {in.o}, &p)[0];
  expect_close(got, paged_reference(c, in, 0.25), 2e-5);
}

TEST_P(CpuPagedAttentionTest, SequencesWithoutQueries) {
  PagedCase c;
  c.seqs = {{0, 0}, {0, 20}, {2, 2}};  // no queries (and no keys) next to a real one
  c.causal = false;
  c.seed = 13;
  const PagedInputs in = make_inputs(c);
  plinth_attention_params_t p{};
  p.struct_size = sizeof p;
  p.causal = 0;
  const auto got =
      run(PLINTH_OP_PAGED_ATTENTION, {&in.q, &in.k, &in.v, &in.table, &in.starts, &in.lens}, {in.o}, &p)[0];
  expect_close(got, paged_reference(c, in, 0.25), 2e-5);
}

TEST_P(CpuPagedAttentionTest, DataDependentErrorsAreRejectedWithoutWriting) {
  PagedCase c;
  c.seqs = {{1, 20}, {2, 5}};  // T = 3, MB = 4 (3 blocks used by sequence 0), NB = 6
  c.bs = 8;
  struct Variant {
    const char* what;
    std::vector<double> table, starts, lens;
    const char* message;  // a fragment the error must name
  };
  // table rows: sequence 0 uses 3 blocks, sequence 1 uses 1; the rest is -1.
  const PagedInputs base = make_inputs(c);
  const auto tv = values(base.table);
  auto with = [&](size_t i, double v) {
    auto t = tv;
    t[i] = v;
    return t;
  };
  const std::vector<double> st{0, 1, 3};
  const std::vector<double> ln{20, 5};
  const std::vector<Variant> variants = {
      {"block id -1 in use", with(2, -1), st, ln, "block_table[0, 2]"},
      {"block id NB", with(4, static_cast<double>(base.nb)), st, ln, "block_table[1, 0]"},
      {"L < n", tv, st, {20, 1}, "context_lens[1]"},
      {"L > MB * BS", tv, st, {33, 5}, "context_lens[0]"},
      {"query_start[0] != 0", tv, {1, 1, 3}, ln, "query_start[0]"},
      {"decreasing query_start", tv, {0, 2, 1}, ln, "non-decreasing"},
      {"query_start[S] != T", tv, {0, 1, 2}, ln, "query_start[2]"},
      {"negative length", tv, {0, 0, 3}, {-1, 5}, "context_lens[0]"},
  };
  for (const Variant& v : variants) {
    SCOPED_TRACE(v.what);
    const HostTensor table = make(PLINTH_DTYPE_I32, base.table.dims, v.table);
    const HostTensor starts = make(PLINTH_DTYPE_I32, base.starts.dims, v.starts);
    const HostTensor lens = make(PLINTH_DTYPE_I32, base.lens.dims, v.lens);
    const plinth_tensor_t dq = upload(base.q), dk = upload(base.k), dv = upload(base.v);
    const plinth_tensor_t dt = upload(table), ds = upload(starts), dl = upload(lens), dout = upload(base.o);
    EXPECT_EQ(launch(PLINTH_OP_PAGED_ATTENTION, {&dq, &dk, &dv, &dt, &ds, &dl}, {&dout}, nullptr),
              PLINTH_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(api_->last_error_message()).find(v.message), std::string::npos)
        << api_->last_error_message();
    EXPECT_EQ(values(download(dout, base.o)), values(base.o)) << "a rejected call writes nothing";
  }
}

TEST_P(CpuSetRowsTest, ScattersConvertedRowsAndKeepsTheRest) {
  for (const plinth_dtype_t dt : {PLINTH_DTYPE_F32, PLINTH_DTYPE_F16, PLINTH_DTYPE_BF16}) {
    for (const plinth_dtype_t st : {PLINTH_DTYPE_F32, PLINTH_DTYPE_F16}) {
      SCOPED_TRACE(std::string(sdk::dtype_name(st)) + " -> " + sdk::dtype_name(dt));
      const HostTensor src = random_tensor(st, {4, 24}, 21);
      const HostTensor idx = make(PLINTH_DTYPE_I32, {4}, {9, 0, 5, 2});
      const HostTensor dst = random_tensor(dt, {10, 24}, 22);
      const auto got = run(PLINTH_OP_SET_ROWS, {&src, &idx}, {dst}, nullptr)[0];
      auto want = values(dst);
      const auto vs = values(src);
      const int rows[] = {9, 0, 5, 2};
      for (int i = 0; i < 4; ++i) {
        for (int j = 0; j < 24; ++j) {
          // Rounded to dst's dtype exactly as the harness rounds.
          HostTensor one = make(dt, {1}, {vs[static_cast<size_t>(i * 24 + j)]});
          want[static_cast<size_t>(rows[i] * 24 + j)] = values(one)[0];
        }
      }
      EXPECT_EQ(got, want);
    }
  }
}

TEST_P(CpuSetRowsTest, WritesIntoAStridedCacheView) {
  // dst is the [NB * BS, W] view of head 1 of a [NB*BS, 2 heads, W] f16 cache: rows stride over both
  // heads, and head 0 must stay untouched.
  const int64_t rows = 12, heads = 2, w = 8;
  HostTensor cache = random_tensor(PLINTH_DTYPE_F16, {rows, heads, w}, 31);
  HostTensor view = cache;
  view.dims = {rows, w};
  view.strides = {heads * w * 2, 2};
  view.offset = w * 2;
  const HostTensor src = random_tensor(PLINTH_DTYPE_F32, {3, w}, 32);
  const HostTensor idx = make(PLINTH_DTYPE_I32, {3}, {11, 3, 4});
  const plinth_tensor_t ds = upload(src), di = upload(idx), dd = upload(view);
  ASSERT_EQ(launch(PLINTH_OP_SET_ROWS, {&ds, &di}, {&dd}, nullptr), PLINTH_OK) << api_->last_error_message();
  const auto got = values(download(dd, cache));
  auto want = values(cache);
  const auto vs = values(src);
  const int dest[] = {11, 3, 4};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < w; ++j) {
      want[static_cast<size_t>((dest[i] * heads + 1) * w + j)] =
          values(make(PLINTH_DTYPE_F16, {1}, {vs[static_cast<size_t>(i * w + j)]}))[0];
    }
  }
  EXPECT_EQ(got, want);
}

TEST_P(CpuSetRowsTest, OutOfRangeIndexIsRejectedWithoutWriting) {
  const HostTensor src = random_tensor(PLINTH_DTYPE_F32, {3, 4}, 41);
  const HostTensor dst = make(PLINTH_DTYPE_F32, {5, 4}, std::vector<double>(20, 2.0));
  for (const double bad : {5.0, -1.0}) {
    const HostTensor idx = make(PLINTH_DTYPE_I32, {3}, {0, bad, 1});
    const plinth_tensor_t ds = upload(src), di = upload(idx), dd = upload(dst);
    EXPECT_EQ(launch(PLINTH_OP_SET_ROWS, {&ds, &di}, {&dd}, nullptr), PLINTH_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(api_->last_error_message()).find("indices[1]"), std::string::npos)
        << api_->last_error_message();
    EXPECT_EQ(values(download(dd, dst)), std::vector<double>(20, 2.0));
  }
}

PLINTH_CPU_INSTANTIATE(CpuPagedAttentionTest);
PLINTH_CPU_INSTANTIATE(CpuSetRowsTest);

}  // namespace
}  // namespace plinth::cpu_test
