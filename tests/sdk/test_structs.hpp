// ABI structs the SDK tests build again and again: v1 host services, a dense f32 tensor, an op call.
#pragma once

#include <cstdint>
#include <vector>

#include "plinth/abi.h"
#include "plinth/sdk/dtype.hpp"

namespace plinth::sdk::test {

inline plinth_host_services_t host_v1() {
  plinth_host_services_t h{};
  h.struct_size = sizeof h;
  h.abi_major = PLINTH_ABI_VERSION_MAJOR;
  h.abi_minor = PLINTH_ABI_VERSION_MINOR;
  return h;
}

// A dense row-major tensor descriptor (rows of blocks for quantized dtypes).
inline plinth_tensor_t tensor(plinth_dtype_t dtype, const std::vector<int64_t>& dims, uint64_t offset = 0,
                              plinth_buffer_t buffer = nullptr) {
  plinth_tensor_t t{};
  t.struct_size = sizeof t;
  t.dtype = dtype;
  t.buffer = buffer;
  t.offset = offset;
  t.ndim = static_cast<uint32_t>(dims.size());
  const DtypeLayout layout = dtype_layout(dtype);
  int64_t stride = layout.block_bytes;
  for (int k = static_cast<int>(dims.size()) - 1; k >= 0; --k) {
    t.dims[k] = dims[k];
    if (layout.block_elems > 1 && k == static_cast<int>(dims.size()) - 1) {
      t.strides[k] = 0;  // ignored for quantized dtypes
      stride = dims[k] / layout.block_elems * layout.block_bytes;
    } else {
      t.strides[k] = stride;
      stride *= dims[k];
    }
  }
  return t;
}

// A dense f32 tensor of `dims` at `offset` in `b`.
inline plinth_tensor_t f32(plinth_buffer_t b, const std::vector<int64_t>& dims, uint64_t offset = 0) {
  return tensor(PLINTH_DTYPE_F32, dims, offset, b);
}

// The vectors own the slot arrays; they must outlive the call.
inline plinth_op_call_t make_call(plinth_op_t op, std::vector<const plinth_tensor_t*>& ins,
                                  std::vector<const plinth_tensor_t*>& outs, const void* params = nullptr) {
  plinth_op_call_t c{};
  c.struct_size = sizeof c;
  c.op = op;
  c.inputs = ins.data();
  c.outputs = outs.data();
  c.num_inputs = static_cast<uint32_t>(ins.size());
  c.num_outputs = static_cast<uint32_t>(outs.size());
  c.params = params;
  return c;
}

}  // namespace plinth::sdk::test
