#version 460
// Attention over a ragged batch with a paged KV cache (PLINTH_OP_PAGED_ATTENTION). One workgroup
// per (query row t, query head h, chunk of 256 output dims); its 64 invocations walk the keys of
// t's sequence 64 at a time (one key each: block lookup and q.k), and the tile's scores fold into
// an online softmax whose accumulators each invocation holds for 4 of the chunk's output dims.
// t[0] = o [T,Hq,Dv] (as [1,T,Hq,Dv]), t[1] = q [T,Hq,D], t[2] = k_cache [NB,BS,Hkv,D],
// t[3] = v_cache [NB,BS,Hkv,Dv], t[4] = block_table [S,MB] (as [1,1,S,MB]), t[5] = query_start [S+1];
// context_lens [S] does not fit in the six tensor slots: i[4..5] hold its address, i[6..7] its byte
// stride (low word first). f[0] = scale, i[0] = causal, i[1] = S, i[2] = output-dim chunks.
// Bad data (a block id outside [0, NB), a row outside its sequence's query_start range, L_s outside
// [n_s, MB*BS]) sets a status bit; the kernel then skips that key or row, so it never reads outside
// the inputs (the rows of o are undefined then, as the op allows).
layout(local_size_x = 64) in;
#include "common.glsl"

#define TILE 64
#define PER_LANE 4
#define CHUNK (TILE * PER_LANE)
#define MAX_CACHED_D 256
#define NEG_INF uintBitsToFloat(0xff800000u)

shared float sh_q[MAX_CACHED_D];  // the query row, when D <= MAX_CACHED_D (read by every key)
shared float sh_score[TILE];
shared float sh_p[TILE];
shared int64_t sh_vrow[TILE];  // byte offset of the tile key's v row for head hk; -1: no key

int64_t arg_i64(Args A, int k) {
  return int64_t(uint64_t(uint(A.i[k])) | (uint64_t(uint(A.i[k + 1])) << 32));
}

int ld_i32(Tensor t, int64_t off) { return int(ld_u32(t.addr + uint64_t(off))); }

// The sequence owning row t: the last s < S with query_start[s] <= t (query_start checked later).
int find_sequence(Tensor starts, int S, int t) {
  int lo = 0, hi = S;
  while (hi - lo > 1) {
    int mid = (lo + hi) / 2;
    if (ld_i32(starts, int64_t(mid) * starts.strides.w) <= t) lo = mid;
    else hi = mid;
  }
  return lo;
}

void main() {
  Args A = Args(pc.args);
  uint wg = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
  if (wg >= A.total) return;  // uniform per workgroup, like every early return before the loop
  int lane = int(gl_LocalInvocationID.x);
  Tensor o = A.t[0];
  Tensor q = A.t[1];
  Tensor k = A.t[2];
  Tensor v = A.t[3];
  Tensor table = A.t[4];
  Tensor starts = A.t[5];
  int S = A.i[1];
  int chunks = A.i[2];
  int Hq = o.dims.z;
  int Dv = o.dims.w;
  int D = q.dims.w;
  int NB = k.dims.x;
  int BS = k.dims.y;
  int MB = table.dims.w;
  int c = int(wg % uint(chunks));
  int h = int((wg / uint(chunks)) % uint(Hq));
  int t = int(wg / uint(chunks) / uint(Hq));
  int hk = h / (Hq / k.dims.z);
  if (S <= 0) return;  // query_start = [0] cannot own a row: paged_check reports it

  int s = find_sequence(starts, S, t);
  int first = ld_i32(starts, int64_t(s) * starts.strides.w);
  int end = ld_i32(starts, int64_t(s + 1) * starts.strides.w);
  if (t < first || t >= end) {
    flag_error(A.status, 8u);
    return;
  }
  int n = end - first;
  int L = int(ld_u32(uint64_t(arg_i64(A, 4)) + uint64_t(int64_t(s) * arg_i64(A, 6))));
  if (L < n || int64_t(L) > int64_t(MB) * int64_t(BS)) {
    flag_error(A.status, 16u);
    return;
  }
  // Row t sits at position L - n + (t - first); causally it sees keys up to there.
  int count = A.i[0] != 0 ? L - n + (t - first) + 1 : L;

  int64_t q_row = int64_t(t) * q.strides.y + int64_t(h) * q.strides.z;
  bool cached = D <= MAX_CACHED_D;
  if (cached) {
    for (int d = lane; d < D; d += TILE) sh_q[d] = ld_at(q, q_row + int64_t(d) * q.strides.w);
  }
  barrier();

  float scale = A.f[0];
  float m = NEG_INF;  // running max of the scores seen
  float l = 0.0;      // running sum of exp(score - m)
  float acc[PER_LANE];
  for (int r = 0; r < PER_LANE; ++r) acc[r] = 0.0;
  int64_t table_row = int64_t(s) * table.strides.z;

  for (int j0 = 0; j0 < count; j0 += TILE) {
    int j = j0 + lane;
    float score = NEG_INF;
    int64_t vrow = -1;
    if (j < count) {
      int blk = ld_i32(table, table_row + int64_t(j / BS) * table.strides.w);
      int slot = j % BS;
      if (blk < 0 || blk >= NB) {
        flag_error(A.status, 4u);
      } else {
        int64_t kr = int64_t(blk) * k.strides.x + int64_t(slot) * k.strides.y + int64_t(hk) * k.strides.z;
        float dot = 0.0;
        for (int d = 0; d < D; ++d) {
          float qd = cached ? sh_q[d] : ld_at(q, q_row + int64_t(d) * q.strides.w);
          dot += qd * ld_at(k, kr + int64_t(d) * k.strides.w);
        }
        score = dot * scale;
        vrow = int64_t(blk) * v.strides.x + int64_t(slot) * v.strides.y + int64_t(hk) * v.strides.z;
      }
    }
    sh_score[lane] = score;
    sh_vrow[lane] = vrow;
    barrier();
    float tile_max = NEG_INF;
    for (int jj = 0; jj < TILE; ++jj) tile_max = max(tile_max, sh_score[jj]);
    float mn = max(m, tile_max);
    // exp(-inf - -inf) would be NaN: keys with no score weigh 0, and a fresh max rescales nothing.
    sh_p[lane] = score == NEG_INF ? 0.0 : exp(score - mn);
    float corr = m == NEG_INF ? 0.0 : exp(m - mn);
    barrier();
    float tile_sum = 0.0;
    for (int jj = 0; jj < TILE; ++jj) tile_sum += sh_p[jj];
    l = l * corr + tile_sum;
    for (int r = 0; r < PER_LANE; ++r) {
      int e = c * CHUNK + r * TILE + lane;
      if (e >= Dv) break;
      float sum = 0.0;
      for (int jj = 0; jj < TILE; ++jj) {
        int64_t row = sh_vrow[jj];
        if (row >= 0) sum += sh_p[jj] * ld_at(v, row + int64_t(e) * v.strides.w);
      }
      acc[r] = acc[r] * corr + sum;
    }
    m = mn;
    barrier();  // the next tile overwrites the shared arrays
  }

  int64_t o_row = int64_t(t) * o.strides.y + int64_t(h) * o.strides.z;
  for (int r = 0; r < PER_LANE; ++r) {
    int e = c * CHUNK + r * TILE + lane;
    if (e < Dv) st_at(o, o_row + int64_t(e) * o.strides.w, l > 0.0 ? acc[r] / l : 0.0);
  }
}
