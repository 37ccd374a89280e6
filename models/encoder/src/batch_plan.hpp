// Grouping sequences into padded batches: sorted by length, then cut where padding would cost more
// than another launch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace plinth::models::detail {

struct EncoderBatch {
  std::vector<std::size_t> members;  // indices into the caller's sequences, longest first
  int64_t seq_len = 0;               // the longest member's length: every member is padded to it
};

// What one more batch costs beyond its tokens, in tokens: its launches and the under-filled matmuls
// of a small batch. A rough middle between CPUs (a few tokens' worth) and GPUs (hundreds).
inline constexpr int64_t kBatchOverheadTokens = 32;

// Sequences of length 0 are left out (they embed to zero rows without any device work). The others
// are sorted longest first (equal lengths keep their input order, so the plan is deterministic) and
// cut into consecutive batches of at most batch_size that minimize padded tokens plus
// kBatchOverheadTokens per batch: one long sequence does not make a batch of short ones pad to its
// length.
std::vector<EncoderBatch> plan_batches(std::span<const int64_t> lengths, int batch_size);

}  // namespace plinth::models::detail
