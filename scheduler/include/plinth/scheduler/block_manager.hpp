// BlockManager: the paged KV cache's bookkeeping for one device. Each sequence owns a block table (a
// list of block ids, `block_size` tokens each); the engine maps ids to device buffers. No device memory
// is touched here.
//
// Prefix caching: a full block is identified by a hash chained over the previous block's hash and its
// own token ids (as in vLLM), so a system prompt shared by many requests is stored once. A hit is
// verified, never trusted: the cached block's tokens must be equal and its parent must be the block
// matched just before (by a registration number, so a parent evicted and reused does not count), so a
// hash collision costs a miss, never a wrong block. The last, partial block of a sequence is never
// shared. A full block joins the cache only once the engine reports its KV computed (mark_computed):
// with chunked prefill a block is allocated steps before it is written, and a request that hit it in
// between would attend to KV that does not exist yet. Unreferenced cached blocks stay until they are evicted,
// least recently used first, when no free block is left.
//
// Running out of blocks is a normal outcome: every allocating call reports it (nullopt / false) and
// leaves the state as it was. Misuse (an unknown or duplicate sequence id) throws std::invalid_argument.
//
// Thread safety: none. The one engine thread that schedules a device owns its BlockManager.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "plinth/scheduler/block_pool.hpp"

namespace plinth::scheduler {

using Token = std::int32_t;
using SequenceId = std::uint64_t;

// Hash of a full block from its parent's hash (0 for the first block) and its tokens. Pluggable so tests
// can force collisions; the default is FNV-1a-style mixing, fast and good enough since hits are verified.
using BlockHasher = std::function<std::uint64_t(std::uint64_t parent_hash, std::span<const Token> tokens)>;
std::uint64_t default_block_hash(std::uint64_t parent_hash, std::span<const Token> tokens) noexcept;

struct BlockManagerOptions {
  std::uint32_t num_blocks = 0;
  std::uint32_t block_size = 16;  // tokens per block
  bool prefix_caching = true;
  BlockHasher hasher;  // empty: default_block_hash
};

// What a prompt would take: blocks already cached for its longest matching prefix, and fresh ones.
struct PromptPlan {
  std::uint32_t hit_blocks = 0;
  std::uint32_t new_blocks = 0;
  bool fits = false;  // new_blocks can be had now (free or by evicting unreferenced cached blocks)
};

// The result of a successful allocate_prompt().
struct PromptAllocation {
  std::size_t cached_tokens = 0;    // leading tokens whose KV is already in the cache (whole blocks).
                                    // May equal the prompt's length: the engine still runs the last
                                    // token to get its logits.
  std::span<const BlockId> blocks;  // the sequence's block table; valid until its next change
};

// A fork gives the child its own copy of the parent's partial last block; the engine copies the KV.
struct BlockCopy {
  BlockId src = 0;
  BlockId dst = 0;
};
struct ForkResult {
  std::optional<BlockCopy> copy;  // none when the parent's last block is full (or it has none)
};

struct BlockManagerStats {
  std::uint32_t total_blocks = 0;
  std::uint32_t free_blocks = 0;    // unreferenced, no reusable contents
  std::uint32_t cached_blocks = 0;  // unreferenced, cached (evictable)
  std::uint32_t in_use_blocks = 0;  // referenced by at least one sequence
  std::uint64_t prompt_tokens = 0;  // tokens of all allocated prompts
  std::uint64_t prefix_hit_tokens = 0;
  std::uint64_t evictions = 0;
};

class BlockManager {
 public:
  // Throws std::invalid_argument for block_size 0.
  explicit BlockManager(BlockManagerOptions options);

  // The number of blocks a memory budget holds (budget / bytes_per_block, at most UINT32_MAX).
  // Throws std::invalid_argument for bytes_per_block 0.
  static std::uint32_t blocks_for_budget(std::uint64_t budget_bytes, std::uint64_t bytes_per_block);

  std::uint32_t block_size() const noexcept { return block_size_; }
  std::uint32_t blocks_for_tokens(std::size_t n_tokens) const noexcept;
  // Whether n_tokens without any prefix hit would fit now.
  bool can_allocate(std::size_t n_tokens) const noexcept;
  // Admission: prefix hits and fresh blocks a prompt would take. Changes nothing.
  PromptPlan plan_prompt(std::span<const Token> tokens) const;

  // A new sequence holding `tokens`: reuses cached (computed) blocks for the longest matching prefix,
  // allocates the rest, whose KV the engine then computes and reports with mark_computed. nullopt when the
  // blocks are not there (nothing changed). Throws if `seq` exists.
  std::optional<PromptAllocation> allocate_prompt(SequenceId seq, std::span<const Token> tokens);
  // Appends one token; takes a new block when the last is full. false when no block is left (nothing
  // changed). The token's KV is not computed yet: see mark_computed.
  bool append_token(SequenceId seq, Token token);
  // The KV of the sequence's first `n_tokens` tokens is now on the device: the full blocks inside them
  // join the prefix cache (shareable from now on). Never decreases what is registered; throws
  // std::invalid_argument when n_tokens exceeds the sequence's length.
  void mark_computed(SequenceId seq, std::size_t n_tokens);
  // `child` shares the parent's full blocks and gets a copy of its partial last block (reported so the
  // engine copies its KV). nullopt when that copy has no block (nothing changed).
  std::optional<ForkResult> fork(SequenceId parent, SequenceId child);
  // Drops the sequence's references; its cached blocks stay reusable until evicted.
  void free(SequenceId seq);

  bool contains(SequenceId seq) const noexcept { return seqs_.contains(seq); }
  std::span<const BlockId> block_table(SequenceId seq) const;
  std::size_t num_tokens(SequenceId seq) const;
  std::size_t num_sequences() const noexcept { return seqs_.size(); }
  BlockManagerStats stats() const noexcept;
  const BlockPool& pool() const noexcept { return pool_; }

 private:
  struct Sequence {
    std::vector<Token> tokens;
    std::vector<BlockId> blocks;
    std::vector<std::uint64_t> hashes;  // of each full block whose KV is computed, for chaining
  };
  // What the prefix cache knows about a registered block; `serial` is unique per registration.
  struct CacheEntry {
    std::uint64_t hash = 0;
    std::uint64_t serial = 0;         // 0: not registered
    std::uint64_t parent_serial = 0;  // 0 for a first block
    std::vector<Token> tokens;
  };
  struct Match {
    std::vector<BlockId> blocks;
    std::vector<std::uint64_t> hashes;
  };

  Match match_prefix(std::span<const Token> tokens) const;
  std::uint32_t reusable_hits(const Match& match) const;  // hits that are evictable now
  BlockId take_block();                                   // only after checking availability
  void register_full_block(Sequence& s, std::size_t index);
  Sequence& find(SequenceId seq);
  const Sequence& find(SequenceId seq) const;

  std::uint32_t block_size_;
  bool prefix_caching_;
  BlockHasher hasher_;
  BlockPool pool_;
  std::vector<CacheEntry> entries_;  // by block id
  std::unordered_map<std::uint64_t, BlockId> by_hash_;
  std::unordered_map<SequenceId, Sequence> seqs_;
  std::uint64_t next_serial_ = 1;
  std::uint64_t prompt_tokens_ = 0;
  std::uint64_t hit_tokens_ = 0;
  std::uint64_t evictions_ = 0;
};

}  // namespace plinth::scheduler
