// PrefixAffinity: which replica was last sent each prompt prefix, by the same chained block hashes
// BlockManager uses. The router prefers that replica, whose prefix cache probably still holds the
// prefix. A replica's BlockManager belongs to its engine thread, so a submitting thread cannot ask
// it (plan_prompt) without stalling on its step; this record is the thread-safe stand-in. It may be
// stale (evicted blocks): that costs a prefill, never a wrong result. Not synchronized itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>

#include "plinth/scheduler/block_manager.hpp"

namespace plinth::scheduler {

struct AffinityMatch {
  std::size_t replica = 0;
  std::uint32_t blocks = 0;  // leading full blocks of the prompt last sent there
};

class PrefixAffinity {
 public:
  // `max_entries` bounds the memory: when full, the record starts over.
  PrefixAffinity(std::uint32_t block_size, std::size_t max_entries = 1u << 16);

  // The replica that was sent the longest prefix of `tokens` (whole blocks), if any.
  std::optional<AffinityMatch> match(std::span<const Token> tokens) const;
  void record(std::span<const Token> tokens, std::size_t replica);
  // Forgets a replica (it went down).
  void forget(std::size_t replica);

 private:
  std::uint32_t block_size_;
  std::size_t max_entries_;
  std::unordered_map<std::uint64_t, std::size_t> replica_by_hash_;
};

}  // namespace plinth::scheduler
