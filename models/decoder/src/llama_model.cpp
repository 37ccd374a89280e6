#include "plinth/models/llama_model.hpp"

#include <filesystem>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include <plinth/formats/dtype.hpp>
#include <plinth/formats/mapped_file.hpp>
#include <plinth/models/weights.hpp>

#include "llama_config.hpp"
#include "llama_weights.hpp"

namespace plinth::models {

struct LlamaModel::Impl {
  Impl(Device& d, formats::GgufFile f) : device(&d), file(std::move(f)) {}
  Device* device;
  formats::GgufFile file;
  LlamaConfig config;
  Weights weights;
};

namespace {

std::string shape_string(std::span<const int64_t> shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

// Reads the weights of one model file onto a device, checking each tensor's shape and dtype.
class WeightLoader {
 public:
  WeightLoader(Device& device, const formats::GgufFile& file, LlamaModel::Weights& out)
      : device_(device), file_(file), out_(out), stream_(device.create_stream()) {}

  formats::TensorView view(const std::string& name, std::vector<int64_t> shape, bool matrix) const {
    if (file_.find_tensor(name) == nullptr) throw std::runtime_error(file_.name() + ": tensor '" + name + "' not found");
    formats::TensorView v = file_.tensor(name);
    if (v.shape != shape) {
      throw std::runtime_error(file_.name() + ": tensor '" + name + "' has shape " + shape_string(v.shape) +
                               ", expected " + shape_string(shape));
    }
    const DType dtype = runtime_dtype(v);
    if (dtype == DType::i32 || (!matrix && is_quantized(dtype))) {
      throw std::runtime_error(file_.name() + ": tensor '" + name + "' has dtype " + std::string(dtype_name(dtype)) +
                               ", which the decoder cannot use there");
    }
    return v;
  }

  Tensor load(const std::string& name, std::vector<int64_t> shape, bool matrix = true) {
    const formats::TensorView v = view(name, std::move(shape), matrix);
    DeviceTensor t = upload(device_, stream_, v);
    done_with({&v});
    return keep(std::move(t));
  }

  // Stacks [rows_i, cols] weights of one dtype into one [sum rows_i, cols] tensor (row-major, so each
  // starts where the previous one ends: valid for quantized rows too).
  Tensor load_stacked(std::initializer_list<const formats::TensorView*> parts) {
    const DType dtype = runtime_dtype(**parts.begin());
    uint64_t bytes = 0;
    int64_t rows = 0;
    for (const auto* v : parts) {
      bytes += v->data.size();
      rows += v->shape[0];
    }
    Buffer buffer = device_.allocate(bytes);
    uint64_t offset = 0;
    for (const auto* v : parts) {
      stream_.upload(v->data.data(), buffer, offset, v->data.size());
      offset += v->data.size();
    }
    done_with(parts);
    Tensor t = Tensor::contiguous(buffer, dtype, {rows, (*parts.begin())->shape[1]});
    out_.bytes += buffer.size();
    out_.buffers.push_back(std::move(buffer));
    return t;
  }

  void finish() { stream_.synchronize(); }  // uploads read the mapping until here

 private:
  // Once a tensor is on the device its file pages are dropped from resident memory, so the weights
  // are not resident twice (device copy + mapping) when the device is host memory. Loading
  // synchronizes per tensor for that, which costs little next to the copies.
  void done_with(std::initializer_list<const formats::TensorView*> views) {
    stream_.synchronize();
    for (const auto* v : views) formats::release_pages(v->data);
  }

  Tensor keep(DeviceTensor t) {
    out_.bytes += t.buffer.size();
    out_.buffers.push_back(std::move(t.buffer));
    return t.tensor;
  }

  Device& device_;
  const formats::GgufFile& file_;
  LlamaModel::Weights& out_;
  Stream stream_;
};

void load_weights(Device& device, const formats::GgufFile& file, LlamaConfig& c, LlamaModel::Weights& w) {
  const auto* embd = file.find_tensor("token_embd.weight");
  if (embd == nullptr) throw std::runtime_error(file.name() + ": tensor 'token_embd.weight' not found");
  if (embd->shape.size() != 2 || embd->shape[1] != c.d_model) {
    throw std::runtime_error(file.name() + ": tensor 'token_embd.weight' has shape " + shape_string(embd->shape) +
                             ", expected [vocab," + std::to_string(c.d_model) + "]");
  }
  if (c.vocab_size == 0) c.vocab_size = static_cast<int>(embd->shape[0]);
  const int64_t d = c.d_model;
  const int64_t q_dim = int64_t{c.n_heads} * c.head_dim;
  const int64_t kv_dim = int64_t{c.n_kv_heads} * c.head_dim;
  const int64_t ffn = c.ffn_dim;

  WeightLoader loader(device, file, w);
  w.token_embd = loader.load("token_embd.weight", {c.vocab_size, d});
  w.output_norm = loader.load("output_norm.weight", {d}, false);
  c.tied_output = file.find_tensor("output.weight") == nullptr;
  w.output = c.tied_output ? w.token_embd : loader.load("output.weight", {c.vocab_size, d});
  w.layers.resize(static_cast<std::size_t>(c.n_layers));
  for (int l = 0; l < c.n_layers; ++l) {
    auto& L = w.layers[static_cast<std::size_t>(l)];
    const std::string p = "blk." + std::to_string(l) + ".";
    L.attn_norm = loader.load(p + "attn_norm.weight", {d}, false);
    const auto wq = loader.view(p + "attn_q.weight", {q_dim, d}, true);
    const auto wk = loader.view(p + "attn_k.weight", {kv_dim, d}, true);
    const auto wv = loader.view(p + "attn_v.weight", {kv_dim, d}, true);
    if (wq.dtype == wk.dtype && wq.dtype == wv.dtype) {
      const Tensor stacked = loader.load_stacked({&wq, &wk, &wv});
      L.w_qkv = stacked;
      L.wq = stacked.slice(0, 0, q_dim);
      L.wk = stacked.slice(0, q_dim, q_dim + kv_dim);
      L.wv = stacked.slice(0, q_dim + kv_dim, q_dim + 2 * kv_dim);
    } else {
      L.wq = loader.load(p + "attn_q.weight", {q_dim, d});
      L.wk = loader.load(p + "attn_k.weight", {kv_dim, d});
      L.wv = loader.load(p + "attn_v.weight", {kv_dim, d});
    }
    L.wo = loader.load(p + "attn_output.weight", {d, q_dim});
    L.ffn_norm = loader.load(p + "ffn_norm.weight", {d}, false);
    const auto gate = loader.view(p + "ffn_gate.weight", {ffn, d}, true);
    const auto up = loader.view(p + "ffn_up.weight", {ffn, d}, true);
    if (gate.dtype == up.dtype) {
      const Tensor stacked = loader.load_stacked({&gate, &up});
      L.w_gate_up = stacked;
      L.w_gate = stacked.slice(0, 0, ffn);
      L.w_up = stacked.slice(0, ffn, 2 * ffn);
    } else {
      L.w_gate = loader.load(p + "ffn_gate.weight", {ffn, d});
      L.w_up = loader.load(p + "ffn_up.weight", {ffn, d});
    }
    L.w_down = loader.load(p + "ffn_down.weight", {d, ffn});
  }
  loader.finish();
}

}  // namespace

LlamaModel::LlamaModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LlamaModel::LlamaModel(LlamaModel&&) noexcept = default;
LlamaModel& LlamaModel::operator=(LlamaModel&&) noexcept = default;
LlamaModel::~LlamaModel() = default;

LlamaModel LlamaModel::load(Device& device, const std::filesystem::path& gguf_path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(gguf_path, ec)) {
    throw std::runtime_error(gguf_path.string() + ": model file not found");
  }
  auto impl = std::make_unique<Impl>(device, formats::GgufFile::open(gguf_path));
  impl->config = read_llama_config(impl->file);
  load_weights(device, impl->file, impl->config, impl->weights);
  return LlamaModel(std::move(impl));
}

const LlamaConfig& LlamaModel::config() const { return impl_->config; }
const formats::GgufFile& LlamaModel::file() const { return impl_->file; }
Device& LlamaModel::device() const { return *impl_->device; }
uint64_t LlamaModel::weight_bytes() const { return impl_->weights.bytes; }
const LlamaModel::Weights& LlamaModel::weights() const { return impl_->weights; }

}  // namespace plinth::models
