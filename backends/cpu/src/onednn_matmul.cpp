#include "onednn_matmul.hpp"

#include <cstring>
#include <string>
#include <vector>

#include "plinth/sdk/status.hpp"

namespace plinth::cpu {
namespace {

// Bounded so a workload with ever-changing shapes (growing KV lengths) cannot grow memory forever.
constexpr size_t kMaxCacheEntries = 512;

dnnl::memory::desc describe(const OneDnnMatmul::Operand& op) {
  dnnl::memory::dims dims(op.dims.begin(), op.dims.begin() + op.ndim);
  dnnl::memory::dims strides(op.strides.begin(), op.strides.begin() + op.ndim);
  return dnnl::memory::desc(dims, op.type, strides);
}

plinth_status_t status_of(const dnnl::error& err) {
  return err.status == dnnl_out_of_memory ? PLINTH_ERROR_OUT_OF_MEMORY : PLINTH_ERROR_INTERNAL;
}

}  // namespace

size_t OneDnnMatmul::KeyHash::operator()(const Key& k) const noexcept {
  uint64_t h = 1469598103934665603ull;
  for (int64_t v : k) {
    h ^= static_cast<uint64_t>(v);
    h *= 1099511628211ull;
  }
  return static_cast<size_t>(h);
}

OneDnnMatmul::OneDnnMatmul(const dnnl::engine& engine) : engine_(engine), stream_(engine) {}

OneDnnMatmul::Key OneDnnMatmul::make_key(const Operand& a, const Operand& b, const Operand& c, float alpha) {
  Key key{};
  int i = 0;
  for (const Operand* op : {&a, &b, &c}) {
    key[i++] = static_cast<int64_t>(op->type) * 8 + op->ndim;
    for (int d = 0; d < 4; ++d) key[i++] = d < op->ndim ? op->dims[d] : 0;
    for (int d = 0; d < 4; ++d) key[i++] = d < op->ndim ? op->strides[d] : 0;
  }
  uint32_t bits;
  std::memcpy(&bits, &alpha, sizeof bits);
  key[i] = bits;
  return key;
}

OneDnnMatmul::Entry OneDnnMatmul::create(const Operand& a, const Operand& b, const Operand& c, float alpha) {
  Entry e;
  const auto a_md = describe(a);
  const auto b_md = describe(b);
  const auto c_md = describe(c);
  dnnl::primitive_attr attr;
  if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
  try {
    const dnnl::matmul::desc desc(a_md, b_md, c_md);
    const dnnl::matmul::primitive_desc pd(desc, attr, engine_);
    e.primitive = dnnl::matmul(pd);
  } catch (const dnnl::error& err) {
    if (err.status == dnnl_unimplemented || err.status == dnnl_invalid_arguments) {
      e.supported = false;
      return e;
    }
    sdk::fail(status_of(err), std::string("oneDNN matmul creation failed: ") + err.what(), err.status);
  }
  // Memory objects are created once with no buffer; each call only swaps the data handles.
  e.a = dnnl::memory(a_md, engine_, DNNL_MEMORY_NONE);
  e.b = dnnl::memory(b_md, engine_, DNNL_MEMORY_NONE);
  e.c = dnnl::memory(c_md, engine_, DNNL_MEMORY_NONE);
  e.args = {{DNNL_ARG_SRC, e.a}, {DNNL_ARG_WEIGHTS, e.b}, {DNNL_ARG_DST, e.c}};
  return e;
}

bool OneDnnMatmul::run(const Operand& a, const Operand& b, const Operand& c, float alpha) {
  const Key key = make_key(a, b, c, alpha);
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
    it = cache_.emplace(key, create(a, b, c, alpha)).first;
  }
  Entry& e = it->second;
  if (!e.supported) return false;
  try {
    e.a.set_data_handle(a.data);
    e.b.set_data_handle(b.data);
    e.c.set_data_handle(c.data);
    e.primitive.execute(stream_, e.args);
    stream_.wait();
  } catch (const dnnl::error& err) {
    sdk::fail(status_of(err), std::string("oneDNN matmul failed: ") + err.what(), err.status);
  }
  return true;
}

}  // namespace plinth::cpu
