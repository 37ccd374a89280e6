// The op implementations. Each receives a call already validated by sdk::parse_op_call and by
// op_dispatch's dtype check, with every tensor resolved to host memory.
#pragma once

#include <array>
#include <string>

#include "device.hpp"
#include "plinth/sdk/op_call.hpp"
#include "stream.hpp"
#include "tensor.hpp"

namespace plinth::cpu {

struct OpContext {
  const CpuDevice& device;
  CpuStream& stream;
  const KernelTable& k;
  const sdk::OpCall& call;
  std::array<Tensor, sdk::kMaxOpInputs> in{};
  std::array<bool, sdk::kMaxOpInputs> has_in{};
  std::array<Tensor, sdk::kMaxOpOutputs> out{};

  const Tensor* input(int i) const noexcept {
    return has_in[static_cast<size_t>(i)] ? &in[static_cast<size_t>(i)] : nullptr;
  }
};

// Empty when the device implements the call's dtype combination, else the reason.
std::string unsupported_reason(const CpuDevice& device, const sdk::OpCall& call);

// Converts a parsed tensor view to a resolved tensor at `base` (the buffer's start).
Tensor resolve(const sdk::TensorView& view, std::byte* base) noexcept;

// Runs one op; throws sdk::Error on failure (nothing is written when a call is rejected).
void run_op(OpContext& ctx);

void op_copy(OpContext& ctx);
void op_fill(OpContext& ctx);
void op_binary(OpContext& ctx);  // ADD, MUL
void op_unary(OpContext& ctx);   // SCALE, GELU, SILU
void op_swiglu(OpContext& ctx);
void op_rms_norm(OpContext& ctx);
void op_layer_norm(OpContext& ctx);
void op_l2_normalize(OpContext& ctx);
void op_softmax(OpContext& ctx);
void op_rope(OpContext& ctx);
void op_attention(OpContext& ctx);
void op_matmul(OpContext& ctx);
void op_quant_matmul(OpContext& ctx);
void op_get_rows(OpContext& ctx);
void op_set_rows(OpContext& ctx);
void op_paged_attention(OpContext& ctx);
void op_mean_pool(OpContext& ctx);
void op_top_k(OpContext& ctx);
void op_argmax(OpContext& ctx);

// Rows per parallel task so that each task has at least ~`work` elements.
inline int64_t grain_for(int64_t row_len, int64_t work = 16384) {
  return row_len <= 0 ? 1 : (work + row_len - 1) / row_len;
}

}  // namespace plinth::cpu
