// The core against real plugins built in this tree (CPU, template). Each test skips with a reason
// when its plugin was not built or reports no usable device.
#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "plinth/plinth.hpp"

using plinth::DType;
using plinth::Tensor;

namespace {

std::vector<std::string> plugin_paths() {
  std::vector<std::string> paths;
#ifdef PLINTH_TEST_CPU_PLUGIN
  paths.emplace_back(PLINTH_TEST_CPU_PLUGIN);
#endif
#ifdef PLINTH_TEST_TEMPLATE_PLUGIN
  paths.emplace_back(PLINTH_TEST_TEMPLATE_PLUGIN);
#endif
  return paths;
}

class RealPlugin : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<plinth::Runtime> open() {
    plinth::RuntimeOptions o;
    o.plugin_paths = {GetParam()};
    o.use_env_plugin_path = false;
    o.use_default_plugin_dirs = false;
    o.validate = true;
    o.faults = "";
    return std::make_unique<plinth::Runtime>(o);
  }
};

TEST_P(RealPlugin, CoreOpsStreamsEventsAndGraphs) {
  auto rt = open();
  ASSERT_EQ(rt->plugins().size(), 1u) << (rt->rejected_plugins().empty() ? "" : rt->rejected_plugins()[0].reason);
  if (rt->devices().empty()) GTEST_SKIP() << "plugin " << GetParam() << " reports no usable device";
  for (auto* dev : rt->devices()) {
    SCOPED_TRACE(dev->id());
    auto s1 = dev->create_stream();
    auto s2 = dev->create_stream();
    constexpr int kN = 1000;
    auto bx = dev->allocate(kN * sizeof(float), {.stream = &s1});
    auto by = dev->allocate(kN * sizeof(float), {.stream = &s1});
    const auto x = Tensor::contiguous(bx, DType::f32, {kN});
    const auto y = Tensor::contiguous(by, DType::f32, {kN});
    plinth::ops::fill(s1, x, 1.5);
    plinth::ops::scale(s1, x, y, {.scale = 2.0f, .bias = 1.0f});  // y = 4
    auto e = dev->create_event();
    s1.record(e);
    s2.wait(e);
    plinth::ops::add(s2, x, y, y);  // y = 5.5, ordered after s1 through the event
    s2.synchronize();
    EXPECT_EQ(by.read_values<float>(kN), std::vector<float>(kN, 5.5f));

    // Capture and replay (native or emulated) run the recorded work once per launch.
    s1.begin_capture();
    plinth::ops::add(s1, x, y, y);
    auto g = s1.end_capture();
    s1.synchronize();
    EXPECT_EQ(by.read_values<float>(1), std::vector<float>(1, 5.5f)) << "capture must not execute";
    g.launch(s1);
    g.launch(s1);
    s1.synchronize();
    EXPECT_EQ(by.read_values<float>(kN), std::vector<float>(kN, 8.5f));
  }
  EXPECT_EQ(rt->close().total(), 0u);
}

TEST_P(RealPlugin, MatmulMatchesAHostReference) {
  auto rt = open();
  if (rt->devices().empty()) GTEST_SKIP() << "plugin " << GetParam() << " reports no usable device";
  for (auto* dev : rt->devices()) {
    SCOPED_TRACE(dev->id());
    auto s = dev->create_stream();
    constexpr int M = 5, K = 7, N = 3;
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> a(M * K), b(N * K);
    for (auto& v : a) v = dist(rng);
    for (auto& v : b) v = dist(rng);
    auto ba = dev->allocate(a.size() * sizeof(float), {.stream = &s});
    auto bb = dev->allocate(b.size() * sizeof(float), {.stream = &s});
    auto bc = dev->allocate(M * N * sizeof(float), {.stream = &s});
    s.upload(a.data(), ba, 0, a.size() * sizeof(float));
    s.upload(b.data(), bb, 0, b.size() * sizeof(float));
    const auto ta = Tensor::contiguous(ba, DType::f32, {M, K});
    const auto tb = Tensor::contiguous(bb, DType::f32, {N, K});
    const auto tc = Tensor::contiguous(bc, DType::f32, {M, N});
    const auto call = plinth::ops::make_matmul(ta, tb, tc, {.transpose_b = true});
    const auto support = dev->supports(call);
    if (!support) {
      // Unsupported must be an Error naming the op, never a silent no-op.
      EXPECT_THROW(s.launch(call), plinth::Error);
      s.synchronize();
      continue;
    }
    s.launch(call);
    plinth::ops::scale(s, tc, tc, {.scale = 2.0f, .bias = 0.5f});
    std::vector<float> c(M * N);
    s.download(bc, 0, c.data(), c.size() * sizeof(float));
    s.synchronize();
    for (int i = 0; i < M; ++i) {
      for (int j = 0; j < N; ++j) {
        double ref = 0;
        for (int k = 0; k < K; ++k) ref += double(a[i * K + k]) * b[j * K + k];
        EXPECT_NEAR(c[i * N + j], 2.0 * ref + 0.5, 1e-4) << i << "," << j;
      }
    }
  }
  EXPECT_EQ(rt->close().total(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Core, RealPlugin, ::testing::ValuesIn(plugin_paths()),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                           const auto stem = std::filesystem::path(p.param).stem().string();
                           return stem.substr(stem.rfind('-') + 1);
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(RealPlugin);

}  // namespace
