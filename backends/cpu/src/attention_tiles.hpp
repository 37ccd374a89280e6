// Register-tiled building blocks of blocked attention: S = scale * Q K^T and O += P V over one key
// block, on packed f32 tiles. Shared by ATTENTION (prefill shapes) and PAGED_ATTENTION (every shape:
// a GQA group's query heads fill the row tiles even in decode), so both get the same kernels.
#pragma once

#include <cstdint>

#include "kernels.hpp"

namespace plinth::cpu::tiles {

// Keys per block. Register tiles are kRowTile query rows by kColTile keys (scores) or value columns
// (P V), so packed buffers are padded to those multiples.
inline constexpr int64_t kKeyBlock = 64;
inline constexpr int64_t kRowTile = 4;
inline constexpr int64_t kColTile = 16;

constexpr int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// Which tile kernels run: they follow the kernel table's level, so PLINTH_CPU_ISA caps them too.
enum class Isa { kGeneric, kAvx2, kAvx512 };
Isa isa_of(const KernelTable& k) noexcept;

// s[i][j] = scale * sum_c q[i][c] * kt[c][j] for i < rows (a multiple of kRowTile), j < kKeyBlock;
// q has row stride d, kt row stride ldk, s row stride kKeyBlock.
void scores(Isa isa, const float* q, const float* kt, int64_t ldk, int64_t rows, int64_t d, float scale,
            float* s) noexcept;

// acc[i][c] += sum_j p[i][j] * v[j][c] for i < rows (a multiple of kRowTile), j < nj, c < dvp (a
// multiple of kColTile); p row stride kKeyBlock, v and acc row stride dvp.
void pv(Isa isa, const float* p, const float* v, int64_t rows, int64_t nj, int64_t dvp, float* acc) noexcept;

}  // namespace plinth::cpu::tiles
