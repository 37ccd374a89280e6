// Umbrella header for the Plinth core runtime.
#pragma once

#include "plinth/allocator.hpp"
#include "plinth/buffer.hpp"
#include "plinth/device.hpp"
#include "plinth/dtype.hpp"
#include "plinth/error.hpp"
#include "plinth/event.hpp"
#include "plinth/extension.hpp"
#include "plinth/graph.hpp"
#include "plinth/op_call.hpp"
#include "plinth/ops.hpp"
#include "plinth/plugin.hpp"
#include "plinth/runtime.hpp"
#include "plinth/stream.hpp"
#include "plinth/tensor.hpp"
#include "plinth/validation.hpp"
