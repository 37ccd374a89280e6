// Dense matmul through oneDNN with a per-stream cache of primitives and memory objects, so a call
// whose shape was seen before costs three set_data_handle calls and an execute.
#pragma once

#include <array>
#include <cstdint>
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>

namespace plinth::cpu {

class OneDnnMatmul {
 public:
  // A matrix operand: logical dims [..., rows, cols] (2 to 4 dims) and element strides (> 0 for
  // every extent above 1).
  struct Operand {
    void* data = nullptr;
    dnnl::memory::data_type type = dnnl::memory::data_type::f32;
    int ndim = 2;
    std::array<int64_t, 4> dims{};
    std::array<int64_t, 4> strides{};
  };

  explicit OneDnnMatmul(const dnnl::engine& engine);

  // c = alpha * a @ b. Returns false when oneDNN has no implementation for this combination (the
  // caller then takes another path); throws sdk::Error on a oneDNN failure.
  bool run(const Operand& a, const Operand& b, const Operand& c, float alpha);

 private:
  static constexpr int kKeyLen = 31;
  using Key = std::array<int64_t, kKeyLen>;
  struct KeyHash {
    size_t operator()(const Key& k) const noexcept;
  };
  struct Entry {
    dnnl::matmul primitive;
    dnnl::memory a;
    dnnl::memory b;
    dnnl::memory c;
    std::unordered_map<int, dnnl::memory> args;  // shares a, b, c: built once
    bool supported = true;
  };

  static Key make_key(const Operand& a, const Operand& b, const Operand& c, float alpha);
  Entry create(const Operand& a, const Operand& b, const Operand& c, float alpha);

  dnnl::engine engine_;
  dnnl::stream stream_;
  std::unordered_map<Key, Entry, KeyHash> cache_;
};

}  // namespace plinth::cpu
