#version 460
// The per-sequence checks of paged attention, one invocation per sequence s (at least one, so that
// S = 0 still checks query_start = [T]). t[0] = query_start [S + 1] I32, t[1] = context_lens [S]
// I32; i[0] = S, i[1] = T, i[2] = MB * BS (clamped to 2^31-1). Sets status bit 8 when query_start
// is not 0, non-decreasing and ending at T, and bit 16 when L_s lies outside [n_s, MB * BS]. The
// attention kernel never trusts these values either: it only skips work when they are bad.
layout(local_size_x = 64) in;
#include "common.glsl"

int load_i32(Tensor t, int k) { return int(ld_u32(t.addr + uint64_t(int64_t(k) * t.strides.w))); }

void main() {
  Args A = Args(pc.args);
  uint id = linear_id();
  if (id >= A.total) return;
  Tensor starts = A.t[0];
  Tensor lens = A.t[1];
  int S = A.i[0];
  int s = int(id);
  if (s == 0 && (load_i32(starts, 0) != 0 || load_i32(starts, S) != A.i[1])) flag_error(A.status, 8u);
  if (s >= S) return;
  int b = load_i32(starts, s);
  int e = load_i32(starts, s + 1);
  if (e < b) {
    flag_error(A.status, 8u);
    return;
  }
  int L = load_i32(lens, s);
  if (int64_t(L) < int64_t(e) - int64_t(b) || L > A.i[2]) flag_error(A.status, 16u);
}
