// The one submit path of a stream. Every piece of stream work (op launch, copy, event record or
// wait) is built once into a Command and handed to submit(), which puts it through the validation
// layer, then decides under the stream's mutex whether it goes into the emulated capture or to the
// plugin, and makes that call still holding the mutex. One lock for both is what keeps a command
// from being lost when another thread ends a capture between the decision and the recording.
#pragma once

#include <memory>
#include <string_view>

#include "state.hpp"

namespace plinth::detail {

// The stream behind a handle; an empty handle is an INVALID_ARGUMENT Error naming `call`.
StreamState& live_stream(const std::shared_ptr<StreamState>& stream, std::string_view call);

// Records `command` into the stream's emulated capture, or runs it now.
void submit(const std::shared_ptr<StreamState>& stream, Command command);

// The validation layer (submit_checks.cpp): throws for arguments the plugin must never see.
// `call` names the entry in errors, e.g. "op_launch(matmul)".
void check_command(const StreamState& stream, const Command& command, std::string_view call);

// Runs an op the stream's plugin answered UNSUPPORTED for on the fallback device, or throws
// UNSUPPORTED when there is none (fallback.cpp). `reason` is why; empty: the plugin's last error
// message. The caller holds the stream's mutex.
void launch_unsupported(const std::shared_ptr<StreamState>& stream, const OpCall& call, std::string_view what,
                        std::string reason);

// stream_synchronize for a caller that already holds the stream's mutex.
void synchronize_held(StreamState& stream);

}  // namespace plinth::detail
