// PAGED_ATTENTION: attention of a ragged batch of sequences over a paged KV cache, with the online
// softmax of op_attention (running max and sum per query, scores never materialized).
//
// A task is (sequence, block of its queries, kv head, a subset of that kv head's query heads). It
// walks the sequence's keys a chunk at a time (a chunk never crosses a cache block), converts the
// chunk's K and V rows to f32 once, and scores them against every query row of the task, so each
// key block is read once for all query heads of a GQA group. Tasks are handed out dynamically
// because their costs follow the context lengths, which differ wildly within a batch.
//
// The block table, query_start and context_lens are checked in full before anything is read
// through them, so a malformed call never touches memory outside its tensors and writes nothing.
#include <algorithm>
#include <array>
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

constexpr int64_t kKeyChunk = 64;  // keys converted and scored together
constexpr int64_t kMaxRows = 64;   // (query, head) rows per task
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Element i of a 1-D I32 tensor, or element (i, j) of a 2-D one.
int32_t i32_at(const Tensor& t, int64_t i) noexcept {
  int32_t v;
  std::memcpy(&v, t.data + i * t.strides[3], sizeof v);
  return v;
}
int32_t i32_at(const Tensor& t, int64_t i, int64_t j) noexcept {
  int32_t v;
  std::memcpy(&v, t.data + i * t.strides[2] + j * t.strides[3], sizeof v);
  return v;
}

[[noreturn]] void reject(const std::string& what) {
  sdk::fail(PLINTH_ERROR_INVALID_ARGUMENT, "paged_attention: " + what);
}

std::string at(const char* name, int64_t i) { return std::string(name) + "[" + std::to_string(i) + "]"; }

// The shapes the call was validated against.
struct Layout {
  int64_t t, hq, d, nb, bs, hkv, dv, s, mb;
};

void check_query_start(const Tensor& starts, const Layout& l) {
  if (const int32_t first = i32_at(starts, 0); first != 0) {
    reject("query_start[0] = " + std::to_string(first) + " but must be 0");
  }
  for (int64_t s = 0; s < l.s; ++s) {
    const int32_t a = i32_at(starts, s);
    const int32_t b = i32_at(starts, s + 1);
    if (b < a) {
      reject("query_start must be non-decreasing but " + at("query_start", s + 1) + " = " +
             std::to_string(b) + " < " + at("query_start", s) + " = " + std::to_string(a));
    }
  }
  if (const int32_t last = i32_at(starts, l.s); last != l.t) {
    reject(at("query_start", l.s) + " = " + std::to_string(last) +
           " but must equal T = " + std::to_string(l.t) + ", the query rows of q");
  }
}

// Every block of [0, L_s) must be a valid block id, whether or not this call's queries see it.
void check_sequence(const Tensor& table, const Tensor& starts, const Tensor& lens, const Layout& l,
                    int64_t s) {
  const int64_t n = int64_t{i32_at(starts, s + 1)} - i32_at(starts, s);
  const int64_t len = i32_at(lens, s);
  if (len < n) {
    reject(at("context_lens", s) + " = " + std::to_string(len) + " is less than the sequence's " +
           std::to_string(n) + " query rows");
  }
  if (len > l.mb * l.bs) {
    reject(at("context_lens", s) + " = " + std::to_string(len) + " exceeds the " + std::to_string(l.mb) +
           " blocks of " + std::to_string(l.bs) + " slots block_table gives each sequence");
  }
  const int64_t used = (len + l.bs - 1) / l.bs;
  for (int64_t m = 0; m < used; ++m) {
    const int32_t id = i32_at(table, s, m);
    if (id < 0 || id >= l.nb) {
      reject("block_table[" + std::to_string(s) + ", " + std::to_string(m) + "] = " + std::to_string(id) +
             " lies outside the cache's " + std::to_string(l.nb) + " blocks");
    }
  }
}

// Query rows per task-chunk when each task holds `hpt` heads.
int64_t queries_per_chunk(int64_t hpt) { return std::max<int64_t>(1, kMaxRows / hpt); }

int64_t chunks_of(int64_t n, int64_t qc) { return (n + qc - 1) / qc; }

// Heads per task: the whole GQA group (one pass over K/V for all of it) unless that leaves too few
// tasks to keep the threads busy, as in single-sequence decode; then the largest divisor that does.
int64_t heads_per_task(const Tensor& starts, const Layout& l, int64_t group) {
  const int64_t want = 2 * max_threads();
  for (int64_t hpt = group; hpt >= 1; --hpt) {
    if (group % hpt != 0) continue;
    const int64_t qc = queries_per_chunk(hpt);
    int64_t units = 0;
    for (int64_t s = 0; s < l.s; ++s)
      units += chunks_of(int64_t{i32_at(starts, s + 1)} - i32_at(starts, s), qc);
    if (units * l.hkv * (group / hpt) >= want) return hpt;
  }
  return 1;
}

struct Params {
  float scale;
  bool causal;
  int64_t group;  // query heads per kv head
  int64_t hpt;    // query heads per task
  int64_t qc;     // queries per task
};

struct Operands {
  const Tensor& q;
  const Tensor& kc;
  const Tensor& vc;
  const Tensor& table;
  const Tensor& o;
};

// One task: queries [q0, q0 + nq) of sequence s (which has n queries and len keys), heads
// h0 .. h0 + hpt - 1 (all reading kv head hk).
struct Task {
  int64_t s, q0, nq, first_query, n, len, hk, h0;
};

void run_task(const KernelTable& k, const Operands& x, const Layout& l, const Params& p, const Task& t) {
  const int64_t rows = t.nq * p.hpt;
  float* qbuf = thread_scratch(0, rows * l.d + l.dv);
  float* out_row = qbuf + rows * l.d;
  float* acc = thread_scratch(1, rows * l.dv);
  float* kbuf = thread_scratch(2, kKeyChunk * l.d);
  float* vbuf = thread_scratch(3, kKeyChunk * l.dv);
  float* scores = thread_scratch(4, kKeyChunk + 2 * rows);
  float* run_max = scores + kKeyChunk;
  float* run_sum = run_max + rows;
  std::array<const float*, kKeyChunk> kp{};
  std::array<const float*, kKeyChunk> vp{};
  const bool k_direct = x.kc.f32_rows();
  const bool v_direct = x.vc.f32_rows();

  // Row r is query q0 + r / hpt of head h0 + r % hpt; it sees keys [0, limit(r)).
  auto limit = [&](int64_t r) { return p.causal ? t.len - t.n + t.first_query + r / p.hpt + 1 : t.len; };
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t row = t.q0 + r / p.hpt;
    load_row(k, x.q.at(0, row, t.h0 + r % p.hpt, 0), x.q.dtype, x.q.strides[3], l.d, qbuf + r * l.d);
    run_max[r] = kNegInf;
    run_sum[r] = 0.0f;
  }
  std::fill(acc, acc + rows * l.dv, 0.0f);

  const int64_t last = limit(rows - 1);  // the last row sees the most keys
  for (int64_t j0 = 0; j0 < last;) {
    const int64_t slot0 = j0 % l.bs;
    const int64_t nj = std::min({kKeyChunk, l.bs - slot0, last - j0});
    const int32_t block = i32_at(x.table, t.s, j0 / l.bs);
    for (int64_t j = 0; j < nj; ++j) {
      const std::byte* kr = x.kc.at(block, slot0 + j, t.hk, 0);
      const std::byte* vr = x.vc.at(block, slot0 + j, t.hk, 0);
      if (k_direct) {
        kp[static_cast<size_t>(j)] = reinterpret_cast<const float*>(kr);
      } else {
        load_row(k, kr, x.kc.dtype, x.kc.strides[3], l.d, kbuf + j * l.d);
        kp[static_cast<size_t>(j)] = kbuf + j * l.d;
      }
      if (v_direct) {
        vp[static_cast<size_t>(j)] = reinterpret_cast<const float*>(vr);
      } else {
        load_row(k, vr, x.vc.dtype, x.vc.strides[3], l.dv, vbuf + j * l.dv);
        vp[static_cast<size_t>(j)] = vbuf + j * l.dv;
      }
    }
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t nr = std::clamp<int64_t>(limit(r) - j0, 0, nj);
      if (nr == 0) continue;
      const float* qr = qbuf + r * l.d;
      for (int64_t j = 0; j < nr; ++j) scores[j] = p.scale * k.dot(qr, kp[static_cast<size_t>(j)], l.d);
      const float chunk_max = k.max(scores, nr);
      if (chunk_max == kNegInf) continue;
      float* ar = acc + r * l.dv;
      const float new_max = std::max(run_max[r], chunk_max);
      if (run_max[r] != kNegInf && new_max != run_max[r]) {
        const float factor = std::exp(run_max[r] - new_max);
        k.scale_rows(ar, factor, l.dv);
        run_sum[r] *= factor;
      }
      run_max[r] = new_max;
      run_sum[r] += k.exp_sub_sum(scores, scores, new_max, nr);
      for (int64_t j = 0; j < nr; ++j) {
        if (scores[j] != 0.0f) k.axpy(ar, scores[j], vp[static_cast<size_t>(j)], l.dv);
      }
    }
    j0 += nj;
  }

  for (int64_t r = 0; r < rows; ++r) {
    const float inv = run_sum[r] > 0.0f ? 1.0f / run_sum[r] : 0.0f;
    std::byte* dst = x.o.at(0, t.q0 + r / p.hpt, t.h0 + r % p.hpt, 0);
    if (x.o.f32_rows()) {
      k.affine(reinterpret_cast<float*>(dst), acc + r * l.dv, inv, 0.0f, l.dv);
    } else {
      k.affine(out_row, acc + r * l.dv, inv, 0.0f, l.dv);
      store_row(k, out_row, dst, x.o.dtype, x.o.strides[3], l.dv);
    }
  }
}

}  // namespace

void op_paged_attention(OpContext& ctx) {
  const Tensor& q = ctx.in[0];
  const Tensor& kc = ctx.in[1];
  const Tensor& vc = ctx.in[2];
  const Tensor& table = ctx.in[3];
  const Tensor& starts = ctx.in[4];
  const Tensor& lens = ctx.in[5];
  const Tensor& o = ctx.out[0];
  const Layout l{q.dims[1],  q.dims[2],  q.dims[3],     kc.dims[0],   kc.dims[1],
                 kc.dims[2], vc.dims[3], table.dims[2], table.dims[3]};

  check_query_start(starts, l);
  for (int64_t s = 0; s < l.s; ++s) check_sequence(table, starts, lens, l, s);
  if (o.numel() == 0) return;

  Params p{};
  const auto& ap = ctx.call.params.attention;
  p.scale = ap.scale == 0.0f ? (l.d > 0 ? 1.0f / std::sqrt(static_cast<float>(l.d)) : 1.0f) : ap.scale;
  p.causal = ap.causal != 0;
  p.group = l.hq / l.hkv;
  p.hpt = heads_per_task(starts, l, p.group);
  p.qc = queries_per_chunk(p.hpt);

  // (sequence, first query) of every query chunk; each pairs with every kv head and head subset.
  std::vector<int64_t>& chunks = ctx.stream.stage_tasks;
  chunks.clear();
  for (int64_t s = 0; s < l.s; ++s) {
    const int64_t n = int64_t{i32_at(starts, s + 1)} - i32_at(starts, s);
    for (int64_t c = 0; c < n; c += p.qc) {
      chunks.push_back(s);
      chunks.push_back(c);
    }
  }
  const int64_t subsets = p.group / p.hpt;
  const int64_t per_chunk = l.hkv * subsets;
  const auto n_chunks = static_cast<int64_t>(chunks.size() / 2);
  const Operands x{q, kc, vc, table, o};
  parallel_for_dynamic(n_chunks * per_chunk, [&](int64_t i) {
    const int64_t c = i / per_chunk;
    const int64_t hk = (i % per_chunk) / subsets;
    const int64_t sub = i % subsets;
    Task t{};
    t.s = chunks[static_cast<size_t>(2 * c)];
    t.first_query = chunks[static_cast<size_t>(2 * c + 1)];
    const int64_t start = i32_at(starts, t.s);
    t.n = i32_at(starts, t.s + 1) - start;
    t.q0 = start + t.first_query;
    t.nq = std::min(p.qc, t.n - t.first_query);
    t.len = i32_at(lens, t.s);
    t.hk = hk;
    t.h0 = hk * p.group + sub * p.hpt;
    run_task(ctx.k, x, l, p, t);
  });
}

}  // namespace plinth::cpu
