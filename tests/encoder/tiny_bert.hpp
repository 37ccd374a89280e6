// A tiny random BERT written to a temporary directory (config.json + model.safetensors), and a plain
// double-precision reference of the whole encoder for it, so the graph is tested without any model
// download.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

namespace plinth::encoder_test {

struct TinyBertShape {
  int vocab = 50;
  int hidden = 16;
  int heads = 4;
  int layers = 2;
  int inter = 32;
  int positions = 40;
  int types = 2;
  double eps = 1e-12;
};

class TinyBert {
 public:
  explicit TinyBert(TinyBertShape shape = {}, uint32_t seed = 7, std::string prefix = "")
      : shape_(shape), prefix_(std::move(prefix)) {
    std::mt19937 rng(seed);
    auto random = [&](std::vector<int64_t> dims, double scale, double offset = 0.0) {
      int64_t n = 1;
      for (auto d : dims) n *= d;
      std::normal_distribution<double> dist(0.0, scale);
      std::vector<double> v(static_cast<std::size_t>(n));
      for (auto& e : v) e = offset + dist(rng);
      return Param{std::move(dims), std::move(v)};
    };
    const int64_t h = shape.hidden;
    const int64_t i = shape.inter;
    const double sh = 1.0 / std::sqrt(static_cast<double>(h));
    params_["embeddings.word_embeddings.weight"] = random({shape.vocab, h}, 1.0);
    params_["embeddings.position_embeddings.weight"] = random({shape.positions, h}, 0.5);
    params_["embeddings.token_type_embeddings.weight"] = random({shape.types, h}, 0.5);
    params_["embeddings.LayerNorm.weight"] = random({h}, 0.1, 1.0);
    params_["embeddings.LayerNorm.bias"] = random({h}, 0.1);
    for (int l = 0; l < shape.layers; ++l) {
      const std::string p = "encoder.layer." + std::to_string(l) + ".";
      for (const char* n : {"query", "key", "value"}) {
        params_[p + "attention.self." + n + ".weight"] = random({h, h}, sh);
        params_[p + "attention.self." + n + ".bias"] = random({h}, 0.1);
      }
      params_[p + "attention.output.dense.weight"] = random({h, h}, sh);
      params_[p + "attention.output.dense.bias"] = random({h}, 0.1);
      params_[p + "attention.output.LayerNorm.weight"] = random({h}, 0.1, 1.0);
      params_[p + "attention.output.LayerNorm.bias"] = random({h}, 0.1);
      params_[p + "intermediate.dense.weight"] = random({i, h}, sh);
      params_[p + "intermediate.dense.bias"] = random({i}, 0.1);
      params_[p + "output.dense.weight"] = random({h, i}, 1.0 / std::sqrt(static_cast<double>(i)));
      params_[p + "output.dense.bias"] = random({h}, 0.1);
      params_[p + "output.LayerNorm.weight"] = random({h}, 0.1, 1.0);
      params_[p + "output.LayerNorm.bias"] = random({h}, 0.1);
    }
  }

  nlohmann::json config() const {
    return {{"architectures", {"BertModel"}},
            {"model_type", "bert"},
            {"hidden_act", "gelu"},
            {"vocab_size", shape_.vocab},
            {"hidden_size", shape_.hidden},
            {"num_hidden_layers", shape_.layers},
            {"num_attention_heads", shape_.heads},
            {"intermediate_size", shape_.inter},
            {"max_position_embeddings", shape_.positions},
            {"type_vocab_size", shape_.types},
            {"layer_norm_eps", shape_.eps},
            {"pad_token_id", 0},
            {"position_embedding_type", "absolute"}};
  }

  // Writes config.json and model.safetensors (f32) into `dir`; `drop` leaves one tensor out and
  // `reshape` gives one tensor a wrong shape (for the error tests).
  void write(const std::filesystem::path& dir, const std::string& drop = "", const std::string& reshape = "",
             const nlohmann::json& config_override = nullptr) const {
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "config.json") << (config_override.is_null() ? config() : config_override).dump(2);
    nlohmann::json header = nlohmann::json::object();
    std::string data;
    for (const auto& [name, p] : params_) {
      if (name == drop) continue;
      std::vector<int64_t> dims = p.dims;
      if (name == reshape) dims = {static_cast<int64_t>(p.values.size())};
      const std::size_t begin = data.size();
      for (double v : p.values) {
        const float f = static_cast<float>(v);
        char bytes[4];
        std::memcpy(bytes, &f, 4);
        data.append(bytes, 4);
      }
      header[prefix_ + name] = {{"dtype", "F32"}, {"shape", dims}, {"data_offsets", {begin, data.size()}}};
    }
    std::string text = header.dump();
    while ((8 + text.size()) % 8 != 0) text.push_back(' ');
    const uint64_t n = text.size();
    std::ofstream out(dir / "model.safetensors", std::ios::binary);
    char len[8];
    std::memcpy(len, &n, 8);
    out.write(len, 8);
    out << text << data;
  }

  // The mean-pooled, L2-normalized embedding of one sequence, in double precision.
  std::vector<double> reference(const std::vector<int32_t>& ids) const {
    const int64_t h = shape_.hidden;
    const int64_t s = static_cast<int64_t>(ids.size());
    const int64_t nh = shape_.heads;
    const int64_t hd = h / nh;
    std::vector<double> x(static_cast<std::size_t>(s * h));
    const auto& word = at("embeddings.word_embeddings.weight");
    const auto& pos = at("embeddings.position_embeddings.weight");
    const auto& type = at("embeddings.token_type_embeddings.weight");
    for (int64_t t = 0; t < s; ++t) {
      for (int64_t c = 0; c < h; ++c) {
        x[idx(t, c, h)] =
            word[idx(ids[static_cast<std::size_t>(t)], c, h)] + pos[idx(t, c, h)] + type[idx(0, c, h)];
      }
    }
    x = layer_norm(x, s, "embeddings.LayerNorm.");
    for (int l = 0; l < shape_.layers; ++l) {
      const std::string p = "encoder.layer." + std::to_string(l) + ".";
      const auto q = linear(x, s, p + "attention.self.query");
      const auto k = linear(x, s, p + "attention.self.key");
      const auto v = linear(x, s, p + "attention.self.value");
      std::vector<double> ctx(static_cast<std::size_t>(s * h), 0.0);
      for (int64_t head = 0; head < nh; ++head) {
        for (int64_t i = 0; i < s; ++i) {
          std::vector<double> sc(static_cast<std::size_t>(s));
          double mx = -1e300;
          for (int64_t j = 0; j < s; ++j) {
            double d = 0;
            for (int64_t e = 0; e < hd; ++e) d += q[idx(i, head * hd + e, h)] * k[idx(j, head * hd + e, h)];
            sc[static_cast<std::size_t>(j)] = d / std::sqrt(static_cast<double>(hd));
            mx = std::max(mx, sc[static_cast<std::size_t>(j)]);
          }
          double sum = 0;
          for (auto& e : sc) sum += (e = std::exp(e - mx));
          for (int64_t j = 0; j < s; ++j) {
            for (int64_t e = 0; e < hd; ++e) {
              ctx[idx(i, head * hd + e, h)] +=
                  sc[static_cast<std::size_t>(j)] / sum * v[idx(j, head * hd + e, h)];
            }
          }
        }
      }
      auto a = linear(ctx, s, p + "attention.output.dense");
      for (std::size_t e = 0; e < a.size(); ++e) a[e] += x[e];
      x = layer_norm(a, s, p + "attention.output.LayerNorm.");
      auto f = linear(x, s, p + "intermediate.dense");
      for (auto& e : f) e = 0.5 * e * (1.0 + std::erf(e / std::sqrt(2.0)));
      auto o = linear(f, s, p + "output.dense");
      for (std::size_t e = 0; e < o.size(); ++e) o[e] += x[e];
      x = layer_norm(o, s, p + "output.LayerNorm.");
    }
    std::vector<double> pooled(static_cast<std::size_t>(h), 0.0);
    for (int64_t t = 0; t < s; ++t) {
      for (int64_t c = 0; c < h; ++c)
        pooled[static_cast<std::size_t>(c)] += x[idx(t, c, h)] / static_cast<double>(s);
    }
    double norm = 0;
    for (double e : pooled) norm += e * e;
    norm = std::max(std::sqrt(norm), 1e-12);
    for (auto& e : pooled) e /= norm;
    return pooled;
  }

  const TinyBertShape& shape() const { return shape_; }

 private:
  struct Param {
    std::vector<int64_t> dims;
    std::vector<double> values;
  };

  static std::size_t idx(int64_t r, int64_t c, int64_t cols) {
    return static_cast<std::size_t>(r * cols + c);
  }
  const std::vector<double>& at(const std::string& name) const { return params_.at(name).values; }

  std::vector<double> linear(const std::vector<double>& x, int64_t rows, const std::string& name) const {
    const auto& w = params_.at(name + ".weight");
    const auto& b = at(name + ".bias");
    const int64_t out = w.dims[0];
    const int64_t in = w.dims[1];
    std::vector<double> y(static_cast<std::size_t>(rows * out));
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t o = 0; o < out; ++o) {
        double acc = b[static_cast<std::size_t>(o)];
        for (int64_t i = 0; i < in; ++i) acc += x[idx(r, i, in)] * w.values[idx(o, i, in)];
        y[idx(r, o, out)] = acc;
      }
    }
    return y;
  }

  std::vector<double> layer_norm(const std::vector<double>& x, int64_t rows, const std::string& name) const {
    const auto& g = at(name + "weight");
    const auto& b = at(name + "bias");
    const int64_t h = shape_.hidden;
    std::vector<double> y(x.size());
    for (int64_t r = 0; r < rows; ++r) {
      double mean = 0, var = 0;
      for (int64_t c = 0; c < h; ++c) mean += x[idx(r, c, h)] / static_cast<double>(h);
      for (int64_t c = 0; c < h; ++c)
        var += (x[idx(r, c, h)] - mean) * (x[idx(r, c, h)] - mean) / static_cast<double>(h);
      for (int64_t c = 0; c < h; ++c) {
        y[idx(r, c, h)] =
            (x[idx(r, c, h)] - mean) / std::sqrt(var + shape_.eps) * g[static_cast<std::size_t>(c)] +
            b[static_cast<std::size_t>(c)];
      }
    }
    return y;
  }

  TinyBertShape shape_;
  std::string prefix_;
  std::map<std::string, Param> params_;
};

// A fresh directory under the temporary directory, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "plinth-encoder-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace plinth::encoder_test
