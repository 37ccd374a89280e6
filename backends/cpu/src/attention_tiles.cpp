// The attention tile kernels (see attention_tiles.hpp). Each ISA's version carries its own target
// attribute, so this file builds with baseline flags and isa_of() picks at run time.
#include "attention_tiles.hpp"

#include <immintrin.h>

#include <cstring>

namespace plinth::cpu::tiles {
namespace {

// s[i][j] = scale * sum_c q[i][c] * kt[c][j] for i < rows (multiple of kRowTile), j < kKeyBlock;
// q has row stride d, kt row stride ldk, s row stride kKeyBlock.
void scores_generic(const float* q, const float* kt, int64_t ldk, int64_t rows, int64_t d, float scale,
                    float* s) {
  for (int64_t i = 0; i < rows; ++i) {
    float* sr = s + i * kKeyBlock;
    for (int64_t j = 0; j < kKeyBlock; ++j) sr[j] = 0.0f;
    for (int64_t c = 0; c < d; ++c) {
      const float a = q[i * d + c];
      const float* kr = kt + c * ldk;
      for (int64_t j = 0; j < kKeyBlock; ++j) sr[j] += a * kr[j];
    }
    for (int64_t j = 0; j < kKeyBlock; ++j) sr[j] *= scale;
  }
}

// acc[i][c] += sum_j p[i][j] * v[j][c] for i < rows, j < nj, c < dvp (multiple of kColTile);
// p row stride kKeyBlock, v and acc row stride dvp.
void pv_generic(const float* p, const float* v, int64_t rows, int64_t nj, int64_t dvp, float* acc) {
  for (int64_t i = 0; i < rows; ++i) {
    float* ar = acc + i * dvp;
    for (int64_t j = 0; j < nj; ++j) {
      const float a = p[i * kKeyBlock + j];
      if (a == 0.0f) continue;
      const float* vr = v + j * dvp;
      for (int64_t c = 0; c < dvp; ++c) ar[c] += a * vr[c];
    }
  }
}

__attribute__((target("avx2,fma"))) void scores_avx2(const float* q, const float* kt, int64_t ldk,
                                                     int64_t rows, int64_t d, float scale, float* s) {
  const __m256 sv = _mm256_set1_ps(scale);
  for (int64_t i = 0; i < rows; i += kRowTile) {
    const float* q0 = q + i * d;
    for (int64_t j = 0; j < kKeyBlock; j += kColTile) {
      __m256 a00 = _mm256_setzero_ps(), a01 = _mm256_setzero_ps();
      __m256 a10 = _mm256_setzero_ps(), a11 = _mm256_setzero_ps();
      __m256 a20 = _mm256_setzero_ps(), a21 = _mm256_setzero_ps();
      __m256 a30 = _mm256_setzero_ps(), a31 = _mm256_setzero_ps();
      for (int64_t c = 0; c < d; ++c) {
        const float* kr = kt + c * ldk + j;
        const __m256 k0 = _mm256_loadu_ps(kr);
        const __m256 k1 = _mm256_loadu_ps(kr + 8);
        __m256 b = _mm256_broadcast_ss(q0 + c);
        a00 = _mm256_fmadd_ps(b, k0, a00);
        a01 = _mm256_fmadd_ps(b, k1, a01);
        b = _mm256_broadcast_ss(q0 + d + c);
        a10 = _mm256_fmadd_ps(b, k0, a10);
        a11 = _mm256_fmadd_ps(b, k1, a11);
        b = _mm256_broadcast_ss(q0 + 2 * d + c);
        a20 = _mm256_fmadd_ps(b, k0, a20);
        a21 = _mm256_fmadd_ps(b, k1, a21);
        b = _mm256_broadcast_ss(q0 + 3 * d + c);
        a30 = _mm256_fmadd_ps(b, k0, a30);
        a31 = _mm256_fmadd_ps(b, k1, a31);
      }
      float* sr = s + i * kKeyBlock + j;
      _mm256_storeu_ps(sr, _mm256_mul_ps(sv, a00));
      _mm256_storeu_ps(sr + 8, _mm256_mul_ps(sv, a01));
      _mm256_storeu_ps(sr + kKeyBlock, _mm256_mul_ps(sv, a10));
      _mm256_storeu_ps(sr + kKeyBlock + 8, _mm256_mul_ps(sv, a11));
      _mm256_storeu_ps(sr + 2 * kKeyBlock, _mm256_mul_ps(sv, a20));
      _mm256_storeu_ps(sr + 2 * kKeyBlock + 8, _mm256_mul_ps(sv, a21));
      _mm256_storeu_ps(sr + 3 * kKeyBlock, _mm256_mul_ps(sv, a30));
      _mm256_storeu_ps(sr + 3 * kKeyBlock + 8, _mm256_mul_ps(sv, a31));
    }
  }
}

__attribute__((target("avx2,fma"))) void pv_avx2(const float* p, const float* v, int64_t rows, int64_t nj,
                                                 int64_t dvp, float* acc) {
  for (int64_t i = 0; i < rows; i += kRowTile) {
    const float* p0 = p + i * kKeyBlock;
    for (int64_t c = 0; c < dvp; c += kColTile) {
      float* ar = acc + i * dvp + c;
      __m256 a00 = _mm256_loadu_ps(ar), a01 = _mm256_loadu_ps(ar + 8);
      __m256 a10 = _mm256_loadu_ps(ar + dvp), a11 = _mm256_loadu_ps(ar + dvp + 8);
      __m256 a20 = _mm256_loadu_ps(ar + 2 * dvp), a21 = _mm256_loadu_ps(ar + 2 * dvp + 8);
      __m256 a30 = _mm256_loadu_ps(ar + 3 * dvp), a31 = _mm256_loadu_ps(ar + 3 * dvp + 8);
      for (int64_t j = 0; j < nj; ++j) {
        const float* vr = v + j * dvp + c;
        const __m256 v0 = _mm256_loadu_ps(vr);
        const __m256 v1 = _mm256_loadu_ps(vr + 8);
        __m256 b = _mm256_broadcast_ss(p0 + j);
        a00 = _mm256_fmadd_ps(b, v0, a00);
        a01 = _mm256_fmadd_ps(b, v1, a01);
        b = _mm256_broadcast_ss(p0 + kKeyBlock + j);
        a10 = _mm256_fmadd_ps(b, v0, a10);
        a11 = _mm256_fmadd_ps(b, v1, a11);
        b = _mm256_broadcast_ss(p0 + 2 * kKeyBlock + j);
        a20 = _mm256_fmadd_ps(b, v0, a20);
        a21 = _mm256_fmadd_ps(b, v1, a21);
        b = _mm256_broadcast_ss(p0 + 3 * kKeyBlock + j);
        a30 = _mm256_fmadd_ps(b, v0, a30);
        a31 = _mm256_fmadd_ps(b, v1, a31);
      }
      _mm256_storeu_ps(ar, a00);
      _mm256_storeu_ps(ar + 8, a01);
      _mm256_storeu_ps(ar + dvp, a10);
      _mm256_storeu_ps(ar + dvp + 8, a11);
      _mm256_storeu_ps(ar + 2 * dvp, a20);
      _mm256_storeu_ps(ar + 2 * dvp + 8, a21);
      _mm256_storeu_ps(ar + 3 * dvp, a30);
      _mm256_storeu_ps(ar + 3 * dvp + 8, a31);
    }
  }
}

__attribute__((target("avx512f"))) void scores_avx512(const float* q, const float* kt, int64_t ldk,
                                                      int64_t rows, int64_t d, float scale, float* s) {
  static_assert(kKeyBlock == 64, "one register tile spans a key block");
  const __m512 sv = _mm512_set1_ps(scale);
  for (int64_t i = 0; i < rows; i += kRowTile) {
    const float* q0 = q + i * d;
    __m512 acc[kRowTile][4];
#pragma GCC unroll 4
    for (int r = 0; r < kRowTile; ++r) {
#pragma GCC unroll 4
      for (int x = 0; x < 4; ++x) acc[r][x] = _mm512_setzero_ps();
    }
    for (int64_t c = 0; c < d; ++c) {
      const float* kr = kt + c * ldk;
      __m512 kv[4];
#pragma GCC unroll 4
      for (int x = 0; x < 4; ++x) kv[x] = _mm512_loadu_ps(kr + 16 * x);
#pragma GCC unroll 4
      for (int r = 0; r < kRowTile; ++r) {
        const __m512 b = _mm512_set1_ps(q0[r * d + c]);
#pragma GCC unroll 4
        for (int x = 0; x < 4; ++x) acc[r][x] = _mm512_fmadd_ps(b, kv[x], acc[r][x]);
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < kRowTile; ++r) {
#pragma GCC unroll 4
      for (int x = 0; x < 4; ++x)
        _mm512_storeu_ps(s + (i + r) * kKeyBlock + 16 * x, _mm512_mul_ps(sv, acc[r][x]));
    }
  }
}

// kRowTile rows by 16 * kVecs value columns of acc += p v.
template <int kVecs>
__attribute__((target("avx512f"))) void pv_tile_avx512(const float* p0, const float* v, int64_t nj,
                                                       int64_t dvp, float* ar) {
  __m512 acc[kRowTile][kVecs];
#pragma GCC unroll 4
  for (int r = 0; r < kRowTile; ++r) {
#pragma GCC unroll 4
    for (int x = 0; x < kVecs; ++x) acc[r][x] = _mm512_loadu_ps(ar + r * dvp + 16 * x);
  }
  for (int64_t j = 0; j < nj; ++j) {
    __m512 vv[kVecs];
#pragma GCC unroll 4
    for (int x = 0; x < kVecs; ++x) vv[x] = _mm512_loadu_ps(v + j * dvp + 16 * x);
#pragma GCC unroll 4
    for (int r = 0; r < kRowTile; ++r) {
      const __m512 b = _mm512_set1_ps(p0[r * kKeyBlock + j]);
#pragma GCC unroll 4
      for (int x = 0; x < kVecs; ++x) acc[r][x] = _mm512_fmadd_ps(b, vv[x], acc[r][x]);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < kRowTile; ++r) {
#pragma GCC unroll 4
    for (int x = 0; x < kVecs; ++x) _mm512_storeu_ps(ar + r * dvp + 16 * x, acc[r][x]);
  }
}

__attribute__((target("avx512f"))) void pv_avx512(const float* p, const float* v, int64_t rows, int64_t nj,
                                                  int64_t dvp, float* acc) {
  for (int64_t i = 0; i < rows; i += kRowTile) {
    const float* p0 = p + i * kKeyBlock;
    float* ar = acc + i * dvp;
    int64_t c = 0;
    for (; c + 64 <= dvp; c += 64) pv_tile_avx512<4>(p0, v + c, nj, dvp, ar + c);
    switch ((dvp - c) / 16) {
      case 3: pv_tile_avx512<3>(p0, v + c, nj, dvp, ar + c); break;
      case 2: pv_tile_avx512<2>(p0, v + c, nj, dvp, ar + c); break;
      case 1: pv_tile_avx512<1>(p0, v + c, nj, dvp, ar + c); break;
      default: break;
    }
  }
}

}  // namespace

Isa isa_of(const KernelTable& k) noexcept {
  if (std::strcmp(k.isa, "avx512") == 0) return Isa::kAvx512;
  if (std::strcmp(k.isa, "avx2") == 0) return Isa::kAvx2;
  return Isa::kGeneric;
}

void scores(Isa isa, const float* q, const float* kt, int64_t ldk, int64_t rows, int64_t d, float scale,
            float* s) noexcept {
  switch (isa) {
    case Isa::kAvx512: scores_avx512(q, kt, ldk, rows, d, scale, s); break;
    case Isa::kAvx2: scores_avx2(q, kt, ldk, rows, d, scale, s); break;
    case Isa::kGeneric: scores_generic(q, kt, ldk, rows, d, scale, s); break;
  }
}

void pv(Isa isa, const float* p, const float* v, int64_t rows, int64_t nj, int64_t dvp, float* acc) noexcept {
  switch (isa) {
    case Isa::kAvx512: pv_avx512(p, v, rows, nj, dvp, acc); break;
    case Isa::kAvx2: pv_avx2(p, v, rows, nj, dvp, acc); break;
    case Isa::kGeneric: pv_generic(p, v, rows, nj, dvp, acc); break;
  }
}

}  // namespace plinth::cpu::tiles
