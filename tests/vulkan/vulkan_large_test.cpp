// Tensors larger than lavapipe's 128 MiB maxStorageBufferRange: a copy, a get_rows table and a
// quantized matmul weight that each span more than one storage-buffer window.
#include "vulkan_harness.hpp"

namespace plinth::vulkan_test {
namespace {

using VulkanLarge = VulkanTest;

constexpr uint64_t kBeyondRange = (128ull << 20) + (8ull << 20);  // 136 MiB

TEST_F(VulkanLarge, CopyGetRowsAndQuantMatmulBeyond128MiB) {
  // get_rows over a 136 MiB f32 table; rows at both ends.
  const int64_t D = 1024;
  const int64_t R = static_cast<int64_t>(kBeyondRange / (D * 4));
  std::vector<float> table(static_cast<size_t>(R * D));
  for (int64_t r = 0; r < R; ++r)
    table[r * D] = static_cast<float>(r), table[r * D + D - 1] = -static_cast<float>(r);
  plinth_buffer_t bt = upload(table);
  std::vector<int32_t> idx = {static_cast<int32_t>(R - 1), 0, static_cast<int32_t>(R / 2)};
  plinth_buffer_t bi = upload(idx), by = alloc(3 * D * 4);
  auto tt = tensor(bt, PLINTH_DTYPE_F32, {R, D});
  auto ti = tensor(bi, PLINTH_DTYPE_I32, {3});
  auto ty = tensor(by, PLINTH_DTYPE_F32, {3, D});
  run(PLINTH_OP_GET_ROWS, {&tt, &ti}, {&ty});
  auto y = download<float>(by, 3 * D);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(y[i * D], static_cast<float>(idx[i]));
    EXPECT_EQ(y[i * D + D - 1], -static_cast<float>(idx[i]));
  }

  // A device-side buffer copy and an elementwise copy op over the whole table.
  plinth_buffer_t bc = alloc(table.size() * 4);
  ASSERT_EQ(api_->copy_buffer(stream_, bt, 0, bc, 0, table.size() * 4), PLINTH_OK);
  plinth_buffer_t bd = alloc(table.size() * 4);
  auto tc = tensor(bc, PLINTH_DTYPE_F32, {R, D});
  auto td = tensor(bd, PLINTH_DTYPE_F32, {R, D});
  run(PLINTH_OP_COPY, {&tc}, {&td});
  auto tail = download<float>(bd, D, (R - 1) * D * 4);
  EXPECT_EQ(tail[0], static_cast<float>(R - 1));
  EXPECT_EQ(tail[D - 1], -static_cast<float>(R - 1));
  EXPECT_EQ(api_->buffer_free(bd), PLINTH_OK);
  EXPECT_EQ(api_->buffer_free(bc), PLINTH_OK);
  std::erase(buffers_, bd);
  std::erase(buffers_, bc);

  // Q8_0 weight [N, K] of 136 MiB; decode-shaped (M = 1). Each row is all ones scaled by d = 1,
  // except for a distinguishing first element.
  const int64_t K = 4096;
  const int64_t row_bytes = K / 32 * 34;
  const int64_t N = static_cast<int64_t>(kBeyondRange / row_bytes);
  std::vector<uint8_t> w(static_cast<size_t>(N * row_bytes));
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t b = 0; b < K / 32; ++b) {
      sdk::BlockQ8_0 blk{};
      blk.d = sdk::f32_to_f16(1.0f);
      for (int j = 0; j < 32; ++j) blk.qs[j] = 1;
      if (b == 0) blk.qs[0] = static_cast<int8_t>(n % 100);
      std::memcpy(&w[n * row_bytes + b * 34], &blk, sizeof blk);
    }
  }
  plinth_buffer_t bw = upload(w);
  std::vector<float> a(K, 1.0f);
  plinth_buffer_t ba = upload(a), bo = alloc(N * 4);
  auto tw = tensor(bw, PLINTH_DTYPE_Q8_0, {N, K});
  auto ta = tensor(ba, PLINTH_DTYPE_F32, {1, K});
  auto to = tensor(bo, PLINTH_DTYPE_F32, {1, N});
  plinth_matmul_params_t p{};
  p.struct_size = sizeof p;
  p.transpose_b = 1;
  p.alpha = 1.0f;
  run(PLINTH_OP_MATMUL, {&ta, &tw}, {&to}, &p);
  auto out = download<float>(bo, N);
  for (int64_t n : {int64_t{0}, int64_t{1}, N / 2, N - 1}) {
    EXPECT_EQ(out[n], static_cast<float>(K - 1 + n % 100)) << "row " << n;
  }
}

}  // namespace
}  // namespace plinth::vulkan_test
