#include "plinth/op_call.hpp"

#include <array>

#include <fmt/format.h>

#include "plinth/abi_lists.h"

namespace plinth {
namespace {

struct OpInfo {
  const char* name;
  std::array<const char*, 8> inputs;  // at most 8 input slots (abi.h)
  std::array<const char*, 2> outputs;
};

// Operand names as plinth/ops.h writes them, so messages use the catalogue's words.
#define PLINTH_UNWRAP(...) __VA_ARGS__
#define PLINTH_OP_INFO(ID, name, min_in, max_in, outs, ins, outnames) {#name, {PLINTH_UNWRAP ins}, {PLINTH_UNWRAP outnames}},
constexpr std::array<OpInfo, PLINTH_OP_COUNT> kOps = {{PLINTH_OP_LIST(PLINTH_OP_INFO)}};
#undef PLINTH_OP_INFO
#undef PLINTH_UNWRAP

const char* slot_name(plinth_op_t op, bool input, std::size_t i) {
  if (op < 0 || op >= PLINTH_OP_COUNT) return nullptr;
  const auto& info = kOps[static_cast<std::size_t>(op)];
  if (input) return i < info.inputs.size() ? info.inputs[i] : nullptr;
  return i < info.outputs.size() ? info.outputs[i] : nullptr;
}

}  // namespace

std::string_view op_name(plinth_op_t op) noexcept {
  if (op >= PLINTH_OP_EXTENSION_FIRST) return "extension";  // its name is the device's (extension.hpp)
  if (op < 0 || op >= PLINTH_OP_COUNT) return "?";
  return kOps[static_cast<std::size_t>(op)].name;
}

std::string OpCall::describe() const {
  std::string s = fmt::format("{}(", op_name(op));
  bool first = true;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i]) continue;
    const char* name = slot_name(op, true, i);
    s += fmt::format("{}{}={}", first ? "" : ", ", name ? name : "in", inputs[i]->to_string());
    first = false;
  }
  s += ") -> ";
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const char* name = slot_name(op, false, i);
    s += fmt::format("{}{}={}", i == 0 ? "" : ", ", name ? name : "out", outputs[i].to_string());
  }
  return s;
}

AbiOpCall::AbiOpCall(const OpCall& call) {
  tensors_.reserve(call.inputs.size() + call.outputs.size());
  for (const auto& in : call.inputs) {
    if (in) tensors_.push_back(in->to_abi());
  }
  for (const auto& out : call.outputs) tensors_.push_back(out.to_abi());
  std::size_t next = 0;
  for (const auto& in : call.inputs) input_ptrs_.push_back(in ? &tensors_[next++] : nullptr);
  for (std::size_t i = 0; i < call.outputs.size(); ++i) output_ptrs_.push_back(&tensors_[next++]);
  call_.struct_size = sizeof(plinth_op_call_t);
  call_.op = call.op;
  call_.next = nullptr;
  call_.inputs = input_ptrs_.empty() ? nullptr : input_ptrs_.data();
  call_.outputs = output_ptrs_.empty() ? nullptr : output_ptrs_.data();
  call_.num_inputs = static_cast<uint32_t>(input_ptrs_.size());
  call_.num_outputs = static_cast<uint32_t>(output_ptrs_.size());
  call_.params = call.params_ptr();
}

}  // namespace plinth
