// Numerical checks of the GPU plugins against plain double-precision loops, written against the ABI
// only so that both the GoogleTest suite and the standalone device check driver run them. Each check
// returns "" on success or a description of the first failure.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "plinth/abi.h"
#include "plinth/ops.h"

namespace plinth::gpu_test {

inline uint16_t to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0u));
  if (ax >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);
  if (ax < 0x38800000u) {
    float a;
    std::memcpy(&a, &ax, 4);
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(std::nearbyint(a * 16777216.0f)));
  }
  uint32_t h = (((ax >> 23) - 112u) << 10) | ((ax >> 13) & 0x3ffu);
  const uint32_t rem = ax & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) != 0)) ++h;
  return static_cast<uint16_t>(sign | h);
}

inline float from_half(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    const float f = static_cast<float>(mant) * 5.9604644775390625e-8f;
    return sign != 0 ? -f : f;
  }
  const uint32_t bits = exp == 31 ? (sign | 0x7f800000u | (mant << 13)) : (sign | ((exp + 112u) << 23) | (mant << 13));
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Normalized mean squared error: sum (x - ref)^2 / sum ref^2.
inline double nmse(const std::vector<float>& x, const std::vector<double>& ref) {
  double num = 0.0;
  double den = 0.0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(x[i])) return std::numeric_limits<double>::infinity();
    num += (x[i] - ref[i]) * (x[i] - ref[i]);
    den += ref[i] * ref[i];
  }
  return den == 0.0 ? num : num / den;
}

// One device, one stream, and the calls the checks need. Buffers are freed with the context.
class DeviceContext {
 public:
  DeviceContext(const plinth_plugin_api_t* api, plinth_device_t device) : api_(api), device_(device) {
    ok_ = api_->stream_create(device_, 0, &stream_) == PLINTH_OK;
  }
  ~DeviceContext() {
    for (auto b : buffers_) api_->buffer_free(b);
    if (stream_ != nullptr) api_->stream_destroy(stream_);
  }
  DeviceContext(const DeviceContext&) = delete;
  DeviceContext& operator=(const DeviceContext&) = delete;

  bool ok() const { return ok_; }
  const plinth_plugin_api_t* api() const { return api_; }
  plinth_stream_t stream() const { return stream_; }
  plinth_device_t device() const { return device_; }

  plinth_buffer_t alloc(uint64_t bytes, uint32_t kind = PLINTH_MEMORY_DEVICE) {
    plinth_buffer_desc_t desc{};
    desc.struct_size = sizeof desc;
    desc.memory_kind = kind;
    desc.size = bytes == 0 ? 1 : bytes;
    plinth_buffer_t b = nullptr;
    if (api_->buffer_alloc(device_, &desc, &b) != PLINTH_OK) return nullptr;
    buffers_.push_back(b);
    return b;
  }

  template <class T>
  plinth_buffer_t upload(const std::vector<T>& data) {
    plinth_buffer_t b = alloc(data.size() * sizeof(T));
    if (b != nullptr && !data.empty()) api_->copy_host_to_buffer(stream_, data.data(), b, 0, data.size() * sizeof(T));
    api_->stream_synchronize(stream_);
    return b;
  }

  template <class T>
  std::vector<T> download(plinth_buffer_t b, size_t count) {
    std::vector<T> out(count);
    if (count > 0) api_->copy_buffer_to_host(stream_, b, 0, out.data(), count * sizeof(T));
    last_sync_ = api_->stream_synchronize(stream_);
    return out;
  }
  plinth_status_t last_sync() const { return last_sync_; }

  plinth_status_t run(plinth_op_t op, std::vector<const plinth_tensor_t*> inputs, std::vector<const plinth_tensor_t*> outputs,
                      const void* params) {
    plinth_op_call_t call{};
    call.struct_size = sizeof call;
    call.op = op;
    call.inputs = inputs.data();
    call.outputs = outputs.data();
    call.num_inputs = static_cast<uint32_t>(inputs.size());
    call.num_outputs = static_cast<uint32_t>(outputs.size());
    call.params = params;
    return api_->op_launch(stream_, &call);
  }

 private:
  const plinth_plugin_api_t* api_;
  plinth_device_t device_;
  plinth_stream_t stream_ = nullptr;
  std::vector<plinth_buffer_t> buffers_;
  plinth_status_t last_sync_ = PLINTH_OK;
  bool ok_ = false;
};

// A dense row-major tensor descriptor (element size `elem`; for quantized dtypes the row bytes).
inline plinth_tensor_t tensor(plinth_buffer_t b, plinth_dtype_t dtype, std::vector<int64_t> dims, int64_t elem = 4) {
  plinth_tensor_t t{};
  t.struct_size = sizeof t;
  t.dtype = dtype;
  t.buffer = b;
  t.ndim = static_cast<uint32_t>(dims.size());
  int64_t stride = elem;
  for (int k = static_cast<int>(dims.size()) - 1; k >= 0; --k) {
    t.dims[k] = dims[k];
    t.strides[k] = stride;
    stride *= dims[k];
  }
  return t;
}

inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

inline std::string fail_status(const DeviceContext& ctx, const char* what, plinth_status_t s) {
  return std::string(what) + " returned " + std::to_string(s) + ": " + ctx.api()->last_error_message();
}

inline std::string expect_close(const std::vector<float>& got, const std::vector<double>& ref, double tol, const char* what) {
  const double e = nmse(got, ref);
  if (!(e <= tol)) {
    char text[64];
    std::snprintf(text, sizeof text, ": nmse %.3g > %.3g", e, tol);
    return std::string(what) + text;
  }
  return "";
}

// ---- The checks ------------------------------------------------------------------------------------

inline std::string check_matmul_float(DeviceContext& ctx, plinth_dtype_t dtype, bool transpose_b) {
  const int64_t batch = 2, m = 33, n = 65, k = 70;
  const auto a = random_floats(batch * m * k, 1);
  const auto b = random_floats(batch * k * n, 2);
  std::vector<double> ref(batch * m * n, 0.0);
  auto rounded = [&](float x) { return dtype == PLINTH_DTYPE_F16 ? from_half(to_half(x)) : x; };
  for (int64_t z = 0; z < batch; ++z)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0.0;
        for (int64_t p = 0; p < k; ++p) {
          const float bv = transpose_b ? b[z * k * n + j * k + p] : b[z * k * n + p * n + j];
          s += static_cast<double>(rounded(a[z * m * k + i * k + p])) * rounded(bv);
        }
        ref[z * m * n + i * n + j] = 0.5 * s;
      }
  plinth_buffer_t ba = nullptr;
  plinth_buffer_t bb = nullptr;
  int64_t elem = 4;
  if (dtype == PLINTH_DTYPE_F16) {
    std::vector<uint16_t> ah(a.size()), bh(b.size());
    for (size_t i = 0; i < a.size(); ++i) ah[i] = to_half(a[i]);
    for (size_t i = 0; i < b.size(); ++i) bh[i] = to_half(b[i]);
    ba = ctx.upload(ah);
    bb = ctx.upload(bh);
    elem = 2;
  } else {
    ba = ctx.upload(a);
    bb = ctx.upload(b);
  }
  plinth_buffer_t bc = ctx.alloc(batch * m * n * 4);
  const auto ta = tensor(ba, dtype, {batch, m, k}, elem);
  const auto tb = tensor(bb, dtype, transpose_b ? std::vector<int64_t>{batch, n, k} : std::vector<int64_t>{batch, k, n}, elem);
  const auto tc = tensor(bc, PLINTH_DTYPE_F32, {batch, m, n});
  plinth_matmul_params_t p{};
  p.struct_size = sizeof p;
  p.transpose_b = transpose_b ? 1 : 0;
  p.alpha = 0.5f;
  if (auto s = ctx.run(PLINTH_OP_MATMUL, {&ta, &tb}, {&tc}, &p); s != PLINTH_OK) return fail_status(ctx, "matmul", s);
  const auto got = ctx.download<float>(bc, ref.size());
  if (ctx.last_sync() != PLINTH_OK) return fail_status(ctx, "matmul sync", ctx.last_sync());
  return expect_close(got, ref, dtype == PLINTH_DTYPE_F32 ? 1e-10 : 1e-5, "matmul");
}

// Builds GGUF blocks for a [n, k] weight from random values and returns them with the dequantized
// values the reference uses.
inline std::vector<uint8_t> quantize(plinth_dtype_t dtype, int64_t n, int64_t k, std::vector<float>* deq) {
  const int bytes = dtype == PLINTH_DTYPE_Q8_0 ? 34 : dtype == PLINTH_DTYPE_Q4_0 ? 18 : 20;
  std::vector<uint8_t> out(n * (k / 32) * bytes);
  deq->assign(n * k, 0.0f);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> q8(-127, 127);
  std::uniform_int_distribution<int> q4(0, 15);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t blk = 0; blk < k / 32; ++blk) {
      uint8_t* p = &out[(r * (k / 32) + blk) * bytes];
      const uint16_t d = to_half(0.01f + 0.001f * static_cast<float>((r + blk) % 7));
      const uint16_t mn = to_half(-0.05f);
      std::memcpy(p, &d, 2);
      const float df = from_half(d);
      const float mf = from_half(mn);
      if (dtype == PLINTH_DTYPE_Q4_1) std::memcpy(p + 2, &mn, 2);
      for (int j = 0; j < 32; ++j) {
        float v = 0.0f;
        if (dtype == PLINTH_DTYPE_Q8_0) {
          const int q = q8(rng);
          p[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(q));
          v = df * static_cast<float>(q);
        } else {
          const int q = q4(rng);
          uint8_t* qs = p + (dtype == PLINTH_DTYPE_Q4_0 ? 2 : 4);
          if (j < 16) {
            qs[j] = static_cast<uint8_t>((qs[j] & 0xF0) | q);
          } else {
            qs[j - 16] = static_cast<uint8_t>((qs[j - 16] & 0x0F) | (q << 4));
          }
          v = dtype == PLINTH_DTYPE_Q4_0 ? df * static_cast<float>(q - 8) : df * static_cast<float>(q) + mf;
        }
        (*deq)[r * k + blk * 32 + j] = v;
      }
    }
  return out;
}

// Quantized matmul against the dequantized weights. Decode shapes (m <= 8) may run on integer
// activations (two int8 levels on CUDA: NMSE about 1e-9), so they get 1e-7 unless `tol` says otherwise,
// far below the error of one wrong nibble or scale; larger m must match f32 arithmetic.
inline std::string check_matmul_quant(DeviceContext& ctx, plinth_dtype_t dtype, int64_t m, int64_t k = 256,
                                      double tol = -1.0, double* nmse_out = nullptr) {
  const int64_t n = 94;  // not a multiple of the rows a warp or a block covers
  if (tol < 0.0) tol = m <= 8 ? 1e-7 : 1e-9;
  std::vector<float> deq;
  const auto blocks = quantize(dtype, n, k, &deq);
  const auto a = random_floats(m * k, 3);
  std::vector<double> ref(m * n, 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0.0;
      for (int64_t p = 0; p < k; ++p) s += static_cast<double>(a[i * k + p]) * deq[j * k + p];
      ref[i * n + j] = s;
    }
  plinth_buffer_t ba = ctx.upload(a);
  plinth_buffer_t bb = ctx.upload(blocks);
  plinth_buffer_t bc = ctx.alloc(m * n * 4);
  const auto ta = tensor(ba, PLINTH_DTYPE_F32, {m, k});
  auto tb = tensor(bb, dtype, {n, k});
  tb.strides[0] = static_cast<int64_t>(blocks.size() / n);
  const auto tc = tensor(bc, PLINTH_DTYPE_F32, {m, n});
  plinth_matmul_params_t p{};
  p.struct_size = sizeof p;
  p.transpose_b = 1;
  p.alpha = 1.0f;
  if (auto s = ctx.run(PLINTH_OP_MATMUL, {&ta, &tb}, {&tc}, &p); s != PLINTH_OK) return fail_status(ctx, "quant matmul", s);
  const auto got = ctx.download<float>(bc, ref.size());
  if (ctx.last_sync() != PLINTH_OK) return fail_status(ctx, "quant matmul sync", ctx.last_sync());
  if (nmse_out != nullptr) *nmse_out = nmse(got, ref);
  return expect_close(got, ref, tol, "quant matmul");
}

inline std::string check_softmax_causal(DeviceContext& ctx) {
  const int64_t rows = 3, sq = 4, sk = 6;
  const auto x = random_floats(rows * sq * sk, 4, -3.0f, 3.0f);
  const auto mask = random_floats(sk, 5);
  std::vector<double> ref(x.size(), 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < sq; ++i) {
      double mx = -1e300;
      std::vector<double> z(sk);
      for (int64_t j = 0; j < sk; ++j) {
        z[j] = j > i + (sk - sq) ? -INFINITY : x[(r * sq + i) * sk + j] * 0.7 + mask[j];
        mx = std::max(mx, z[j]);
      }
      double sum = 0.0;
      for (int64_t j = 0; j < sk; ++j) sum += std::exp(z[j] - mx);
      for (int64_t j = 0; j < sk; ++j) ref[(r * sq + i) * sk + j] = std::exp(z[j] - mx) / sum;
    }
  plinth_buffer_t bx = ctx.upload(x);
  plinth_buffer_t bm = ctx.upload(mask);
  plinth_buffer_t by = ctx.alloc(x.size() * 4);
  const auto tx = tensor(bx, PLINTH_DTYPE_F32, {rows, sq, sk});
  const auto tm = tensor(bm, PLINTH_DTYPE_F32, {sk});
  const auto ty = tensor(by, PLINTH_DTYPE_F32, {rows, sq, sk});
  plinth_softmax_params_t p{};
  p.struct_size = sizeof p;
  p.scale = 0.7f;
  p.causal = 1;
  if (auto s = ctx.run(PLINTH_OP_SOFTMAX, {&tx, &tm}, {&ty}, &p); s != PLINTH_OK) return fail_status(ctx, "softmax", s);
  return expect_close(ctx.download<float>(by, ref.size()), ref, 1e-10, "softmax");
}

inline std::string check_norms(DeviceContext& ctx) {
  const int64_t rows = 5, d = 300;
  const auto x = random_floats(rows * d, 6, -2.0f, 2.0f);
  const auto w = random_floats(d, 7);
  const auto bias = random_floats(d, 8);
  std::vector<double> rms(x.size()), ln(x.size()), l2(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    double sq = 0.0, mean = 0.0;
    for (int64_t j = 0; j < d; ++j) mean += x[r * d + j];
    mean /= d;
    double var = 0.0;
    for (int64_t j = 0; j < d; ++j) {
      sq += static_cast<double>(x[r * d + j]) * x[r * d + j];
      var += (x[r * d + j] - mean) * (x[r * d + j] - mean);
    }
    var /= d;
    for (int64_t j = 0; j < d; ++j) {
      rms[r * d + j] = x[r * d + j] / std::sqrt(sq / d + 1e-5) * w[j];
      ln[r * d + j] = (x[r * d + j] - mean) / std::sqrt(var + 1e-5) * w[j] + bias[j];
      l2[r * d + j] = x[r * d + j] / std::max(std::sqrt(sq), 1e-5);
    }
  }
  plinth_buffer_t bx = ctx.upload(x), bw = ctx.upload(w), bb = ctx.upload(bias), by = ctx.alloc(x.size() * 4);
  const auto tx = tensor(bx, PLINTH_DTYPE_F32, {rows, d});
  const auto tw = tensor(bw, PLINTH_DTYPE_F32, {d});
  const auto tb = tensor(bb, PLINTH_DTYPE_F32, {d});
  const auto ty = tensor(by, PLINTH_DTYPE_F32, {rows, d});
  plinth_norm_params_t p{};
  p.struct_size = sizeof p;
  p.eps = 1e-5f;
  if (auto s = ctx.run(PLINTH_OP_RMS_NORM, {&tx, &tw}, {&ty}, &p); s != PLINTH_OK) return fail_status(ctx, "rms_norm", s);
  if (auto e = expect_close(ctx.download<float>(by, x.size()), rms, 1e-10, "rms_norm"); !e.empty()) return e;
  if (auto s = ctx.run(PLINTH_OP_LAYER_NORM, {&tx, &tw, &tb}, {&ty}, &p); s != PLINTH_OK) return fail_status(ctx, "layer_norm", s);
  if (auto e = expect_close(ctx.download<float>(by, x.size()), ln, 1e-10, "layer_norm"); !e.empty()) return e;
  if (auto s = ctx.run(PLINTH_OP_L2_NORMALIZE, {&tx}, {&ty}, &p); s != PLINTH_OK) return fail_status(ctx, "l2_normalize", s);
  return expect_close(ctx.download<float>(by, x.size()), l2, 1e-10, "l2_normalize");
}

inline std::string check_rope(DeviceContext& ctx, uint32_t mode) {
  const int64_t s = 5, h = 3, d = 16, n_dims = 12;
  const auto x = random_floats(s * h * d, 9);
  const std::vector<int32_t> pos = {0, 3, 7, 100, 2047};
  std::vector<double> ref(x.begin(), x.end());
  for (int64_t t = 0; t < s; ++t)
    for (int64_t hh = 0; hh < h; ++hh)
      for (int64_t i = 0; i < n_dims / 2; ++i) {
        const double theta = pos[t] * std::pow(10000.0, -2.0 * i / n_dims);
        const int64_t i0 = mode == PLINTH_ROPE_NEOX ? i : 2 * i;
        const int64_t i1 = mode == PLINTH_ROPE_NEOX ? i + n_dims / 2 : 2 * i + 1;
        const double a = x[(t * h + hh) * d + i0], b = x[(t * h + hh) * d + i1];
        ref[(t * h + hh) * d + i0] = a * std::cos(theta) - b * std::sin(theta);
        ref[(t * h + hh) * d + i1] = a * std::sin(theta) + b * std::cos(theta);
      }
  plinth_buffer_t bx = ctx.upload(x), bp = ctx.upload(pos);
  const auto tx = tensor(bx, PLINTH_DTYPE_F32, {s, h, d});
  const auto tp = tensor(bp, PLINTH_DTYPE_I32, {s});
  plinth_rope_params_t p{};
  p.struct_size = sizeof p;
  p.mode = mode;
  p.n_dims = static_cast<uint32_t>(n_dims);
  p.freq_base = 10000.0f;
  p.freq_scale = 1.0f;
  // In place: y aliases x.
  if (auto st = ctx.run(PLINTH_OP_ROPE, {&tx, &tp}, {&tx}, &p); st != PLINTH_OK) return fail_status(ctx, "rope", st);
  return expect_close(ctx.download<float>(bx, x.size()), ref, 1e-9, "rope");
}

inline std::string check_attention(DeviceContext& ctx) {
  const int64_t b = 2, hq = 4, hkv = 2, sq = 3, skv = 7, d = 40, dv = 24;
  const auto q = random_floats(b * hq * sq * d, 10);
  const auto k = random_floats(b * hkv * skv * d, 11);
  const auto v = random_floats(b * hkv * skv * dv, 12);
  const std::vector<int32_t> lens = {7, 5};
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  std::vector<double> ref(b * hq * sq * dv, 0.0);
  for (int64_t bb = 0; bb < b; ++bb)
    for (int64_t h = 0; h < hq; ++h)
      for (int64_t i = 0; i < sq; ++i) {
        const int64_t hk = h / (hq / hkv);
        const int64_t last = lens[bb] - sq + i;
        std::vector<double> s;
        double mx = -1e300;
        for (int64_t j = 0; j < lens[bb] && j <= last; ++j) {
          double dot = 0.0;
          for (int64_t e = 0; e < d; ++e) dot += static_cast<double>(q[((bb * hq + h) * sq + i) * d + e]) * k[((bb * hkv + hk) * skv + j) * d + e];
          s.push_back(dot * scale);
          mx = std::max(mx, s.back());
        }
        double sum = 0.0;
        for (double& x : s) sum += (x = std::exp(x - mx));
        for (int64_t e = 0; e < dv; ++e) {
          double o = 0.0;
          for (size_t j = 0; j < s.size(); ++j) o += s[j] / sum * v[((bb * hkv + hk) * skv + j) * dv + e];
          ref[((bb * hq + h) * sq + i) * dv + e] = o;
        }
      }
  plinth_buffer_t bq = ctx.upload(q), bk = ctx.upload(k), bv = ctx.upload(v), bl = ctx.upload(lens);
  plinth_buffer_t bo = ctx.alloc(ref.size() * 4);
  const auto tq = tensor(bq, PLINTH_DTYPE_F32, {b, hq, sq, d});
  const auto tk = tensor(bk, PLINTH_DTYPE_F32, {b, hkv, skv, d});
  const auto tv = tensor(bv, PLINTH_DTYPE_F32, {b, hkv, skv, dv});
  const auto tl = tensor(bl, PLINTH_DTYPE_I32, {b});
  const auto to = tensor(bo, PLINTH_DTYPE_F32, {b, hq, sq, dv});
  plinth_attention_params_t p{};
  p.struct_size = sizeof p;
  p.causal = 1;
  if (auto s = ctx.run(PLINTH_OP_ATTENTION, {&tq, &tk, &tv, nullptr, &tl}, {&to}, &p); s != PLINTH_OK) {
    return fail_status(ctx, "attention", s);
  }
  return expect_close(ctx.download<float>(bo, ref.size()), ref, 1e-10, "attention");
}

inline std::string check_select(DeviceContext& ctx) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {1.0f, 5.0f, 3.0f, 5.0f, -2.0f, 0.0f, 7.0f, 1.0f, 7.0f, nan, 2.0f, nan};
  plinth_buffer_t bx = ctx.upload(x), bv = ctx.alloc(2 * 3 * 4), bi = ctx.alloc(2 * 3 * 4), ba = ctx.alloc(2 * 4);
  const auto tx = tensor(bx, PLINTH_DTYPE_F32, {2, 6});
  const auto tv = tensor(bv, PLINTH_DTYPE_F32, {2, 3});
  const auto ti = tensor(bi, PLINTH_DTYPE_I32, {2, 3});
  const auto ta = tensor(ba, PLINTH_DTYPE_I32, {2});
  plinth_top_k_params_t p{};
  p.struct_size = sizeof p;
  p.k = 3;
  if (auto s = ctx.run(PLINTH_OP_TOP_K, {&tx}, {&tv, &ti}, &p); s != PLINTH_OK) return fail_status(ctx, "top_k", s);
  const auto idx = ctx.download<int32_t>(bi, 6);
  const std::vector<int32_t> want = {1, 3, 2, 3, 5, 0};  // row 2: NaN at 3 and 5 first, then 7 at 0
  if (idx != want) {
    std::string got;
    for (int32_t i : idx) got += std::to_string(i) + " ";
    return "top_k indices: got " + got;
  }
  if (auto s = ctx.run(PLINTH_OP_ARGMAX, {&tx}, {&ta}, nullptr); s != PLINTH_OK) return fail_status(ctx, "argmax", s);
  const auto am = ctx.download<int32_t>(ba, 2);
  if (am[0] != 1 || am[1] != 3) return "argmax: got " + std::to_string(am[0]) + "," + std::to_string(am[1]);
  return "";
}

inline std::string check_elementwise(DeviceContext& ctx) {
  const int64_t r = 7, c = 33;
  const auto a = random_floats(r * c, 13, -3.0f, 3.0f);
  const auto b = random_floats(c, 14);
  plinth_buffer_t ba = ctx.upload(a), bb = ctx.upload(b), by = ctx.alloc(r * c * 4), bh = ctx.alloc(r * c * 2);
  const auto ta = tensor(ba, PLINTH_DTYPE_F32, {r, c});
  const auto tb = tensor(bb, PLINTH_DTYPE_F32, {c});
  const auto ty = tensor(by, PLINTH_DTYPE_F32, {r, c});
  const auto th = tensor(bh, PLINTH_DTYPE_F16, {r, c}, 2);
  std::vector<double> add(r * c), gelu(r * c), swiglu(r * c);
  for (int64_t i = 0; i < r * c; ++i) {
    add[i] = static_cast<double>(a[i]) + b[i % c];
    gelu[i] = 0.5 * a[i] * (1.0 + std::erf(a[i] / std::sqrt(2.0)));
    swiglu[i] = a[i] / (1.0 + std::exp(-static_cast<double>(a[i]))) * a[i];
  }
  if (auto s = ctx.run(PLINTH_OP_ADD, {&ta, &tb}, {&th}, nullptr); s != PLINTH_OK) return fail_status(ctx, "add", s);
  const auto h = ctx.download<uint16_t>(bh, r * c);
  std::vector<float> hf(h.size());
  for (size_t i = 0; i < h.size(); ++i) hf[i] = from_half(h[i]);
  if (auto e = expect_close(hf, add, 1e-6, "add (f16 out)"); !e.empty()) return e;
  if (auto s = ctx.run(PLINTH_OP_GELU, {&ta}, {&ty}, nullptr); s != PLINTH_OK) return fail_status(ctx, "gelu", s);
  if (auto e = expect_close(ctx.download<float>(by, r * c), gelu, 1e-10, "gelu"); !e.empty()) return e;
  if (auto s = ctx.run(PLINTH_OP_SWIGLU, {&ta, &ta}, {&ty}, nullptr); s != PLINTH_OK) return fail_status(ctx, "swiglu", s);
  return expect_close(ctx.download<float>(by, r * c), swiglu, 1e-10, "swiglu");
}

// Dense f32 tensors whose element count is a multiple of 4 take the vectorized kernels.
inline std::string check_elementwise_dense(DeviceContext& ctx) {
  const int64_t n = 64 * 132;
  const auto a = random_floats(n, 21, -3.0f, 3.0f);
  const auto b = random_floats(n, 22);
  plinth_buffer_t ba = ctx.upload(a), bb = ctx.upload(b), by = ctx.alloc(n * 4);
  const auto ta = tensor(ba, PLINTH_DTYPE_F32, {64, 132});
  const auto tb = tensor(bb, PLINTH_DTYPE_F32, {64, 132});
  const auto ty = tensor(by, PLINTH_DTYPE_F32, {64, 132});
  plinth_scale_params_t sp{};
  sp.struct_size = sizeof sp;
  sp.scale = -1.5f;
  sp.bias = 0.25f;
  plinth_gelu_params_t gp{};
  gp.struct_size = sizeof gp;
  gp.approximation = PLINTH_GELU_TANH;
  plinth_fill_params_t fp{};
  fp.struct_size = sizeof fp;
  fp.value = 2.5;
  struct Case {
    const char* name;
    plinth_op_t op;
    std::vector<const plinth_tensor_t*> inputs;
    const void* params;
    std::function<double(double, double)> ref;
  };
  const std::vector<Case> cases = {
      {"dense copy", PLINTH_OP_COPY, {&ta}, nullptr, [](double x, double) { return x; }},
      {"dense add", PLINTH_OP_ADD, {&ta, &tb}, nullptr, [](double x, double y) { return x + y; }},
      {"dense mul", PLINTH_OP_MUL, {&ta, &tb}, nullptr, [](double x, double y) { return x * y; }},
      {"dense scale", PLINTH_OP_SCALE, {&ta}, &sp, [](double x, double) { return -1.5 * x + 0.25; }},
      {"dense silu", PLINTH_OP_SILU, {&ta}, nullptr, [](double x, double) { return x / (1.0 + std::exp(-x)); }},
      {"dense gelu tanh", PLINTH_OP_GELU, {&ta}, &gp,
       [](double x, double) { return 0.5 * x * (1.0 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))); }},
      {"dense fill", PLINTH_OP_FILL, {}, &fp, [](double, double) { return 2.5; }},
  };
  for (const Case& c : cases) {
    if (auto s = ctx.run(c.op, c.inputs, {&ty}, c.params); s != PLINTH_OK) return fail_status(ctx, c.name, s);
    std::vector<double> ref(n);
    for (int64_t i = 0; i < n; ++i) ref[i] = c.ref(a[i], b[i]);
    if (auto e = expect_close(ctx.download<float>(by, n), ref, 1e-10, c.name); !e.empty()) return e;
  }
  return "";
}

inline std::string check_get_rows(DeviceContext& ctx) {
  std::vector<float> deq;
  const auto blocks = quantize(PLINTH_DTYPE_Q8_0, 10, 64, &deq);
  const std::vector<int32_t> idx = {9, 0, 4};
  plinth_buffer_t bt = ctx.upload(blocks), bi = ctx.upload(idx), by = ctx.alloc(3 * 64 * 4);
  auto tt = tensor(bt, PLINTH_DTYPE_Q8_0, {10, 64});
  tt.strides[0] = 2 * 34;
  const auto ti = tensor(bi, PLINTH_DTYPE_I32, {3});
  const auto ty = tensor(by, PLINTH_DTYPE_F32, {3, 64});
  if (auto s = ctx.run(PLINTH_OP_GET_ROWS, {&tt, &ti}, {&ty}, nullptr); s != PLINTH_OK) return fail_status(ctx, "get_rows", s);
  std::vector<double> ref;
  for (int32_t i : idx)
    for (int j = 0; j < 64; ++j) ref.push_back(deq[i * 64 + j]);
  if (auto e = expect_close(ctx.download<float>(by, ref.size()), ref, 0.0, "get_rows"); !e.empty()) return e;
  // An index outside the table is reported by the next synchronize, never read.
  const std::vector<int32_t> bad = {1, 10, -1};
  plinth_buffer_t bbad = ctx.upload(bad);
  const auto tbad = tensor(bbad, PLINTH_DTYPE_I32, {3});
  if (auto s = ctx.run(PLINTH_OP_GET_ROWS, {&tt, &tbad}, {&ty}, nullptr); s != PLINTH_OK) {
    return fail_status(ctx, "get_rows (bad index launch)", s);
  }
  const plinth_status_t sync = ctx.api()->stream_synchronize(ctx.stream());
  if (sync != PLINTH_ERROR_INVALID_ARGUMENT) return "get_rows: out-of-range index gave sync status " + std::to_string(sync);
  if (ctx.api()->stream_synchronize(ctx.stream()) != PLINTH_OK) return "get_rows: the error was reported twice";
  return "";
}

// Whether the plugin claims `op` for these tensors. The checks of ABI 1.2 ops answer "skip: ..." for a
// plugin that does not (the check driver reports SKIP; the CUDA/ROCm test suite fails on it).
inline bool claims(DeviceContext& ctx, plinth_op_t op, std::vector<const plinth_tensor_t*> inputs,
                   std::vector<const plinth_tensor_t*> outputs, const void* params) {
  plinth_op_call_t call{};
  call.struct_size = sizeof call;
  call.op = op;
  call.inputs = inputs.data();
  call.outputs = outputs.data();
  call.num_inputs = static_cast<uint32_t>(inputs.size());
  call.num_outputs = static_cast<uint32_t>(outputs.size());
  call.params = params;
  uint32_t supported = 0;
  return ctx.api()->op_supports(ctx.device(), &call, &supported) == PLINTH_OK && supported != 0;
}

// A data-dependent error: op_launch may report it (indices checked at launch) or the next
// synchronize must, exactly once.
inline std::string expect_data_error(DeviceContext& ctx, const std::string& what, plinth_status_t launch) {
  if (launch == PLINTH_ERROR_INVALID_ARGUMENT) return "";
  if (launch != PLINTH_OK) return fail_status(ctx, (what + " launch").c_str(), launch);
  const plinth_status_t sync = ctx.api()->stream_synchronize(ctx.stream());
  if (sync != PLINTH_ERROR_INVALID_ARGUMENT)
    return what + ": sync status " + std::to_string(sync) + ", want INVALID_ARGUMENT";
  if (ctx.api()->stream_synchronize(ctx.stream()) != PLINTH_OK)
    return what + ": the error was reported twice";
  return "";
}

// Values exactly representable in `dtype` (f32, f16 or bf16), so the reference needs no rounding model.
inline std::vector<float> representable(std::vector<float> v, plinth_dtype_t dtype) {
  for (float& x : v) {
    if (dtype == PLINTH_DTYPE_F16) {
      x = from_half(to_half(x));
    } else if (dtype == PLINTH_DTYPE_BF16) {
      uint32_t bits;
      std::memcpy(&bits, &x, 4);
      bits &= 0xffff0000u;
      std::memcpy(&x, &bits, 4);
    }
  }
  return v;
}

// Uploads float values (already representable) in `dtype`.
inline plinth_buffer_t upload_as(DeviceContext& ctx, const std::vector<float>& v, plinth_dtype_t dtype) {
  if (dtype == PLINTH_DTYPE_F32) return ctx.upload(v);
  std::vector<uint16_t> bits(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t b;
    std::memcpy(&b, &v[i], 4);
    bits[i] = dtype == PLINTH_DTYPE_F16 ? to_half(v[i]) : static_cast<uint16_t>(b >> 16);
  }
  return ctx.upload(bits);
}

inline std::vector<float> download_as(DeviceContext& ctx, plinth_buffer_t b, size_t count,
                                      plinth_dtype_t dtype) {
  if (dtype == PLINTH_DTYPE_F32) return ctx.download<float>(b, count);
  const auto bits = ctx.download<uint16_t>(b, count);
  std::vector<float> v(count);
  for (size_t i = 0; i < count; ++i) {
    if (dtype == PLINTH_DTYPE_F16) {
      v[i] = from_half(bits[i]);
    } else {
      const uint32_t w = static_cast<uint32_t>(bits[i]) << 16;
      std::memcpy(&v[i], &w, 4);
    }
  }
  return v;
}

inline int64_t dtype_bytes(plinth_dtype_t dtype) { return dtype == PLINTH_DTYPE_F32 ? 4 : 2; }

// set_rows into a dst whose rows are padded (row stride 40 elements for W = 37), from f32 rows that
// are exactly representable in dst's dtype: the rows listed must land bit for bit and the others keep
// their contents; then indices outside dst are reported and write nothing outside the valid rows.
inline std::string check_set_rows(DeviceContext& ctx, plinth_dtype_t dst_dtype) {
  const int64_t rows = 10, width = 37, pitch = 40, n = 4;
  const auto src = representable(random_floats(n * width, 31), dst_dtype);
  const auto init = representable(random_floats(rows * pitch, 32), dst_dtype);
  const std::vector<int32_t> idx = {7, 0, 9, 3};
  plinth_buffer_t bs = ctx.upload(src), bi = ctx.upload(idx), bd = upload_as(ctx, init, dst_dtype);
  const auto ts = tensor(bs, PLINTH_DTYPE_F32, {n, width});
  const auto ti = tensor(bi, PLINTH_DTYPE_I32, {n});
  auto td = tensor(bd, dst_dtype, {rows, width}, dtype_bytes(dst_dtype));
  td.strides[0] = pitch * dtype_bytes(dst_dtype);
  if (!claims(ctx, PLINTH_OP_SET_ROWS, {&ts, &ti}, {&td}, nullptr))
    return "skip: the plugin does not claim set_rows";
  if (auto s = ctx.run(PLINTH_OP_SET_ROWS, {&ts, &ti}, {&td}, nullptr); s != PLINTH_OK)
    return fail_status(ctx, "set_rows", s);
  std::vector<double> ref(init.begin(), init.end());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < width; ++j) ref[idx[i] * pitch + j] = src[i * width + j];
  const auto got = download_as(ctx, bd, init.size(), dst_dtype);
  if (ctx.last_sync() != PLINTH_OK) return fail_status(ctx, "set_rows sync", ctx.last_sync());
  if (auto e = expect_close(got, ref, 0.0, "set_rows"); !e.empty()) return e;
  // Bad indices: reported; the rows no valid index names, and the padding, are untouched.
  const std::vector<int32_t> bad = {2, 10, -1, 2};
  plinth_buffer_t bb = ctx.upload(bad);
  const auto tb = tensor(bb, PLINTH_DTYPE_I32, {n});
  if (auto e = expect_data_error(ctx, "set_rows (bad index)",
                                 ctx.run(PLINTH_OP_SET_ROWS, {&ts, &tb}, {&td}, nullptr));
      !e.empty()) {
    return e;
  }
  const auto after = download_as(ctx, bd, init.size(), dst_dtype);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < pitch; ++j) {
      if (r != 2 && after[r * pitch + j] != got[r * pitch + j])
        return "set_rows (bad index) wrote row " + std::to_string(r);
    }
  return "";
}

// A ragged paged-attention batch: per sequence its query count and context length; the block table
// is drawn from a shuffled pool (blocks out of order), optionally with each sequence's first block
// shared with the previous sequence's, and padded with -1 past the blocks in use.
struct PagedCase {
  std::vector<int32_t> queries;
  std::vector<int32_t> lens;
  int64_t block_size = 16;
  int64_t hkv = 2;
  int64_t group = 1;
  int64_t d = 64;
  int64_t dv = 64;
  plinth_dtype_t cache = PLINTH_DTYPE_F32;
  bool causal = true;
  bool share_blocks = true;
};

// The inputs of a PagedCase as host vectors, and the double-precision reference output.
struct PagedBatch {
  int64_t t = 0, s = 0, mb = 0, nb = 0, hq = 0;
  std::vector<float> q, k, v;
  std::vector<int32_t> table, starts, lens;
  std::vector<double> ref;
};

inline PagedBatch make_paged_batch(const PagedCase& c) {
  PagedBatch b;
  b.s = static_cast<int64_t>(c.lens.size());
  b.hq = c.hkv * c.group;
  b.starts.push_back(0);
  for (int32_t n : c.queries) b.starts.push_back(b.starts.back() + n);
  b.t = b.starts.back();
  b.lens = c.lens;
  int64_t used = 0;
  for (int32_t len : c.lens) {
    const int64_t blocks = (len + c.block_size - 1) / c.block_size;
    b.mb = std::max(b.mb, blocks + 1);  // one -1 entry past the longest
    used += blocks;
  }
  b.nb = used + 2;  // two blocks nobody reads
  std::vector<int32_t> pool(b.nb);
  for (int64_t i = 0; i < b.nb; ++i) pool[i] = static_cast<int32_t>(i);
  std::shuffle(pool.begin(), pool.end(), std::mt19937(41));
  b.table.assign(b.s * b.mb, -1);
  size_t next = 0;
  for (int64_t s = 0; s < b.s; ++s) {
    const int64_t blocks = (c.lens[s] + c.block_size - 1) / c.block_size;
    for (int64_t j = 0; j < blocks; ++j) {
      const bool share = c.share_blocks && j == 0 && s > 0 && b.table[(s - 1) * b.mb] >= 0;
      b.table[s * b.mb + j] = share ? b.table[(s - 1) * b.mb] : pool[next++];
    }
  }
  b.q = random_floats(b.t * b.hq * c.d, 42);
  b.k = representable(random_floats(b.nb * c.block_size * c.hkv * c.d, 43, -2.0f, 2.0f), c.cache);
  b.v = representable(random_floats(b.nb * c.block_size * c.hkv * c.dv, 44), c.cache);
  const double scale = 1.0 / std::sqrt(static_cast<double>(c.d));
  b.ref.assign(b.t * b.hq * c.dv, 0.0);
  for (int64_t s = 0; s < b.s; ++s) {
    const int64_t n = c.queries[s], len = c.lens[s];
    for (int64_t i = 0; i < n; ++i)
      for (int64_t h = 0; h < b.hq; ++h) {
        const int64_t row = b.starts[s] + i, hk = h / c.group;
        const int64_t last = c.causal ? len - n + i : len - 1;
        std::vector<double> w;
        std::vector<int64_t> slots;  // (block * BS + slot) of each key seen
        double mx = -1e300;
        for (int64_t j = 0; j <= last; ++j) {
          const int64_t slot = b.table[s * b.mb + j / c.block_size] * c.block_size + j % c.block_size;
          double dot = 0.0;
          for (int64_t e = 0; e < c.d; ++e)
            dot += static_cast<double>(b.q[(row * b.hq + h) * c.d + e]) * b.k[(slot * c.hkv + hk) * c.d + e];
          w.push_back(dot * scale);
          slots.push_back(slot);
          mx = std::max(mx, w.back());
        }
        double sum = 0.0;
        for (double& x : w) sum += (x = std::exp(x - mx));
        for (int64_t e = 0; e < c.dv; ++e) {
          double o = 0.0;
          for (size_t j = 0; j < w.size(); ++j) o += w[j] / sum * b.v[(slots[j] * c.hkv + hk) * c.dv + e];
          b.ref[(row * b.hq + h) * c.dv + e] = o;
        }
      }
  }
  return b;
}

// The device side of a PagedBatch: its buffers and the op's tensors.
struct PagedTensors {
  plinth_buffer_t bq, bk, bv, btable, bstarts, blens, bo;
  plinth_tensor_t q, k, v, table, starts, lens, o;
  plinth_attention_params_t params{};
  std::vector<const plinth_tensor_t*> inputs() const { return {&q, &k, &v, &table, &starts, &lens}; }
};

inline PagedTensors upload_paged(DeviceContext& ctx, const PagedCase& c, const PagedBatch& b) {
  PagedTensors p;
  p.bq = ctx.upload(b.q);
  p.bk = upload_as(ctx, b.k, c.cache);
  p.bv = upload_as(ctx, b.v, c.cache);
  p.btable = ctx.upload(b.table);
  p.bstarts = ctx.upload(b.starts);
  p.blens = ctx.upload(b.lens);
  p.bo = ctx.alloc(b.ref.size() * 4);
  const int64_t e = dtype_bytes(c.cache);
  p.q = tensor(p.bq, PLINTH_DTYPE_F32, {b.t, b.hq, c.d});
  p.k = tensor(p.bk, c.cache, {b.nb, c.block_size, c.hkv, c.d}, e);
  p.v = tensor(p.bv, c.cache, {b.nb, c.block_size, c.hkv, c.dv}, e);
  p.table = tensor(p.btable, PLINTH_DTYPE_I32, {b.s, b.mb});
  p.starts = tensor(p.bstarts, PLINTH_DTYPE_I32, {b.s + 1});
  p.lens = tensor(p.blens, PLINTH_DTYPE_I32, {b.s});
  p.o = tensor(p.bo, PLINTH_DTYPE_F32, {b.t, b.hq, c.dv});
  p.params.struct_size = sizeof p.params;
  p.params.causal = c.causal ? 1 : 0;
  return p;
}

inline std::string check_paged_attention(DeviceContext& ctx, const PagedCase& c) {
  const PagedBatch b = make_paged_batch(c);
  const PagedTensors p = upload_paged(ctx, c, b);
  if (!claims(ctx, PLINTH_OP_PAGED_ATTENTION, p.inputs(), {&p.o}, &p.params)) {
    return "skip: the plugin does not claim this paged_attention call";
  }
  if (auto s = ctx.run(PLINTH_OP_PAGED_ATTENTION, p.inputs(), {&p.o}, &p.params); s != PLINTH_OK) {
    return fail_status(ctx, "paged_attention", s);
  }
  const auto got = ctx.download<float>(p.bo, b.ref.size());
  if (ctx.last_sync() != PLINTH_OK) return fail_status(ctx, "paged_attention sync", ctx.last_sync());
  return expect_close(got, b.ref, 1e-9, "paged_attention");
}

// Mixed batch: a 1-token context beside long ones, a partly filled last block, a prefill chunk, a
// sequence with no queries and a pure prefill, blocks shared and out of order.
inline PagedCase mixed_paged_case(int64_t group, plinth_dtype_t cache, bool causal) {
  PagedCase c;
  c.queries = {1, 1, 3, 0, 5};
  c.lens = {1, 50, 20, 5, 5};
  c.group = group;
  c.cache = cache;
  c.causal = causal;
  return c;
}

// Decode batch (one query per sequence) with a context long enough for split keys on a large GPU.
inline PagedCase decode_paged_case(int64_t group, plinth_dtype_t cache) {
  PagedCase c;
  c.queries = {1, 1, 1, 1};
  c.lens = {1, 700, 33, 300};
  c.hkv = 2;
  c.group = group;
  c.d = 128;
  c.dv = 128;
  c.cache = cache;
  return c;
}

// Each data-dependent error of paged_attention is reported, never read past: a block id outside the
// cache, a context shorter than its queries, a context longer than its table row, query_start not
// ending at T, and query_start decreasing.
inline std::string check_paged_attention_errors(DeviceContext& ctx) {
  const PagedCase c = mixed_paged_case(2, PLINTH_DTYPE_F16, true);
  const PagedBatch good = make_paged_batch(c);
  struct Bad {
    const char* what;
    std::function<void(PagedBatch&)> edit;
  };
  const std::vector<Bad> cases = {
      {"block id = NB", [](PagedBatch& b) { b.table[1 * b.mb + 2] = static_cast<int32_t>(b.nb); }},
      {"block id -1 in use", [](PagedBatch& b) { b.table[1 * b.mb + 3] = -1; }},
      {"context below its queries", [](PagedBatch& b) { b.lens[4] = 4; }},
      {"context past its table row", [](PagedBatch& b) { b.lens[0] = static_cast<int32_t>(b.mb * 16 + 1); }},
      {"query_start not ending at T", [](PagedBatch& b) { b.starts.back() -= 1; }},
      {"query_start decreasing", [](PagedBatch& b) { std::swap(b.starts[2], b.starts[3]); }},
  };
  for (const Bad& bad : cases) {
    PagedBatch b = good;
    bad.edit(b);
    const PagedTensors p = upload_paged(ctx, c, b);
    if (!claims(ctx, PLINTH_OP_PAGED_ATTENTION, p.inputs(), {&p.o}, &p.params)) {
      return "skip: the plugin does not claim this paged_attention call";
    }
    const std::string what = std::string("paged_attention (") + bad.what + ")";
    if (auto e =
            expect_data_error(ctx, what, ctx.run(PLINTH_OP_PAGED_ATTENTION, p.inputs(), {&p.o}, &p.params));
        !e.empty()) {
      return e;
    }
  }
  return "";
}

inline std::string check_graph_replay(DeviceContext& ctx) {
  const auto api = ctx.api();
  std::vector<float> x(1000, 1.0f);
  plinth_buffer_t bx = ctx.upload(x);
  const auto tx = tensor(bx, PLINTH_DTYPE_F32, {1000});
  plinth_scale_params_t p{};
  p.struct_size = sizeof p;
  p.scale = 2.0f;
  p.bias = 1.0f;
  if (auto s = api->graph_begin_capture(ctx.stream()); s != PLINTH_OK) return fail_status(ctx, "graph_begin_capture", s);
  if (auto s = ctx.run(PLINTH_OP_SCALE, {&tx}, {&tx}, &p); s != PLINTH_OK) return fail_status(ctx, "scale in capture", s);
  if (api->graph_begin_capture(ctx.stream()) != PLINTH_ERROR_INVALID_STATE) return "nested capture was not INVALID_STATE";
  plinth_graph_t g = nullptr;
  if (auto s = api->graph_end_capture(ctx.stream(), &g); s != PLINTH_OK) return fail_status(ctx, "graph_end_capture", s);
  // Capturing recorded the op without running it.
  auto before = ctx.download<float>(bx, 1);
  if (before[0] != 1.0f) return "capture executed the op: " + std::to_string(before[0]);
  for (int i = 0; i < 3; ++i) {
    if (auto s = api->graph_launch(g, ctx.stream()); s != PLINTH_OK) return fail_status(ctx, "graph_launch", s);
  }
  auto after = ctx.download<float>(bx, 1000);
  api->graph_destroy(g);
  for (float v : after) {
    if (v != 15.0f) return "graph replay gave " + std::to_string(v) + ", want 15";  // ((1*2+1)*2+1)*2+1
  }
  return "";
}

inline std::vector<std::pair<std::string, std::function<std::string(DeviceContext&)>>> all_checks() {
  return {
      {"matmul_f32", [](DeviceContext& c) { return check_matmul_float(c, PLINTH_DTYPE_F32, false); }},
      {"matmul_f32_transposed",
       [](DeviceContext& c) { return check_matmul_float(c, PLINTH_DTYPE_F32, true); }},
      {"matmul_f16", [](DeviceContext& c) { return check_matmul_float(c, PLINTH_DTYPE_F16, true); }},
      {"matmul_q4_1_decode", [](DeviceContext& c) { return check_matmul_quant(c, PLINTH_DTYPE_Q4_1, 1); }},
      {"matmul_q4_0_decode", [](DeviceContext& c) { return check_matmul_quant(c, PLINTH_DTYPE_Q4_0, 3); }},
      {"matmul_q8_0_decode", [](DeviceContext& c) { return check_matmul_quant(c, PLINTH_DTYPE_Q8_0, 8); }},
      {"matmul_q4_1_prefill", [](DeviceContext& c) { return check_matmul_quant(c, PLINTH_DTYPE_Q4_1, 37); }},
      // K = 4160: 130 blocks per row, so lanes run several steps and a partial last one.
      {"matmul_q4_1_decode_long_k",
       [](DeviceContext& c) { return check_matmul_quant(c, PLINTH_DTYPE_Q4_1, 4, 4160); }},
      {"matmul_q4_0_decode_long_k",
       [](DeviceContext& c) { return check_matmul_quant(c, PLINTH_DTYPE_Q4_0, 2, 4160); }},
      {"matmul_q8_0_decode_long_k",
       [](DeviceContext& c) { return check_matmul_quant(c, PLINTH_DTYPE_Q8_0, 1, 4160); }},
      {"softmax_causal", check_softmax_causal},
      {"norms", check_norms},
      {"rope_normal", [](DeviceContext& c) { return check_rope(c, PLINTH_ROPE_NORMAL); }},
      {"rope_neox", [](DeviceContext& c) { return check_rope(c, PLINTH_ROPE_NEOX); }},
      {"attention_gqa_causal", check_attention},
      {"top_k_argmax", check_select},
      {"elementwise", check_elementwise},
      {"elementwise_dense", check_elementwise_dense},
      {"get_rows", check_get_rows},
      {"set_rows_f32", [](DeviceContext& c) { return check_set_rows(c, PLINTH_DTYPE_F32); }},
      {"set_rows_f16", [](DeviceContext& c) { return check_set_rows(c, PLINTH_DTYPE_F16); }},
      {"set_rows_bf16", [](DeviceContext& c) { return check_set_rows(c, PLINTH_DTYPE_BF16); }},
      {"paged_attention_mixed_f32_gqa1_causal",
       [](DeviceContext& c) {
         return check_paged_attention(c, mixed_paged_case(1, PLINTH_DTYPE_F32, true));
       }},
      {"paged_attention_mixed_f16_gqa4_causal",
       [](DeviceContext& c) {
         return check_paged_attention(c, mixed_paged_case(4, PLINTH_DTYPE_F16, true));
       }},
      {"paged_attention_mixed_f16_gqa8_full",
       [](DeviceContext& c) {
         return check_paged_attention(c, mixed_paged_case(8, PLINTH_DTYPE_F16, false));
       }},
      {"paged_attention_mixed_f32_gqa4_full",
       [](DeviceContext& c) {
         return check_paged_attention(c, mixed_paged_case(4, PLINTH_DTYPE_F32, false));
       }},
      {"paged_attention_mixed_bf16_gqa2_causal",
       [](DeviceContext& c) {
         return check_paged_attention(c, mixed_paged_case(2, PLINTH_DTYPE_BF16, true));
       }},
      // Head dims that are not multiples of 8 (element loads) and a block size of 5.
      {"paged_attention_mixed_f16_gqa4_odd_dims",
       [](DeviceContext& c) {
         PagedCase pc = mixed_paged_case(4, PLINTH_DTYPE_F16, true);
         pc.d = 36;
         pc.dv = 20;
         pc.block_size = 5;
         return check_paged_attention(c, pc);
       }},
      // GQA 16: the group takes two blocks of 8 heads.
      {"paged_attention_mixed_f32_gqa16_causal",
       [](DeviceContext& c) {
         PagedCase pc = mixed_paged_case(16, PLINTH_DTYPE_F32, true);
         pc.hkv = 1;
         return check_paged_attention(c, pc);
       }},
      // Long contexts beside prefill chunks: key splits (on a large GPU) under a causal mask.
      {"paged_attention_mixed_long_f16_gqa4_causal",
       [](DeviceContext& c) {
         PagedCase pc = mixed_paged_case(4, PLINTH_DTYPE_F16, true);
         pc.lens = {1, 600, 300, 5, 5};
         return check_paged_attention(c, pc);
       }},
      {"paged_attention_decode_f16_gqa1",
       [](DeviceContext& c) { return check_paged_attention(c, decode_paged_case(1, PLINTH_DTYPE_F16)); }},
      {"paged_attention_decode_f16_gqa4",
       [](DeviceContext& c) { return check_paged_attention(c, decode_paged_case(4, PLINTH_DTYPE_F16)); }},
      {"paged_attention_decode_f32_gqa8",
       [](DeviceContext& c) { return check_paged_attention(c, decode_paged_case(8, PLINTH_DTYPE_F32)); }},
      {"paged_attention_errors", check_paged_attention_errors},
      {"graph_replay", check_graph_replay},
  };
}

}  // namespace plinth::gpu_test
