// Performance profile: informational numbers only, never pass/fail (a perf test fails only when the
// plugin errors or crashes while being measured).
#include <chrono>
#include <cstring>

#include "harness.hpp"

namespace plinth::cts {
namespace {

using Clock = std::chrono::steady_clock;

plinth_tensor_t dense(plinth_buffer_t buffer, std::vector<int64_t> dims) {
  auto t = sized<plinth_tensor_t>();
  t.dtype = PLINTH_DTYPE_F32;
  t.buffer = buffer;
  t.ndim = static_cast<uint32_t>(dims.size());
  int64_t stride = 4;
  for (std::size_t k = dims.size(); k-- > 0;) {
    t.dims[k] = dims[k];
    t.strides[k] = stride;
    stride *= dims[k];
  }
  return t;
}

// Runs `body` repeatedly for about `budget` seconds (at least twice); returns seconds per run.
template <class F>
double time_per_run(const Session& s, F body, double budget) {
  body();
  s.sync();
  int runs = 0;
  const auto t0 = Clock::now();
  double elapsed = 0;
  do {
    body();
    s.sync();
    ++runs;
    elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (elapsed < budget && runs < 1000);
  return elapsed / runs;
}

void copy_bandwidth(TestEnv& env) {
  const auto& s = env.s();
  constexpr uint64_t kSize = 64ull << 20;
  if (s.props().max_allocation < kSize) throw Skipped("max_allocation below 64 MiB");
  auto a = s.alloc(kSize);
  auto b = s.alloc(kSize);
  std::vector<std::byte> host(kSize, std::byte{1});
  s.upload(a, 0, host);
  const double device = time_per_run(s, [&] { s.check(s.api().copy_buffer(s.stream(), a.get(), 0, b.get(), 0, kSize), "copy_buffer"); }, 0.3);
  const double upload = time_per_run(s, [&] { s.check(s.api().copy_host_to_buffer(s.stream(), host.data(), a.get(), 0, kSize), "copy_host_to_buffer"); }, 0.3);
  // Read + write of every byte for device copies; one transfer for uploads.
  env.metric({"copy_buffer_64MiB", 2.0 * kSize / device / 1e9, "GB/s"});
  env.metric({"copy_host_to_buffer_64MiB", kSize / upload / 1e9, "GB/s"});
}

void launch_latency(TestEnv& env) {
  const auto& s = env.s();
  auto out = s.alloc(64);
  auto t = dense(out.get(), {1});
  const plinth_tensor_t* outs[1] = {&t};
  auto p = sized<plinth_fill_params_t>();
  p.value = 1.0;
  auto call = sized<plinth_op_call_t>();
  call.op = PLINTH_OP_FILL;
  call.outputs = outs;
  call.num_outputs = 1;
  call.params = &p;
  constexpr int kLaunches = 200;
  const double per_batch = time_per_run(s, [&] {
    for (int i = 0; i < kLaunches; ++i) s.check(s.api().op_launch(s.stream(), &call), "op_launch(FILL [1])");
  }, 0.2);
  env.metric({"launch_latency_fill_1", per_batch / kLaunches * 1e6, "us"});
}

void matmul_throughput(TestEnv& env) {
  const auto& s = env.s();
  constexpr int64_t kN = 512;
  auto a = s.alloc(kN * kN * 4);
  auto b = s.alloc(kN * kN * 4);
  auto c = s.alloc(kN * kN * 4);
  std::vector<float> host(static_cast<std::size_t>(kN * kN), 0.5f);
  s.upload(a, 0, std::as_bytes(std::span(host)));
  s.upload(b, 0, std::as_bytes(std::span(host)));
  auto ta = dense(a.get(), {kN, kN}), tb = dense(b.get(), {kN, kN}), tc = dense(c.get(), {kN, kN});
  const plinth_tensor_t* ins[2] = {&ta, &tb};
  const plinth_tensor_t* outs[1] = {&tc};
  auto p = sized<plinth_matmul_params_t>();
  p.alpha = 1.0f;
  auto call = sized<plinth_op_call_t>();
  call.op = PLINTH_OP_MATMUL;
  call.inputs = ins;
  call.num_inputs = 2;
  call.outputs = outs;
  call.num_outputs = 1;
  call.params = &p;
  uint32_t supported = 0;
  s.check(s.api().op_supports(s.device(), &call, &supported), "op_supports(MATMUL)");
  if (!supported) throw Skipped("f32 matmul not supported: " + s.last_error());
  const double t = time_per_run(s, [&] { s.check(s.api().op_launch(s.stream(), &call), "op_launch(MATMUL 512)"); }, 0.5);
  env.metric({"matmul_f32_512x512x512", 2.0 * kN * kN * kN / t / 1e9, "GFLOP/s"});
}

}  // namespace

SuiteDef perf_suite(Level level) {
  SuiteDef s{"perf", true, {}};
  s.tests = {{"perf.copy_bandwidth", "", copy_bandwidth}, {"perf.launch_latency", "", launch_latency}};
  if (level_includes(level, Level::kInference1))
    s.tests.push_back({"perf.matmul_throughput", "", matmul_throughput});
  return s;
}

std::vector<SuiteDef> build_suites(Level level) {
  return {abi_suite(level), device_suite(), multi_device_suite(), memory_suite(),      streams_suite(),
          stress_suite(),   lost_suite(),   ops_suite(level),     errors_suite(level), perf_suite(level)};
}

}  // namespace plinth::cts
