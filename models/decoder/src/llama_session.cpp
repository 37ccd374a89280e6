// One forward pass over n tokens at position p (n = 1 for decode), all through catalogue ops:
//
//   x = get_rows(token_embd, ids)                                   [n, d]
//   per layer:
//     xn = rms_norm(x) * attn_norm
//     qkv = xn [Wq; Wk; Wv]^T       one matmul (the weights are stacked at load)   [n, (Hq+2Hkv)*D]
//     rope(q and k) in place        one launch: q and k heads are adjacent in each row
//                                   (NORMAL mode: llama GGUF files store q/k permuted for it)
//     cache rows [p, p+n) = qkv[:, k and v]                                      one copy
//     attn = attention(q, k[0:p+n], v[0:p+n], causal)   read and written through strided views,
//                                   so the [n, H*D] matmul layout needs no transposing copies
//     x += attn Wo^T
//     xn = rms_norm(x) * ffn_norm
//     gu = xn [Wgate; Wup]^T        (one matmul; gate and up are stacked at load)
//     x += swiglu(gu[:, :F], gu[:, F:]) Wdown^T
//   logits = rms_norm(x[last]) * output_norm  Wout^T
//
// When q, k, v (or gate, up) have different dtypes they are separate matmuls writing the same places.
// The cache is token-major, one buffer per layer of rows [k | v] ([max_context, 2*Hkv*D]), so
// appending n tokens is one copy of n rows; attention sees k and v as [1, Hkv, L, D] with strides.
// Positions 0..max_context-1 are uploaded once; a pass views the slice it needs, so decode uploads
// only its token id.
#include "plinth/models/llama_session.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <stdexcept>
#include <string>

#include <plinth/buffer.hpp>
#include <plinth/ops.hpp>
#include <plinth/stream.hpp>
#include <plinth/tensor.hpp>

#include "llama_weights.hpp"

namespace plinth::models {
namespace {

constexpr int kDefaultMaxBatch = 512;

enum class Phase : std::size_t {
  embed, rms_norm, matmul_qkv, rope, kv_copy, attention, matmul_o, add, matmul_gate_up, swiglu, matmul_down, logits,
  count
};
constexpr std::array<const char*, static_cast<std::size_t>(Phase::count)> kPhaseNames = {
    "embed", "rms_norm", "matmul_qkv", "rope", "kv_copy", "attention", "matmul_o", "add", "matmul_gate_up", "swiglu",
    "matmul_down", "logits"};

constexpr int64_t kF32 = 4;

}  // namespace

struct LlamaSession::Impl {
  Impl(const LlamaModel& m, int max_ctx, const SessionOptions& options);

  Buffer alloc(uint64_t bytes) { return model->device().allocate(bytes, AllocOptions{.stream = &stream}); }
  // rows [first, first+count) of a row-major f32 matrix with `cols` columns.
  static Tensor rows(const Buffer& b, int64_t first, int64_t count, int64_t cols) {
    return Tensor::contiguous(b, DType::f32, {count, cols}, static_cast<uint64_t>(first * cols * kF32));
  }

  template <class F>
  void timed(Phase phase, F&& f) {
    if (!profile) {
      f();
      return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    f();
    stream.synchronize();
    auto& e = profile_entries[static_cast<std::size_t>(phase)];
    e.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++e.launches;
  }

  void check_tokens(std::span<const int32_t> tokens) const;
  // Runs tokens (at most max_batch) at position_; writes logits of the last token into logits_buf,
  // or of every token into *all_logits ([n, vocab]) when given.
  void forward(std::span<const int32_t> tokens, const Tensor* all_logits);

  const LlamaModel* model;
  LlamaConfig cfg;
  int max_context;
  int max_batch;
  bool profile;
  int position = 0;
  Stream stream;

  Buffer x_buf, xn_buf, qkv_buf, attn_buf, tmp_buf, gu_buf, act_buf, ids_buf, pos_buf, logits_buf;
  std::vector<Buffer> kv_cache;  // per layer [max_context, 2 * kv_dim]: rows [k | v]
  std::vector<float> logits_host;
  std::vector<int32_t> positions_host;
  std::array<SessionProfileEntry, static_cast<std::size_t>(Phase::count)> profile_entries{};
};

LlamaSession::Impl::Impl(const LlamaModel& m, int max_ctx, const SessionOptions& options)
    : model(&m), cfg(m.config()), max_context(max_ctx), profile(options.profile), stream(m.device().create_stream()) {
  if (max_ctx < 1 || max_ctx > cfg.context_length) {
    throw std::invalid_argument("LlamaSession: max_context " + std::to_string(max_ctx) + " must lie in [1, " +
                                std::to_string(cfg.context_length) + "] (the model's context length)");
  }
  if (options.max_batch < 0) throw std::invalid_argument("LlamaSession: max_batch must not be negative");
  max_batch = std::min(max_ctx, options.max_batch == 0 ? kDefaultMaxBatch : options.max_batch);
  for (std::size_t i = 0; i < profile_entries.size(); ++i) profile_entries[i].name = kPhaseNames[i];

  const int64_t b = max_batch;
  const int64_t d = cfg.d_model;
  const int64_t q_dim = int64_t{cfg.n_heads} * cfg.head_dim;
  const int64_t kv_dim = int64_t{cfg.n_kv_heads} * cfg.head_dim;
  x_buf = alloc(b * d * kF32);
  xn_buf = alloc(b * d * kF32);
  qkv_buf = alloc(b * (q_dim + 2 * kv_dim) * kF32);
  attn_buf = alloc(b * q_dim * kF32);
  tmp_buf = alloc(b * d * kF32);
  gu_buf = alloc(b * 2 * cfg.ffn_dim * kF32);
  act_buf = alloc(b * cfg.ffn_dim * kF32);
  ids_buf = alloc(b * 4);
  pos_buf = alloc(int64_t{max_ctx} * 4);
  logits_buf = alloc(int64_t{cfg.vocab_size} * kF32);
  for (int l = 0; l < cfg.n_layers; ++l) {
    kv_cache.push_back(alloc(int64_t{max_ctx} * 2 * kv_dim * kF32));
  }
  logits_host.resize(static_cast<std::size_t>(cfg.vocab_size));
  positions_host.resize(static_cast<std::size_t>(max_ctx));
  for (int i = 0; i < max_ctx; ++i) positions_host[static_cast<std::size_t>(i)] = i;
  stream.upload(positions_host.data(), pos_buf, 0, positions_host.size() * 4);
  stream.synchronize();
}

void LlamaSession::Impl::check_tokens(std::span<const int32_t> tokens) const {
  if (tokens.empty()) throw std::invalid_argument("LlamaSession: no tokens given");
  if (static_cast<int64_t>(position) + static_cast<int64_t>(tokens.size()) > max_context) {
    throw std::length_error("LlamaSession: context overflow: " + std::to_string(position) + " tokens cached + " +
                            std::to_string(tokens.size()) + " new exceed max_context " + std::to_string(max_context));
  }
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= cfg.vocab_size) {
      throw std::invalid_argument("LlamaSession: token id " + std::to_string(tokens[i]) + " at index " +
                                  std::to_string(i) + " lies outside the vocabulary [0, " +
                                  std::to_string(cfg.vocab_size) + ")");
    }
  }
}

void LlamaSession::Impl::forward(std::span<const int32_t> tokens, const Tensor* all_logits) {
  const auto& w = model->weights();
  const int64_t n = static_cast<int64_t>(tokens.size());
  const int64_t p = position;
  const int64_t len = p + n;
  const int64_t d = cfg.d_model;
  const int64_t hd = cfg.head_dim;
  const int64_t hq = cfg.n_heads;
  const int64_t hkv = cfg.n_kv_heads;
  const int64_t q_dim = hq * hd;
  const int64_t kv_dim = hkv * hd;
  const int64_t ffn = cfg.ffn_dim;
  const ops::MatmulOptions tb{.transpose_b = true};
  const ops::NormOptions norm{.eps = cfg.rms_eps};
  const ops::RopeOptions rope{.mode = ops::RopeMode::normal,
                              .n_dims = static_cast<uint32_t>(cfg.rope_dims),
                              .freq_base = cfg.rope_base,
                              .freq_scale = cfg.rope_freq_scale};

  stream.upload(tokens.data(), ids_buf, 0, static_cast<uint64_t>(n) * 4);
  const Tensor ids = Tensor::contiguous(ids_buf, DType::i32, {n});
  const Tensor pos = Tensor::contiguous(pos_buf, DType::i32, {n}, static_cast<uint64_t>(p * 4));
  const Tensor x = rows(x_buf, 0, n, d);
  const Tensor xn = rows(xn_buf, 0, n, d);
  const int64_t qkv_dim = q_dim + 2 * kv_dim;
  const Tensor qkv = rows(qkv_buf, 0, n, qkv_dim);
  const QkvViews parts(qkv_buf, n, hq, hkv, hd);
  const Tensor& q_part = parts.q;
  const Tensor& k_part = parts.k;
  const Tensor& v_part = parts.v;
  const Tensor& qk_heads = parts.qk_heads;
  const Tensor& kv_part = parts.kv;
  const Tensor attn = rows(attn_buf, 0, n, q_dim);
  const Tensor tmp = rows(tmp_buf, 0, n, d);
  const Tensor gu = rows(gu_buf, 0, n, 2 * ffn);
  const int64_t gu_row = 2 * ffn * kF32;
  const std::array<int64_t, 2> gu_strides = {gu_row, kF32};
  const Tensor gate = Tensor::strided(gu_buf, DType::f32, {n, ffn}, gu_strides, 0);
  const Tensor up = Tensor::strided(gu_buf, DType::f32, {n, ffn}, gu_strides, static_cast<uint64_t>(ffn * kF32));
  const Tensor act = rows(act_buf, 0, n, ffn);
  // [1, H, S, D] views of [S, H*D] row-major data.
  const std::array<int64_t, 4> q_strides = {n * qkv_dim * kF32, hd * kF32, qkv_dim * kF32, kF32};
  const std::array<int64_t, 4> o_strides = {n * q_dim * kF32, hd * kF32, q_dim * kF32, kF32};
  // The cache rows are [k | v] per token.
  const std::array<int64_t, 4> kv_strides = {len * 2 * kv_dim * kF32, hd * kF32, 2 * kv_dim * kF32, kF32};
  const Tensor q4 = Tensor::strided(qkv_buf, DType::f32, {1, hq, n, hd}, q_strides);
  const Tensor o4 = Tensor::strided(attn_buf, DType::f32, {1, hq, n, hd}, o_strides);

  timed(Phase::embed, [&] { ops::get_rows(stream, w.token_embd, ids, x); });
  for (int l = 0; l < cfg.n_layers; ++l) {
    const auto& L = w.layers[static_cast<std::size_t>(l)];
    const Buffer& cache = kv_cache[static_cast<std::size_t>(l)];
    const Tensor kv_new = rows(cache, p, n, 2 * kv_dim);
    const Tensor k4 = Tensor::strided(cache, DType::f32, {1, hkv, len, hd}, kv_strides);
    const Tensor v4 = Tensor::strided(cache, DType::f32, {1, hkv, len, hd}, kv_strides, static_cast<uint64_t>(kv_dim * kF32));

    timed(Phase::rms_norm, [&] { ops::rms_norm(stream, x, L.attn_norm, xn, norm); });
    timed(Phase::matmul_qkv, [&] {
      if (L.w_qkv) {
        ops::matmul(stream, xn, *L.w_qkv, qkv, tb);
      } else {
        ops::matmul(stream, xn, L.wq, q_part, tb);
        ops::matmul(stream, xn, L.wk, k_part, tb);
        ops::matmul(stream, xn, L.wv, v_part, tb);
      }
    });
    // q and k heads are adjacent in each qkv row: one rope launch for both.
    timed(Phase::rope, [&] { ops::rope(stream, qk_heads, pos, qk_heads, rope); });
    timed(Phase::kv_copy, [&] { ops::copy(stream, kv_part, kv_new); });
    timed(Phase::attention, [&] { ops::attention(stream, q4, k4, v4, std::nullopt, std::nullopt, o4, {.causal = true}); });
    timed(Phase::matmul_o, [&] { ops::matmul(stream, attn, L.wo, tmp, tb); });
    timed(Phase::add, [&] { ops::add(stream, x, tmp, x); });
    timed(Phase::rms_norm, [&] { ops::rms_norm(stream, x, L.ffn_norm, xn, norm); });
    timed(Phase::matmul_gate_up, [&] {
      if (L.w_gate_up) {
        ops::matmul(stream, xn, *L.w_gate_up, gu, tb);
      } else {
        ops::matmul(stream, xn, L.w_gate, gate, tb);
        ops::matmul(stream, xn, L.w_up, up, tb);
      }
    });
    timed(Phase::swiglu, [&] { ops::swiglu(stream, gate, up, act); });
    timed(Phase::matmul_down, [&] { ops::matmul(stream, act, L.w_down, tmp, tb); });
    timed(Phase::add, [&] { ops::add(stream, x, tmp, x); });
  }
  timed(Phase::logits, [&] {
    if (all_logits != nullptr) {
      ops::rms_norm(stream, x, w.output_norm, xn, norm);
      ops::matmul(stream, xn, w.output, *all_logits, tb);
    } else {
      // Only the last token's logits are needed: a 1-row matmul instead of n rows.
      const Tensor last = rows(x_buf, n - 1, 1, d);
      const Tensor last_n = rows(xn_buf, 0, 1, d);
      ops::rms_norm(stream, last, w.output_norm, last_n, norm);
      ops::matmul(stream, last_n, w.output, rows(logits_buf, 0, 1, cfg.vocab_size), tb);
    }
  });
  position = static_cast<int>(len);
}

LlamaSession::LlamaSession(const LlamaModel& model, int max_context)
    : LlamaSession(model, max_context, SessionOptions{}) {}
LlamaSession::LlamaSession(const LlamaModel& model, int max_context, const SessionOptions& options)
    : impl_(std::make_unique<Impl>(model, max_context, options)) {}
LlamaSession::LlamaSession(LlamaSession&&) noexcept = default;
LlamaSession& LlamaSession::operator=(LlamaSession&&) noexcept = default;
LlamaSession::~LlamaSession() = default;

std::span<const float> LlamaSession::prefill(std::span<const int32_t> tokens) {
  Impl& s = *impl_;
  s.check_tokens(tokens);
  const int start = s.position;
  try {
    for (std::size_t i = 0; i < tokens.size(); i += static_cast<std::size_t>(s.max_batch)) {
      const std::size_t count = std::min(tokens.size() - i, static_cast<std::size_t>(s.max_batch));
      s.forward(tokens.subspan(i, count), nullptr);
    }
    s.stream.download(s.logits_buf, 0, s.logits_host.data(), s.logits_host.size() * sizeof(float));
    s.stream.synchronize();  // also the end of the borrow of `tokens` by the id uploads
  } catch (...) {
    s.position = start;
    throw;
  }
  return s.logits_host;
}

std::span<const float> LlamaSession::decode(int32_t token) { return prefill(std::span<const int32_t>(&token, 1)); }

std::vector<float> LlamaSession::prefill_all_logits(std::span<const int32_t> tokens) {
  Impl& s = *impl_;
  s.check_tokens(tokens);
  const int start = s.position;
  const auto vocab = static_cast<std::size_t>(s.cfg.vocab_size);
  std::vector<float> out(tokens.size() * vocab);
  try {
    for (std::size_t i = 0; i < tokens.size(); i += static_cast<std::size_t>(s.max_batch)) {
      const std::size_t count = std::min(tokens.size() - i, static_cast<std::size_t>(s.max_batch));
      // A test helper: [count, vocab] logits are too large to keep per session, so this allocates.
      Buffer buffer = s.alloc(count * vocab * sizeof(float));
      const Tensor logits = Impl::rows(buffer, 0, static_cast<int64_t>(count), static_cast<int64_t>(vocab));
      s.forward(tokens.subspan(i, count), &logits);
      s.stream.download(buffer, 0, out.data() + i * vocab, count * vocab * sizeof(float));
      s.stream.synchronize();
    }
  } catch (...) {
    s.position = start;
    throw;
  }
  // Keep logits() of the last token consistent with prefill().
  std::copy(out.end() - static_cast<std::ptrdiff_t>(vocab), out.end(), s.logits_host.begin());
  return out;
}

int LlamaSession::position() const { return impl_->position; }
int LlamaSession::max_context() const { return impl_->max_context; }
void LlamaSession::reset() { impl_->position = 0; }
void LlamaSession::truncate(int position) {
  if (position < 0 || position > impl_->position) {
    throw std::out_of_range("LlamaSession::truncate: position " + std::to_string(position) + " outside [0, " +
                            std::to_string(impl_->position) + "]");
  }
  impl_->position = position;
}
const LlamaModel& LlamaSession::model() const { return *impl_->model; }

std::vector<SessionProfileEntry> LlamaSession::profile() const {
  if (!impl_->profile) return {};
  return {impl_->profile_entries.begin(), impl_->profile_entries.end()};
}
void LlamaSession::clear_profile() {
  for (auto& e : impl_->profile_entries) {
    e.seconds = 0;
    e.launches = 0;
  }
}

}  // namespace plinth::models
