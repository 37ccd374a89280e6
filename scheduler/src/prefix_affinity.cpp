#include "plinth/scheduler/prefix_affinity.hpp"

#include <algorithm>
#include <stdexcept>

namespace plinth::scheduler {

namespace {
// Prompts longer than this share their routing fate with their first blocks; hashing further would
// cost submit time for no better choice.
constexpr std::size_t kMaxBlocks = 64;
}  // namespace

PrefixAffinity::PrefixAffinity(std::uint32_t block_size, std::size_t max_entries)
    : block_size_(block_size), max_entries_(max_entries) {
  if (block_size_ == 0) throw std::invalid_argument("PrefixAffinity: block_size must be at least 1");
}

std::optional<AffinityMatch> PrefixAffinity::match(std::span<const Token> tokens) const {
  std::optional<AffinityMatch> best;
  std::uint64_t h = 0;
  const std::size_t blocks = std::min(tokens.size() / block_size_, kMaxBlocks);
  for (std::size_t i = 0; i < blocks; ++i) {
    h = default_block_hash(h, tokens.subspan(i * block_size_, block_size_));
    const auto it = replica_by_hash_.find(h);
    if (it == replica_by_hash_.end()) break;
    best = AffinityMatch{it->second, static_cast<std::uint32_t>(i + 1)};
  }
  return best;
}

void PrefixAffinity::record(std::span<const Token> tokens, std::size_t replica) {
  const std::size_t blocks = std::min(tokens.size() / block_size_, kMaxBlocks);
  if (replica_by_hash_.size() + blocks > max_entries_) replica_by_hash_.clear();
  std::uint64_t h = 0;
  for (std::size_t i = 0; i < blocks; ++i) {
    h = default_block_hash(h, tokens.subspan(i * block_size_, block_size_));
    replica_by_hash_[h] = replica;
  }
}

void PrefixAffinity::forget(std::size_t replica) {
  std::erase_if(replica_by_hash_, [&](const auto& kv) { return kv.second == replica; });
}

}  // namespace plinth::scheduler
