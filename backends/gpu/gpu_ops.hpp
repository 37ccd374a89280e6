// Op dispatch: which catalogue calls the GPU backends implement, and how a checked call becomes
// kernel launches on a stream.
#pragma once

#include <string>

#include "gpu_objects.hpp"
#include "plinth/sdk/op_call.hpp"
#include "plinth/sdk/plugin.hpp"

namespace plinth::gpu {

// "" when `device` runs `call`, else the reason it does not.
std::string unsupported_reason(const Device& device, const sdk::OpCall& call);

// Enqueues a call that parse_op_call accepted and unsupported_reason cleared, on the live buffers
// the adapter resolved for its tensors.
void launch_op(Stream& stream, const sdk::OpCall& call, const sdk::OpBuffers<Buffer>& buffers);

}  // namespace plinth::gpu
