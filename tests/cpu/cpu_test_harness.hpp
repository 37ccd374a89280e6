// Loads the CPU plugin through the ABI and offers small helpers to build tensors, launch ops and
// compare against double-precision references.
#pragma once

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "plinth/abi.h"
#include "plinth/ops.h"
#include "plinth/sdk/dtype.hpp"

namespace plinth::cpu_test {

// The plugin, loaded once per process.
inline const plinth_plugin_api_t* plugin_api() {
  static const plinth_plugin_api_t* api = [] {
    void* lib = dlopen(PLINTH_CPU_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) return static_cast<const plinth_plugin_api_t*>(nullptr);
    auto init = reinterpret_cast<plinth_plugin_init_fn>(dlsym(lib, PLINTH_PLUGIN_ENTRY_NAME));
    static plinth_host_services_t host{};
    host.struct_size = sizeof host;
    host.abi_major = PLINTH_ABI_VERSION_MAJOR;
    host.abi_minor = PLINTH_ABI_VERSION_MINOR;
    const plinth_plugin_api_t* out = nullptr;
    if (init == nullptr || init(&host, &out) != PLINTH_OK)
      return static_cast<const plinth_plugin_api_t*>(nullptr);
    return out;
  }();
  return api;
}

// A host-side tensor: values kept as double for the reference, stored in the plugin as `dtype`.
struct HostTensor {
  plinth_dtype_t dtype = PLINTH_DTYPE_F32;
  std::vector<int64_t> dims;
  std::vector<int64_t> strides;  // bytes
  std::vector<uint8_t> bytes;    // storage (may be larger than dense for strided views)
  int64_t offset = 0;
};

inline int64_t elem_size(plinth_dtype_t t) {
  return (t == PLINTH_DTYPE_F16 || t == PLINTH_DTYPE_BF16) ? 2 : 4;
}

inline int64_t numel(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (auto d : dims) n *= d;
  return n;
}

inline std::vector<int64_t> dense_strides(const std::vector<int64_t>& dims, int64_t es) {
  std::vector<int64_t> s(dims.size());
  int64_t acc = es;
  for (size_t i = dims.size(); i-- > 0;) {
    s[i] = acc;
    acc *= dims[i];
  }
  return s;
}

inline void put(uint8_t* p, plinth_dtype_t t, double v) {
  switch (t) {
    case PLINTH_DTYPE_F32: {
      const float f = static_cast<float>(v);
      std::memcpy(p, &f, 4);
      break;
    }
    case PLINTH_DTYPE_F16: {
      const uint16_t h = sdk::f32_to_f16(static_cast<float>(v));
      std::memcpy(p, &h, 2);
      break;
    }
    case PLINTH_DTYPE_BF16: {
      const uint16_t h = sdk::f32_to_bf16(static_cast<float>(v));
      std::memcpy(p, &h, 2);
      break;
    }
    case PLINTH_DTYPE_I32: {
      const auto i = static_cast<int32_t>(v);
      std::memcpy(p, &i, 4);
      break;
    }
    default: break;
  }
}

inline double get(const uint8_t* p, plinth_dtype_t t) {
  switch (t) {
    case PLINTH_DTYPE_F32: {
      float f;
      std::memcpy(&f, p, 4);
      return f;
    }
    case PLINTH_DTYPE_F16: {
      uint16_t h;
      std::memcpy(&h, p, 2);
      return sdk::f16_to_f32(h);
    }
    case PLINTH_DTYPE_BF16: {
      uint16_t h;
      std::memcpy(&h, p, 2);
      return sdk::bf16_to_f32(h);
    }
    case PLINTH_DTYPE_I32: {
      int32_t i;
      std::memcpy(&i, p, 4);
      return i;
    }
    default: return 0;
  }
}

// Index helpers over row-major logical positions.
inline int64_t byte_offset(const HostTensor& t, int64_t linear) {
  int64_t off = t.offset;
  for (size_t i = t.dims.size(); i-- > 0;) {
    off += (linear % t.dims[i]) * t.strides[i];
    linear /= t.dims[i];
  }
  return off;
}

// Dense tensor from values (rounded to the dtype).
inline HostTensor make(plinth_dtype_t dtype, std::vector<int64_t> dims, const std::vector<double>& values) {
  HostTensor t;
  t.dtype = dtype;
  t.dims = std::move(dims);
  t.strides = dense_strides(t.dims, elem_size(dtype));
  t.bytes.assign(static_cast<size_t>(std::max<int64_t>(1, numel(t.dims)) * elem_size(dtype)), 0);
  for (int64_t i = 0; i < numel(t.dims); ++i)
    put(&t.bytes[static_cast<size_t>(byte_offset(t, i))], dtype, values[static_cast<size_t>(i)]);
  return t;
}

// The logical values of a tensor (after rounding to its dtype), row-major.
inline std::vector<double> values(const HostTensor& t) {
  std::vector<double> v(static_cast<size_t>(numel(t.dims)));
  for (int64_t i = 0; i < numel(t.dims); ++i)
    v[static_cast<size_t>(i)] = get(&t.bytes[static_cast<size_t>(byte_offset(t, i))], t.dtype);
  return v;
}

inline std::vector<double> random_values(int64_t n, uint32_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  return v;
}

inline HostTensor random_tensor(plinth_dtype_t dtype, std::vector<int64_t> dims, uint32_t seed) {
  return make(dtype, dims, random_values(numel(dims), seed));
}

// Normalized mean squared error of got against want.
inline double nmse(const std::vector<double>& got, const std::vector<double>& want) {
  double err = 0;
  double ref = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    err += (got[i] - want[i]) * (got[i] - want[i]);
    ref += want[i] * want[i];
  }
  return ref == 0 ? err : err / ref;
}

inline void expect_close(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << "at " << i;
    } else {
      ASSERT_NEAR(got[i], want[i], tol * (1.0 + std::fabs(want[i]))) << "at " << i;
    }
  }
}

// A fixture holding an open device and stream, parameterized by the kernel set to force.
class CpuPlugin : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    api_ = plugin_api();
    ASSERT_NE(api_, nullptr) << "cannot load " << PLINTH_CPU_PLUGIN_PATH << ": " << dlerror();
    const char* isa = GetParam();
    if (isa[0] != '\0') {
      setenv("PLINTH_CPU_ISA", isa, 1);
    } else {
      unsetenv("PLINTH_CPU_ISA");
    }
    ASSERT_EQ(api_->device_open(0, &device_), PLINTH_OK) << api_->last_error_message();
    unsetenv("PLINTH_CPU_ISA");
    ASSERT_EQ(api_->stream_create(device_, 0, &stream_), PLINTH_OK);
  }
  void TearDown() override {
    for (auto b : buffers_) api_->buffer_free(b);
    if (stream_ != nullptr) api_->stream_destroy(stream_);
    if (device_ != nullptr) api_->device_close(device_);
  }

  // Uploads t and returns its ABI tensor (buffer owned by the fixture).
  plinth_tensor_t upload(const HostTensor& t) {
    plinth_buffer_desc_t desc{};
    desc.struct_size = sizeof desc;
    desc.size = t.bytes.size();
    plinth_buffer_t buf = nullptr;
    EXPECT_EQ(api_->buffer_alloc(device_, &desc, &buf), PLINTH_OK);
    buffers_.push_back(buf);
    EXPECT_EQ(api_->copy_host_to_buffer(stream_, t.bytes.data(), buf, 0, t.bytes.size()), PLINTH_OK);
    plinth_tensor_t out{};
    out.struct_size = sizeof out;
    out.dtype = t.dtype;
    out.buffer = buf;
    out.offset = static_cast<uint64_t>(t.offset);
    out.ndim = static_cast<uint32_t>(t.dims.size());
    for (size_t i = 0; i < t.dims.size(); ++i) {
      out.dims[i] = t.dims[i];
      out.strides[i] = t.strides[i];
    }
    return out;
  }

  // Reads a tensor uploaded from `like` back (same layout).
  HostTensor download(const plinth_tensor_t& dev, const HostTensor& like) {
    HostTensor t = like;
    EXPECT_EQ(api_->stream_synchronize(stream_), PLINTH_OK);
    EXPECT_EQ(api_->copy_buffer_to_host(stream_, dev.buffer, 0, t.bytes.data(), t.bytes.size()), PLINTH_OK);
    return t;
  }

  plinth_status_t launch(plinth_op_t op, std::vector<const plinth_tensor_t*> in,
                         std::vector<const plinth_tensor_t*> out, const void* params) {
    plinth_op_call_t call{};
    call.struct_size = sizeof call;
    call.op = op;
    call.inputs = in.data();
    call.num_inputs = static_cast<uint32_t>(in.size());
    call.outputs = out.data();
    call.num_outputs = static_cast<uint32_t>(out.size());
    call.params = params;
    uint32_t supported = 0;
    const plinth_status_t q = api_->op_supports(device_, &call, &supported);
    const plinth_status_t s = api_->op_launch(stream_, &call);
    if (s == PLINTH_OK) {
      EXPECT_EQ(q, PLINTH_OK);
      EXPECT_EQ(supported, 1u) << "launch ran an op that op_supports declined";
    } else if (s == PLINTH_ERROR_INVALID_ARGUMENT) {
      // A malformed call is malformed for both entries (a buffer range only matters at launch).
      EXPECT_TRUE(q == PLINTH_ERROR_INVALID_ARGUMENT || q == PLINTH_OK);
    }
    return s;
  }

  // Runs an op whose inputs are host tensors and whose outputs are shaped like `outs`; returns the
  // output values as doubles.
  std::vector<std::vector<double>> run(plinth_op_t op, const std::vector<const HostTensor*>& ins,
                                       const std::vector<HostTensor>& outs, const void* params) {
    std::vector<plinth_tensor_t> din(ins.size());
    std::vector<const plinth_tensor_t*> pin(ins.size(), nullptr);
    for (size_t i = 0; i < ins.size(); ++i) {
      if (ins[i] == nullptr) continue;
      din[i] = upload(*ins[i]);
      pin[i] = &din[i];
    }
    std::vector<plinth_tensor_t> dout(outs.size());
    std::vector<const plinth_tensor_t*> pout(outs.size());
    for (size_t i = 0; i < outs.size(); ++i) {
      dout[i] = upload(outs[i]);
      pout[i] = &dout[i];
    }
    const plinth_status_t s = launch(op, pin, pout, params);
    EXPECT_EQ(s, PLINTH_OK) << api_->last_error_message();
    std::vector<std::vector<double>> result;
    for (size_t i = 0; i < outs.size(); ++i) result.push_back(values(download(dout[i], outs[i])));
    return result;
  }

  const plinth_plugin_api_t* api_ = nullptr;
  plinth_device_t device_ = nullptr;
  plinth_stream_t stream_ = nullptr;
  std::vector<plinth_buffer_t> buffers_;
};

inline std::string isa_name(const ::testing::TestParamInfo<const char*>& info) {
  return info.param[0] == '\0' ? std::string("native") : std::string(info.param);
}

#define PLINTH_CPU_INSTANTIATE(suite) \
  INSTANTIATE_TEST_SUITE_P(Isa, suite, ::testing::Values("", "avx2", "generic"), ::plinth::cpu_test::isa_name)

}  // namespace plinth::cpu_test
