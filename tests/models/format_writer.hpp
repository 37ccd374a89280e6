#pragma once
// Builds small GGUF and safetensors images in memory for the tests and the fuzz seed corpus. It
// writes exactly what it is told (counts, offsets and types may be overridden) so tests can
// produce both valid and deliberately broken files.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace plinth::formats::testing {

using Bytes = std::vector<std::byte>;

inline void put_bytes(Bytes& out, const void* data, std::size_t n) {
  const auto* p = static_cast<const std::byte*>(data);
  out.insert(out.end(), p, p + n);
}
template <class T>
void put(Bytes& out, T v) {
  put_bytes(out, &v, sizeof(T));
}
inline void put_string(Bytes& out, std::string_view s) {
  put<std::uint64_t>(out, s.size());
  put_bytes(out, s.data(), s.size());
}

// GGUF value type ids as written in files.
enum : std::uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7, kStr = 8, kArr = 9,
  kU64 = 10, kI64 = 11, kF64 = 12,
};
// A few GGUF tensor type ids.
enum : std::uint32_t { kGgmlF32 = 0, kGgmlF16 = 1, kGgmlQ4_0 = 2, kGgmlQ4_1 = 3, kGgmlQ8_0 = 8, kGgmlQ4_K = 12, kGgmlBF16 = 30 };

/// One encoded key/value pair: key, type, value bytes.
template <class T>
Bytes kv(std::string_view key, std::uint32_t type, T value) {
  Bytes b;
  put_string(b, key);
  put<std::uint32_t>(b, type);
  put(b, value);
  return b;
}
inline Bytes kv_string(std::string_view key, std::string_view value) {
  Bytes b;
  put_string(b, key);
  put<std::uint32_t>(b, kStr);
  put_string(b, value);
  return b;
}
/// The body of an array value (element type, count, elements), usable inside nested arrays.
template <class T>
Bytes array_body(std::uint32_t element_type, const std::vector<T>& values) {
  Bytes b;
  put<std::uint32_t>(b, element_type);
  put<std::uint64_t>(b, values.size());
  for (const T& v : values) put(b, v);
  return b;
}
inline Bytes string_array_body(const std::vector<std::string>& values) {
  Bytes b;
  put<std::uint32_t>(b, kStr);
  put<std::uint64_t>(b, values.size());
  for (const auto& v : values) put_string(b, v);
  return b;
}
inline Bytes nested_array_body(const std::vector<Bytes>& bodies) {
  Bytes b;
  put<std::uint32_t>(b, kArr);
  put<std::uint64_t>(b, bodies.size());
  for (const auto& body : bodies) b.insert(b.end(), body.begin(), body.end());
  return b;
}
inline Bytes kv_array(std::string_view key, const Bytes& body) {
  Bytes b;
  put_string(b, key);
  put<std::uint32_t>(b, kArr);
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

struct GgufTensorSpec {
  std::string name;
  std::uint32_t type = kGgmlF32;
  std::vector<std::uint64_t> ne;  // innermost first, as GGUF stores it
  Bytes data;
  std::optional<std::uint64_t> offset;  // relative to the data section; default: packed, aligned
};

struct GgufSpec {
  std::uint32_t version = 3;
  std::uint32_t alignment = 32;  // used for placement; write general.alignment yourself to change it
  std::vector<Bytes> kvs;
  std::vector<GgufTensorSpec> tensors;
  std::optional<std::uint64_t> kv_count;
  std::optional<std::uint64_t> tensor_count;
};

inline std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }

inline Bytes build_gguf(const GgufSpec& spec) {
  Bytes b;
  put_bytes(b, "GGUF", 4);
  put<std::uint32_t>(b, spec.version);
  put<std::uint64_t>(b, spec.tensor_count.value_or(spec.tensors.size()));
  put<std::uint64_t>(b, spec.kv_count.value_or(spec.kvs.size()));
  for (const auto& kvb : spec.kvs) b.insert(b.end(), kvb.begin(), kvb.end());
  std::vector<std::uint64_t> offsets;
  std::uint64_t next = 0;
  for (const auto& t : spec.tensors) {
    const std::uint64_t off = t.offset.value_or(next);
    offsets.push_back(off);
    next = align_up(off + t.data.size(), spec.alignment);
    put_string(b, t.name);
    put<std::uint32_t>(b, static_cast<std::uint32_t>(t.ne.size()));
    for (auto d : t.ne) put<std::uint64_t>(b, d);
    put<std::uint32_t>(b, t.type);
    put<std::uint64_t>(b, off);
  }
  if (spec.tensors.empty()) return b;
  const std::uint64_t data = align_up(b.size(), spec.alignment);
  for (std::size_t i = 0; i < spec.tensors.size(); ++i) {
    const std::uint64_t at = data + offsets[i];
    if (offsets[i] > (1u << 20)) continue;  // a deliberately wild offset: leave the data out
    if (b.size() < at) b.resize(at);
    if (b.size() < at + spec.tensors[i].data.size()) b.resize(at + spec.tensors[i].data.size());
    std::memcpy(b.data() + at, spec.tensors[i].data.data(), spec.tensors[i].data.size());
  }
  return b;
}

inline Bytes filled(std::size_t n, std::uint8_t seed = 1) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = std::byte(static_cast<std::uint8_t>(seed + i * 7));
  return b;
}

/// A safetensors image from a literal JSON header and the data section.
inline Bytes build_safetensors_raw(std::string_view header, const Bytes& data) {
  Bytes b;
  put<std::uint64_t>(b, header.size());
  put_bytes(b, header.data(), header.size());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

struct SafetensorsTensorSpec {
  std::string name;
  std::string dtype;
  std::vector<std::int64_t> shape;
  Bytes data;
};

/// Packs the tensors one after another in the order given.
inline Bytes build_safetensors(const std::vector<SafetensorsTensorSpec>& tensors,
                               const std::map<std::string, std::string>& metadata = {}) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  Bytes data;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + t.data.size()}}};
    data.insert(data.end(), t.data.begin(), t.data.end());
  }
  return build_safetensors_raw(header.dump(), data);
}

}  // namespace plinth::formats::testing
