// BlockPool: the reference counts of a fixed pool of KV-cache blocks. Pure bookkeeping: a block is an
// id in [0, size()); the engine maps ids to device memory. Every block is in exactly one state:
//   free       refcount 0, not cached: on the free list
//   evictable  refcount 0, cached (its contents may still be reused): on an LRU list
//   in use     refcount > 0 (cached or not)
// acquire() takes a free block first and evicts the least recently released cached block only when
// none is free, so cached prefixes survive as long as the memory allows.
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <vector>

namespace plinth::scheduler {

using BlockId = std::uint32_t;

class BlockPool {
 public:
  explicit BlockPool(std::uint32_t num_blocks);

  // A block with refcount 1, or nullopt when every block is in use. `evicted` is set to the cached
  // block that was given up to make room (its owner must forget its contents), if any.
  std::optional<BlockId> acquire(std::optional<BlockId>& evicted);
  // One more reference; takes an evictable block off the LRU list.
  void retain(BlockId id);
  // One reference less; at 0 the block goes to the free list, or to the LRU list's recent end if cached.
  void release(BlockId id);
  // Marks a block in use as cached: reusable once unreferenced (prefix caching). Uncaching an
  // evictable block frees it.
  void set_cached(BlockId id, bool cached);

  std::uint32_t size() const noexcept { return static_cast<std::uint32_t>(blocks_.size()); }
  std::uint32_t refcount(BlockId id) const { return at(id).refcount; }
  bool cached(BlockId id) const { return at(id).cached; }
  std::uint32_t num_free() const noexcept { return static_cast<std::uint32_t>(free_.size()); }
  std::uint32_t num_evictable() const noexcept { return static_cast<std::uint32_t>(lru_.size()); }
  // Blocks acquire() could still hand out.
  std::uint32_t num_available() const noexcept { return num_free() + num_evictable(); }
  std::uint32_t num_in_use() const noexcept { return size() - num_available(); }

 private:
  struct Block {
    std::uint32_t refcount = 0;
    bool cached = false;
    std::list<BlockId>::iterator lru_pos;  // valid only while evictable
  };
  const Block& at(BlockId id) const;
  Block& at(BlockId id);

  std::vector<Block> blocks_;
  std::vector<BlockId> free_;  // a stack: recently freed blocks are reused first
  std::list<BlockId> lru_;     // evictable blocks, least recently released first
};

}  // namespace plinth::scheduler
