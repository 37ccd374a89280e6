// Turns a validated op call into dispatches of the embedded shaders: normalizes every tensor to a
// 4-D strided view (broadcasting folded into zero strides, transposes into swapped strides) and
// picks the shader variant from the shapes and device limits.
#pragma once

#include <functional>
#include <string>

#include "plinth/sdk/op_call.hpp"
#include "stream.hpp"

namespace plinth::vulkan {

using BufferLookup = std::function<const Buffer&(plinth_buffer_t)>;

// Empty when this device runs `call` (already validated by sdk::parse_op_call), else the reason.
std::string unsupported_reason(const Device& device, const sdk::OpCall& call);

// Records `call` on `stream`. Precondition: unsupported_reason(...) is empty.
void encode_op(Stream& stream, const sdk::OpCall& call, const BufferLookup& lookup);

}  // namespace plinth::vulkan
