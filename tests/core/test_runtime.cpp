#include <gtest/gtest.h>

#include "test_support.hpp"

using plinth::DType;
using plinth::Tensor;
using plinth::test::CapturedLog;

namespace {

class RuntimeTest : public ::testing::Test {
 protected:
  RuntimeTest() : rt_(plinth::test::coretest_options(log_)), dev_(rt_.device("coretest:0")) {}
  CapturedLog log_;
  plinth::Runtime rt_;
  plinth::Device& dev_;
};

TEST_F(RuntimeTest, RaiiHandlesCountAndRelease) {
  EXPECT_EQ(dev_.live_objects().total(), 0u);
  {
    auto b = dev_.allocate(1000);
    auto s = dev_.create_stream();
    auto e = dev_.create_event();
    const auto live = dev_.live_objects();
    EXPECT_EQ(live.buffers, 1u);
    EXPECT_EQ(live.streams, 1u);
    EXPECT_EQ(live.events, 1u);
    auto moved = std::move(b);
    EXPECT_FALSE(static_cast<bool>(b));  // NOLINT(bugprone-use-after-move): the point of the test
    EXPECT_EQ(dev_.live_objects().buffers, 1u);
    EXPECT_EQ(&moved.device(), &dev_);
    EXPECT_EQ(moved.size(), 1000u);
  }
  EXPECT_EQ(dev_.live_objects().total(), 0u);
  EXPECT_EQ(rt_.close().total(), 0u);
}

TEST_F(RuntimeTest, WriteReadAndMap) {
  auto b = dev_.allocate(64 * sizeof(float));
  const auto data = plinth::test::iota_floats(64, 1.0f);
  b.write_values(data);
  EXPECT_EQ(b.read_values<float>(64), data);
  EXPECT_EQ(b.read_values<float>(2, 8), (std::vector<float>{3, 4}));
  ASSERT_TRUE(b.host_visible());  // coretest:0 has unified memory
  {
    auto m = b.map(4 * sizeof(float), 4 * sizeof(float));
    auto* f = static_cast<float*>(m.data());
    EXPECT_EQ(f[0], 5.0f);
    f[0] = -1.0f;
  }
  EXPECT_EQ(b.read_values<float>(1, 4 * sizeof(float))[0], -1.0f);
  auto& limited = rt_.device("coretest:1");
  EXPECT_FALSE(limited.allocate(64).host_visible());
  EXPECT_TRUE(limited.allocate(64, {.kind = plinth::MemoryKind::host_pinned}).host_visible());
}

TEST_F(RuntimeTest, StreamWorkIsOrderedAndEventsReportCompletion) {
  auto s = dev_.create_stream();
  auto b = dev_.allocate(16 * sizeof(float));
  const auto t = Tensor::contiguous(b, DType::f32, {16});
  plinth::ops::fill(s, t, 2.0);
  plinth::ops::scale(s, t, t, {.scale = 3.0f, .bias = 1.0f});
  auto start = dev_.create_event({.timing = true});
  auto end = dev_.create_event({.timing = true});
  EXPECT_TRUE(end.query());  // never recorded: complete
  s.record(start);
  plinth::ops::add(s, t, t, t);
  s.record(end);
  EXPECT_FALSE(end.query());  // coretest runs lazily: nothing waited yet
  end.synchronize();
  EXPECT_TRUE(end.query());
  EXPECT_GE(end.elapsed_ms_since(start), 0.0f);
  std::vector<float> out(16);
  s.download(b, 0, out.data(), out.size() * sizeof(float));
  s.synchronize();
  EXPECT_EQ(out, std::vector<float>(16, 14.0f));
}

TEST_F(RuntimeTest, CrossStreamWait) {
  auto s1 = dev_.create_stream();
  auto s2 = dev_.create_stream();
  auto b = dev_.allocate(4 * sizeof(float));
  const auto t = Tensor::contiguous(b, DType::f32, {4});
  plinth::ops::fill(s1, t, 7.0);
  auto e = dev_.create_event();
  s1.record(e);
  s2.wait(e);
  plinth::ops::scale(s2, t, t, {.scale = 2.0f});
  s2.synchronize();  // must have run s1's fill first
  EXPECT_EQ(b.read_values<float>(4), std::vector<float>(4, 14.0f));
}

TEST_F(RuntimeTest, PluginErrorsBecomeErrorsWithTheirMessage) {
  auto s = dev_.create_stream();
  auto b = dev_.allocate(16);
  std::vector<std::byte> src(64);
  try {
    // Without validation the call reaches the plugin (the block is 256 bytes), whose range check
    // answers; with the size class the plugin sees 256 bytes, so go past that.
    s.upload(src.data(), b, 250, 64);
    FAIL() << "expected an Error";
  } catch (const plinth::Error& e) {
    EXPECT_EQ(e.status(), PLINTH_ERROR_OUT_OF_RANGE);
    EXPECT_EQ(e.call(), "copy_host_to_buffer");
    EXPECT_EQ(e.device(), "coretest:0");
    // The plugin's message (the SDK adapter's range check), verbatim.
    const std::string message =
        "copy_host_to_buffer: dst: bytes [250, +64) lie outside the buffer of 256 bytes";
    EXPECT_EQ(e.message(), message);
    EXPECT_EQ(e.what(), "copy_host_to_buffer on coretest:0: PLINTH_ERROR_OUT_OF_RANGE: " + message);
  }
}

TEST_F(RuntimeTest, InvalidOpCallCarriesSdkMessage) {
  auto s = dev_.create_stream();
  auto b = dev_.allocate(1024);
  const auto a = Tensor::contiguous(b, DType::f32, {2, 3});
  const auto c = Tensor::contiguous(b, DType::f32, {2, 5}, 256);
  try {
    plinth::ops::matmul(s, a, a, c);  // inner dimensions 3 vs 2 do not match
    FAIL() << "expected an Error";
  } catch (const plinth::Error& e) {
    EXPECT_EQ(e.status(), PLINTH_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(e.call(), "op_launch(matmul)");
    EXPECT_FALSE(e.message().empty());
  }
}

TEST_F(RuntimeTest, UnsupportedOpNamesOpDtypesAndReason) {
  auto& limited = rt_.device("coretest:1");
  auto s = limited.create_stream();
  auto b = limited.allocate(4096);
  const auto a = Tensor::contiguous(b, DType::f32, {4, 4});
  const auto c = Tensor::contiguous(b, DType::f32, {4, 4}, 1024);
  const auto call = plinth::ops::make_matmul(a, a, c);
  const auto support = limited.supports(call);
  EXPECT_FALSE(support.supported);
  EXPECT_EQ(support.reason, "the coretest limited device has no matmul");
  EXPECT_TRUE(dev_.supports(plinth::ops::make_matmul(Tensor::descriptor(DType::f32, {4, 4}),
                                                     Tensor::descriptor(DType::f32, {4, 4}),
                                                     Tensor::descriptor(DType::f32, {4, 4}))));
  try {
    s.launch(call);
    FAIL() << "expected an Error";
  } catch (const plinth::Error& e) {
    EXPECT_EQ(e.status(), PLINTH_ERROR_UNSUPPORTED);
    const std::string what = e.what();
    EXPECT_NE(what.find("matmul(a=f32[4,4], b=f32[4,4]) -> c=f32[4,4]@1024"), std::string::npos) << what;
    EXPECT_NE(what.find("the coretest limited device has no matmul"), std::string::npos) << what;
    EXPECT_NE(what.find("coretest:1"), std::string::npos) << what;
  }
  EXPECT_EQ(limited.fallback_count(), 0u);
}

TEST_F(RuntimeTest, CloseReportsLeaksAndMakesHandlesInert) {
  auto b = dev_.allocate(128);
  auto s = dev_.create_stream();
  const auto leaks = rt_.close();
  EXPECT_EQ(leaks.buffers, 1u);
  EXPECT_EQ(leaks.streams, 1u);
  EXPECT_EQ(leaks.total(), 2u);
  EXPECT_NE(log_.text().find("2 object(s) still alive at close"), std::string::npos) << log_.text();
  EXPECT_THROW(s.synchronize(), plinth::Error);
  EXPECT_EQ(rt_.close().total(), 0u);  // idempotent
  // b and s are destroyed after the runtime closed: no plugin call, no crash.
}

TEST_F(RuntimeTest, MemoryInfoFallsBackToAllocatorUse) {
  const auto before = dev_.memory_info();
  EXPECT_FALSE(before.from_plugin);
  EXPECT_EQ(before.total, 64u << 20);
  auto b = dev_.allocate(3 << 20);
  EXPECT_EQ(dev_.memory_info().free, before.free - (3u << 20));
}

TEST(RuntimeLog, LevelFromOptionsAndBadValueWarns) {
  plinth::RuntimeOptions o;
  o.use_env_plugin_path = false;
  o.use_default_plugin_dirs = false;
  o.log_level = "error";
  plinth::Runtime rt(o);
  ASSERT_NE(rt.logger(), nullptr);
  EXPECT_EQ(rt.logger()->level(), spdlog::level::err);
  EXPECT_TRUE(rt.devices().empty());
}

}  // namespace
