#include <cstdlib>

#include <gtest/gtest.h>

#include "test_support.hpp"

using plinth::DType;
using plinth::Tensor;
using plinth::test::CapturedLog;

namespace {

class ValidationTest : public ::testing::Test {
 protected:
  static plinth::RuntimeOptions options(CapturedLog& log) {
    auto o = plinth::test::coretest_options(log);
    o.validate = true;
    return o;
  }
  ValidationTest() : rt_(options(log_)), dev_(rt_.device("coretest:0")), s_(dev_.create_stream()) {}

  // Runs f, expects a validation Error with `status` whose message contains `needle`.
  template <class F>
  void expect_misuse(F&& f, plinth_status_t status, const std::string& needle) {
    const auto before = dev_.validation_stats().errors_caught;
    try {
      f();
      ADD_FAILURE() << "expected a validation error containing '" << needle << "'";
    } catch (const plinth::Error& e) {
      EXPECT_EQ(e.status(), status) << e.what();
      EXPECT_NE(std::string(e.what()).find("validation: "), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    EXPECT_EQ(dev_.validation_stats().errors_caught, before + 1);
  }

  CapturedLog log_;
  plinth::Runtime rt_;
  plinth::Device& dev_;
  plinth::Stream s_;
};

TEST_F(ValidationTest, UseAfterFreeThroughATensor) {
  auto b = dev_.allocate(64);
  const auto t = Tensor::contiguous(b, DType::f32, {16});
  const auto id = b.id();
  b.reset();
  // The block is cached and could be handed to someone else: the plugin would see a valid handle.
  auto reused = dev_.allocate(64);
  expect_misuse([&] { plinth::ops::fill(s_, t, 1.0); }, PLINTH_ERROR_INVALID_ARGUMENT,
                "uses buffer #" + std::to_string(id) + " after it was freed");
}

TEST_F(ValidationTest, TensorOutsideItsBuffer) {
  auto b = dev_.allocate(60);  // the plugin's block is 256 bytes: only the core knows the real size
  expect_misuse([&] { plinth::ops::fill(s_, Tensor::contiguous(b, DType::f32, {16}), 1.0); }, PLINTH_ERROR_OUT_OF_RANGE,
                "lies outside buffer");
  expect_misuse([&] { plinth::ops::fill(s_, Tensor::contiguous(b, DType::f32, {4}, 48), 1.0); },
                PLINTH_ERROR_OUT_OF_RANGE, "lies outside buffer");
  std::vector<std::byte> host(64);
  expect_misuse([&] { s_.upload(host.data(), b, 0, 64); }, PLINTH_ERROR_OUT_OF_RANGE, "destination range [0, 64)");
  expect_misuse([&] { s_.download(b, 8, host.data(), 60); }, PLINTH_ERROR_OUT_OF_RANGE, "source range");
}

TEST_F(ValidationTest, BuffersAndEventsMustBelongToTheStreamsDevice) {
  auto& other = rt_.device("coretest:1");
  auto foreign = other.allocate(64);
  expect_misuse([&] { plinth::ops::fill(s_, Tensor::contiguous(foreign, DType::f32, {16}), 1.0); },
                PLINTH_ERROR_INVALID_ARGUMENT, "of device coretest:1, but the stream belongs to coretest:0");
  auto mine = dev_.allocate(64);
  expect_misuse([&] { s_.copy(mine, 0, foreign, 0, 64); }, PLINTH_ERROR_INVALID_ARGUMENT, "belongs to coretest:0");
  auto e = other.create_event();
  expect_misuse([&] { s_.record(e); }, PLINTH_ERROR_INVALID_ARGUMENT, "belongs to coretest:1");
  expect_misuse([&] { s_.wait(e); }, PLINTH_ERROR_INVALID_ARGUMENT, "belongs to coretest:1");
  auto other_stream = other.create_stream();
  expect_misuse([&] { dev_.allocate(64, {.stream = &other_stream}); }, PLINTH_ERROR_INVALID_ARGUMENT,
                "belongs to coretest:1");
}

TEST_F(ValidationTest, MapOfDeviceMemoryWithoutUnifiedMemory) {
  auto& limited = rt_.device("coretest:1");
  auto b = limited.allocate(64);
  const auto before = limited.validation_stats().errors_caught;
  try {
    b.map();
    ADD_FAILURE() << "expected an Error";
  } catch (const plinth::Error& e) {
    EXPECT_EQ(e.status(), PLINTH_ERROR_UNSUPPORTED);
    EXPECT_NE(std::string(e.what()).find("not host-visible"), std::string::npos) << e.what();
  }
  EXPECT_EQ(limited.validation_stats().errors_caught, before + 1);
}

TEST_F(ValidationTest, TensorWithoutBuffer) {
  expect_misuse([&] { plinth::ops::fill(s_, Tensor::descriptor(DType::f32, {4}), 1.0); },
                PLINTH_ERROR_INVALID_ARGUMENT, "has no buffer");
}

TEST_F(ValidationTest, LeaksAreReportedOnePerLine) {
  auto b = dev_.allocate(100);
  auto e = dev_.create_event();
  const auto id = b.id();
  const auto leaks = rt_.close();
  EXPECT_EQ(leaks.buffers, 1u);
  EXPECT_EQ(leaks.events, 1u);
  EXPECT_EQ(leaks.streams, 1u);  // the fixture's stream
  const auto text = log_.text();
  EXPECT_NE(text.find("coretest:0: leaked buffer #" + std::to_string(id) + " (100 bytes, device memory)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("leaked event #"), std::string::npos) << text;
}

TEST(FaultSpec, ParsesTheDocumentedSyntax) {
  const auto f = plinth::parse_faults(" alloc:3, launch:10@cpu:0 ,device_lost:0@vulkan:1");
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].kind, plinth::FaultKind::alloc);
  EXPECT_EQ(f[0].n, 3u);
  EXPECT_TRUE(f[0].device.empty());
  EXPECT_EQ(f[1].kind, plinth::FaultKind::launch);
  EXPECT_EQ(f[1].device, "cpu:0");
  EXPECT_EQ(f[2].kind, plinth::FaultKind::device_lost);
  EXPECT_EQ(f[2].n, 0u);
  EXPECT_EQ(plinth::to_string(f[1]), "launch:10@cpu:0");
  EXPECT_TRUE(plinth::parse_faults("").empty());
  for (const char* bad : {"alloc", "alloc:x", "oom:3", "alloc:0", "launch:3@", "alloc:-1"}) {
    EXPECT_THROW(plinth::parse_faults(bad), plinth::Error) << bad;
  }
}


TEST(Faults, AllocNthFailsWithOutOfMemoryOnce) {
  CapturedLog log;
  auto o = plinth::test::coretest_options(log);
  o.faults = "alloc:2@coretest:0";
  plinth::Runtime rt(o);
  auto& dev = rt.device("coretest:0");
  auto a = dev.allocate(64);
  try {
    dev.allocate(64);
    FAIL() << "expected the injected fault";
  } catch (const plinth::Error& e) {
    EXPECT_EQ(e.status(), PLINTH_ERROR_OUT_OF_MEMORY);
    EXPECT_NE(e.message().find("injected fault alloc:2@coretest:0"), std::string::npos) << e.what();
  }
  auto c = dev.allocate(64);  // only the 2nd fails
  auto other = rt.device("coretest:1").allocate(64);
  auto other2 = rt.device("coretest:1").allocate(64);  // the fault named coretest:0 only
  EXPECT_EQ(dev.validation_stats().faults_injected, 1u);
  EXPECT_EQ(dev.allocator_stats().oom_retries, 0u);  // an injected failure is not retried
}

TEST(Faults, LaunchNthFails) {
  CapturedLog log;
  auto o = plinth::test::coretest_options(log);
  plinth::Runtime rt(o);
  auto& dev = rt.device("coretest:0");
  dev.inject_fault({.kind = plinth::FaultKind::launch, .n = 3, .device = {}});
  auto s = dev.create_stream();
  auto b = dev.allocate(16);
  const auto t = Tensor::contiguous(b, DType::f32, {4});
  plinth::ops::fill(s, t, 1.0);
  plinth::ops::fill(s, t, 2.0);
  try {
    plinth::ops::fill(s, t, 3.0);
    FAIL() << "expected the injected fault";
  } catch (const plinth::Error& e) {
    EXPECT_EQ(e.status(), PLINTH_ERROR_INTERNAL);
    EXPECT_EQ(e.call(), "op_launch");
  }
  plinth::ops::scale(s, t, t, {.scale = 10.0f});
  s.synchronize();
  EXPECT_EQ(b.read_values<float>(4), std::vector<float>(4, 20.0f));  // the failed launch had no effect
}

TEST(Faults, DeviceLostAfterNLaunches) {
  CapturedLog log;
  auto o = plinth::test::coretest_options(log);
  o.faults = "device_lost:2";
  plinth::Runtime rt(o);
  auto& dev = rt.device("coretest:0");
  auto s = dev.create_stream();
  auto b = dev.allocate(16);
  const auto t = Tensor::contiguous(b, DType::f32, {4});
  plinth::ops::fill(s, t, 1.0);
  EXPECT_FALSE(dev.lost());
  plinth::ops::fill(s, t, 1.0);
  EXPECT_TRUE(dev.lost());
  auto expect_lost = [](auto&& f) {
    try {
      f();
      ADD_FAILURE() << "expected DEVICE_LOST";
    } catch (const plinth::Error& e) {
      EXPECT_EQ(e.status(), PLINTH_ERROR_DEVICE_LOST) << e.what();
    }
  };
  expect_lost([&] { plinth::ops::fill(s, t, 1.0); });
  expect_lost([&] { s.synchronize(); });
  expect_lost([&] { dev.allocate(16); });
  expect_lost([&] { dev.create_stream(); });
  expect_lost([&] { b.read_values<float>(4); });
  // Destroying objects still works (b and s go out of scope here), and the other device is fine.
  EXPECT_FALSE(rt.device("coretest:1").lost());
}

// An injected loss exists only in the core: the plugin still runs the work queued before it. Freeing
// a buffer that queued work uses must still wait for that work (abi.h, buffer_free), or the plugin
// runs it on freed memory (the Vulkan plugin crashed that way). coretest refuses such a free.
TEST(Faults, InjectedLossStillFreesBuffersAfterTheirQueuedWork) {
  CapturedLog log;
  auto o = plinth::test::coretest_options(log);
  o.faults = "device_lost:2";
  {
    plinth::Runtime rt(o);
    auto& dev = rt.device("coretest:0");
    auto s = dev.create_stream();
    {
      auto b = dev.allocate(1024);
      const auto t = Tensor::contiguous(b, DType::f32, {256});
      plinth::ops::fill(s, t, 1.0);
      plinth::ops::fill(s, t, 2.0);
      ASSERT_TRUE(dev.lost());
    }  // b is freed here, with both fills still queued (coretest runs its streams lazily)
    EXPECT_EQ(dev.allocator_stats().plugin_frees, 1u);
    EXPECT_EQ(dev.allocator_stats().bytes_cached, 0u);  // a lost device caches nothing
  }
  EXPECT_EQ(log.text().find("failed"), std::string::npos) << log.text();
}

// A loss the plugin reports is real: from then on the plugin accepts only destroy calls (abi.h) and
// never runs what was queued. The core frees at once, without the events and waits it keeps for an
// injected loss; coretest logs any other call it receives after the loss.
TEST(Faults, LossReportedByThePluginLeavesOnlyDestroyCalls) {
  CapturedLog log;
  {
    ::setenv("PLINTH_PLUGIN_FAULT", "device_lost:2", 1);  // coretest reads it when a device opens
    plinth::Runtime rt(plinth::test::coretest_options(log));
    auto& dev = rt.device("coretest:0");
    ::unsetenv("PLINTH_PLUGIN_FAULT");
    auto s = dev.create_stream();
    auto other = dev.create_stream();
    {
      auto b = dev.allocate(1024);
      const auto t = Tensor::contiguous(b, DType::f32, {256});
      plinth::ops::fill(s, t, 1.0);
      plinth::ops::fill(other, t, 2.0);
      try {
        plinth::ops::fill(s, t, 3.0);
        FAIL() << "expected the plugin to report the loss";
      } catch (const plinth::Error& e) {
        EXPECT_EQ(e.status(), PLINTH_ERROR_DEVICE_LOST) << e.what();
      }
      ASSERT_TRUE(dev.lost());
    }  // b is freed here, still used by queued work on both streams
    EXPECT_EQ(dev.allocator_stats().plugin_frees, 1u);
  }
  const auto text = log.text();
  EXPECT_EQ(text.find("called after DEVICE_LOST"), std::string::npos) << text;
  EXPECT_EQ(text.find("failed"), std::string::npos) << text;
}

TEST(Faults, EnvironmentVariableIsRead) {
  ::setenv("PLINTH_FAULT", "alloc:1@coretest:1", 1);
  ::setenv("PLINTH_VALIDATE", "1", 1);
  CapturedLog log;
  auto o = plinth::test::coretest_options(log);
  o.faults.reset();
  o.validate.reset();
  plinth::Runtime rt(o);
  ::unsetenv("PLINTH_FAULT");
  ::unsetenv("PLINTH_VALIDATE");
  EXPECT_TRUE(rt.validation_enabled());
  EXPECT_NO_THROW(rt.device("coretest:0").allocate(16));
  EXPECT_THROW(rt.device("coretest:1").allocate(16), plinth::Error);
}

TEST(Faults, FaultForAnAbsentDeviceIsIgnoredWithAWarning) {
  CapturedLog log;
  auto o = plinth::test::coretest_options(log);
  o.faults = "alloc:1@vulkan:0";
  plinth::Runtime rt(o);
  EXPECT_NO_THROW(rt.device("coretest:0").allocate(16));
  EXPECT_NE(log.text().find("fault alloc:1@vulkan:0 names no open device"), std::string::npos) << log.text();
}

TEST(Faults, BadEnvironmentSpecIsAnError) {
  CapturedLog log;
  auto o = plinth::test::coretest_options(log);
  o.faults = "explode:1";
  EXPECT_THROW(plinth::Runtime rt(o), plinth::Error);
}

}  // namespace
