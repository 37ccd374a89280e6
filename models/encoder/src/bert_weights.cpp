#include "bert_weights.hpp"

#include <optional>
#include <stdexcept>
#include <string>

#include <plinth/formats/mapped_file.hpp>
#include <plinth/models/weights.hpp>
#include <plinth/ops.hpp>

namespace plinth::models::detail {
namespace {

std::string shape_text(std::span<const int64_t> shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

class WeightLoader {
 public:
  WeightLoader(Device& device, Stream& stream, const formats::SafetensorsFile& file, BertWeights& out)
      : device_(device), stream_(stream), file_(file), out_(out) {
    prefix_ = file.find_tensor("bert.embeddings.word_embeddings.weight") != nullptr ? "bert." : "";
  }

  // The named tensor, checked for shape and float dtype.
  formats::TensorView view(const std::string& name, std::initializer_list<int64_t> shape) const {
    const std::string full = prefix_ + name;
    if (file_.find_tensor(full) == nullptr) {
      throw std::runtime_error(file_.name() + ": tensor '" + full +
                               "' not found (is this a BERT checkpoint in the HF BertModel layout?)");
    }
    formats::TensorView v = file_.tensor(full);
    const std::vector<int64_t> want(shape);
    if (v.shape != want) {
      throw std::runtime_error(file_.name() + ": tensor '" + full + "' has shape " + shape_text(v.shape) +
                               ", expected " + shape_text(want) + " from config.json");
    }
    const DType dtype = runtime_dtype(v);  // throws for dtypes the runtime lacks
    if (!is_float(dtype)) {
      throw std::runtime_error(file_.name() + ": tensor '" + full + "' has dtype " +
                               std::string(dtype_name(dtype)) + "; the encoder needs f32, f16 or bf16");
    }
    return v;
  }

  // Each tensor's file pages leave resident memory once its upload is done, so the weights are not
  // resident twice (device copy + mapping) when the device is host memory.
  Tensor load(const std::string& name, std::initializer_list<int64_t> shape, DType as = DType::f32) {
    const formats::TensorView v = view(name, shape);
    Tensor t = keep(upload(device_, stream_, v, as));
    stream_.synchronize();
    formats::release_pages(v.data);
    return t;
  }

  // Uploads `parts` (each [rows, cols], or [rows] when cols == 0) and stacks them along dim 0 into one
  // new tensor of `as`.
  Tensor stacked(std::initializer_list<std::string> parts, int64_t rows, int64_t cols, DType as) {
    const int64_t n = static_cast<int64_t>(parts.size());
    const Shape whole = cols > 0 ? Shape{n * rows, cols} : Shape{n * rows};
    Buffer buffer =
        device_.allocate(dtype_bytes(as, static_cast<uint64_t>(whole.numel())), {.stream = &stream_});
    const Tensor dst = Tensor::contiguous(buffer, as, whole);
    int64_t i = 0;
    for (const auto& name : parts) {
      const formats::TensorView v = cols > 0 ? view(name, {rows, cols}) : view(name, {rows});
      DeviceTensor part = upload(device_, stream_, v, as);
      ops::copy(stream_, part.tensor, dst.slice(0, i * rows, (i + 1) * rows));
      staging_.push_back(std::move(part.buffer));  // freed after the load's synchronize
      stream_.synchronize();
      formats::release_pages(v.data);
      ++i;
    }
    out_.buffers.push_back(std::move(buffer));
    return dst;
  }

  Tensor keep(DeviceTensor t) {
    out_.buffers.push_back(std::move(t.buffer));
    return t.tensor;
  }

  Tensor scratch(DType dtype, const Shape& shape) {
    Buffer buffer =
        device_.allocate(dtype_bytes(dtype, static_cast<uint64_t>(shape.numel())), {.stream = &stream_});
    Tensor t = Tensor::contiguous(buffer, dtype, shape);
    out_.buffers.push_back(std::move(buffer));
    return t;
  }

  void stage(DeviceTensor t) { staging_.push_back(std::move(t.buffer)); }

 private:
  Device& device_;
  Stream& stream_;
  const formats::SafetensorsFile& file_;
  BertWeights& out_;
  std::string prefix_;
  std::vector<Buffer> staging_;
};

}  // namespace

BertWeights load_bert_weights(Device& device, Stream& stream, const formats::SafetensorsFile& file,
                              const BertConfig& config, DType matrix_dtype) {
  BertWeights w;
  w.matrix_dtype = matrix_dtype;
  const int64_t h = config.hidden_size;
  const int64_t inter = config.intermediate_size;
  const int64_t positions = config.max_position_embeddings;
  const DType f32 = DType::f32;
  WeightLoader loader(device, stream, file, w);

  w.word_embeddings = loader.load("embeddings.word_embeddings.weight", {config.vocab_size, h}, matrix_dtype);
  {
    // Sentence embeddings use token type 0 throughout, so its row is folded into the position table.
    const Tensor pos = loader.load("embeddings.position_embeddings.weight", {positions, h});
    DeviceTensor types =
        upload(device, stream,
               loader.view("embeddings.token_type_embeddings.weight", {config.type_vocab_size, h}), f32);
    w.position_embeddings = loader.scratch(f32, {positions, h});
    ops::add(stream, pos, types.tensor.slice(0, 0, 1), w.position_embeddings);
    loader.stage(std::move(types));
  }
  w.embed_norm_gamma = loader.load("embeddings.LayerNorm.weight", {h});
  w.embed_norm_beta = loader.load("embeddings.LayerNorm.bias", {h});

  for (int i = 0; i < config.num_layers; ++i) {
    const std::string l = "encoder.layer." + std::to_string(i) + ".";
    const std::string self = l + "attention.self.";
    BertLayerWeights lw;
    lw.qkv_weight = loader.stacked({self + "query.weight", self + "key.weight", self + "value.weight"}, h, h,
                                   matrix_dtype);
    lw.qkv_bias = loader.stacked({self + "query.bias", self + "key.bias", self + "value.bias"}, h, 0, f32);
    lw.attn_out_weight = loader.load(l + "attention.output.dense.weight", {h, h}, matrix_dtype);
    lw.attn_out_bias = loader.load(l + "attention.output.dense.bias", {h});
    lw.attn_norm_gamma = loader.load(l + "attention.output.LayerNorm.weight", {h});
    lw.attn_norm_beta = loader.load(l + "attention.output.LayerNorm.bias", {h});
    lw.ffn_in_weight = loader.load(l + "intermediate.dense.weight", {inter, h}, matrix_dtype);
    lw.ffn_in_bias = loader.load(l + "intermediate.dense.bias", {inter});
    lw.ffn_out_weight = loader.load(l + "output.dense.weight", {h, inter}, matrix_dtype);
    lw.ffn_out_bias = loader.load(l + "output.dense.bias", {h});
    lw.ffn_norm_gamma = loader.load(l + "output.LayerNorm.weight", {h});
    lw.ffn_norm_beta = loader.load(l + "output.LayerNorm.bias", {h});
    w.layers.push_back(lw);
  }
  // The uploads read the file mapping and the staging buffers until here.
  stream.synchronize();
  return w;
}

}  // namespace plinth::models::detail
