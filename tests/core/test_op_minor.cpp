// Ops newer than a plugin: a plugin built against an older ABI minor does not know the ops appended
// since (ops.h, PLINTH_OP_COUNT_OF_MINOR). The host never passes them to it: supports() answers no
// with the version that the op needs, and a launch goes to the fallback device or fails with that
// reason.
#include <gtest/gtest.h>

#include "plinth/plinth.hpp"

namespace {

using plinth::DType;
using plinth::Tensor;

std::unique_ptr<plinth::Runtime> load(std::vector<std::filesystem::path> paths) {
  plinth::RuntimeOptions o;
  o.plugin_paths = std::move(paths);
  o.use_env_plugin_path = false;
  o.use_default_plugin_dirs = false;
  o.validate = true;
  o.faults = "";
  return std::make_unique<plinth::Runtime>(o);
}

TEST(OpMinor, CountOfEachMinorVersion) {
  EXPECT_EQ(PLINTH_OP_COUNT_OF_MINOR(0), 19);
  EXPECT_EQ(PLINTH_OP_COUNT_OF_MINOR(1), 19);
  EXPECT_EQ(PLINTH_OP_COUNT_OF_MINOR(PLINTH_ABI_VERSION_MINOR), PLINTH_OP_COUNT);
}

#ifdef PLINTH_TEST_TEMPLATE_V10_PLUGIN
struct SetRowsOperands {
  plinth::Buffer src, idx, dst;
  Tensor tsrc, tidx, tdst;
  explicit SetRowsOperands(plinth::Device& dev)
      : src(dev.allocate(2 * 4 * 4)), idx(dev.allocate(2 * 4)), dst(dev.allocate(5 * 4 * 4)) {
    tsrc = Tensor::contiguous(src, DType::f32, {2, 4});
    tidx = Tensor::contiguous(idx, DType::i32, {2});
    tdst = Tensor::contiguous(dst, DType::f32, {5, 4});
    src.write_values<float>(std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8});
    idx.write_values<int32_t>(std::vector<int32_t>{3, 0});
    dst.write_values<float>(std::vector<float>(20, -1.0f));
  }
};

TEST(OpMinor, Abi10PluginReportsNewOpsUnsupportedWithTheReason) {
  auto rt = load({PLINTH_TEST_TEMPLATE_V10_PLUGIN});
  ASSERT_EQ(rt->devices().size(), 1u);
  plinth::Device& dev = *rt->devices()[0];
  SetRowsOperands x(dev);
  const auto support = dev.supports(plinth::ops::make_set_rows(x.tsrc, x.tidx, x.tdst));
  EXPECT_FALSE(support.supported);
  EXPECT_NE(support.reason.find("implements ABI 1.0, and op set_rows needs ABI 1.2"), std::string::npos)
      << support.reason;
  // A 1.0 op still answers as before.
  EXPECT_TRUE(dev.supports(plinth::ops::make_copy(x.tsrc, x.tsrc)).supported);

  auto s = dev.create_stream();
  try {
    plinth::ops::set_rows(s, x.tsrc, x.tidx, x.tdst);
    s.synchronize();
    ADD_FAILURE() << "set_rows ran on a plugin that predates it";
  } catch (const plinth::Error& e) {
    EXPECT_EQ(e.status(), PLINTH_ERROR_UNSUPPORTED);
    EXPECT_NE(std::string(e.what()).find("needs ABI 1.2"), std::string::npos) << e.what();
  }
  EXPECT_EQ(x.dst.read_values<float>(20), std::vector<float>(20, -1.0f));  // nothing written
}
#endif

}  // namespace
