#version 460
// Dequantizes GGUF weight rows to f32 for the float matmul kernels (quantized matmul with more than a
// decode's few activation rows). t[0] = y: dense f32 [N, K]; t[1] = weights, strides.w = row stride in
// bytes (as matmul passes them); i[0] = K. One invocation per element.
layout(local_size_x = 256) in;
#include "common.glsl"

void main() {
  Args A = Args(pc.args);
  uint id = linear_id();
  if (id >= A.total) return;
  Tensor w = A.t[1];
  uint K = uint(A.i[0]);
  uint n = id / K;
  uint k = id % K;
  float v = ld_quant(w.dtype, w.addr + uint64_t(n) * uint64_t(w.strides.w), int(k));
  Word(A.t[0].addr + uint64_t(id) * 4u).v = floatBitsToUint(v);
}
