#version 460
// Fused attention with an online softmax; one invocation per output element o[b,h,i,e].
// t[0] = o [B,Hq,Sq,Dv], t[1] = q, t[2] = k [B,Hkv,Skv,D], t[3] = v, t[4] = mask broadcast to
// [B,Hq,Sq,Skv] (optional), t[5] = kv_lens [B] I32 (optional). f[0] = scale, i[0] = causal.
layout(local_size_x = 64) in;
#include "common.glsl"

void main() {
  Args A = Args(pc.args);
  uint id = linear_id();
  if (id >= A.total) return;
  Tensor o = A.t[0];
  Tensor q = A.t[1];
  Tensor k = A.t[2];
  Tensor v = A.t[3];
  Tensor m = A.t[4];
  Tensor lens = A.t[5];
  ivec4 r = unravel(id, o.dims);
  int hq = q.dims.y;
  int hkv = k.dims.y;
  int hk = r.y / (hq / hkv);
  int sq = q.dims.z;
  int skv = k.dims.z;
  int D = q.dims.w;
  int L = skv;
  if (is_present(lens)) {
    L = int(ld_u32(lens.addr + uint64_t(int64_t(r.x) * lens.strides.w)));
    if (L < 0 || L > skv) {
      flag_error(A.status, 2u);
      L = clamp(L, 0, skv);
    }
  }
  bool causal = A.i[0] != 0;
  int last = causal ? min(L - 1, L - sq + r.z) : L - 1;
  float scale = A.f[0];
  int64_t qo = off4(q, ivec4(r.xyz, 0));
  float mx = uintBitsToFloat(0xff800000u);
  float l = 0.0;
  float acc = 0.0;
  for (int j = 0; j <= last; ++j) {
    int64_t ko = off4(k, ivec4(r.x, hk, j, 0));
    float s = 0.0;
    for (int d = 0; d < D; ++d) s += ld_at(q, qo + int64_t(d) * q.strides.w) * ld_at(k, ko + int64_t(d) * k.strides.w);
    s *= scale;
    if (is_present(m)) s += ld4(m, ivec4(r.xyz, j));
    if (isinf(s) && s < 0.0) continue;
    float mn = max(mx, s);
    float c = exp(mx - mn);
    float p = exp(s - mn);
    l = l * c + p;
    acc = acc * c + p * ld4(v, ivec4(r.x, hk, j, r.w));
    mx = mn;
  }
  st4(o, r, l > 0.0 ? acc / l : 0.0);
}
