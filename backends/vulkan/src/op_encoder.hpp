// Turns a validated op call into dispatches of the embedded shaders: normalizes every tensor to a
// 4-D strided view (broadcasting folded into zero strides, transposes into swapped strides) and
// picks the shader variant from the shapes and device limits.
#pragma once

#include <string>

#include "plinth/sdk/op_call.hpp"
#include "plinth/sdk/plugin.hpp"
#include "stream.hpp"

namespace plinth::vulkan {

// Empty when this device runs `call` (already validated by sdk::parse_op_call), else the reason.
std::string unsupported_reason(const Device& device, const sdk::OpCall& call);

// Records `call` on `stream`, with the buffers the SDK adapter resolved for its tensors. Precondition:
// unsupported_reason(...) is empty.
void encode_op(Stream& stream, const sdk::OpCall& call, const sdk::OpBuffers<Buffer>& buffers);

}  // namespace plinth::vulkan
