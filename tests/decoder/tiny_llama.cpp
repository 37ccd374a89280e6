#include "tiny_llama.hpp"

#include <cmath>
#include <random>

#include "gguf_builder.hpp"

namespace plinth::decoder_test {
namespace {

using Vec = std::vector<double>;

void rms_norm(const Vec& x, const std::vector<float>& w, double eps, Vec& y) {
  double ss = 0;
  for (double v : x) ss += v * v;
  const double r = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + eps);
  y.resize(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = x[i] * r * w[i];
}

// y[n] = sum_k W[n, k] x[k] with W [rows, x.size()] row-major.
Vec matvec(const std::vector<float>& w, const Vec& x, std::size_t rows) {
  Vec y(rows, 0.0);
  for (std::size_t n = 0; n < rows; ++n) {
    double s = 0;
    for (std::size_t k = 0; k < x.size(); ++k) s += static_cast<double>(w[n * x.size() + k]) * x[k];
    y[n] = s;
  }
  return y;
}

// Adjacent pairs (x[2i], x[2i+1]) of each head rotated by p * base^(-2i/D).
void rope(Vec& x, int heads, int dim, int pos, double base) {
  for (int h = 0; h < heads; ++h) {
    for (int i = 0; i < dim / 2; ++i) {
      const double theta = pos * std::pow(base, -2.0 * i / dim);
      double& a = x[static_cast<std::size_t>(h * dim + 2 * i)];
      double& b = x[static_cast<std::size_t>(h * dim + 2 * i + 1)];
      const double a0 = a, b0 = b;
      a = a0 * std::cos(theta) - b0 * std::sin(theta);
      b = a0 * std::sin(theta) + b0 * std::cos(theta);
    }
  }
}

}  // namespace

void TinyLlama::write(const std::filesystem::path& path, const std::string& arch, uint32_t seed) {
  std::mt19937 rng(seed);
  auto random = [&](std::size_t n, float scale, float offset = 0.0f) {
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(n);
    for (float& e : v) e = offset + dist(rng);
    return v;
  };
  const auto D = static_cast<std::size_t>(d);
  const auto Q = static_cast<std::size_t>(n_heads * head_dim);
  const auto KV = static_cast<std::size_t>(n_kv_heads * head_dim);
  const auto F = static_cast<std::size_t>(ffn);
  const float s = 1.0f / std::sqrt(static_cast<float>(d));

  GgufBuilder g;
  g.add_string("general.architecture", arch);
  g.add_string("general.name", "tiny test llama");
  const std::string p = arch + ".";
  g.add_u32(p + "block_count", static_cast<uint32_t>(n_layers));
  g.add_u32(p + "embedding_length", static_cast<uint32_t>(d));
  g.add_u32(p + "attention.head_count", static_cast<uint32_t>(n_heads));
  g.add_u32(p + "attention.head_count_kv", static_cast<uint32_t>(n_kv_heads));
  g.add_u32(p + "feed_forward_length", static_cast<uint32_t>(ffn));
  g.add_u32(p + "context_length", static_cast<uint32_t>(context));
  g.add_f32(p + "attention.layer_norm_rms_epsilon", eps);
  g.add_f32(p + "rope.freq_base", rope_base);

  embd = random(static_cast<std::size_t>(vocab) * D, 1.0f);
  g.add_tensor("token_embd.weight", GgmlType::q8_0, {vocab, d}, embd);
  out_norm = random(D, 0.1f, 1.0f);
  g.add_tensor("output_norm.weight", GgmlType::f32, {d}, out_norm);
  layers.assign(static_cast<std::size_t>(n_layers), {});
  for (int l = 0; l < n_layers; ++l) {
    Layer& L = layers[static_cast<std::size_t>(l)];
    const std::string b = "blk." + std::to_string(l) + ".";
    // Layer 0: the usual Q4_1 file; layer 1: other dtypes, and gate/up of different dtypes (no stacking).
    const GgmlType mat = l == 0 ? GgmlType::q4_1 : GgmlType::q8_0;
    L.attn_norm = random(D, 0.1f, 1.0f);
    L.wq = random(Q * D, s);
    L.wk = random(KV * D, s);
    L.wv = random(KV * D, s);
    L.wo = random(D * Q, s);
    L.ffn_norm = random(D, 0.1f, 1.0f);
    L.gate = random(F * D, s);
    L.up = random(F * D, s);
    L.down = random(D * F, 1.0f / std::sqrt(static_cast<float>(ffn)));
    g.add_tensor(b + "attn_norm.weight", GgmlType::f32, {d}, L.attn_norm);
    g.add_tensor(b + "attn_q.weight", mat, {static_cast<int64_t>(Q), d}, L.wq);
    g.add_tensor(b + "attn_k.weight", l == 0 ? mat : GgmlType::f16, {static_cast<int64_t>(KV), d}, L.wk);
    g.add_tensor(b + "attn_v.weight", l == 0 ? mat : GgmlType::f32, {static_cast<int64_t>(KV), d}, L.wv);
    g.add_tensor(b + "attn_output.weight", mat, {d, static_cast<int64_t>(Q)}, L.wo);
    g.add_tensor(b + "ffn_norm.weight", GgmlType::f32, {d}, L.ffn_norm);
    g.add_tensor(b + "ffn_gate.weight", l == 0 ? mat : GgmlType::q4_0, {ffn, d}, L.gate);
    g.add_tensor(b + "ffn_up.weight", mat, {ffn, d}, L.up);
    g.add_tensor(b + "ffn_down.weight", l == 0 ? mat : GgmlType::q4_0, {d, ffn}, L.down);
  }
  g.write(path);
}

std::vector<float> TinyLlama::reference_logits(std::span<const int32_t> tokens) const {
  const auto D = static_cast<std::size_t>(d);
  const auto Q = static_cast<std::size_t>(n_heads * head_dim);
  const auto KV = static_cast<std::size_t>(n_kv_heads * head_dim);
  const auto F = static_cast<std::size_t>(ffn);
  const auto HD = static_cast<std::size_t>(head_dim);
  const int group = n_heads / n_kv_heads;
  std::vector<std::vector<Vec>> kcache(layers.size()), vcache(layers.size());
  std::vector<float> out;
  for (std::size_t t = 0; t < tokens.size(); ++t) {
    Vec x(D);
    for (std::size_t i = 0; i < D; ++i) x[i] = embd[static_cast<std::size_t>(tokens[t]) * D + i];
    for (std::size_t l = 0; l < layers.size(); ++l) {
      const Layer& L = layers[l];
      Vec xn;
      rms_norm(x, L.attn_norm, eps, xn);
      Vec q = matvec(L.wq, xn, Q), k = matvec(L.wk, xn, KV), v = matvec(L.wv, xn, KV);
      rope(q, n_heads, head_dim, static_cast<int>(t), rope_base);
      rope(k, n_kv_heads, head_dim, static_cast<int>(t), rope_base);
      kcache[l].push_back(k);
      vcache[l].push_back(v);
      Vec attn(Q, 0.0);
      for (int h = 0; h < n_heads; ++h) {
        const std::size_t kh = static_cast<std::size_t>(h / group) * HD;
        std::vector<double> s(t + 1);
        double mx = -1e300;
        for (std::size_t j = 0; j <= t; ++j) {
          double dot = 0;
          for (std::size_t c = 0; c < HD; ++c) dot += q[static_cast<std::size_t>(h) * HD + c] * kcache[l][j][kh + c];
          s[j] = dot / std::sqrt(static_cast<double>(head_dim));
          mx = std::max(mx, s[j]);
        }
        double sum = 0;
        for (double& e : s) sum += (e = std::exp(e - mx));
        for (std::size_t j = 0; j <= t; ++j)
          for (std::size_t c = 0; c < HD; ++c) attn[static_cast<std::size_t>(h) * HD + c] += s[j] / sum * vcache[l][j][kh + c];
      }
      const Vec o = matvec(L.wo, attn, D);
      for (std::size_t i = 0; i < D; ++i) x[i] += o[i];
      rms_norm(x, L.ffn_norm, eps, xn);
      const Vec g = matvec(L.gate, xn, F), u = matvec(L.up, xn, F);
      Vec act(F);
      for (std::size_t i = 0; i < F; ++i) act[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
      const Vec dn = matvec(L.down, act, D);
      for (std::size_t i = 0; i < D; ++i) x[i] += dn[i];
    }
    Vec xn;
    rms_norm(x, out_norm, eps, xn);
    const Vec logits = matvec(embd, xn, static_cast<std::size_t>(vocab));
    out.insert(out.end(), logits.begin(), logits.end());
  }
  return out;
}

double nmse(std::span<const float> a, std::span<const float> b) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const double diff = static_cast<double>(a[i]) - b[i];
    num += diff * diff;
    den += static_cast<double>(b[i]) * b[i];
  }
  return a.size() != b.size() ? 1e30 : num / std::max(den, 1e-300);
}

}  // namespace plinth::decoder_test
