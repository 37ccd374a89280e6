// The matmul baseline: oneDNN's matmul primitive called directly, with exactly the layout Plinth's
// benchmark uses (a [M, K] row-major, weights stored [N, K] and read transposed, c [M, N] row-major).
// The primitive and its memory objects are created once; run() is one execute plus a wait.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "plinth/dtype.hpp"

namespace plinth::bench {

class OneDnnMatmulBaseline {
 public:
  // Throws std::runtime_error when oneDNN has no implementation for these dtypes on this machine
  // (message says so) or when the bench was built without oneDNN.
  OneDnnMatmulBaseline(int64_t m, int64_t k, int64_t n, DType in_type, DType out_type, void* a, void* b,
                       void* c);
  OneDnnMatmulBaseline(OneDnnMatmulBaseline&&) noexcept;
  OneDnnMatmulBaseline& operator=(OneDnnMatmulBaseline&&) noexcept;
  ~OneDnnMatmulBaseline();

  void run();
  // oneDNN's name of the implementation it chose ("brg:avx512_core", "gemm:jit", ...).
  std::string implementation() const;

  static bool available() noexcept;  // false when built without oneDNN

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace plinth::bench
