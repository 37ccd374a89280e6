#include <gtest/gtest.h>

#include "plinth/error.hpp"
#include "plinth/op_call.hpp"
#include "plinth/ops.hpp"
#include "plinth/tensor.hpp"

using plinth::DType;
using plinth::Shape;
using plinth::Tensor;

TEST(Tensor, ContiguousStridesAndSpan) {
  const auto t = Tensor::descriptor(DType::f32, {2, 3, 4});
  EXPECT_EQ(t.ndim(), 3);
  EXPECT_EQ(t.stride(0), 48);
  EXPECT_EQ(t.stride(1), 16);
  EXPECT_EQ(t.stride(-1), 4);
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.span_bytes(), 96u);
  EXPECT_EQ(t.contiguous_bytes(), 96u);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.to_string(), "f32[2,3,4]");
}

TEST(Tensor, QuantizedRowsArePackedBlocks) {
  const auto t = Tensor::descriptor(DType::q4_0, {3, 64});
  EXPECT_EQ(t.stride(0), 36);  // two 18-byte blocks per row
  EXPECT_EQ(t.span_bytes(), 108u);
  EXPECT_EQ(plinth::dtype_bytes(DType::q8_0, 64), 68u);
  EXPECT_THROW(Tensor::descriptor(DType::q4_0, {3, 40}), plinth::Error);
  EXPECT_THROW(t.slice(1, 0, 16), plinth::Error);
  EXPECT_EQ(t.slice(1, 32, 64).offset(), 18u);
}

TEST(Tensor, SliceSelectTransposeReshape) {
  const auto t = Tensor::descriptor(DType::f16, {4, 6});
  const auto s = t.slice(1, 2, 5);
  EXPECT_EQ(s.shape(), (Shape{4, 3}));
  EXPECT_EQ(s.offset(), 4u);
  EXPECT_EQ(s.stride(0), 12);
  EXPECT_FALSE(s.is_contiguous());
  EXPECT_EQ(s.span_bytes(), 3u * 12 + 3 * 2);
  EXPECT_THROW(s.reshape({12}), plinth::Error);

  const auto row = t.select(0, 2);
  EXPECT_EQ(row.shape(), (Shape{6}));
  EXPECT_EQ(row.offset(), 24u);
  EXPECT_TRUE(row.is_contiguous());

  const auto tr = t.transpose(0, 1);
  EXPECT_EQ(tr.shape(), (Shape{6, 4}));
  EXPECT_EQ(tr.stride(0), 2);
  EXPECT_EQ(tr.stride(1), 12);
  EXPECT_FALSE(tr.is_contiguous());

  const auto r = t.reshape({2, 3, 4});
  EXPECT_EQ(r.stride(0), 24);
  EXPECT_TRUE(r.is_contiguous());
  EXPECT_THROW(t.reshape({5, 5}), plinth::Error);
  EXPECT_THROW(t.slice(0, 2, 5), plinth::Error);
  EXPECT_THROW(t.slice(2, 0, 1), plinth::Error);
}

TEST(Tensor, EmptyTensorSpansNothing) {
  const auto t = Tensor::descriptor(DType::f32, {0, 5});
  EXPECT_EQ(t.numel(), 0);
  EXPECT_EQ(t.span_bytes(), 0u);
}

TEST(Tensor, AbiDescriptor) {
  const auto t = Tensor::descriptor(DType::bf16, {2, 8}).slice(1, 1, 3);
  const auto a = t.to_abi();
  EXPECT_EQ(a.struct_size, sizeof(plinth_tensor_t));
  EXPECT_EQ(a.dtype, PLINTH_DTYPE_BF16);
  EXPECT_EQ(a.buffer, nullptr);
  EXPECT_EQ(a.offset, 2u);
  EXPECT_EQ(a.ndim, 2u);
  EXPECT_EQ(a.dims[1], 2);
  EXPECT_EQ(a.strides[0], 16);
}

TEST(OpCall, BuildersUseCurrentStructSizes) {
  const auto a = Tensor::descriptor(DType::f32, {2, 3});
  const auto b = Tensor::descriptor(DType::f32, {4, 3});
  const auto c = Tensor::descriptor(DType::f32, {2, 4});
  const auto call = plinth::ops::make_matmul(a, b, c, {.transpose_b = true});
  plinth::AbiOpCall abi(call);
  const auto* p = abi.get();
  EXPECT_EQ(p->struct_size, sizeof(plinth_op_call_t));
  EXPECT_EQ(p->op, PLINTH_OP_MATMUL);
  ASSERT_EQ(p->num_inputs, 2u);
  ASSERT_EQ(p->num_outputs, 1u);
  EXPECT_EQ(p->inputs[1]->dims[0], 4);
  const auto* mp = static_cast<const plinth_matmul_params_t*>(p->params);
  EXPECT_EQ(mp->struct_size, sizeof(plinth_matmul_params_t));
  EXPECT_EQ(mp->transpose_b, 1u);
  EXPECT_EQ(mp->transpose_a, 0u);
  EXPECT_FLOAT_EQ(mp->alpha, 1.0f);
  EXPECT_EQ(call.describe(), "matmul(a=f32[2,3], b=f32[4,3]) -> c=f32[2,4]");
}

TEST(OpCall, OptionalSlotsAreNull) {
  const auto x = Tensor::descriptor(DType::f32, {1, 2, 4, 8});
  const auto call = plinth::ops::make_attention(x, x, x, std::nullopt, std::nullopt, x, {.causal = true});
  plinth::AbiOpCall abi(call);
  ASSERT_EQ(abi.get()->num_inputs, 5u);
  EXPECT_NE(abi.get()->inputs[2], nullptr);
  EXPECT_EQ(abi.get()->inputs[3], nullptr);
  EXPECT_EQ(abi.get()->inputs[4], nullptr);
  EXPECT_EQ(static_cast<const plinth_attention_params_t*>(abi.get()->params)->causal, 1u);
  const auto tk = plinth::ops::make_top_k(Tensor::descriptor(DType::f32, {2, 10}), Tensor::descriptor(DType::f32, {2, 3}),
                                          Tensor::descriptor(DType::i32, {2, 3}), 3);
  EXPECT_EQ(plinth::AbiOpCall(tk).get()->num_outputs, 2u);
  EXPECT_EQ(plinth::op_name(PLINTH_OP_L2_NORMALIZE), "l2_normalize");
  EXPECT_EQ(plinth::op_name(99), "?");
}
