#include "plinth/models/bert_encoder.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <plinth/formats/safetensors_file.hpp>
#include <plinth/ops.hpp>
#include <plinth/stream.hpp>
#include <plinth/tensor.hpp>
#include <stdexcept>
#include <string>

#include "batch_plan.hpp"
#include "bert_weights.hpp"

#if PLINTH_ENCODER_HAS_TOKENIZER
#include <plinth/models/tokenizer.hpp>
#endif

namespace plinth::models {
namespace {

namespace fs = std::filesystem;

struct ModelFiles {
  fs::path weights;
  fs::path config;
  fs::path dir;
};

ModelFiles locate(const fs::path& path) {
  std::error_code ec;
  ModelFiles files;
  if (fs::is_directory(path, ec)) {
    files.dir = path;
    files.weights = path / "model.safetensors";
  } else if (fs::is_regular_file(path, ec)) {
    files.dir = path.parent_path();
    files.weights = path;
  } else {
    throw std::runtime_error(path.string() + ": no such model file or directory");
  }
  if (files.weights.extension() != ".safetensors") {
    throw std::runtime_error(path.string() +
                             ": the encoder loads safetensors models (a directory with "
                             "config.json and model.safetensors, or a .safetensors file)");
  }
  if (!fs::is_regular_file(files.weights, ec)) {
    throw std::runtime_error(files.dir.string() + ": no model.safetensors in the model directory");
  }
  files.config = files.dir / "config.json";
  if (!fs::is_regular_file(files.config, ec)) {
    throw std::runtime_error(files.dir.string() + ": no config.json beside " +
                             files.weights.filename().string());
  }
  return files;
}

// sentence-transformers models name the sequence length they were trained for in
// sentence_bert_config.json; embeddings agree with theirs only when truncating there too.
std::optional<int> sentence_max_seq_length(const fs::path& dir) {
  std::ifstream in(dir / "sentence_bert_config.json");
  if (!in) return std::nullopt;
  const auto doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return std::nullopt;
  const auto it = doc.find("max_seq_length");
  if (it == doc.end() || !it->is_number_integer() || it->get<int64_t>() <= 0) return std::nullopt;
  return static_cast<int>(std::min<int64_t>(it->get<int64_t>(), 1 << 30));
}

bool matrix_dtype_usable(Device& device, DType dtype, int64_t rows, int64_t cols) {
  if (dtype == DType::f32) return true;
  if (!is_float(dtype)) return false;
  const Tensor a = Tensor::descriptor(DType::f32, {2, cols});
  const Tensor b = Tensor::descriptor(dtype, {rows, cols});
  const Tensor c = Tensor::descriptor(DType::f32, {2, rows});
  const Tensor ids = Tensor::descriptor(DType::i32, {2});
  return device.supports(ops::make_matmul(a, b, c, {.transpose_b = true})).supported &&
         device.supports(ops::make_get_rows(b, ids, a)).supported &&
         device.supports(ops::make_copy(Tensor::descriptor(dtype, {rows, cols}), b)).supported;
}

// Activations of one padded batch, sized for the largest batch seen so far and reused across
// batches and calls (the stream orders the reuse).
struct Workspace {
  int64_t max_tokens = 0;
  int64_t max_batch = 0;
  Buffer ids, lens, mask;     // i32 [T], [B], [T]
  Buffer hidden, hidden_mid;  // f32 [T, H]: the layer input / the post-attention normed state
  Buffer qkv;                 // f32 [T, 3H]
  Buffer context;             // f32 [T, H]: attention output
  Buffer proj;                // f32 [T, H]: projection + bias + residual, before layer norm
  Buffer ffn, ffn_act;        // f32 [T, I]
  Buffer pooled, normalized;  // f32 [B, H]
};

// Host data of one batch; the stream borrows it until the call's synchronize.
struct StagedBatch {
  const detail::EncoderBatch* batch = nullptr;
  std::vector<int32_t> ids, lens, mask;
  std::vector<float> out;
};

}  // namespace

struct BertEncoder::Impl {
  Impl(Device& device, BertConfig config, EncoderOptions options)
      : device_(device), stream_(device.create_stream()), config_(std::move(config)), options_(options) {}

  Device& device_;
  Stream stream_;  // declared before every buffer, so it outlives them
  BertConfig config_;
  EncoderOptions options_;
  fs::path dir_;
  detail::BertWeights weights_;
  Workspace ws_;
#if PLINTH_ENCODER_HAS_TOKENIZER
  std::unique_ptr<Tokenizer> tokenizer_;
#endif

  int64_t max_len() const {
    return std::max(1, std::min(options_.max_tokens, config_.max_position_embeddings));
  }

  Buffer alloc(uint64_t bytes) {
    return device_.allocate(std::max<uint64_t>(bytes, 4), {.stream = &stream_});
  }

  void reserve(int64_t batch, int64_t tokens) {
    if (batch <= ws_.max_batch && tokens <= ws_.max_tokens) return;
    const int64_t b = std::max(batch, ws_.max_batch);
    const int64_t t = std::max(tokens, ws_.max_tokens);
    const auto h = static_cast<uint64_t>(config_.hidden_size);
    const auto inter = static_cast<uint64_t>(config_.intermediate_size);
    const auto ub = static_cast<uint64_t>(b);
    const auto ut = static_cast<uint64_t>(t);
    ws_.ids = alloc(4 * ut);
    ws_.lens = alloc(4 * ub);
    ws_.mask = alloc(4 * ut);
    ws_.hidden = alloc(4 * ut * h);
    ws_.hidden_mid = alloc(4 * ut * h);
    ws_.qkv = alloc(4 * ut * 3 * h);
    ws_.context = alloc(4 * ut * h);
    ws_.proj = alloc(4 * ut * h);
    ws_.ffn = alloc(4 * ut * inter);
    ws_.ffn_act = alloc(4 * ut * inter);
    ws_.pooled = alloc(4 * ub * h);
    ws_.normalized = alloc(4 * ub * h);
    ws_.max_batch = b;
    ws_.max_tokens = t;
  }

  // Enqueues one batch: uploads its inputs, runs the graph, downloads its embeddings into st.out.
  void enqueue(StagedBatch& st) {
    auto& s = stream_;
    const int64_t b = static_cast<int64_t>(st.batch->members.size());
    const int64_t seq = st.batch->seq_len;
    const int64_t t = b * seq;
    const int64_t h = config_.hidden_size;
    const int64_t inter = config_.intermediate_size;
    const int64_t heads = config_.num_heads;
    const int64_t hd = config_.head_dim();
    const DType f32 = DType::f32;
    constexpr int64_t kF = 4;  // bytes per f32 / i32

    s.upload(st.ids.data(), ws_.ids, 0, st.ids.size() * 4);
    s.upload(st.lens.data(), ws_.lens, 0, st.lens.size() * 4);
    s.upload(st.mask.data(), ws_.mask, 0, st.mask.size() * 4);
    const Tensor ids = Tensor::contiguous(ws_.ids, DType::i32, {t});
    const Tensor lens = Tensor::contiguous(ws_.lens, DType::i32, {b});
    const Tensor mask = Tensor::contiguous(ws_.mask, DType::i32, {b, seq});
    const Tensor hidden = Tensor::contiguous(ws_.hidden, f32, {t, h});
    const Tensor hidden_mid = Tensor::contiguous(ws_.hidden_mid, f32, {t, h});
    const Tensor qkv = Tensor::contiguous(ws_.qkv, f32, {t, 3 * h});
    const Tensor context = Tensor::contiguous(ws_.context, f32, {t, h});
    const Tensor proj = Tensor::contiguous(ws_.proj, f32, {t, h});
    const Tensor ffn = Tensor::contiguous(ws_.ffn, f32, {t, inter});
    const Tensor ffn_act = Tensor::contiguous(ws_.ffn_act, f32, {t, inter});
    const Tensor pooled = Tensor::contiguous(ws_.pooled, f32, {b, h});
    const Tensor normalized = Tensor::contiguous(ws_.normalized, f32, {b, h});
    // Attention reads q, k and v straight out of the fused projection [B, S, 3, heads, hd] and writes
    // its output as [B, S, heads, hd]: strided views, no transposing copies.
    const std::array<int64_t, 4> qkv_strides{seq * 3 * h * kF, hd * kF, 3 * h * kF, kF};
    const Tensor q = Tensor::strided(ws_.qkv, f32, {b, heads, seq, hd}, qkv_strides, 0);
    const Tensor k =
        Tensor::strided(ws_.qkv, f32, {b, heads, seq, hd}, qkv_strides, static_cast<uint64_t>(h * kF));
    const Tensor v =
        Tensor::strided(ws_.qkv, f32, {b, heads, seq, hd}, qkv_strides, static_cast<uint64_t>(2 * h * kF));
    const std::array<int64_t, 4> ctx_strides{seq * h * kF, hd * kF, h * kF, kF};
    const Tensor ctx_heads = Tensor::strided(ws_.context, f32, {b, heads, seq, hd}, ctx_strides, 0);

    const ops::MatmulOptions wt{.transpose_b = true};  // linear weights are stored [out, in]
    const ops::NormOptions ln{.eps = config_.layer_norm_eps};
    const auto& w = weights_;

    ops::get_rows(s, w.word_embeddings, ids, proj);
    const Tensor proj3 = proj.reshape({b, seq, h});
    ops::add(s, proj3, w.position_embeddings.slice(0, 0, seq), proj3);
    ops::layer_norm(s, proj, w.embed_norm_gamma, w.embed_norm_beta, hidden, ln);
    for (const auto& lw : w.layers) {
      ops::matmul(s, hidden, lw.qkv_weight, qkv, wt);
      ops::add(s, qkv, lw.qkv_bias, qkv);
      // Padding keys are cut off by kv_lens; padding queries compute values nobody reads.
      ops::attention(s, q, k, v, std::nullopt, lens, ctx_heads);
      ops::matmul(s, context, lw.attn_out_weight, proj, wt);
      ops::add(s, proj, lw.attn_out_bias, proj);
      ops::add(s, proj, hidden, proj);
      ops::layer_norm(s, proj, lw.attn_norm_gamma, lw.attn_norm_beta, hidden_mid, ln);
      ops::matmul(s, hidden_mid, lw.ffn_in_weight, ffn, wt);
      ops::add(s, ffn, lw.ffn_in_bias, ffn);
      ops::gelu(s, ffn, ffn_act, {.approximation = config_.gelu});
      ops::matmul(s, ffn_act, lw.ffn_out_weight, proj, wt);
      ops::add(s, proj, lw.ffn_out_bias, proj);
      ops::add(s, proj, hidden_mid, proj);
      ops::layer_norm(s, proj, lw.ffn_norm_gamma, lw.ffn_norm_beta, hidden, ln);
    }
    ops::mean_pool(s, hidden.reshape({b, seq, h}), mask, pooled);
    // The eps of sentence-transformers' Normalize (torch.nn.functional.normalize).
    ops::l2_normalize(s, pooled, normalized, {.eps = 1e-12f});
    s.download(ws_.normalized, 0, st.out.data(), st.out.size() * sizeof(float));
  }

  std::vector<int64_t> lengths(std::span<const std::vector<int32_t>> sequences) const {
    std::vector<int64_t> out;
    out.reserve(sequences.size());
    for (const auto& seq : sequences)
      out.push_back(std::min<int64_t>(static_cast<int64_t>(seq.size()), max_len()));
    return out;
  }

  std::vector<float> embed_tokens(std::span<const std::vector<int32_t>> sequences) {
    const int64_t h = config_.hidden_size;
    for (std::size_t i = 0; i < sequences.size(); ++i) {
      const auto& seq = sequences[i];
      const std::size_t used = std::min(seq.size(), static_cast<std::size_t>(max_len()));
      for (std::size_t p = 0; p < used; ++p) {
        if (seq[p] < 0 || seq[p] >= config_.vocab_size) {
          throw std::runtime_error("token id " + std::to_string(seq[p]) + " at position " +
                                   std::to_string(p) + " of sequence " + std::to_string(i) +
                                   " is outside the vocabulary [0, " + std::to_string(config_.vocab_size) +
                                   ")");
        }
      }
    }
    const std::vector<int64_t> lens = lengths(sequences);
    const auto plan = detail::plan_batches(lens, options_.batch_size);
    std::vector<float> result(sequences.size() * static_cast<std::size_t>(h), 0.0f);
    if (plan.empty()) return result;

    int64_t max_batch = 0;
    int64_t max_tokens = 0;
    for (const auto& batch : plan) {
      const auto n = static_cast<int64_t>(batch.members.size());
      max_batch = std::max(max_batch, n);
      max_tokens = std::max(max_tokens, n * batch.seq_len);
    }
    reserve(max_batch, max_tokens);

    std::vector<StagedBatch> staged(plan.size());
    try {
      for (std::size_t bi = 0; bi < plan.size(); ++bi) {
        StagedBatch& st = staged[bi];
        st.batch = &plan[bi];
        const int64_t seq_len = st.batch->seq_len;
        const std::size_t n = st.batch->members.size();
        st.ids.assign(n * static_cast<std::size_t>(seq_len), config_.pad_token_id);
        st.mask.assign(n * static_cast<std::size_t>(seq_len), 0);
        st.lens.resize(n);
        st.out.resize(n * static_cast<std::size_t>(h));
        for (std::size_t r = 0; r < n; ++r) {
          const std::size_t idx = st.batch->members[r];
          const auto len = static_cast<std::size_t>(lens[idx]);
          const std::size_t row = r * static_cast<std::size_t>(seq_len);
          std::copy_n(sequences[idx].begin(), len, st.ids.begin() + static_cast<std::ptrdiff_t>(row));
          std::fill_n(st.mask.begin() + static_cast<std::ptrdiff_t>(row), len, 1);
          st.lens[r] = static_cast<int32_t>(len);
        }
        enqueue(st);
      }
      stream_.synchronize();
    } catch (...) {
      // The stream may still read the staged host data: let it finish before that data goes away.
      try {
        stream_.synchronize();
      } catch (...) {  // the first error is the one worth reporting
      }
      throw;
    }
    for (const auto& st : staged) {
      for (std::size_t r = 0; r < st.batch->members.size(); ++r) {
        std::copy_n(
            st.out.begin() + static_cast<std::ptrdiff_t>(r * static_cast<std::size_t>(h)), h,
            result.begin() + static_cast<std::ptrdiff_t>(st.batch->members[r] * static_cast<std::size_t>(h)));
      }
    }
    return result;
  }

  double flops(std::span<const std::vector<int32_t>> sequences) const {
    const std::vector<int64_t> lens = lengths(sequences);
    const double h = config_.hidden_size;
    const double inter = config_.intermediate_size;
    double total = 0;
    for (const auto& batch : detail::plan_batches(lens, options_.batch_size)) {
      const double seq = static_cast<double>(batch.seq_len);
      const double tokens = seq * static_cast<double>(batch.members.size());
      // Projections: QKV (3H x H), output (H x H), FFN in and out (2 x I x H); 2 flops per MAC.
      double per_layer = 2.0 * tokens * h * (3 * h + h + 2 * inter);
      // Attention: scores and weighted sum over each sequence's real keys, every padded query.
      for (std::size_t m : batch.members) per_layer += 4.0 * seq * static_cast<double>(lens[m]) * h;
      total += per_layer * config_.num_layers;
    }
    return total;
  }

  void ensure_tokenizer() {
#if PLINTH_ENCODER_HAS_TOKENIZER
    if (tokenizer_) return;
    std::error_code ec;
    for (const char* name : {"tokenizer.json", "vocab.txt"}) {
      if (fs::is_regular_file(dir_ / name, ec)) {
        tokenizer_ = load_wordpiece(dir_ / name);
        return;
      }
    }
    throw std::runtime_error(dir_.string() + ": no tokenizer.json or vocab.txt beside the model");
#else
    throw std::runtime_error("this build of the encoder has no tokenizer: pass token ids (embed_tokens)");
#endif
  }

  std::vector<int32_t> tokenize(const std::string& text) {
    ensure_tokenizer();
#if PLINTH_ENCODER_HAS_TOKENIZER
    return truncate_ids(*tokenizer_, tokenizer_->encode(text, true), static_cast<std::size_t>(max_len()));
#else
    (void)text;
    return {};
#endif
  }
};

BertEncoder::BertEncoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BertEncoder::BertEncoder(BertEncoder&&) noexcept = default;
BertEncoder& BertEncoder::operator=(BertEncoder&&) noexcept = default;
BertEncoder::~BertEncoder() = default;

BertEncoder BertEncoder::load(Device& device, const std::filesystem::path& path, EncoderOptions options) {
  const ModelFiles files = locate(path);
  BertConfig config = read_bert_config(files.config);
  if (options.batch_size < 1) throw std::invalid_argument("EncoderOptions::batch_size must be at least 1");
  if (options.max_tokens < 1) throw std::invalid_argument("EncoderOptions::max_tokens must be at least 1");
  const formats::SafetensorsFile file = formats::SafetensorsFile::open(files.weights);

  if (const auto trained = sentence_max_seq_length(files.dir))
    options.max_tokens = std::min(options.max_tokens, *trained);
  auto impl = std::make_unique<Impl>(device, std::move(config), options);
  impl->dir_ = files.dir;
  const BertConfig& c = impl->config_;
  DType matrix = options.weight_dtype.value_or(DType::f32);
  if (!matrix_dtype_usable(device, matrix, c.vocab_size, c.hidden_size) ||
      !matrix_dtype_usable(device, matrix, c.intermediate_size, c.hidden_size)) {
    matrix = DType::f32;
  }
  try {
    impl->weights_ = detail::load_bert_weights(device, impl->stream_, file, c, matrix);
  } catch (...) {
    // Uploads may still read the file mapping, which goes away with this frame.
    try {
      impl->stream_.synchronize();
    } catch (...) {  // the load error is the one worth reporting
    }
    throw;
  }
  return BertEncoder(std::move(impl));
}

std::vector<float> BertEncoder::embed_tokens(std::span<const std::vector<int32_t>> sequences) {
  return impl_->embed_tokens(sequences);
}

std::vector<float> BertEncoder::embed(std::span<const std::string> texts) {
  std::vector<std::vector<int32_t>> sequences;
  sequences.reserve(texts.size());
  for (const auto& text : texts) sequences.push_back(impl_->tokenize(text));
  return impl_->embed_tokens(sequences);
}

std::vector<int32_t> BertEncoder::tokenize(const std::string& text) { return impl_->tokenize(text); }

int BertEncoder::hidden_size() const { return impl_->config_.hidden_size; }
const BertConfig& BertEncoder::config() const { return impl_->config_; }
Device& BertEncoder::device() const { return impl_->device_; }
DType BertEncoder::weight_dtype() const { return impl_->weights_.matrix_dtype; }
int BertEncoder::max_tokens() const { return static_cast<int>(impl_->max_len()); }
double BertEncoder::flops(std::span<const std::vector<int32_t>> sequences) const {
  return impl_->flops(sequences);
}

}  // namespace plinth::models
