// One step over T tokens of S chunks, all through catalogue ops (the op sequence of LlamaSession,
// with the contiguous cache replaced by a paged one):
//
//   host: pack ids [T], positions [T], cache slots [T], query_start [S+1], context_lens [S], the rows
//         whose logits are wanted [count] and block tables [S, MB] into one array; one upload
//   x = get_rows(token_embd, ids)                                              [T, d]
//   per layer:
//     xn = rms_norm(x) * attn_norm;  qkv = xn [Wq; Wk; Wv]^T                     [T, (Hq+2Hkv)*D]
//     rope(q and k heads of qkv, positions) in place
//     set_rows(k rows, slots, k_cache as [NB*BS, Hkv*D]); the same for v     (f32 -> cache dtype)
//     attn = paged_attention(q as [T, Hq, D], k_cache, v_cache, block tables, query_start,
//                            context_lens, causal)
//     x += attn Wo^T;  x += swiglu(rms_norm(x) [Wgate; Wup]^T) Wdown^T
//   sel = get_rows(x, wanted rows);  logits = rms_norm(sel) * output_norm  Wout^T   [count, vocab]
//   one download
//
// Slot of position p of a sequence: block_table[p / BS] * BS + p % BS, a row of the cache viewed as
// [NB*BS, Hkv*D]; the same memory is the [NB, BS, Hkv, D] PAGED_ATTENTION reads.
#include "plinth/models/paged_llama.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <plinth/buffer.hpp>
#include <plinth/device.hpp>
#include <plinth/ops.hpp>
#include <plinth/stream.hpp>
#include <plinth/tensor.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "llama_weights.hpp"

namespace plinth::models {
namespace {

constexpr int64_t kF32 = 4;
constexpr int64_t kI32 = 4;
// Sections of the packed index array start at multiples of this many elements, so each tensor view
// of it is 64-byte aligned (what the strictest backends ask of a storage offset).
constexpr int64_t kSectionAlign = 16;

int64_t align_up(int64_t n) { return (n + kSectionAlign - 1) / kSectionAlign * kSectionAlign; }
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

[[noreturn]] void invalid(const std::string& what) {
  throw std::invalid_argument("PagedLlama::step: " + what);
}

// The per-step index data, packed on the host for one upload. Validates the batch while packing,
// so a malformed batch throws before anything reaches the device.
class BatchPack {
 public:
  struct Limits {
    int vocab, block_size, num_blocks, max_tokens, max_seqs, max_blocks_per_seq;
  };
  // Element offsets of the sections within the array, for the largest batch (fixed, so the device
  // buffer is sized once).
  struct Layout {
    int64_t ids, pos, slots, query_start, context_lens, logit_rows, tables, total;
  };
  static Layout layout(const Limits& l) {
    Layout o{};
    const int64_t t = align_up(l.max_tokens);
    o.ids = 0;
    o.pos = t;
    o.slots = 2 * t;
    o.query_start = 3 * t;
    o.context_lens = o.query_start + align_up(l.max_seqs + 1);
    o.logit_rows = o.context_lens + align_up(l.max_seqs);
    o.tables = o.logit_rows + align_up(l.max_seqs);
    o.total = o.tables + int64_t{l.max_seqs} * l.max_blocks_per_seq;
    return o;
  }

  explicit BatchPack(const Limits& l)
      : limits_(l), layout_(layout(l)), data_(static_cast<std::size_t>(layout_.total)) {}

  void pack(std::span<const BatchChunk> chunks) {
    check(chunks);
    const int64_t bs = limits_.block_size;
    tokens_ = 0;
    seqs_ = static_cast<int64_t>(chunks.size());
    count_ = 0;
    table_width_ = 1;
    for (const auto& c : chunks)
      table_width_ = std::max(table_width_, ceil_div(c.start_pos + ssize(c.tokens), bs));
    at(layout_.query_start)[0] = 0;
    for (int64_t s = 0; s < seqs_; ++s) {
      const BatchChunk& c = chunks[static_cast<std::size_t>(s)];
      const int64_t n = ssize(c.tokens);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t p = c.start_pos + i;
        at(layout_.ids)[tokens_ + i] = c.tokens[static_cast<std::size_t>(i)];
        at(layout_.pos)[tokens_ + i] = static_cast<int32_t>(p);
        at(layout_.slots)[tokens_ + i] =
            static_cast<int32_t>(c.block_table[static_cast<std::size_t>(p / bs)] * bs + p % bs);
      }
      tokens_ += n;
      at(layout_.query_start)[s + 1] = static_cast<int32_t>(tokens_);
      at(layout_.context_lens)[s] = static_cast<int32_t>(c.start_pos + n);
      if (c.want_logits) at(layout_.logit_rows)[count_++] = static_cast<int32_t>(tokens_ - 1);
      // Only the blocks the sequence uses are copied; the rest of its row is padding never read.
      int32_t* row = at(layout_.tables) + s * table_width_;
      const int64_t used = ceil_div(c.start_pos + n, bs);
      std::copy_n(c.block_table.begin(), used, row);
      std::fill(row + used, row + table_width_, -1);
    }
  }

  int64_t tokens() const { return tokens_; }
  int64_t seqs() const { return seqs_; }
  int64_t logit_count() const { return count_; }
  int64_t table_width() const { return table_width_; }
  const Layout& offsets() const { return layout_; }
  // The prefix of the array a step uses: everything up to the end of its block tables.
  std::span<const int32_t> used() const {
    return std::span<const int32_t>(data_).first(
        static_cast<std::size_t>(layout_.tables + seqs_ * table_width_));
  }

 private:
  static int64_t ssize(std::span<const int32_t> s) { return static_cast<int64_t>(s.size()); }
  int32_t* at(int64_t offset) { return data_.data() + offset; }

  void check(std::span<const BatchChunk> chunks) {
    const int64_t bs = limits_.block_size;
    if (chunks.empty()) invalid("no chunks");
    if (static_cast<int64_t>(chunks.size()) > limits_.max_seqs) {
      invalid(std::to_string(chunks.size()) + " chunks exceed max_seqs " + std::to_string(limits_.max_seqs));
    }
    int64_t total = 0;
    slots_seen_.clear();
    for (std::size_t s = 0; s < chunks.size(); ++s) {
      const BatchChunk& c = chunks[s];
      const std::string who = "chunk " + std::to_string(s) + ": ";
      const int64_t n = ssize(c.tokens);
      if (n == 0) invalid(who + "no tokens");
      total += n;
      if (total > limits_.max_tokens) {
        invalid("more than max_batch_tokens " + std::to_string(limits_.max_tokens) + " tokens in one step");
      }
      if (c.start_pos < 0) invalid(who + "negative start_pos " + std::to_string(c.start_pos));
      const int64_t end = c.start_pos + n;
      if (end > int64_t{limits_.max_blocks_per_seq} * bs) {
        invalid(who + "positions up to " + std::to_string(end) + " exceed the model's context of " +
                std::to_string(int64_t{limits_.max_blocks_per_seq} * bs) + " tokens");
      }
      for (std::size_t i = 0; i < c.tokens.size(); ++i) {
        if (c.tokens[i] < 0 || c.tokens[i] >= limits_.vocab) {
          invalid(who + "token id " + std::to_string(c.tokens[i]) + " at index " + std::to_string(i) +
                  " lies outside the vocabulary [0, " + std::to_string(limits_.vocab) + ")");
        }
      }
      const int64_t used = ceil_div(end, bs);
      if (ssize(c.block_table) < used) {
        invalid(who + "block table has " + std::to_string(c.block_table.size()) + " blocks, " +
                std::to_string(used) + " needed for " + std::to_string(end) + " tokens");
      }
      for (int64_t b = 0; b < used; ++b) {
        const int32_t id = c.block_table[static_cast<std::size_t>(b)];
        if (id < 0 || id >= limits_.num_blocks) {
          invalid(who + "block id " + std::to_string(id) + " at table index " + std::to_string(b) +
                  " outside [0, " + std::to_string(limits_.num_blocks) + ")");
        }
      }
      for (int64_t p = c.start_pos; p < end; ++p) {
        slots_seen_.push_back(int64_t{c.block_table[static_cast<std::size_t>(p / bs)]} * bs + p % bs);
      }
    }
    // SET_ROWS leaves duplicate destinations unspecified: two chunks writing one cache slot (the
    // same sequence twice, or a shared block written) is a malformed batch.
    std::sort(slots_seen_.begin(), slots_seen_.end());
    if (std::adjacent_find(slots_seen_.begin(), slots_seen_.end()) != slots_seen_.end()) {
      invalid("two tokens of the batch write the same cache slot (a sequence twice, or a shared block)");
    }
  }

  Limits limits_;
  Layout layout_;
  std::vector<int32_t> data_;
  std::vector<int64_t> slots_seen_;
  int64_t tokens_ = 0, seqs_ = 0, count_ = 0, table_width_ = 1;
};

// The paged KV cache: per layer one k and one v buffer of [NB, BS, Hkv, D] in the cache dtype.
class PagedKvCache {
 public:
  PagedKvCache(Device& device, Stream& stream, const LlamaConfig& c, int num_blocks, int block_size,
               DType dtype)
      : nb_(num_blocks), bs_(block_size), hkv_(c.n_kv_heads), hd_(c.head_dim), dtype_(dtype) {
    const uint64_t bytes = block_bytes() * static_cast<uint64_t>(nb_);
    for (int l = 0; l < c.n_layers; ++l) {
      k_.push_back(device.allocate(bytes, AllocOptions{.stream = &stream}));
      v_.push_back(device.allocate(bytes, AllocOptions{.stream = &stream}));
    }
  }

  // One block of k (or v) in one layer.
  uint64_t block_bytes() const { return dtype_bytes(dtype_, static_cast<uint64_t>(bs_) * hkv_ * hd_); }
  uint64_t total_bytes() const { return block_bytes() * static_cast<uint64_t>(nb_) * 2 * k_.size(); }

  // [NB, BS, Hkv, D]: what PAGED_ATTENTION reads.
  Tensor blocks(bool v, int layer) const {
    return Tensor::contiguous(buf(v, layer), dtype_, {nb_, bs_, hkv_, hd_});
  }
  // [NB*BS, Hkv*D]: the same memory as rows of token slots, what SET_ROWS writes.
  Tensor slots(bool v, int layer) const {
    return Tensor::contiguous(buf(v, layer), dtype_, {int64_t{nb_} * bs_, int64_t{hkv_} * hd_});
  }

  void copy_block(Stream& stream, int32_t src, int32_t dst) {
    const uint64_t n = block_bytes();
    for (std::size_t l = 0; l < k_.size(); ++l) {
      stream.copy(k_[l], n * static_cast<uint64_t>(src), k_[l], n * static_cast<uint64_t>(dst), n);
      stream.copy(v_[l], n * static_cast<uint64_t>(src), v_[l], n * static_cast<uint64_t>(dst), n);
    }
  }

 private:
  const Buffer& buf(bool v, int layer) const { return (v ? v_ : k_)[static_cast<std::size_t>(layer)]; }

  int64_t nb_, bs_, hkv_, hd_;
  DType dtype_;
  std::vector<Buffer> k_, v_;
};

// Why `device` cannot hold this cache ("" when it can): asks it about a representative call of
// each paged op with the cache dtype.
std::string unsupported_reason(const Device& device, const LlamaConfig& c, int nb, int bs, DType kv) {
  const int64_t hq = c.n_heads, hkv = c.n_kv_heads, hd = c.head_dim;
  const auto d = [](DType t, Shape s) { return Tensor::descriptor(t, s); };
  const OpCall set_rows = ops::make_set_rows(d(DType::f32, {1, hkv * hd}), d(DType::i32, {1}),
                                             d(kv, {int64_t{nb} * bs, hkv * hd}));
  if (auto r = device.supports(set_rows); !r) return "set_rows: " + r.reason;
  const OpCall paged = ops::make_paged_attention(
      d(DType::f32, {1, hq, hd}), d(kv, {nb, bs, hkv, hd}), d(kv, {nb, bs, hkv, hd}), d(DType::i32, {1, 1}),
      d(DType::i32, {2}), d(DType::i32, {1}), d(DType::f32, {1, hq, hd}), {.causal = true});
  if (auto r = device.supports(paged); !r) return "paged_attention: " + r.reason;
  return {};
}

}  // namespace

struct PagedLlama::Impl {
  Impl(const LlamaModel& m, const PagedLlamaOptions& o);

  Buffer alloc(uint64_t bytes) { return model->device().allocate(bytes, AllocOptions{.stream = &stream}); }
  static Tensor rows(const Buffer& b, int64_t first, int64_t count, int64_t cols) {
    return Tensor::contiguous(b, DType::f32, {count, cols}, static_cast<uint64_t>(first * cols * kF32));
  }
  Tensor indices(int64_t offset, Shape shape) const {
    return Tensor::contiguous(meta_buf, DType::i32, shape, static_cast<uint64_t>(offset * kI32));
  }
  // Rows a matmul runs over for m rows of data: with batch_invariant, m rounded up to whole slices
  // (the scratch buffers hold the padding; its rows are stale but finite and never read back).
  int64_t padded(int64_t m) const {
    return options.batch_invariant ? ceil_div(m, options.batch_invariant_rows) * options.batch_invariant_rows
                                   : m;
  }
  // c = a b^T over padded rows. With batch_invariant every launch has exactly batch_invariant_rows
  // rows: kernels choose their algorithm (and so their rounding) by the row count, so a fixed count
  // makes each row's result independent of how many other rows the step has.
  void matmul(const Tensor& a, const Tensor& b, const Tensor& c) {
    const ops::MatmulOptions tb{.transpose_b = true};
    if (!options.batch_invariant) {
      ops::matmul(stream, a, b, c, tb);
      return;
    }
    const int64_t r_rows = options.batch_invariant_rows;
    for (int64_t r = 0; r < a.dim(0); r += r_rows) {
      ops::matmul(stream, a.slice(0, r, r + r_rows), b, c.slice(0, r, r + r_rows), tb);
    }
  }
  void forward();

  const LlamaModel* model;
  LlamaConfig cfg;
  PagedLlamaOptions options;
  int max_blocks_per_seq;
  Stream stream;
  BatchPack pack;
  PagedKvCache cache;
  Buffer x_buf, xn_buf, qkv_buf, attn_buf, tmp_buf, gu_buf, act_buf, meta_buf, logits_buf;
  std::vector<float> logits_host;
};

namespace {

PagedLlamaOptions resolved(const LlamaModel& m, PagedLlamaOptions o) {
  const LlamaConfig& c = m.config();
  if (o.block_size < 1) throw std::invalid_argument("PagedLlama: block_size must be >= 1");
  if (o.kv_dtype != DType::f16 && o.kv_dtype != DType::f32) {
    throw std::invalid_argument("PagedLlama: the cache dtype must be f16 or f32, not " +
                                std::string(dtype_name(o.kv_dtype)));
  }
  if (o.max_batch_tokens < 1 || o.max_seqs < 1 || o.num_blocks < 0 || o.batch_invariant_rows < 1) {
    throw std::invalid_argument(
        "PagedLlama: max_batch_tokens, max_seqs and batch_invariant_rows must be >= 1, "
        "num_blocks >= 0");
  }
  o.max_seqs = std::min(o.max_seqs, o.max_batch_tokens);  // every chunk has a token
  if (o.num_blocks == 0) {
    const int max_useful = o.max_seqs * static_cast<int>(ceil_div(c.context_length, o.block_size));
    o.num_blocks = std::min(
        max_useful, PagedLlama::default_num_blocks(c, o.block_size, o.kv_dtype, m.device().memory_info().free,
                                                   o.cache_memory_fraction, o.cache_memory_cap));
  }
  const std::string reason = unsupported_reason(m.device(), c, o.num_blocks, o.block_size, o.kv_dtype);
  if (!reason.empty()) {
    throw std::runtime_error("PagedLlama: device " + m.device().id() + " cannot run the paged KV cache (" +
                             std::string(dtype_name(o.kv_dtype)) + " cache): " + reason);
  }
  return o;
}

}  // namespace

PagedLlama::Impl::Impl(const LlamaModel& m, const PagedLlamaOptions& o)
    : model(&m),
      cfg(m.config()),
      options(resolved(m, o)),
      max_blocks_per_seq(static_cast<int>(ceil_div(cfg.context_length, options.block_size))),
      stream(m.device().create_stream()),
      pack({cfg.vocab_size, options.block_size, options.num_blocks, options.max_batch_tokens,
            options.max_seqs, max_blocks_per_seq}),
      cache(m.device(), stream, cfg, options.num_blocks, options.block_size, options.kv_dtype) {
  const int64_t t = padded(options.max_batch_tokens);
  const int64_t d = cfg.d_model;
  const int64_t q_dim = int64_t{cfg.n_heads} * cfg.head_dim;
  const int64_t kv_dim = int64_t{cfg.n_kv_heads} * cfg.head_dim;
  for (auto [buf, floats] : {std::pair{&x_buf, t * d},
                             {&xn_buf, t * d},
                             {&qkv_buf, t * (q_dim + 2 * kv_dim)},
                             {&attn_buf, t * q_dim},
                             {&tmp_buf, t * d},
                             {&gu_buf, t * 2 * cfg.ffn_dim},
                             {&act_buf, t * cfg.ffn_dim},
                             {&logits_buf, padded(options.max_seqs) * cfg.vocab_size}}) {
    *buf = alloc(static_cast<uint64_t>(floats * kF32));
    // Zeroed once, so padding rows (batch_invariant) never hold NaN patterns of fresh memory.
    ops::fill(stream, Tensor::contiguous(*buf, DType::f32, {floats}), 0.0);
  }
  meta_buf = alloc(static_cast<uint64_t>(pack.offsets().total * kI32));
  stream.synchronize();
  logits_host.resize(static_cast<std::size_t>(options.max_seqs) * static_cast<std::size_t>(cfg.vocab_size));
}

void PagedLlama::Impl::forward() {
  const auto& w = model->weights();
  const int64_t n = pack.tokens();
  const int64_t s = pack.seqs();
  const int64_t mb = pack.table_width();
  const int64_t d = cfg.d_model;
  const int64_t hd = cfg.head_dim;
  const int64_t hq = cfg.n_heads;
  const int64_t hkv = cfg.n_kv_heads;
  const int64_t q_dim = hq * hd;
  const int64_t kv_dim = hkv * hd;
  const int64_t ffn = cfg.ffn_dim;
  const int64_t qkv_dim = q_dim + 2 * kv_dim;
  const ops::NormOptions norm{.eps = cfg.rms_eps};
  const ops::RopeOptions rope{.mode = ops::RopeMode::normal,
                              .n_dims = static_cast<uint32_t>(cfg.rope_dims),
                              .freq_base = cfg.rope_base,
                              .freq_scale = cfg.rope_freq_scale};
  const auto& off = pack.offsets();
  const Tensor ids = indices(off.ids, {n});
  const Tensor pos = indices(off.pos, {n});
  const Tensor slots = indices(off.slots, {n});
  const Tensor query_start = indices(off.query_start, {s + 1});
  const Tensor context_lens = indices(off.context_lens, {s});
  const Tensor tables = indices(off.tables, {s, mb});

  // Matmul operands span mp rows (padding for batch_invariant); every other op the n real ones.
  const int64_t mp = padded(n);
  const Tensor x = rows(x_buf, 0, n, d);
  const Tensor xn = rows(xn_buf, 0, n, d);
  const Tensor xn_mm = rows(xn_buf, 0, mp, d);
  const Tensor qkv = rows(qkv_buf, 0, mp, qkv_dim);
  // Views of the qkv rows [q | k | v], as in LlamaSession: the matmul outputs span the padded rows.
  const QkvViews padded_parts(qkv_buf, mp, hq, hkv, hd);
  const QkvViews parts(qkv_buf, n, hq, hkv, hd);
  const Tensor& q_part = padded_parts.q;
  const Tensor& k_part = padded_parts.k;
  const Tensor& v_part = padded_parts.v;
  const Tensor& k_new = parts.k;
  const Tensor& v_new = parts.v;
  const Tensor& qk_heads = parts.qk_heads;
  const Tensor q_heads = parts.qk_heads.slice(1, 0, hq);  // [n, Hq, D]
  const Tensor attn = rows(attn_buf, 0, mp, q_dim);
  const Tensor o_heads = Tensor::contiguous(attn_buf, DType::f32, {n, hq, hd});
  const Tensor tmp = rows(tmp_buf, 0, n, d);
  const Tensor tmp_mm = rows(tmp_buf, 0, mp, d);
  const Tensor gu = rows(gu_buf, 0, mp, 2 * ffn);
  const std::array<int64_t, 2> gu_strides = {2 * ffn * kF32, kF32};
  const Tensor gate_mm = Tensor::strided(gu_buf, DType::f32, {mp, ffn}, gu_strides, 0);
  const Tensor up_mm =
      Tensor::strided(gu_buf, DType::f32, {mp, ffn}, gu_strides, static_cast<uint64_t>(ffn * kF32));
  const Tensor gate = gate_mm.slice(0, 0, n);
  const Tensor up = up_mm.slice(0, 0, n);
  const Tensor act_mm = rows(act_buf, 0, mp, ffn);
  const Tensor act = act_mm.slice(0, 0, n);

  ops::get_rows(stream, w.token_embd, ids, x);
  for (int l = 0; l < cfg.n_layers; ++l) {
    const auto& L = w.layers[static_cast<std::size_t>(l)];
    ops::rms_norm(stream, x, L.attn_norm, xn, norm);
    if (L.w_qkv) {
      matmul(xn_mm, *L.w_qkv, qkv);
    } else {
      matmul(xn_mm, L.wq, q_part);
      matmul(xn_mm, L.wk, k_part);
      matmul(xn_mm, L.wv, v_part);
    }
    ops::rope(stream, qk_heads, pos, qk_heads, rope);  // q and k heads are adjacent: one launch
    ops::set_rows(stream, k_new, slots, cache.slots(false, l));
    ops::set_rows(stream, v_new, slots, cache.slots(true, l));
    ops::paged_attention(stream, q_heads, cache.blocks(false, l), cache.blocks(true, l), tables, query_start,
                         context_lens, o_heads, {.causal = true});
    matmul(attn, L.wo, tmp_mm);
    ops::add(stream, x, tmp, x);
    ops::rms_norm(stream, x, L.ffn_norm, xn, norm);
    if (L.w_gate_up) {
      matmul(xn_mm, *L.w_gate_up, gu);
    } else {
      matmul(xn_mm, L.w_gate, gate_mm);
      matmul(xn_mm, L.w_up, up_mm);
    }
    ops::swiglu(stream, gate, up, act);
    matmul(act_mm, L.w_down, tmp_mm);
    ops::add(stream, x, tmp, x);
  }
  // Only the wanted rows go through the final norm and the (vocab-wide, so costly) output matmul.
  const int64_t count = pack.logit_count();
  if (count == 0) return;
  const Tensor wanted = rows(tmp_buf, 0, count, d);
  const Tensor wanted_n = rows(xn_buf, 0, count, d);
  ops::get_rows(stream, x, indices(off.logit_rows, {count}), wanted);
  ops::rms_norm(stream, wanted, w.output_norm, wanted_n, norm);
  matmul(rows(xn_buf, 0, padded(count), d), w.output, rows(logits_buf, 0, padded(count), cfg.vocab_size));
}

PagedLlama::PagedLlama(const LlamaModel& model, const PagedLlamaOptions& options)
    : impl_(std::make_unique<Impl>(model, options)) {}
PagedLlama::~PagedLlama() = default;

uint64_t PagedLlama::bytes_per_block(const LlamaConfig& c, int block_size, DType kv_dtype) {
  return dtype_bytes(kv_dtype, uint64_t{2} * static_cast<uint64_t>(c.n_layers) *
                                   static_cast<uint64_t>(block_size) * static_cast<uint64_t>(c.n_kv_heads) *
                                   static_cast<uint64_t>(c.head_dim));
}

int PagedLlama::default_num_blocks(const LlamaConfig& c, int block_size, DType kv_dtype, uint64_t free_bytes,
                                   double fraction, uint64_t cap) {
  const auto budget = std::min(cap, static_cast<uint64_t>(static_cast<double>(free_bytes) * fraction));
  const uint64_t blocks = budget / bytes_per_block(c, block_size, kv_dtype);
  return static_cast<int>(std::clamp<uint64_t>(blocks, 1, uint64_t{1} << 30));
}

int PagedLlama::vocab_size() const { return impl_->cfg.vocab_size; }
int PagedLlama::block_size() const { return impl_->options.block_size; }
int PagedLlama::num_blocks() const { return impl_->options.num_blocks; }
int PagedLlama::max_batch_tokens() const { return impl_->options.max_batch_tokens; }
int PagedLlama::max_seqs() const { return impl_->options.max_seqs; }
int PagedLlama::max_blocks_per_seq() const { return impl_->max_blocks_per_seq; }
DType PagedLlama::kv_dtype() const { return impl_->options.kv_dtype; }
uint64_t PagedLlama::cache_bytes() const { return impl_->cache.total_bytes(); }

std::span<const float> PagedLlama::step(std::span<const BatchChunk> chunks) {
  Impl& m = *impl_;
  m.pack.pack(chunks);  // throws std::invalid_argument before any device work
  const std::span<const int32_t> packed = m.pack.used();
  m.stream.upload(packed.data(), m.meta_buf, 0, packed.size_bytes());
  m.forward();
  const auto count = static_cast<std::size_t>(m.pack.logit_count());
  const std::size_t floats = count * static_cast<std::size_t>(m.cfg.vocab_size);
  if (count > 0) m.stream.download(m.logits_buf, 0, m.logits_host.data(), floats * sizeof(float));
  m.stream.synchronize();  // also the end of the borrow of the packed array by the upload
  return std::span<const float>(m.logits_host).first(floats);
}

void PagedLlama::copy_block(int32_t src, int32_t dst) {
  Impl& m = *impl_;
  for (const int32_t id : {src, dst}) {
    if (id < 0 || id >= m.options.num_blocks) {
      throw std::invalid_argument("PagedLlama::copy_block: block id " + std::to_string(id) + " outside [0, " +
                                  std::to_string(m.options.num_blocks) + ")");
    }
  }
  if (src == dst) return;
  m.cache.copy_block(m.stream, src, dst);
  m.stream.synchronize();  // a device error surfaces here, at the call that caused it
}

}  // namespace plinth::models
