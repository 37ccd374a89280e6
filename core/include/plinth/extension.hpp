// Vendor extension ops (abi.h, since 1.1): fused or special kernels a plugin offers beside the
// catalogue under namespaced names ("acme.fused_rope_attention"), each with a version and its own
// params struct. Their semantics are the vendor's and nothing certifies them, so the core never
// picks one by itself: a caller asks for one by name and minimum version, and keeps the catalogue
// path for every device that lacks it (try_launch_extension).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "plinth/abi.h"
#include "plinth/export.hpp"
#include "plinth/op_call.hpp"

namespace plinth {

class Stream;

// One extension op of an open device, as its plugin described it.
struct ExtensionOp {
  std::string name{};        // "<vendor>.<op>"
  uint32_t version = 0;      // of its semantics and params
  plinth_op_t op = 0;        // the id for OpCall::op, on this device only
  uint32_t params_size = 0;  // the plugin's sizeof its params struct; 0: it takes none
  uint32_t min_inputs = 0;   // required input slots
  uint32_t max_inputs = 0;   // all input slots
  uint32_t num_outputs = 0;
  std::string description{};  // one line, may be empty
};

// Launches the extension op `name`, at `min_version` or later, on `stream` with the operands and
// params of `call` (whose op is replaced by the device's id), when the stream's device offers it and
// supports this call, and returns true. Otherwise launches nothing and returns false, so the caller
// runs its catalogue path. A call the plugin finds malformed throws Error as any launch does.
PLINTH_CORE_API bool try_launch_extension(Stream& stream, std::string_view name, uint32_t min_version,
                                          OpCall call);

}  // namespace plinth
