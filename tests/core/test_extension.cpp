// Vendor extension ops through the core (abi.h 1.1): discovery at device open, a launch by name and
// version with the catalogue path as the fallback, malformed calls, and a plugin whose table is the
// ABI 1.0 one (it has no extension entry, and the host must not read past its end).
#include <gtest/gtest.h>

#include "plinth/plinth.hpp"
#include "template_extensions.h"

namespace {

using plinth::DType;
using plinth::Tensor;

std::unique_ptr<plinth::Runtime> load(const char* path) {
  plinth::RuntimeOptions o;
  o.plugin_paths = {path};
  o.use_env_plugin_path = false;
  o.use_default_plugin_dirs = false;
  o.validate = true;
  o.faults = "";
  return std::make_unique<plinth::Runtime>(o);
}

template_scaled_add_params_t params(float alpha) {
  template_scaled_add_params_t p{};
  p.struct_size = sizeof p;
  p.alpha = alpha;
  return p;
}

// What an application writes: the fused extension where the device has it, else the catalogue.
// Returns whether the extension ran.
bool scaled_add(plinth::Stream& s, const Tensor& a, const Tensor& b, const Tensor& y, float alpha) {
  plinth::OpCall call;
  call.inputs = {a, b};
  call.outputs = {y};
  call.set_params(params(alpha));
  if (plinth::try_launch_extension(s, TEMPLATE_SCALED_ADD_NAME, TEMPLATE_SCALED_ADD_VERSION, call))
    return true;
  auto tmp_buffer = s.device().allocate(b.span_bytes());
  const Tensor tmp = Tensor::contiguous(tmp_buffer, DType::f32, b.shape());
  plinth::ops::scale(s, b, tmp, {.scale = alpha});
  plinth::ops::add(s, a, tmp, y);
  s.synchronize();  // tmp_buffer is freed on return
  return false;
}

struct Operands {
  plinth::Buffer a, b, y;
  Tensor ta, tb, ty;
  static constexpr int kN = 64;
  explicit Operands(plinth::Device& dev)
      : a(dev.allocate(kN * 4)), b(dev.allocate(kN * 4)), y(dev.allocate(kN * 4)) {
    ta = Tensor::contiguous(a, DType::f32, {kN});
    tb = Tensor::contiguous(b, DType::f32, {kN});
    ty = Tensor::contiguous(y, DType::f32, {kN});
    std::vector<float> va(kN), vb(kN);
    for (int i = 0; i < kN; ++i) {
      va[i] = static_cast<float>(i);
      vb[i] = 2.0f * static_cast<float>(i) - 7.0f;
    }
    a.write_values<float>(va);
    b.write_values<float>(vb);
  }
  std::vector<float> expected(float alpha) const {
    std::vector<float> v(kN);
    for (int i = 0; i < kN; ++i) v[i] = static_cast<float>(i) + alpha * (2.0f * static_cast<float>(i) - 7.0f);
    return v;
  }
};

// A device without the extension: nothing listed, and scaled_add takes the catalogue path.
void expect_catalogue_path(plinth::Device& dev) {
  EXPECT_TRUE(dev.extension_ops().empty());
  auto s = dev.create_stream();
  Operands x(dev);
  EXPECT_FALSE(scaled_add(s, x.ta, x.tb, x.ty, 0.5f));
  EXPECT_EQ(x.y.read_values<float>(Operands::kN), x.expected(0.5f));
}

#ifdef PLINTH_TEST_TEMPLATE_PLUGIN
TEST(Extension, ListedAtOpenAndFoundByNameAndVersion) {
  auto rt = load(PLINTH_TEST_TEMPLATE_PLUGIN);
  ASSERT_EQ(rt->devices().size(), 1u);
  auto& dev = *rt->devices()[0];
  ASSERT_EQ(dev.extension_ops().size(), 1u);
  const plinth::ExtensionOp& op = dev.extension_ops()[0];
  EXPECT_EQ(op.name, TEMPLATE_SCALED_ADD_NAME);
  EXPECT_EQ(op.version, 1u);
  EXPECT_GE(op.op, PLINTH_OP_EXTENSION_FIRST);
  EXPECT_EQ(op.params_size, sizeof(template_scaled_add_params_t));
  EXPECT_EQ(op.min_inputs, 2u);
  EXPECT_EQ(op.max_inputs, 2u);
  EXPECT_EQ(op.num_outputs, 1u);
  EXPECT_FALSE(op.description.empty());
  EXPECT_EQ(dev.find_extension(TEMPLATE_SCALED_ADD_NAME), &op);
  EXPECT_EQ(dev.find_extension(TEMPLATE_SCALED_ADD_NAME, 2), nullptr);  // only version 1 exists
  EXPECT_EQ(dev.find_extension("template.scaled"), nullptr);
}

TEST(Extension, RunsWhereOfferedAndMatchesTheCatalogueFallback) {
  auto rt = load(PLINTH_TEST_TEMPLATE_PLUGIN);
  ASSERT_EQ(rt->devices().size(), 1u);
  auto& dev = *rt->devices()[0];
  auto s = dev.create_stream();
  Operands x(dev);
  EXPECT_TRUE(scaled_add(s, x.ta, x.tb, x.ty, 0.5f));
  s.synchronize();
  EXPECT_EQ(x.y.read_values<float>(Operands::kN), x.expected(0.5f));
  // A newer version than the device has: the catalogue path runs instead, with the same result.
  plinth::OpCall call;
  call.inputs = {x.ta, x.tb};
  call.outputs = {x.ty};
  call.set_params(params(3.0f));
  EXPECT_FALSE(plinth::try_launch_extension(s, TEMPLATE_SCALED_ADD_NAME, 2, call));
  s.synchronize();
  EXPECT_EQ(x.y.read_values<float>(Operands::kN), x.expected(0.5f)) << "a refused extension launched anyway";
}

TEST(Extension, MalformedCallsAreErrorsNotFallbacks) {
  auto rt = load(PLINTH_TEST_TEMPLATE_PLUGIN);
  ASSERT_EQ(rt->devices().size(), 1u);
  auto& dev = *rt->devices()[0];
  auto s = dev.create_stream();
  Operands x(dev);
  plinth::OpCall no_params;
  no_params.inputs = {x.ta, x.tb};
  no_params.outputs = {x.ty};
  try {
    plinth::try_launch_extension(s, TEMPLATE_SCALED_ADD_NAME, 1, no_params);
    FAIL() << "a call without its required params was accepted";
  } catch (const plinth::Error& e) {
    EXPECT_EQ(e.status(), PLINTH_ERROR_INVALID_ARGUMENT) << e.what();
  }
  plinth::OpCall three_inputs = no_params;
  three_inputs.inputs.push_back(x.ta);
  three_inputs.set_params(params(1.0f));
  try {
    plinth::try_launch_extension(s, TEMPLATE_SCALED_ADD_NAME, 1, three_inputs);
    FAIL() << "three inputs for a two-input extension op were accepted";
  } catch (const plinth::Error& e) {
    EXPECT_EQ(e.status(), PLINTH_ERROR_INVALID_ARGUMENT) << e.what();
  }
}
#endif

#ifdef PLINTH_TEST_CPU_PLUGIN
TEST(Extension, DeviceWithoutItRunsTheCataloguePath) {
  auto rt = load(PLINTH_TEST_CPU_PLUGIN);
  ASSERT_FALSE(rt->devices().empty());
  expect_catalogue_path(*rt->devices()[0]);
}
#endif

#ifdef PLINTH_TEST_TEMPLATE_V10_PLUGIN
// The template built with the adapter's table cut to ABI 1.0: the extension entry lies past the
// table's struct_size, so the host must neither see nor call it, and every 1.0 call still works.
TEST(Extension, PluginWithAnAbi10TableLoadsWithoutExtensions) {
  auto rt = load(PLINTH_TEST_TEMPLATE_V10_PLUGIN);
  ASSERT_EQ(rt->plugins().size(), 1u)
      << (rt->rejected_plugins().empty() ? "" : rt->rejected_plugins()[0].reason);
  EXPECT_EQ(rt->plugins()[0].abi_minor, 0u);
  ASSERT_EQ(rt->devices().size(), 1u);
  expect_catalogue_path(*rt->devices()[0]);
}
#endif

}  // namespace
