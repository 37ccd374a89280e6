#include "plinth/scheduler/block_manager.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace plinth::scheduler {

std::uint64_t default_block_hash(std::uint64_t parent_hash, std::span<const Token> tokens) noexcept {
  // FNV-1a over the parent hash and the token words, then a final avalanche (splitmix64's) so that
  // neighbouring token ids spread over the whole map.
  std::uint64_t h = 0xcbf29ce484222325ull ^ parent_hash;
  for (Token t : tokens) {
    h ^= static_cast<std::uint32_t>(t);
    h *= 0x100000001b3ull;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

BlockManager::BlockManager(BlockManagerOptions options)
    : block_size_(options.block_size),
      prefix_caching_(options.prefix_caching),
      hasher_(options.hasher ? std::move(options.hasher) : BlockHasher(default_block_hash)),
      pool_(options.num_blocks),
      entries_(options.num_blocks) {
  if (block_size_ == 0) throw std::invalid_argument("BlockManager: block_size must be at least 1");
}

std::uint32_t BlockManager::blocks_for_budget(std::uint64_t budget_bytes, std::uint64_t bytes_per_block) {
  if (bytes_per_block == 0)
    throw std::invalid_argument("BlockManager::blocks_for_budget: bytes_per_block is 0");
  return static_cast<std::uint32_t>(
      std::min<std::uint64_t>(budget_bytes / bytes_per_block, std::numeric_limits<std::uint32_t>::max()));
}

std::uint32_t BlockManager::blocks_for_tokens(std::size_t n_tokens) const noexcept {
  return static_cast<std::uint32_t>((n_tokens + block_size_ - 1) / block_size_);
}

bool BlockManager::can_allocate(std::size_t n_tokens) const noexcept {
  return blocks_for_tokens(n_tokens) <= pool_.num_available();
}

BlockManager::Match BlockManager::match_prefix(std::span<const Token> tokens) const {
  Match m;
  if (!prefix_caching_) return m;
  std::uint64_t parent_hash = 0;
  std::uint64_t parent_serial = 0;
  for (std::size_t i = 0; (i + 1) * block_size_ <= tokens.size(); ++i) {
    const auto chunk = tokens.subspan(i * block_size_, block_size_);
    const std::uint64_t h = hasher_(parent_hash, chunk);
    const auto it = by_hash_.find(h);
    if (it == by_hash_.end()) break;
    // Verify: a collision of the hash (or of a chain through an evicted parent) must be a miss.
    const CacheEntry& e = entries_[it->second];
    if (e.parent_serial != parent_serial || !std::ranges::equal(e.tokens, chunk)) break;
    m.blocks.push_back(it->second);
    m.hashes.push_back(h);
    parent_hash = h;
    parent_serial = e.serial;
  }
  return m;
}

std::uint32_t BlockManager::reusable_hits(const Match& match) const {
  return static_cast<std::uint32_t>(
      std::ranges::count_if(match.blocks, [&](BlockId b) { return pool_.refcount(b) == 0; }));
}

PromptPlan BlockManager::plan_prompt(std::span<const Token> tokens) const {
  const Match m = match_prefix(tokens);
  PromptPlan plan;
  plan.hit_blocks = static_cast<std::uint32_t>(m.blocks.size());
  plan.new_blocks = blocks_for_tokens(tokens.size()) - plan.hit_blocks;
  // Hits that sit unreferenced in the LRU list are counted as available but will be taken by this
  // prompt itself, so they cannot also serve as fresh blocks.
  plan.fits = plan.new_blocks <= pool_.num_available() - reusable_hits(m);
  return plan;
}

BlockId BlockManager::take_block() {
  std::optional<BlockId> evicted;
  const std::optional<BlockId> id = pool_.acquire(evicted);
  if (!id) throw std::logic_error("BlockManager: no block left after the availability check");
  if (evicted) {
    CacheEntry& e = entries_[*evicted];
    by_hash_.erase(e.hash);
    e = CacheEntry{};
    ++evictions_;
  }
  return *id;
}

void BlockManager::register_full_block(Sequence& s, std::size_t index) {
  const std::uint64_t parent_hash = index == 0 ? 0 : s.hashes[index - 1];
  const auto chunk = std::span<const Token>(s.tokens).subspan(index * block_size_, block_size_);
  const std::uint64_t h = hasher_(parent_hash, chunk);
  s.hashes.push_back(h);
  if (!prefix_caching_) return;
  const BlockId id = s.blocks[index];
  if (entries_[id].serial != 0) return;  // a hit: already registered
  // A child is reachable only through a registered parent; one whose parent lost the race for its
  // hash (a duplicate or a collision) stays private.
  const std::uint64_t parent_serial = index == 0 ? 0 : entries_[s.blocks[index - 1]].serial;
  if (index > 0 && parent_serial == 0) return;
  const auto [it, inserted] = by_hash_.try_emplace(h, id);
  if (!inserted) {
    // The same contents cached twice keep the first copy; so does a collision with a block in use. A
    // stale entry (a collision, or a child of an evicted parent: unreachable) that nobody holds gives
    // way, or it would keep these contents out of the cache until evicted.
    const BlockId old = it->second;
    const CacheEntry& e = entries_[old];
    if (pool_.refcount(old) > 0 || (e.parent_serial == parent_serial && std::ranges::equal(e.tokens, chunk)))
      return;
    entries_[old] = CacheEntry{};
    pool_.set_cached(old, false);
    it->second = id;
  }
  entries_[id] = CacheEntry{h, next_serial_++, parent_serial, {chunk.begin(), chunk.end()}};
  pool_.set_cached(id, true);
}

std::optional<PromptAllocation> BlockManager::allocate_prompt(SequenceId seq, std::span<const Token> tokens) {
  if (seqs_.contains(seq))
    throw std::invalid_argument("BlockManager: sequence " + std::to_string(seq) + " already exists");
  const Match m = match_prefix(tokens);
  const std::uint32_t fresh = blocks_for_tokens(tokens.size()) - static_cast<std::uint32_t>(m.blocks.size());
  if (fresh > pool_.num_available() - reusable_hits(m)) return std::nullopt;

  Sequence& s = seqs_[seq];
  s.tokens.assign(tokens.begin(), tokens.end());
  // Retain the hits first: they leave the LRU list, so taking fresh blocks cannot evict them.
  for (BlockId b : m.blocks) pool_.retain(b);
  s.blocks = m.blocks;
  s.hashes = m.hashes;
  for (std::uint32_t i = 0; i < fresh; ++i) s.blocks.push_back(take_block());
  // The fresh blocks join the cache in mark_computed, once their KV exists.

  const std::size_t hit = m.blocks.size() * block_size_;
  prompt_tokens_ += tokens.size();
  hit_tokens_ += hit;
  return PromptAllocation{hit, s.blocks};
}

bool BlockManager::append_token(SequenceId seq, Token token) {
  Sequence& s = find(seq);
  if (s.tokens.size() % block_size_ == 0) {
    if (pool_.num_available() == 0) return false;
    s.blocks.push_back(take_block());
  }
  s.tokens.push_back(token);
  return true;
}

void BlockManager::mark_computed(SequenceId seq, std::size_t n_tokens) {
  Sequence& s = find(seq);
  if (n_tokens > s.tokens.size())
    throw std::invalid_argument("BlockManager::mark_computed: " + std::to_string(n_tokens) +
                                " tokens computed, but sequence " + std::to_string(seq) + " holds " +
                                std::to_string(s.tokens.size()));
  // hashes.size() is the number of full blocks already registered (or hit), in order.
  for (std::size_t i = s.hashes.size(); (i + 1) * block_size_ <= n_tokens; ++i) register_full_block(s, i);
}

std::optional<ForkResult> BlockManager::fork(SequenceId parent, SequenceId child) {
  const Sequence& p = find(parent);
  if (seqs_.contains(child))
    throw std::invalid_argument("BlockManager: sequence " + std::to_string(child) + " already exists");
  const bool partial = p.tokens.size() % block_size_ != 0;
  if (partial && pool_.num_available() == 0) return std::nullopt;

  Sequence copy = p;
  ForkResult result;
  const std::size_t shared = copy.blocks.size() - (partial ? 1 : 0);
  for (std::size_t i = 0; i < shared; ++i) pool_.retain(copy.blocks[i]);
  if (partial) {
    // The partial block is about to diverge, so the child writes into its own copy.
    result.copy = BlockCopy{copy.blocks.back(), take_block()};
    copy.blocks.back() = result.copy->dst;
  }
  seqs_.emplace(child, std::move(copy));
  return result;
}

void BlockManager::free(SequenceId seq) {
  Sequence& s = find(seq);
  // Last block first: the tail of a prefix goes to the LRU list before its head, so under pressure
  // it is evicted first and the shared head (a system prompt) survives longest.
  for (auto it = s.blocks.rbegin(); it != s.blocks.rend(); ++it) pool_.release(*it);
  seqs_.erase(seq);
}

BlockManager::Sequence& BlockManager::find(SequenceId seq) {
  return const_cast<Sequence&>(std::as_const(*this).find(seq));
}

const BlockManager::Sequence& BlockManager::find(SequenceId seq) const {
  const auto it = seqs_.find(seq);
  if (it == seqs_.end())
    throw std::invalid_argument("BlockManager: unknown sequence " + std::to_string(seq) +
                                " (never allocated, or already freed)");
  return it->second;
}

std::span<const BlockId> BlockManager::block_table(SequenceId seq) const { return find(seq).blocks; }
std::size_t BlockManager::num_tokens(SequenceId seq) const { return find(seq).tokens.size(); }

BlockManagerStats BlockManager::stats() const noexcept {
  return BlockManagerStats{pool_.size(),       pool_.num_free(), pool_.num_evictable(),
                           pool_.num_in_use(), prompt_tokens_,   hit_tokens_,
                           evictions_};
}

}  // namespace plinth::scheduler
