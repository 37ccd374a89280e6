// Launches from several host threads at once (each on its own stream, as engine replicas do): the
// plugin's thread pool serves one job at a time and a launch that finds it busy runs on its own
// thread, so the same op must give bit-identical results whichever way it was split.
#include <cstring>
#include <thread>

#include "cpu_test_harness.hpp"

namespace plinth::cpu_test {

HostTensor quantized_tensor(plinth_dtype_t t, int64_t rows, int64_t cols, uint32_t seed,
                            std::vector<double>* dequant);

namespace {

using CpuConcurrencyTest = CpuPlugin;

TEST_P(CpuConcurrencyTest, ConcurrentLaunchesMatchALoneLaunchBitForBit) {
  constexpr int64_t kM = 1, kK = 576, kN = 1536;  // a decode-sized quantized matmul
  constexpr int kThreads = 4, kLaunches = 25;
  std::vector<double> dequantized;
  const HostTensor w = quantized_tensor(PLINTH_DTYPE_Q4_1, kN, kK, 7, &dequantized);
  const HostTensor a = random_tensor(PLINTH_DTYPE_F32, {kM, kK}, 8);
  const HostTensor c = make(PLINTH_DTYPE_F32, {kM, kN}, std::vector<double>(kM * kN, 0.0));
  const plinth_tensor_t dw = upload(w);
  const plinth_tensor_t da = upload(a);
  plinth_matmul_params_t p{};
  p.struct_size = sizeof p;
  p.transpose_b = 1;
  p.alpha = 1.0f;

  const plinth_tensor_t lone = upload(c);
  ASSERT_EQ(launch(PLINTH_OP_MATMUL, {&da, &dw}, {&lone}, &p), PLINTH_OK) << api_->last_error_message();
  const HostTensor want = download(lone, c);

  std::vector<plinth_tensor_t> outs;
  std::vector<plinth_stream_t> streams(kThreads, nullptr);
  for (int t = 0; t < kThreads; ++t) {
    outs.push_back(upload(c));
    ASSERT_EQ(api_->stream_create(device_, 0, &streams[static_cast<size_t>(t)]), PLINTH_OK);
  }
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const auto ti = static_cast<size_t>(t);
      const plinth_tensor_t* in[] = {&da, &dw};
      const plinth_tensor_t* out[] = {&outs[ti]};
      plinth_op_call_t call{};
      call.struct_size = sizeof call;
      call.op = PLINTH_OP_MATMUL;
      call.inputs = in;
      call.num_inputs = 2;
      call.outputs = out;
      call.num_outputs = 1;
      call.params = &p;
      std::vector<uint8_t> got(want.bytes.size());
      for (int i = 0; i < kLaunches; ++i) {
        if (api_->op_launch(streams[ti], &call) != PLINTH_OK ||
            api_->copy_buffer_to_host(streams[ti], outs[ti].buffer, 0, got.data(), got.size()) != PLINTH_OK ||
            std::memcmp(got.data(), want.bytes.data(), got.size()) != 0) {
          ++mismatches[ti];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (plinth_stream_t s : streams) api_->stream_destroy(s);
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[static_cast<size_t>(t)], 0) << "thread " << t;
}

PLINTH_CPU_INSTANTIATE(CpuConcurrencyTest);

}  // namespace
}  // namespace plinth::cpu_test
