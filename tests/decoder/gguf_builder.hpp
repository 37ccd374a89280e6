// A minimal GGUF v3 writer for tests: metadata (uint32, float32, string) and tensors in F32, F16,
// Q8_0, Q4_0 or Q4_1, quantized here with the block layouts of plinth/ops.h. dequantized() returns
// exactly the values a reader of the file sees, so references can use them.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace plinth::decoder_test {

enum class GgmlType : uint32_t { f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q8_0 = 8 };

inline uint16_t to_half(float f) {
  // Round to nearest even through the float's bits; test values are normal and in range.
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7FFFFFFFu;
  if (abs < 0x38800000u) return static_cast<uint16_t>(sign);  // tiny: flush to zero
  const uint32_t odd = (abs >> 13) & 1u;
  return static_cast<uint16_t>(sign | ((abs + 0xC8000FFFu + odd) >> 13));
}

inline float from_half(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  const uint32_t man = h & 0x3FFu;
  if (exp == 0) return std::bit_cast<float>(sign) + (sign ? -1.0f : 1.0f) * std::ldexp(static_cast<float>(man), -24);
  if (exp == 31) return std::bit_cast<float>(sign | 0x7F800000u | (man << 13));
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (man << 13));
}

// Encodes a row-major tensor in `type`; `values` is replaced by what decoding gives back.
inline std::vector<std::byte> encode(GgmlType type, std::vector<float>& values) {
  std::vector<std::byte> out;
  auto put = [&](const void* p, std::size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    out.insert(out.end(), b, b + n);
  };
  if (type == GgmlType::f32) {
    put(values.data(), values.size() * 4);
    return out;
  }
  if (type == GgmlType::f16) {
    for (float& v : values) {
      const uint16_t h = to_half(v);
      v = from_half(h);
      put(&h, 2);
    }
    return out;
  }
  for (std::size_t b0 = 0; b0 < values.size(); b0 += 32) {
    float* x = values.data() + b0;
    if (type == GgmlType::q8_0) {
      float amax = 0;
      for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
      const uint16_t dh = to_half(amax / 127.0f);
      const float d = from_half(dh);
      put(&dh, 2);
      for (int j = 0; j < 32; ++j) {
        const auto q = static_cast<int8_t>(d == 0 ? 0 : std::clamp<long>(std::lround(x[j] / d), -127, 127));
        put(&q, 1);
        x[j] = d * q;
      }
      continue;
    }
    uint8_t nib[32];
    float d = 0, m = 0;
    uint16_t dh = 0, mh = 0;
    if (type == GgmlType::q4_0) {
      float amax = 0;
      for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
      dh = to_half(amax / 7.0f);
      d = from_half(dh);
      for (int j = 0; j < 32; ++j)
        nib[j] = static_cast<uint8_t>(d == 0 ? 8 : std::clamp<long>(std::lround(x[j] / d) + 8, 0, 15));
      for (int j = 0; j < 32; ++j) x[j] = d * (static_cast<int>(nib[j]) - 8);
      put(&dh, 2);
    } else {  // q4_1
      float lo = x[0], hi = x[0];
      for (int j = 0; j < 32; ++j) lo = std::min(lo, x[j]), hi = std::max(hi, x[j]);
      dh = to_half((hi - lo) / 15.0f);
      mh = to_half(lo);
      d = from_half(dh);
      m = from_half(mh);
      for (int j = 0; j < 32; ++j)
        nib[j] = static_cast<uint8_t>(d == 0 ? 0 : std::clamp<long>(std::lround((x[j] - m) / d), 0, 15));
      for (int j = 0; j < 32; ++j) x[j] = d * nib[j] + m;
      put(&dh, 2);
      put(&mh, 2);
    }
    for (int j = 0; j < 16; ++j) {
      const auto byte = static_cast<uint8_t>(nib[j] | (nib[j + 16] << 4));
      put(&byte, 1);
    }
  }
  return out;
}

class GgufBuilder {
 public:
  void add_u32(std::string_view key, uint32_t v) { kv(key, 4, &v, 4); }
  void add_f32(std::string_view key, float v) { kv(key, 6, &v, 4); }
  void add_string(std::string_view key, std::string_view v) {
    key_(key);
    put_u32(meta_, 8);
    put_str(meta_, v);
    ++n_kv_;
  }
  // shape outermost first (as plinth reads it); values become what the file holds after encoding.
  void add_tensor(std::string_view name, GgmlType type, std::vector<int64_t> shape, std::vector<float>& values) {
    Tensor t{std::string(name), type, std::move(shape), encode(type, values)};
    tensors_.push_back(std::move(t));
  }

  std::vector<std::byte> bytes() const {
    std::vector<std::byte> out;
    put_raw(out, "GGUF", 4);
    put_u32(out, 3);
    put_u64(out, tensors_.size());
    put_u64(out, n_kv_);
    out.insert(out.end(), meta_.begin(), meta_.end());
    uint64_t offset = 0;
    std::vector<uint64_t> offsets;
    for (const Tensor& t : tensors_) {
      put_str(out, t.name);
      put_u32(out, static_cast<uint32_t>(t.shape.size()));
      for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) put_u64(out, static_cast<uint64_t>(*it));
      put_u32(out, static_cast<uint32_t>(t.type));
      put_u64(out, offset);
      offsets.push_back(offset);
      offset = (offset + t.data.size() + 31) / 32 * 32;
    }
    out.resize((out.size() + 31) / 32 * 32);
    const std::size_t base = out.size();
    for (std::size_t i = 0; i < tensors_.size(); ++i) {
      out.resize(base + offsets[i]);
      out.insert(out.end(), tensors_[i].data.begin(), tensors_[i].data.end());
    }
    return out;
  }

  void write(const std::filesystem::path& path) const {
    const auto b = bytes();
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }

 private:
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<int64_t> shape;
    std::vector<std::byte> data;
  };
  static void put_raw(std::vector<std::byte>& o, const void* p, std::size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    o.insert(o.end(), b, b + n);
  }
  static void put_u32(std::vector<std::byte>& o, uint32_t v) { put_raw(o, &v, 4); }
  static void put_u64(std::vector<std::byte>& o, uint64_t v) { put_raw(o, &v, 8); }
  static void put_str(std::vector<std::byte>& o, std::string_view s) {
    put_u64(o, s.size());
    put_raw(o, s.data(), s.size());
  }
  void key_(std::string_view key) { put_str(meta_, key); }
  void kv(std::string_view key, uint32_t type, const void* v, std::size_t n) {
    key_(key);
    put_u32(meta_, type);
    put_raw(meta_, v, n);
    ++n_kv_;
  }

  std::vector<std::byte> meta_;
  uint64_t n_kv_ = 0;
  std::vector<Tensor> tensors_;
};

}  // namespace plinth::decoder_test
