#include "plinth/scheduler/block_pool.hpp"

#include <stdexcept>
#include <string>
#include <utility>

namespace plinth::scheduler {

BlockPool::BlockPool(std::uint32_t num_blocks) : blocks_(num_blocks) {
  free_.reserve(num_blocks);
  // Reversed so that the stack hands out block 0 first: ids in order are easier to read in logs.
  for (std::uint32_t i = num_blocks; i > 0; --i) free_.push_back(i - 1);
}

const BlockPool::Block& BlockPool::at(BlockId id) const {
  if (id >= blocks_.size())
    throw std::invalid_argument("BlockPool: block " + std::to_string(id) + " out of range (pool of " +
                                std::to_string(blocks_.size()) + ")");
  return blocks_[id];
}
BlockPool::Block& BlockPool::at(BlockId id) { return const_cast<Block&>(std::as_const(*this).at(id)); }

std::optional<BlockId> BlockPool::acquire(std::optional<BlockId>& evicted) {
  evicted.reset();
  BlockId id = 0;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else if (!lru_.empty()) {
    id = lru_.front();
    lru_.pop_front();
    blocks_[id].cached = false;
    evicted = id;
  } else {
    return std::nullopt;
  }
  blocks_[id].refcount = 1;
  return id;
}

void BlockPool::retain(BlockId id) {
  Block& b = at(id);
  if (b.refcount == 0) {
    if (!b.cached) throw std::logic_error("BlockPool: retain of free block " + std::to_string(id));
    lru_.erase(b.lru_pos);
  }
  ++b.refcount;
}

void BlockPool::release(BlockId id) {
  Block& b = at(id);
  if (b.refcount == 0)
    throw std::logic_error("BlockPool: release of unreferenced block " + std::to_string(id));
  if (--b.refcount > 0) return;
  if (b.cached) {
    b.lru_pos = lru_.insert(lru_.end(), id);
  } else {
    free_.push_back(id);
  }
}

void BlockPool::set_cached(BlockId id, bool cached) {
  Block& b = at(id);
  if (b.refcount == 0) {
    if (cached || !b.cached)
      throw std::logic_error("BlockPool: set_cached on free block " + std::to_string(id));
    lru_.erase(b.lru_pos);  // an evictable block whose contents are dropped is simply free
    free_.push_back(id);
  }
  b.cached = cached;
}

}  // namespace plinth::scheduler
