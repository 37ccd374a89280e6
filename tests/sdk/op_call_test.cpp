// parse_op_call against the catalogue rules of plinth/ops.h: valid calls of every op, one violation
// of each rule, struct sizes from older and newer hosts, and buffer range checks.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "plinth/sdk/dtype.hpp"
#include "plinth/sdk/op_call.hpp"
#include "plinth/sdk/status.hpp"
#include "test_structs.hpp"

namespace plinth::sdk {
namespace {

using test::tensor;

constexpr plinth_dtype_t F32 = PLINTH_DTYPE_F32;
constexpr plinth_dtype_t F16 = PLINTH_DTYPE_F16;
constexpr plinth_dtype_t BF16 = PLINTH_DTYPE_BF16;
constexpr plinth_dtype_t I32 = PLINTH_DTYPE_I32;
constexpr plinth_dtype_t Q8 = PLINTH_DTYPE_Q8_0;
constexpr plinth_dtype_t Q40 = PLINTH_DTYPE_Q4_0;
constexpr plinth_dtype_t Q41 = PLINTH_DTYPE_Q4_1;

// Owns the tensors of one call; pointers are built on demand so the struct can be edited freely.
struct Call {
  Call(plinth_op_t op_id, std::vector<std::optional<plinth_tensor_t>> ins, std::vector<plinth_tensor_t> outs,
       const void* op_params = nullptr)
      : op(op_id), inputs(std::move(ins)), outputs(std::move(outs)), params(op_params) {}

  plinth_op_t op;
  std::vector<std::optional<plinth_tensor_t>> inputs;
  std::vector<plinth_tensor_t> outputs;
  const void* params = nullptr;

  std::vector<const plinth_tensor_t*> in_ptrs;
  std::vector<const plinth_tensor_t*> out_ptrs;
  plinth_op_call_t raw{};

  const plinth_op_call_t* get() {
    in_ptrs.clear();
    out_ptrs.clear();
    for (auto& t : inputs) in_ptrs.push_back(t ? &*t : nullptr);
    for (auto& t : outputs) out_ptrs.push_back(&t);
    raw = test::make_call(op, in_ptrs, out_ptrs, params);
    return &raw;
  }
  plinth_tensor_t& in(int i) { return *inputs[i]; }
  plinth_tensor_t& out(int i) { return outputs[i]; }
};

OpCall parse(Call& call, const BufferSizeFn& size = {}) { return parse_op_call(call.get(), size); }

// Expects parse to fail with `status` and a message containing `needle`.
void expect_error(Call& call, plinth_status_t status, const std::string& needle, const BufferSizeFn& size = {}) {
  try {
    parse(call, size);
    ADD_FAILURE() << "accepted; expected " << status_name(status) << " containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), status) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
  }
}

template <class T>
T params_of() {
  T p{};
  p.struct_size = sizeof p;
  return p;
}

// ---- one valid call per op ----------------------------------------------------------------------

struct Fixture {
  plinth_fill_params_t fill = params_of<plinth_fill_params_t>();
  plinth_scale_params_t scale = params_of<plinth_scale_params_t>();
  plinth_matmul_params_t matmul = params_of<plinth_matmul_params_t>();
  plinth_norm_params_t norm = params_of<plinth_norm_params_t>();
  plinth_softmax_params_t softmax = params_of<plinth_softmax_params_t>();
  plinth_gelu_params_t gelu = params_of<plinth_gelu_params_t>();
  plinth_rope_params_t rope = params_of<plinth_rope_params_t>();
  plinth_attention_params_t attention = params_of<plinth_attention_params_t>();
  plinth_top_k_params_t top_k = params_of<plinth_top_k_params_t>();

  Fixture() {
    fill.value = 2.5;
    scale.scale = 3.0f;
    matmul.alpha = 0.5f;
    norm.eps = 1e-6f;
    rope.freq_base = 10000.0f;
    rope.freq_scale = 1.0f;
    top_k.k = 3;
  }

  Call valid(plinth_op_t op) {
    switch (op) {
      case PLINTH_OP_COPY: return {op, {tensor(F32, {2, 3})}, {tensor(F16, {2, 3})}};
      case PLINTH_OP_FILL: return {op, {}, {tensor(I32, {5})}, &fill};
      case PLINTH_OP_ADD: return {op, {tensor(F32, {2, 1, 4}), tensor(BF16, {3, 1})}, {tensor(F32, {2, 3, 4})}};
      case PLINTH_OP_MUL: return {op, {tensor(F32, {4}), tensor(F32, {})}, {tensor(F32, {4})}};
      case PLINTH_OP_SCALE: return {op, {tensor(F32, {7})}, {tensor(F32, {7})}, &scale};
      case PLINTH_OP_MATMUL: return {op, {tensor(F32, {2, 5, 32}), tensor(F16, {32, 6})}, {tensor(F32, {2, 5, 6})}, &matmul};
      case PLINTH_OP_GET_ROWS: return {op, {tensor(Q41, {10, 64}), tensor(I32, {3})}, {tensor(F32, {3, 64})}};
      case PLINTH_OP_RMS_NORM: return {op, {tensor(F32, {2, 8}), tensor(F32, {8})}, {tensor(F32, {2, 8})}, &norm};
      case PLINTH_OP_LAYER_NORM:
        return {op, {tensor(F32, {2, 8}), tensor(F32, {8}), tensor(F16, {8})}, {tensor(F32, {2, 8})}, &norm};
      case PLINTH_OP_SOFTMAX: return {op, {tensor(F32, {2, 4, 4}), tensor(F32, {4, 4})}, {tensor(F32, {2, 4, 4})}, &softmax};
      case PLINTH_OP_GELU: return {op, {tensor(F32, {3, 3})}, {tensor(F32, {3, 3})}, &gelu};
      case PLINTH_OP_SILU: return {op, {tensor(F16, {9})}, {tensor(F32, {9})}};
      case PLINTH_OP_SWIGLU: return {op, {tensor(F32, {2, 6}), tensor(F32, {2, 6})}, {tensor(F32, {2, 6})}};
      case PLINTH_OP_ROPE: return {op, {tensor(F32, {2, 5, 4, 8}), tensor(I32, {2, 5})}, {tensor(F32, {2, 5, 4, 8})}, &rope};
      case PLINTH_OP_ATTENTION:
        return {op,
                {tensor(F32, {2, 8, 3, 16}), tensor(F32, {2, 2, 5, 16}), tensor(F32, {2, 2, 5, 12}),
                 tensor(F32, {3, 5}), tensor(I32, {2})},
                {tensor(F32, {2, 8, 3, 12})},
                &attention};
      case PLINTH_OP_MEAN_POOL: return {op, {tensor(F32, {2, 5, 8}), tensor(I32, {2, 5})}, {tensor(F32, {2, 8})}};
      case PLINTH_OP_L2_NORMALIZE: return {op, {tensor(F32, {3, 8})}, {tensor(F32, {3, 8})}, &norm};
      case PLINTH_OP_TOP_K: return {op, {tensor(F32, {4, 10})}, {tensor(F32, {4, 3}), tensor(I32, {4, 3})}, &top_k};
      case PLINTH_OP_ARGMAX: return {op, {tensor(F32, {4, 10})}, {tensor(I32, {4})}};
      case PLINTH_OP_SET_ROWS: return {op, {tensor(F32, {3, 8}), tensor(I32, {3})}, {tensor(F16, {10, 8})}};
      case PLINTH_OP_PAGED_ATTENTION:
        return {op,
                {tensor(F32, {5, 8, 16}), tensor(F16, {6, 4, 2, 16}), tensor(F16, {6, 4, 2, 12}),
                 tensor(I32, {2, 3}), tensor(I32, {3}), tensor(I32, {2})},
                {tensor(F32, {5, 8, 12})},
                &attention};
      default: ADD_FAILURE() << "no valid call for op " << op; return {op, {}, {}};
    }
  }
};

TEST(OpCall, ValidCallOfEveryOpParses) {
  Fixture f;
  for (plinth_op_t op = 0; op < PLINTH_OP_COUNT; ++op) {
    SCOPED_TRACE(op_name(op));
    Call call = f.valid(op);
    OpCall parsed;
    ASSERT_NO_THROW(parsed = parse(call));
    EXPECT_EQ(parsed.op, op);
    EXPECT_EQ(parsed.num_inputs, static_cast<int>(call.inputs.size()));
    EXPECT_EQ(parsed.num_outputs, static_cast<int>(call.outputs.size()));
  }
}

TEST(OpCall, ValidCallOfEveryOpSurvivesItsOwnBuffers) {
  // Give every tensor its own buffer, sized exactly to the tensor: the range check must pass.
  Fixture f;
  for (plinth_op_t op = 0; op < PLINTH_OP_COUNT; ++op) {
    SCOPED_TRACE(op_name(op));
    Call call = f.valid(op);
    std::vector<uint64_t> sizes;
    auto assign = [&](plinth_tensor_t& t) {
      TensorView v;
      v.dtype = t.dtype;
      v.ndim = static_cast<int>(t.ndim);
      v.dims.fill(1);
      for (int k = 0; k < v.ndim; ++k) {
        v.dims[k] = t.dims[k];
        v.strides[k] = t.strides[k];
      }
      if (is_quantized(t.dtype)) v.strides[v.ndim - 1] = 0;
      sizes.push_back(v.end_byte());
      t.buffer = reinterpret_cast<plinth_buffer_t>(sizes.size());  // 1-based fake handles
    };
    for (auto& t : call.inputs) {
      if (t) assign(*t);
    }
    for (auto& t : call.outputs) assign(t);
    const BufferSizeFn size = [&](plinth_buffer_t b) { return sizes.at(reinterpret_cast<std::size_t>(b) - 1); };
    EXPECT_NO_THROW(parse(call, size));
    // One byte less for the first output's buffer is out of range.
    sizes[reinterpret_cast<std::size_t>(call.outputs[0].buffer) - 1] -= 1;
    const char* out_name = op == PLINTH_OP_MATMUL                                         ? "c"
                           : op == PLINTH_OP_ATTENTION || op == PLINTH_OP_PAGED_ATTENTION ? "o"
                           : op == PLINTH_OP_TOP_K                                        ? "values"
                           : op == PLINTH_OP_ARGMAX                                       ? "indices"
                           : op == PLINTH_OP_SET_ROWS                                     ? "dst"
                                                                                          : "y";
    expect_error(call, PLINTH_ERROR_OUT_OF_RANGE, std::string(op_name(op)) + ": " + out_name, size);
  }
}

// ---- structure: arity, tensor structs, unknown ops -------------------------------------------------

TEST(OpCall, UnknownOpIsUnsupported) {
  Call call{PLINTH_OP_COUNT, {}, {tensor(F32, {1})}};
  expect_error(call, PLINTH_ERROR_UNSUPPORTED, "unknown op id " + std::to_string(PLINTH_OP_COUNT));
  Call negative{-1, {}, {tensor(F32, {1})}};
  expect_error(negative, PLINTH_ERROR_UNSUPPORTED, "unknown op id -1");
  EXPECT_STREQ(op_name(PLINTH_OP_COUNT), "?");
  EXPECT_FALSE(op_arity(PLINTH_OP_COUNT, nullptr, nullptr, nullptr));
}

TEST(OpCall, ArityTable) {
  int lo = 0, hi = 0, outs = 0;
  ASSERT_TRUE(op_arity(PLINTH_OP_ATTENTION, &lo, &hi, &outs));
  EXPECT_EQ(lo, 3);
  EXPECT_EQ(hi, 5);
  EXPECT_EQ(outs, 1);
  ASSERT_TRUE(op_arity(PLINTH_OP_TOP_K, &lo, &hi, &outs));
  EXPECT_EQ(outs, 2);
  ASSERT_TRUE(op_arity(PLINTH_OP_FILL, &lo, &hi, &outs));
  EXPECT_EQ(hi, 0);
  EXPECT_STREQ(op_name(PLINTH_OP_L2_NORMALIZE), "l2_normalize");
}

TEST(OpCall, NullOrTooSmallCallStruct) {
  try {
    parse_op_call(nullptr, {});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), PLINTH_ERROR_INVALID_ARGUMENT);
  }
  Fixture f;
  Call call = f.valid(PLINTH_OP_SILU);
  call.get();
  call.raw.struct_size = 8;
  try {
    parse_op_call(&call.raw, {});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), PLINTH_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("op call.struct_size 8"), std::string::npos) << e.what();
  }
}

TEST(OpCall, WrongInputAndOutputCounts) {
  Fixture f;
  Call call = f.valid(PLINTH_OP_ADD);
  call.inputs.pop_back();
  expect_error(call, PLINTH_ERROR_INVALID_ARGUMENT, "add: takes 2 inputs, not 1");
  Call attn = f.valid(PLINTH_OP_ATTENTION);
  attn.inputs.push_back(tensor(F32, {1}));
  expect_error(attn, PLINTH_ERROR_INVALID_ARGUMENT, "attention: takes 3..5 inputs, not 6");
  Call topk = f.valid(PLINTH_OP_TOP_K);
  topk.outputs.pop_back();
  expect_error(topk, PLINTH_ERROR_INVALID_ARGUMENT, "top_k: takes 2 outputs, not 1");
  Call fill = f.valid(PLINTH_OP_FILL);
  fill.inputs.push_back(tensor(F32, {5}));
  expect_error(fill, PLINTH_ERROR_INVALID_ARGUMENT, "fill: takes 0 inputs, not 1");
}

TEST(OpCall, OptionalSlotsMayBeNullOrOmittedButRequiredOnesMayNot) {
  Fixture f;
  Call attn = f.valid(PLINTH_OP_ATTENTION);
  attn.inputs[3].reset();
  OpCall parsed = parse(attn);
  EXPECT_EQ(parsed.input(3), nullptr);
  ASSERT_NE(parsed.input(4), nullptr);
  EXPECT_EQ(parsed.input(4)->dtype, I32);
  attn.inputs.resize(3);  // trailing optional slots omitted
  parsed = parse(attn);
  EXPECT_EQ(parsed.input(3), nullptr);
  EXPECT_EQ(parsed.input(4), nullptr);
  attn.inputs[1].reset();
  expect_error(attn, PLINTH_ERROR_INVALID_ARGUMENT, "attention: input k is NULL but required");

  Call ln = f.valid(PLINTH_OP_LAYER_NORM);
  ln.inputs[1].reset();
  parsed = parse(ln);
  EXPECT_EQ(parsed.input(1), nullptr);
  EXPECT_NE(parsed.input(2), nullptr);

  Call out_null = f.valid(PLINTH_OP_SILU);
  out_null.get();
  out_null.out_ptrs[0] = nullptr;
  EXPECT_THROW(parse_op_call(&out_null.raw, {}), Error);
}

TEST(OpCall, TensorStructRules) {
  Fixture f;
  {
    Call call = f.valid(PLINTH_OP_SILU);
    call.in(0).struct_size = 16;
    expect_error(call, PLINTH_ERROR_INVALID_ARGUMENT, "silu: x.struct_size 16 is smaller than its v1 size");
  }
  {
    Call call = f.valid(PLINTH_OP_SILU);
    call.in(0).ndim = 5;
    expect_error(call, PLINTH_ERROR_INVALID_ARGUMENT, "silu: x has ndim 5");
  }
  {
    Call call = f.valid(PLINTH_OP_SILU);
    call.out(0).dims[0] = -9;
    expect_error(call, PLINTH_ERROR_INVALID_ARGUMENT, "silu: y has negative dims[0]");
  }
  {
    Call call = f.valid(PLINTH_OP_SILU);
    call.in(0).strides[0] = -2;
    expect_error(call, PLINTH_ERROR_INVALID_ARGUMENT, "silu: x has negative strides[0]");
  }
  {
    Call call = f.valid(PLINTH_OP_SILU);
    call.in(0).dtype = 42;
    expect_error(call, PLINTH_ERROR_INVALID_ARGUMENT, "silu: x has unknown dtype 42");
  }
  {
    // Unused dims beyond ndim are ignored, even if garbage.
    Call call = f.valid(PLINTH_OP_SILU);
    call.in(0).dims[3] = -1;
    call.in(0).strides[3] = -1;
    EXPECT_NO_THROW(parse(call));
  }
  {
    Call call = f.valid(PLINTH_OP_GET_ROWS);
    call.in(0).dims[1] = 48;
    expect_error(call, PLINTH_ERROR_INVALID_ARGUMENT, "get_rows: table is q4_1 with innermost dim 48, not a multiple of 32");
  }
  {
    // The innermost stride of a quantized tensor is ignored, even a negative one.
    Call call = f.valid(PLINTH_OP_GET_ROWS);
    call.in(0).strides[1] = -7;
    EXPECT_NO_THROW(parse(call));
  }
  {
    Call call = f.valid(PLINTH_OP_SILU);
    call.in(0).ndim = 4;
    call.in(0).dims[0] = call.in(0).dims[1] = call.in(0).dims[2] = call.in(0).dims[3] = int64_t{1} << 40;
    expect_error(call, PLINTH_ERROR_INVALID_ARGUMENT, "more elements than int64");
  }
}

TEST(OpCall, NewerHostTensorAndCallStructsAreAccepted) {
  // A newer host's structs are larger: extra trailing fields must be ignored, not read as garbage.
  struct NewerTensor {
    plinth_tensor_t v1;
    uint64_t extra;
  };
  NewerTensor x{tensor(F32, {4}), 0xdeadbeef};
  NewerTensor y{tensor(F32, {4}), 0xdeadbeef};
  x.v1.struct_size = y.v1.struct_size = sizeof(NewerTensor);
  const plinth_tensor_t* ins[] = {&x.v1};
  const plinth_tensor_t* outs[] = {&y.v1};
  struct NewerCall {
    plinth_op_call_t v1;
    uint64_t extra[2];
  } call{};
  call.v1.struct_size = sizeof call;
  call.v1.op = PLINTH_OP_SILU;
  call.v1.inputs = ins;
  call.v1.outputs = outs;
  call.v1.num_inputs = 1;
  call.v1.num_outputs = 1;
  const OpCall parsed = parse_op_call(&call.v1, {});
  EXPECT_EQ(parsed.inputs[0].dims[0], 4);
  EXPECT_EQ(parsed.inputs[0].ndim, 1);
  EXPECT_EQ(parsed.inputs[0].dims[1], 1);  // unused entries are 1
  EXPECT_EQ(parsed.inputs[0].strides[1], 0);
}

// ---- dtype classes ----------------------------------------------------------------------------------

TEST(OpCall, DtypeClasses) {
  Fixture f;
  struct Case {
    plinth_op_t op;
    bool is_input;
    int slot;
    plinth_dtype_t dtype;
    const char* needle;
  };
  const Case cases[] = {
      {PLINTH_OP_COPY, true, 0, Q8, "copy: x must be f32, f16 or bf16, not q8_0"},
      {PLINTH_OP_FILL, false, 0, Q40, "fill: y must be a float dtype or i32, not q4_0"},
      {PLINTH_OP_ADD, true, 1, I32, "add: b must be f32, f16 or bf16, not i32"},
      {PLINTH_OP_MUL, false, 0, I32, "mul: y must be f32, f16 or bf16"},
      {PLINTH_OP_SCALE, true, 0, I32, "scale: x must be"},
      {PLINTH_OP_MATMUL, true, 0, I32, "matmul: a must be f32, f16 or bf16"},
      {PLINTH_OP_MATMUL, true, 1, I32, "matmul: b must be a float or block-quantized dtype, not i32"},
      {PLINTH_OP_MATMUL, false, 0, I32, "matmul: c must be"},
      {PLINTH_OP_GET_ROWS, true, 0, I32, "get_rows: table must be a float or block-quantized"},
      {PLINTH_OP_GET_ROWS, true, 1, F32, "get_rows: indices must be i32, not f32"},
      {PLINTH_OP_GET_ROWS, false, 0, I32, "get_rows: y must be"},
      {PLINTH_OP_RMS_NORM, true, 1, I32, "rms_norm: weight must be"},
      {PLINTH_OP_LAYER_NORM, true, 2, I32, "layer_norm: beta must be"},
      {PLINTH_OP_SOFTMAX, true, 1, I32, "softmax: mask must be"},
      {PLINTH_OP_GELU, false, 0, I32, "gelu: y must be"},
      {PLINTH_OP_SILU, true, 0, I32, "silu: x must be"},
      {PLINTH_OP_SWIGLU, true, 1, I32, "swiglu: up must be"},
      {PLINTH_OP_ROPE, true, 1, F32, "rope: positions must be i32"},
      {PLINTH_OP_ATTENTION, true, 2, I32, "attention: v must be"},
      {PLINTH_OP_ATTENTION, true, 4, F32, "attention: kv_lens must be i32"},
      {PLINTH_OP_MEAN_POOL, true, 1, Q8, "mean_pool: mask must be a float dtype or i32"},
      {PLINTH_OP_L2_NORMALIZE, true, 0, I32, "l2_normalize: x must be"},
      {PLINTH_OP_TOP_K, false, 1, F32, "top_k: indices must be i32"},
      {PLINTH_OP_TOP_K, false, 0, I32, "top_k: values must be"},
      {PLINTH_OP_ARGMAX, false, 0, F32, "argmax: indices must be i32"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.needle);
    Call call = f.valid(c.op);
    plinth_tensor_t& t = c.is_input ? call.in(c.slot) : call.out(c.slot);
    // Keep the shape valid for quantized dtypes: the innermost dim is a multiple of 32 there.
    t = tensor(c.dtype, is_quantized(c.dtype) ? std::vector<int64_t>{32} : std::vector<int64_t>(t.dims, t.dims + t.ndim));
    expect_error(call, PLINTH_ERROR_INVALID_ARGUMENT, c.needle);
  }
  // copy: i32 only to i32, and i32 -> i32 is fine.
  Call icopy{PLINTH_OP_COPY, {tensor(I32, {3})}, {tensor(F32, {3})}};
  expect_error(icopy, PLINTH_ERROR_INVALID_ARGUMENT, "copy: x is i32 and y is f32; i32 copies only to i32");
  icopy.out(0) = tensor(I32, {3});
  EXPECT_NO_THROW(parse(icopy));
  // mean_pool takes a float mask too.
  Call pool = f.valid(PLINTH_OP_MEAN_POOL);
  pool.in(1) = tensor(F16, {2, 5});
  EXPECT_NO_THROW(parse(pool));
}

// ---- shapes ------------------------------------------------------------------------------------------

TEST(OpCall, ElementwiseShapes) {
  Fixture f;
  Call copy = f.valid(PLINTH_OP_COPY);
  copy.out(0) = tensor(F32, {3, 2});
  expect_error(copy, PLINTH_ERROR_INVALID_ARGUMENT, "copy: y has shape f32[3,2] but x has f32[2,3]");
  Call scale = f.valid(PLINTH_OP_SCALE);
  scale.out(0) = tensor(F32, {8});
  expect_error(scale, PLINTH_ERROR_INVALID_ARGUMENT, "scale: y has shape");
  Call gelu = f.valid(PLINTH_OP_GELU);
  gelu.out(0) = tensor(F32, {9});
  expect_error(gelu, PLINTH_ERROR_INVALID_ARGUMENT, "gelu: y has shape");
  Call swiglu = f.valid(PLINTH_OP_SWIGLU);
  swiglu.in(1) = tensor(F32, {6, 2});
  expect_error(swiglu, PLINTH_ERROR_INVALID_ARGUMENT, "swiglu: up has shape f32[6,2] but gate has f32[2,6]");
  // Any strides are fine, including broadcast (0) strides on an input.
  Call strided = f.valid(PLINTH_OP_COPY);
  strided.in(0).strides[0] = 0;
  strided.in(0).strides[1] = 100;
  EXPECT_NO_THROW(parse(strided));
  // Zero-element tensors are valid.
  Call empty{PLINTH_OP_SILU, {tensor(F32, {0, 5})}, {tensor(F32, {0, 5})}};
  EXPECT_NO_THROW(parse(empty));
}

TEST(OpCall, AddBroadcasting) {
  Fixture f;
  Call add = f.valid(PLINTH_OP_ADD);  // [2,1,4] + [3,1] -> [2,3,4]
  add.out(0) = tensor(F32, {2, 3, 5});
  expect_error(add, PLINTH_ERROR_INVALID_ARGUMENT, "add: y has shape f32[2,3,5] but the broadcast of a and b is [2,3,4]");
  add.out(0) = tensor(F32, {1, 2, 3, 4});  // leading 1s do not change a shape
  EXPECT_NO_THROW(parse(add));
  add.in(1) = tensor(F32, {3, 2});
  expect_error(add, PLINTH_ERROR_INVALID_ARGUMENT, "add: a f32[2,1,4] and b f32[3,2] do not broadcast together");
  // y must be the broadcast shape, not merely something both broadcast to.
  Call mul{PLINTH_OP_MUL, {tensor(F32, {4}), tensor(F32, {4})}, {tensor(F32, {2, 4})}};
  expect_error(mul, PLINTH_ERROR_INVALID_ARGUMENT, "mul: y has shape f32[2,4] but the broadcast of a and b is [4]");
}

TEST(OpCall, MatmulShapes) {
  Fixture f;
  Call mm = f.valid(PLINTH_OP_MATMUL);  // [2,5,32] @ [32,6] -> [2,5,6]
  mm.in(1) = tensor(F32, {64, 6});
  expect_error(mm, PLINTH_ERROR_INVALID_ARGUMENT, "matmul: b has K=64 but a has K=32");
  mm = f.valid(PLINTH_OP_MATMUL);
  mm.out(0) = tensor(F32, {2, 6, 5});
  expect_error(mm, PLINTH_ERROR_INVALID_ARGUMENT, "matmul: c has shape f32[2,6,5] but op(a) @ op(b) is [..., 5, 6]");
  mm.in(0) = tensor(F32, {32});
  expect_error(mm, PLINTH_ERROR_INVALID_ARGUMENT, "matmul: a must be [..., M, K] but is f32[32]");

  // Transposes: a stored [K, M], b stored [N, K].
  plinth_matmul_params_t p = params_of<plinth_matmul_params_t>();
  p.transpose_a = 1;
  p.transpose_b = 1;
  Call tt{PLINTH_OP_MATMUL, {tensor(F32, {32, 5}), tensor(F32, {6, 32})}, {tensor(F32, {5, 6})}, &p};
  EXPECT_NO_THROW(parse(tt));
  tt.in(0) = tensor(F32, {5, 32});
  expect_error(tt, PLINTH_ERROR_INVALID_ARGUMENT, "matmul: b has K=32 but a has K=5");
  p.transpose_a = 2;
  expect_error(tt, PLINTH_ERROR_INVALID_ARGUMENT, "matmul: transpose_a must be 0 or 1, not 2");

  // Batch broadcasting: [3,1,M,K] @ [1,4,K,N] -> [3,4,M,N].
  Call batch{PLINTH_OP_MATMUL, {tensor(F32, {3, 1, 2, 8}), tensor(F32, {1, 4, 8, 5})}, {tensor(F32, {3, 4, 2, 5})}};
  EXPECT_NO_THROW(parse(batch));
  batch.out(0) = tensor(F32, {3, 1, 2, 5});
  expect_error(batch, PLINTH_ERROR_INVALID_ARGUMENT, "matmul: c has batch dims [3,1] but the broadcast of a's and b's is [3,4]");
  batch.in(1) = tensor(F32, {2, 4, 8, 5});
  expect_error(batch, PLINTH_ERROR_INVALID_ARGUMENT, "matmul: batch dims of a f32[3,1,2,8] and b f32[2,4,8,5] do not broadcast");
}

TEST(OpCall, MatmulQuantizedB) {
  plinth_matmul_params_t p = params_of<plinth_matmul_params_t>();
  p.transpose_b = 1;
  for (plinth_dtype_t q : {Q8, Q40, Q41}) {
    SCOPED_TRACE(dtype_name(q));
    Call mm{PLINTH_OP_MATMUL, {tensor(F32, {2, 3, 64}), tensor(q, {16, 64})}, {tensor(F32, {2, 3, 16})}, &p};
    EXPECT_NO_THROW(parse(mm));
    mm.in(1) = tensor(q, {1, 16, 64});  // batch dims of extent 1 are fine
    EXPECT_NO_THROW(parse(mm));
    mm.in(1) = tensor(q, {2, 16, 64});
    expect_error(mm, PLINTH_ERROR_INVALID_ARGUMENT, "must have batch dims of extent 1");
    mm.in(1) = tensor(q, {16, 48});
    expect_error(mm, PLINTH_ERROR_INVALID_ARGUMENT, "not a multiple of 32");
    p.transpose_b = 0;
    mm.in(1) = tensor(q, {64, 32});
    mm.out(0) = tensor(F32, {2, 3, 32});
    expect_error(mm, PLINTH_ERROR_INVALID_ARGUMENT, "must be stored [N, K] with transpose_b = 1");
    p.transpose_b = 1;
  }
}

TEST(OpCall, GetRowsShapes) {
  Fixture f;
  Call g = f.valid(PLINTH_OP_GET_ROWS);  // [10,64] table, [3] indices -> [3,64]
  g.out(0) = tensor(F32, {3, 32});
  expect_error(g, PLINTH_ERROR_INVALID_ARGUMENT, "get_rows: y must be [N, D] = [3,64] but is f32[3,32]");
  g = f.valid(PLINTH_OP_GET_ROWS);
  g.in(1) = tensor(I32, {3, 1});
  expect_error(g, PLINTH_ERROR_INVALID_ARGUMENT, "get_rows: indices must be [N]");
  g = f.valid(PLINTH_OP_GET_ROWS);
  g.in(0) = tensor(F32, {640});
  expect_error(g, PLINTH_ERROR_INVALID_ARGUMENT, "get_rows: table must be [R, D]");
}

TEST(OpCall, NormShapesAndEps) {
  Fixture f;
  Call rms = f.valid(PLINTH_OP_RMS_NORM);
  rms.in(1) = tensor(F32, {4});
  expect_error(rms, PLINTH_ERROR_INVALID_ARGUMENT, "rms_norm: weight must be [8] (D, the last dim of x) but is f32[4]");
  Call ln = f.valid(PLINTH_OP_LAYER_NORM);
  ln.in(2) = tensor(F32, {1, 8});
  expect_error(ln, PLINTH_ERROR_INVALID_ARGUMENT, "layer_norm: beta must be [8]");
  ln = f.valid(PLINTH_OP_LAYER_NORM);
  ln.out(0) = tensor(F32, {8, 2});
  expect_error(ln, PLINTH_ERROR_INVALID_ARGUMENT, "layer_norm: y has shape");
  Call scalar{PLINTH_OP_L2_NORMALIZE, {tensor(F32, {})}, {tensor(F32, {})}};
  expect_error(scalar, PLINTH_ERROR_INVALID_ARGUMENT, "l2_normalize: x needs at least one dimension");

  for (float eps : {0.0f, -1e-5f, std::nanf("")}) {
    f.norm.eps = eps;
    Call c = f.valid(PLINTH_OP_RMS_NORM);
    expect_error(c, PLINTH_ERROR_INVALID_ARGUMENT, "rms_norm: eps must be > 0");
  }
  f.norm.eps = 1e-6f;
  // NULL params mean eps = 1e-5.
  Call defaults = f.valid(PLINTH_OP_L2_NORMALIZE);
  defaults.params = nullptr;
  EXPECT_FLOAT_EQ(parse(defaults).params.norm.eps, 1e-5f);
  Call given = f.valid(PLINTH_OP_RMS_NORM);
  EXPECT_FLOAT_EQ(parse(given).params.norm.eps, 1e-6f);
}

TEST(OpCall, SoftmaxMaskAndParams) {
  Fixture f;
  Call sm = f.valid(PLINTH_OP_SOFTMAX);  // x [2,4,4], mask [4,4]
  sm.in(1) = tensor(F32, {3, 4});
  expect_error(sm, PLINTH_ERROR_INVALID_ARGUMENT, "softmax: mask f32[3,4] does not broadcast to x's shape [2,4,4]");
  sm.in(1) = tensor(F32, {1, 1, 4, 4});  // extra leading 1s are harmless
  EXPECT_NO_THROW(parse(sm));
  sm.in(1) = tensor(F16, {2, 1, 4});
  EXPECT_NO_THROW(parse(sm));
  f.softmax.causal = 3;
  expect_error(sm, PLINTH_ERROR_INVALID_ARGUMENT, "softmax: causal must be 0 or 1, not 3");
  f.softmax.causal = 1;
  f.softmax.scale = 0.0f;
  EXPECT_FLOAT_EQ(parse(sm).params.softmax.scale, 1.0f);  // 0 means 1
  f.softmax.scale = 0.125f;
  const OpCall parsed = parse(sm);
  EXPECT_FLOAT_EQ(parsed.params.softmax.scale, 0.125f);
  EXPECT_EQ(parsed.params.softmax.causal, 1u);
}

TEST(OpCall, GeluApproximation) {
  Fixture f;
  Call g = f.valid(PLINTH_OP_GELU);
  f.gelu.approximation = PLINTH_GELU_TANH;
  EXPECT_EQ(parse(g).params.gelu.approximation, static_cast<uint32_t>(PLINTH_GELU_TANH));
  f.gelu.approximation = 2;
  expect_error(g, PLINTH_ERROR_INVALID_ARGUMENT, "gelu: approximation must be");
  g.params = nullptr;  // NULL means the exact erf form
  EXPECT_EQ(parse(g).params.gelu.approximation, static_cast<uint32_t>(PLINTH_GELU_ERF));
}

TEST(OpCall, RopeShapesAndParams) {
  Fixture f;
  Call r = f.valid(PLINTH_OP_ROPE);  // x [2,5,4,8], positions [2,5]
  OpCall parsed = parse(r);
  EXPECT_EQ(parsed.params.rope.n_dims, 8u);  // 0 means D
  EXPECT_FLOAT_EQ(parsed.params.rope.freq_base, 10000.0f);
  r.in(1) = tensor(I32, {5});
  EXPECT_NO_THROW(parse(r));
  r.in(1) = tensor(I32, {4});
  expect_error(r, PLINTH_ERROR_INVALID_ARGUMENT, "rope: positions must be [S] = [5] or [B, S] = [2,5] but is i32[4]");
  r.in(1) = tensor(I32, {1, 5});
  expect_error(r, PLINTH_ERROR_INVALID_ARGUMENT, "rope: positions must be");
  // ndim 3 means B = 1.
  Call r3{PLINTH_OP_ROPE, {tensor(F32, {5, 4, 8}), tensor(I32, {1, 5})}, {tensor(F32, {5, 4, 8})}, &f.rope};
  EXPECT_NO_THROW(parse(r3));
  r3.in(0) = tensor(F32, {4, 8});
  expect_error(r3, PLINTH_ERROR_INVALID_ARGUMENT, "rope: x must be [B, S, H, D] or [S, H, D] but is f32[4,8]");

  r = f.valid(PLINTH_OP_ROPE);
  f.rope.n_dims = 4;
  EXPECT_EQ(parse(r).params.rope.n_dims, 4u);
  f.rope.n_dims = 3;
  expect_error(r, PLINTH_ERROR_INVALID_ARGUMENT, "rope: n_dims 3 is odd");
  f.rope.n_dims = 10;
  expect_error(r, PLINTH_ERROR_INVALID_ARGUMENT, "rope: n_dims 10 exceeds D = 8");
  f.rope.n_dims = 0;
  Call odd{PLINTH_OP_ROPE, {tensor(F32, {5, 4, 7}), tensor(I32, {5})}, {tensor(F32, {5, 4, 7})}, &f.rope};
  expect_error(odd, PLINTH_ERROR_INVALID_ARGUMENT, "rope: n_dims 0 means D = 7, which is odd");
  f.rope.mode = 2;
  expect_error(r, PLINTH_ERROR_INVALID_ARGUMENT, "rope: mode must be");
  f.rope.mode = PLINTH_ROPE_NEOX;
  f.rope.freq_base = 0.0f;
  expect_error(r, PLINTH_ERROR_INVALID_ARGUMENT, "rope: freq_base must be finite and > 0");
  r.params = nullptr;  // all defaults
  parsed = parse(r);
  EXPECT_EQ(parsed.params.rope.mode, static_cast<uint32_t>(PLINTH_ROPE_NORMAL));
  EXPECT_FLOAT_EQ(parsed.params.rope.freq_base, 10000.0f);
  EXPECT_FLOAT_EQ(parsed.params.rope.freq_scale, 1.0f);
  EXPECT_EQ(parsed.params.rope.n_dims, 8u);
}

TEST(OpCall, AttentionShapes) {
  Fixture f;
  auto fresh = [&] { return f.valid(PLINTH_OP_ATTENTION); };  // q [2,8,3,16] k [2,2,5,16] v [2,2,5,12]
  Call a = fresh();
  const OpCall parsed = parse(a);
  EXPECT_FLOAT_EQ(parsed.params.attention.scale, 0.25f);  // 0 means 1/sqrt(16)
  a.in(1) = tensor(F32, {2, 3, 5, 16});
  a.in(2) = tensor(F32, {2, 3, 5, 12});
  expect_error(a, PLINTH_ERROR_INVALID_ARGUMENT, "attention: q has Hq=8 heads, not a multiple of k's Hkv=3");
  a = fresh();
  a.in(1) = tensor(F32, {2, 2, 5, 8});
  expect_error(a, PLINTH_ERROR_INVALID_ARGUMENT, "attention: k has D=8 but q has D=16");
  a = fresh();
  a.in(1) = tensor(F32, {1, 2, 5, 16});
  expect_error(a, PLINTH_ERROR_INVALID_ARGUMENT, "attention: k has B=1 but q has B=2");
  a = fresh();
  a.in(2) = tensor(F32, {2, 2, 4, 12});
  expect_error(a, PLINTH_ERROR_INVALID_ARGUMENT, "attention: v f32[2,2,4,12] must be [B, Hkv, Skv, Dv]");
  a = fresh();
  a.out(0) = tensor(F32, {2, 8, 3, 16});
  expect_error(a, PLINTH_ERROR_INVALID_ARGUMENT, "attention: o must be [B, Hq, Sq, Dv] = [2,8,3,12] but is f32[2,8,3,16]");
  a = fresh();
  a.in(0) = tensor(F32, {8, 3, 16});
  expect_error(a, PLINTH_ERROR_INVALID_ARGUMENT, "attention: q must be [B, Hq, Sq, D]");
  a = fresh();
  a.in(3) = tensor(F32, {2, 1, 3, 5});
  EXPECT_NO_THROW(parse(a));
  a.in(3) = tensor(F32, {3, 4});
  expect_error(a, PLINTH_ERROR_INVALID_ARGUMENT, "attention: mask f32[3,4] does not broadcast to [B, Hq, Sq, Skv] [2,8,3,5]");
  a = fresh();
  a.in(4) = tensor(I32, {3});
  expect_error(a, PLINTH_ERROR_INVALID_ARGUMENT, "attention: kv_lens must be [2] (B)");
  a = fresh();
  f.attention.causal = 7;
  expect_error(a, PLINTH_ERROR_INVALID_ARGUMENT, "attention: causal must be 0 or 1");
  f.attention.causal = 1;
  f.attention.scale = 0.5f;
  EXPECT_FLOAT_EQ(parse(a).params.attention.scale, 0.5f);
}

TEST(OpCall, MeanPoolShapes) {
  Fixture f;
  Call m = f.valid(PLINTH_OP_MEAN_POOL);  // x [2,5,8], mask [2,5] -> [2,8]
  m.in(1) = tensor(I32, {2, 4});
  expect_error(m, PLINTH_ERROR_INVALID_ARGUMENT, "mean_pool: mask must be [B, S] = [2,5] but is i32[2,4]");
  m = f.valid(PLINTH_OP_MEAN_POOL);
  m.out(0) = tensor(F32, {2, 5});
  expect_error(m, PLINTH_ERROR_INVALID_ARGUMENT, "mean_pool: y must be [B, D] = [2,8] but is f32[2,5]");
  m = f.valid(PLINTH_OP_MEAN_POOL);
  m.in(0) = tensor(F32, {5, 8});
  expect_error(m, PLINTH_ERROR_INVALID_ARGUMENT, "mean_pool: x must be [B, S, D]");
}

TEST(OpCall, TopKAndArgmax) {
  Fixture f;
  Call t = f.valid(PLINTH_OP_TOP_K);  // x [4,10], k 3
  for (uint32_t bad_k : {0u, 11u}) {
    f.top_k.k = bad_k;
    expect_error(t, PLINTH_ERROR_INVALID_ARGUMENT, "top_k: k=" + std::to_string(bad_k) + " is outside [1, N=10]");
  }
  f.top_k.k = 10;
  t.out(0) = tensor(F32, {4, 10});
  t.out(1) = tensor(I32, {4, 10});
  EXPECT_NO_THROW(parse(t));
  t.out(1) = tensor(I32, {4, 3});
  expect_error(t, PLINTH_ERROR_INVALID_ARGUMENT, "top_k: indices must be [R, k] = [4,10] but is i32[4,3]");
  f.top_k.k = 2;
  Call vec{PLINTH_OP_TOP_K, {tensor(F32, {10})}, {tensor(F32, {2}), tensor(I32, {1, 2})}, &f.top_k};
  EXPECT_NO_THROW(parse(vec));
  t.params = nullptr;
  expect_error(t, PLINTH_ERROR_INVALID_ARGUMENT, "top_k: params are required");

  Call am = f.valid(PLINTH_OP_ARGMAX);
  am.out(0) = tensor(I32, {4, 1});
  expect_error(am, PLINTH_ERROR_INVALID_ARGUMENT, "argmax: indices must be [4] (R)");
  Call am1{PLINTH_OP_ARGMAX, {tensor(F32, {10})}, {tensor(I32, {1})}};
  EXPECT_NO_THROW(parse(am1));
  Call am3{PLINTH_OP_ARGMAX, {tensor(F32, {2, 3, 4})}, {tensor(I32, {2})}};
  expect_error(am3, PLINTH_ERROR_INVALID_ARGUMENT, "argmax: x must be [R, N] or [N]");
  Call am0{PLINTH_OP_ARGMAX, {tensor(F32, {3, 0})}, {tensor(I32, {3})}};
  expect_error(am0, PLINTH_ERROR_INVALID_ARGUMENT, "argmax: x has rows of N=0 elements");
}

TEST(OpCall, MoreShapeRules) {
  Fixture f;
  Call ln = f.valid(PLINTH_OP_LAYER_NORM);
  ln.in(1) = tensor(F32, {7});
  expect_error(ln, PLINTH_ERROR_INVALID_ARGUMENT, "layer_norm: gamma must be [8] (D, the last dim of x) but is f32[7]");
  Call sw = f.valid(PLINTH_OP_SWIGLU);
  sw.out(0) = tensor(F32, {2, 3});
  expect_error(sw, PLINTH_ERROR_INVALID_ARGUMENT, "swiglu: y has shape f32[2,3] but gate has f32[2,6]");
  Call mm = f.valid(PLINTH_OP_MATMUL);
  mm.out(0) = tensor(F32, {6});
  expect_error(mm, PLINTH_ERROR_INVALID_ARGUMENT, "matmul: c must be [..., M, N] but is f32[6]");
  Call r = f.valid(PLINTH_OP_ROPE);
  r.in(1) = tensor(I32, {1, 2, 5});
  expect_error(r, PLINTH_ERROR_INVALID_ARGUMENT, "rope: positions must be");
  Call rf = f.valid(PLINTH_OP_ROPE);
  rf.out(0) = tensor(F32, {2, 5, 4, 4});
  expect_error(rf, PLINTH_ERROR_INVALID_ARGUMENT, "rope: y has shape");
  // Causal softmax over a vector is a single query row: valid.
  f.softmax.causal = 1;
  Call vec{PLINTH_OP_SOFTMAX, {tensor(F32, {9})}, {tensor(F32, {9})}, &f.softmax};
  EXPECT_NO_THROW(parse(vec));
  // Attention with no kv heads needs no query heads either.
  Call empty_heads{PLINTH_OP_ATTENTION,
                   {tensor(F32, {1, 0, 2, 8}), tensor(F32, {1, 0, 3, 8}), tensor(F32, {1, 0, 3, 8})},
                   {tensor(F32, {1, 0, 2, 8})}};
  EXPECT_NO_THROW(parse(empty_heads));
  empty_heads.in(0) = tensor(F32, {1, 2, 2, 8});
  empty_heads.out(0) = tensor(F32, {1, 2, 2, 8});
  expect_error(empty_heads, PLINTH_ERROR_INVALID_ARGUMENT, "attention: q has Hq=2 heads, not a multiple of k's Hkv=0");
}

// ---- params structs ---------------------------------------------------------------------------------

TEST(OpCall, RequiredParams) {
  Fixture f;
  for (plinth_op_t op : {PLINTH_OP_FILL, PLINTH_OP_SCALE, PLINTH_OP_TOP_K}) {
    Call c = f.valid(op);
    c.params = nullptr;
    expect_error(c, PLINTH_ERROR_INVALID_ARGUMENT, std::string(op_name(op)) + ": params are required");
  }
  Call mm = f.valid(PLINTH_OP_MATMUL);
  mm.params = nullptr;
  const OpCall parsed = parse(mm);
  EXPECT_FLOAT_EQ(parsed.params.matmul.alpha, 1.0f);
  EXPECT_EQ(parsed.params.matmul.transpose_a, 0u);
}

TEST(OpCall, ParamsFromOlderAndNewerHosts) {
  Fixture f;
  // Too small to hold even the first meaningful field: INVALID_ARGUMENT.
  f.fill.struct_size = 8;
  Call fill = f.valid(PLINTH_OP_FILL);
  expect_error(fill, PLINTH_ERROR_INVALID_ARGUMENT, "fill: params.struct_size 8 is smaller than its v1 size");
  // A matmul params struct that ends before alpha means alpha = 1 (ops.h).
  f.matmul.struct_size = PLINTH_STRUCT_SIZE_THROUGH(plinth_matmul_params_t, transpose_b);
  f.matmul.alpha = 0.5f;
  Call mm = f.valid(PLINTH_OP_MATMUL);
  EXPECT_FLOAT_EQ(parse(mm).params.matmul.alpha, 1.0f);
  f.matmul.struct_size = PLINTH_STRUCT_SIZE_THROUGH(plinth_matmul_params_t, transpose_a);
  expect_error(mm, PLINTH_ERROR_INVALID_ARGUMENT, "matmul: params.struct_size");
  // A scale struct without bias means bias 0.
  f.scale.struct_size = PLINTH_STRUCT_SIZE_THROUGH(plinth_scale_params_t, scale);
  f.scale.bias = 99.0f;
  Call sc = f.valid(PLINTH_OP_SCALE);
  const OpCall parsed = parse(sc);
  EXPECT_FLOAT_EQ(parsed.params.scale.bias, 0.0f);
  EXPECT_FLOAT_EQ(parsed.params.scale.scale, 3.0f);
  // A newer host's larger struct: known fields read, the rest ignored.
  struct NewerTopK {
    plinth_top_k_params_t v1;
    uint64_t future;
  } newer{};
  newer.v1.struct_size = sizeof newer;
  newer.v1.k = 2;
  newer.future = ~0ull;
  Call tk = f.valid(PLINTH_OP_TOP_K);
  tk.params = &newer;
  tk.out(0) = tensor(F32, {4, 2});
  tk.out(1) = tensor(I32, {4, 2});
  EXPECT_EQ(parse(tk).params.top_k.k, 2u);
}

// ---- buffers and TensorView helpers -------------------------------------------------------------

TEST(OpCall, BufferRanges) {
  const auto buf = reinterpret_cast<plinth_buffer_t>(uintptr_t{0x10});
  Call c{PLINTH_OP_SILU, {tensor(F32, {4, 4}, 0, buf)}, {tensor(F32, {4, 4}, 64, buf)}};
  const BufferSizeFn size128 = [](plinth_buffer_t) -> uint64_t { return 128; };
  EXPECT_NO_THROW(parse(c, size128));
  c.out(0).offset = 65;
  expect_error(c, PLINTH_ERROR_OUT_OF_RANGE, "silu: y f32[4,4] at offset 65 reaches byte 129 but its buffer holds 128 bytes",
               size128);
  // Without a size function nothing is range checked (op_supports queries).
  EXPECT_NO_THROW(parse(c));
  // Offsets near 2^64 saturate instead of wrapping around.
  c.out(0).offset = ~0ull - 8;
  expect_error(c, PLINTH_ERROR_OUT_OF_RANGE, "beyond 2^64", size128);
  // A shape error wins over a range error.
  c.out(0).dims[0] = 5;
  expect_error(c, PLINTH_ERROR_INVALID_ARGUMENT, "silu: y has shape", size128);
  // The size function's own exception (a foreign handle) propagates.
  const BufferSizeFn foreign = [](plinth_buffer_t) -> uint64_t { fail(PLINTH_ERROR_INVALID_ARGUMENT, "unknown buffer handle"); };
  c.out(0) = tensor(F32, {4, 4}, 0, buf);
  expect_error(c, PLINTH_ERROR_INVALID_ARGUMENT, "unknown buffer handle", foreign);
  // NULL buffers (op_supports-style descriptors) are skipped even with a size function.
  Call nulls{PLINTH_OP_SILU, {tensor(F32, {4})}, {tensor(F32, {4})}};
  EXPECT_NO_THROW(parse(nulls, foreign));
}

TEST(TensorView, Helpers) {
  TensorView v;
  v.dtype = F16;
  v.ndim = 3;
  v.dims = {2, 3, 4, 1};
  v.strides = {24, 8, 2, 0};
  v.offset = 10;
  EXPECT_EQ(v.numel(), 24);
  EXPECT_TRUE(v.contiguous());
  EXPECT_EQ(v.end_byte(), 10u + 48u);
  EXPECT_EQ(v.dim(-1), 4);
  EXPECT_EQ(v.dim(0), 2);
  EXPECT_EQ(v.shape_string(), "f16[2,3,4]");
  v.strides[0] = 32;  // padded rows
  EXPECT_FALSE(v.contiguous());
  EXPECT_EQ(v.end_byte(), 10u + 32u + 16u + 6u + 2u);
  v.dims[0] = 1;  // an extent-1 dim's stride does not matter
  EXPECT_TRUE(v.contiguous());
  v.dims[1] = 0;
  EXPECT_EQ(v.end_byte(), 0u);
  EXPECT_TRUE(v.contiguous());

  TensorView q;  // q4_0 [3, 64]: rows of 2 blocks of 18 bytes
  q.dtype = Q40;
  q.ndim = 2;
  q.dims = {3, 64, 1, 1};
  q.strides = {36, 0, 0, 0};
  EXPECT_TRUE(q.contiguous());
  EXPECT_EQ(q.end_byte(), 108u);
  q.strides[0] = 40;
  EXPECT_FALSE(q.contiguous());
  EXPECT_EQ(q.end_byte(), 80u + 36u);

  TensorView scalar;
  scalar.dtype = F32;
  EXPECT_EQ(scalar.numel(), 1);
  EXPECT_EQ(scalar.end_byte(), 4u);
  EXPECT_EQ(scalar.shape_string(), "f32[]");
}

}  // namespace
}  // namespace plinth::sdk
