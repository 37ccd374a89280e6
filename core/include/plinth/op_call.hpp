// OpCall: one catalogue op invocation (plinth/ops.h) as a self-contained C++ value: the op id, its
// input slots (an empty optional is an omitted optional operand), its outputs, and a copy of its
// parameter struct. Self-contained so emulated graphs and fallbacks can keep it; to_abi() builds the
// plinth_op_call_t with the current struct sizes.
#pragma once

#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "plinth/ops.h"
#include "plinth/export.hpp"
#include "plinth/tensor.hpp"

namespace plinth {

// "matmul"; "extension" for an extension op's id (the device knows its name); "?" if unknown.
PLINTH_CORE_API std::string_view op_name(plinth_op_t op) noexcept;

struct PLINTH_CORE_API OpCall {
  plinth_op_t op = PLINTH_OP_COPY;
  std::vector<std::optional<Tensor>> inputs{};
  std::vector<Tensor> outputs{};
  std::vector<std::byte> params{};  // the parameter struct's bytes (starts with struct_size), or empty

  template <class P>
  void set_params(const P& p) {
    static_assert(std::is_trivially_copyable_v<P>);
    params.resize(sizeof(P));
    std::memcpy(params.data(), &p, sizeof(P));
  }
  const void* params_ptr() const noexcept { return params.empty() ? nullptr : params.data(); }

  // "matmul(a=f32[2,3], b=f32[3,4]) -> f32[2,4]" with dtypes and shapes, for messages.
  std::string describe() const;
};

// The ABI view of an OpCall. Holds the plinth_tensor_t structs and pointer arrays it points into, so
// keep it alive for the duration of the plugin call.
class PLINTH_CORE_API AbiOpCall {
 public:
  explicit AbiOpCall(const OpCall& call);
  AbiOpCall(const AbiOpCall&) = delete;
  AbiOpCall& operator=(const AbiOpCall&) = delete;
  const plinth_op_call_t* get() const noexcept { return &call_; }

 private:
  std::vector<plinth_tensor_t> tensors_;
  std::vector<const plinth_tensor_t*> input_ptrs_;
  std::vector<const plinth_tensor_t*> output_ptrs_;
  plinth_op_call_t call_{};
};

}  // namespace plinth
