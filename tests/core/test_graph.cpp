#include <gtest/gtest.h>

#include "test_support.hpp"

using plinth::DType;
using plinth::Tensor;
using plinth::test::CapturedLog;

namespace {

class GraphTest : public ::testing::Test {
 protected:
  GraphTest() : rt_(plinth::test::coretest_options(log_)), dev_(rt_.device("coretest:0")) {}
  CapturedLog log_;
  plinth::Runtime rt_;
  plinth::Device& dev_;
};

TEST_F(GraphTest, EmulatedCaptureRecordsInsteadOfRunningAndReplaysInOrder) {
  auto s = dev_.create_stream();
  auto x = dev_.allocate(8 * sizeof(float));
  auto acc = dev_.allocate(8 * sizeof(float));
  const auto tx = Tensor::contiguous(x, DType::f32, {8});
  const auto ta = Tensor::contiguous(acc, DType::f32, {8});
  acc.write_values(std::vector<float>(8, 0.0f));
  const auto input = plinth::test::iota_floats(8);
  std::vector<float> snapshot(8, -1.0f);

  s.begin_capture();
  EXPECT_TRUE(s.capturing());
  s.upload(input.data(), x, 0, 8 * sizeof(float));
  plinth::ops::scale(s, tx, tx, {.scale = 2.0f});
  plinth::ops::add(s, ta, tx, ta);  // acc += 2 * input: shows each replay runs once, in order
  s.download(acc, 0, snapshot.data(), 8 * sizeof(float));
  EXPECT_THROW(s.synchronize(), plinth::Error);  // not while capturing
  auto g = s.end_capture();
  EXPECT_FALSE(s.capturing());
  EXPECT_TRUE(g.emulated());
  EXPECT_EQ(g.num_commands(), 4u);
  EXPECT_EQ(dev_.live_objects().graphs, 1u);

  s.synchronize();
  EXPECT_EQ(acc.read_values<float>(8), std::vector<float>(8, 0.0f)) << "capture must not run the work";

  g.launch(s);
  g.launch(s);
  s.synchronize();
  std::vector<float> expect(8);
  for (int i = 0; i < 8; ++i) expect[static_cast<std::size_t>(i)] = 4.0f * static_cast<float>(i);
  EXPECT_EQ(acc.read_values<float>(8), expect);
  EXPECT_EQ(snapshot, expect);  // the captured download ran in the last replay
}

TEST_F(GraphTest, ReplayOnAnotherStreamAndNestedCaptureErrors) {
  auto s1 = dev_.create_stream();
  auto s2 = dev_.create_stream();
  auto b = dev_.allocate(4 * sizeof(float));
  const auto t = Tensor::contiguous(b, DType::f32, {4});
  s1.begin_capture();
  EXPECT_THROW(s1.begin_capture(), plinth::Error);
  plinth::ops::fill(s1, t, 5.0);
  auto g = s1.end_capture();
  EXPECT_THROW(s1.end_capture(), plinth::Error);
  g.launch(s2);
  s2.synchronize();
  EXPECT_EQ(b.read_values<float>(4), std::vector<float>(4, 5.0f));
}

TEST_F(GraphTest, GraphsAreDeviceBound) {
  auto s = dev_.create_stream();
  auto b = dev_.allocate(16);
  s.begin_capture();
  plinth::ops::fill(s, Tensor::contiguous(b, DType::f32, {4}), 1.0);
  auto g = s.end_capture();
  auto other = rt_.device("coretest:1").create_stream();
  EXPECT_THROW(g.launch(other), plinth::Error);
}

}  // namespace
