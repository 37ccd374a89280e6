// Validation and normalization of op calls. Every backend receives a plinth_op_call_t whose structs
// may come from an older or newer host; parse_op_call turns it into one checked, defaulted C++ value
// and rejects anything that breaks the op's contract in plinth/ops.h with a precise message, so all
// plugins agree on what is a valid call.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "plinth/ops.h"

namespace plinth::sdk {

// A tensor view, defaulted and checked: ndim in [0, 4], dims >= 0, strides >= 0.
struct TensorView {
  plinth_dtype_t dtype = PLINTH_DTYPE_F32;
  plinth_buffer_t buffer = nullptr;
  uint64_t offset = 0;
  int ndim = 0;
  std::array<int64_t, PLINTH_MAX_DIMS> dims{};     // unused entries are 1
  std::array<int64_t, PLINTH_MAX_DIMS> strides{};  // bytes; unused entries are 0

  int64_t numel() const noexcept;
  int64_t dim(int i) const noexcept { return i < 0 ? dims[ndim + i] : dims[i]; }  // dim(-1) = innermost
  // Dense row-major with no padding (the innermost stride equals the element size; for quantized
  // dtypes rows of blocks are back to back).
  bool contiguous() const noexcept;
  // One past the highest byte any element touches, relative to the buffer start (0 if empty).
  uint64_t end_byte() const noexcept;
  std::string shape_string() const;  // "f32[2,3,4]"
};

// Every op's parameters, defaulted (alpha = 1, eps = 1e-5, freq_base = 10000, freq_scale = 1,...);
// only the struct of the call's op is meaningful.
struct OpParams {
  plinth_fill_params_t fill{};
  plinth_scale_params_t scale{};
  plinth_matmul_params_t matmul{};
  plinth_norm_params_t norm{};
  plinth_softmax_params_t softmax{};
  plinth_gelu_params_t gelu{};
  plinth_rope_params_t rope{};
  plinth_attention_params_t attention{};
  plinth_top_k_params_t top_k{};
};

// The most slots any op has: the catalogue's widest ops and abi.h's limits for extension ops.
inline constexpr int kMaxOpInputs = 8;
inline constexpr int kMaxOpOutputs = 4;

// A vendor extension op (abi.h, since 1.1), as a backend declares it. Its id on a device is
// PLINTH_OP_EXTENSION_FIRST plus its position in that device's list.
struct ExtensionSpec {
  const char* name = "";         // "<vendor>.<op>", lowercase; the namespace "plinth" is reserved
  uint32_t version = 1;          // of its semantics and params
  uint32_t params_size = 0;      // sizeof its params struct (which starts like the catalogue's), or 0
  int min_inputs = 0;            // required input slots
  int max_inputs = 0;            // all input slots, <= kMaxOpInputs
  int num_outputs = 1;           // 1..kMaxOpOutputs
  const char* description = "";  // one line for reports
};

struct OpCall {
  plinth_op_t op = 0;
  int num_inputs = 0;
  int num_outputs = 0;
  std::array<TensorView, kMaxOpInputs> inputs{};
  std::array<bool, kMaxOpInputs> has_input{};  // false for an optional slot passed as NULL
  std::array<TensorView, kMaxOpOutputs> outputs{};
  OpParams params;
  // For an extension op: its spec, and its params struct's bytes (the host's, cut or zero-padded to
  // spec->params_size, so fields the host did not send read as 0; empty when params were NULL).
  // nullptr and empty for catalogue ops.
  const ExtensionSpec* extension = nullptr;
  std::vector<std::byte> extension_params{};

  const TensorView* input(int i) const noexcept { return i < num_inputs && has_input[i] ? &inputs[i] : nullptr; }

  // The extension's params as the vendor's struct P (zero where the host sent fewer bytes).
  template <class P>
  P extension_params_as() const {
    static_assert(std::is_trivially_copyable_v<P>);
    P p{};
    std::memcpy(&p, extension_params.data(), std::min(sizeof(P), extension_params.size()));
    return p;
  }
};

const char* op_name(plinth_op_t op) noexcept;  // "matmul", "?" if unknown
// Minimum and maximum input slots and exact output count of an op; false if the op is unknown.
bool op_arity(plinth_op_t op, int* min_inputs, int* max_inputs, int* outputs) noexcept;

// Returns the size in bytes of a live buffer, or throws (e.g. INVALID_ARGUMENT for a foreign handle).
using BufferSizeFn = std::function<uint64_t(plinth_buffer_t)>;

// Validates `call` against the catalogue semantics: arity, dtypes the op may take at all, shapes
// (including broadcasting and per-op shape rules), params, and — when buffer_size is set and
// buffers are non-NULL — that every tensor lies inside its buffer. Throws sdk::Error with
// PLINTH_ERROR_INVALID_ARGUMENT (or OUT_OF_RANGE for a tensor outside its buffer) and a message
// naming the op, the operand and the problem. An unknown op id is UNSUPPORTED.
// Whether a particular backend implements a dtype combination is the backend's own check.
// Extension ids (>= PLINTH_OP_EXTENSION_FIRST) are looked up in `extensions`, the device's list:
// only their arity, tensors, ranges and params header are checked (the rest is the vendor's), and
// an id outside the list is UNSUPPORTED like an unknown catalogue id.
OpCall parse_op_call(const plinth_op_call_t* call, const BufferSizeFn& buffer_size,
                     std::span<const ExtensionSpec> extensions = {});

}  // namespace plinth::sdk
