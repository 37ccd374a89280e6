#include <gtest/gtest.h>

#include "test_support.hpp"

using plinth::DType;
using plinth::Tensor;
using plinth::test::CapturedLog;

namespace {

struct Matmul {
  plinth::Buffer buffer;
  Tensor a, b, c;
};

// a = [[1,2],[3,4]], b = identity*2 -> c = 2a.
Matmul make_matmul(plinth::Device& dev) {
  Matmul m;
  m.buffer = dev.allocate(1024);
  m.a = Tensor::contiguous(m.buffer, DType::f32, {2, 2});
  m.b = Tensor::contiguous(m.buffer, DType::f32, {2, 2}, 256);
  m.c = Tensor::contiguous(m.buffer, DType::f32, {2, 2}, 512);
  m.buffer.write_values(std::vector<float>{1, 2, 3, 4}, 0);
  m.buffer.write_values(std::vector<float>{2, 0, 0, 2}, 256);
  m.buffer.write_values(std::vector<float>{0, 0, 0, 0}, 512);
  return m;
}

TEST(Fallback, OffByDefault) {
  CapturedLog log;
  plinth::Runtime rt(plinth::test::coretest_options(log));
  auto& limited = rt.device("coretest:1");
  auto s = limited.create_stream();
  auto m = make_matmul(limited);
  EXPECT_THROW(plinth::ops::matmul(s, m.a, m.b, m.c), plinth::Error);
  EXPECT_EQ(limited.fallback_count(), 0u);
  EXPECT_EQ(log.text().find("fallback:"), std::string::npos);
}

TEST(Fallback, StreamOptionRunsOnFallbackDeviceCountsAndWarns) {
  CapturedLog log;
  plinth::Runtime rt(plinth::test::coretest_options(log));
  auto& limited = rt.device("coretest:1");
  auto& full = rt.device("coretest:0");
  auto s = limited.create_stream({.fallback = &full});
  auto m = make_matmul(limited);
  plinth::ops::fill(s, m.a.slice(0, 0, 1), 1.0);  // supported: runs on limited itself
  plinth::ops::matmul(s, m.a, m.b, m.c);
  s.synchronize();
  EXPECT_EQ(m.buffer.read_values<float>(4, 512), (std::vector<float>{2, 2, 6, 8}));
  EXPECT_EQ(limited.fallback_count(), 1u);
  EXPECT_EQ(full.fallback_count(), 0u);
  const auto text = log.text();
  EXPECT_NE(text.find("warning fallback: matmul(a=f32[2,2]"), std::string::npos) << text;
  EXPECT_NE(text.find("ran on coretest:0 instead"), std::string::npos) << text;
  // Inputs were left alone.
  EXPECT_EQ(m.buffer.read_values<float>(4, 256), (std::vector<float>{2, 0, 0, 2}));
}

TEST(Fallback, RuntimeOptionAppliesToEveryStream) {
  CapturedLog log;
  auto o = plinth::test::coretest_options(log);
  o.fallback_device = "coretest:0";
  plinth::Runtime rt(o);
  ASSERT_EQ(rt.fallback_device(), &rt.device("coretest:0"));
  auto& limited = rt.device("coretest:1");
  auto s = limited.create_stream();
  auto m = make_matmul(limited);
  plinth::ops::matmul(s, m.a, m.b, m.c);
  plinth::ops::matmul(s, m.a, m.b, m.c);
  s.synchronize();
  EXPECT_EQ(m.buffer.read_values<float>(4, 512), (std::vector<float>{2, 4, 6, 8}));
  EXPECT_EQ(limited.fallback_count(), 2u);
}

TEST(Fallback, UnknownFallbackDeviceIsAnError) {
  CapturedLog log;
  auto o = plinth::test::coretest_options(log);
  o.fallback_device = "nope:0";
  EXPECT_THROW(plinth::Runtime rt(o), plinth::Error);
}

}  // namespace
