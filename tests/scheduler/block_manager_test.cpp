#include "plinth/scheduler/block_manager.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

namespace plinth::scheduler {
namespace {

std::vector<Token> iota_tokens(std::size_t n, Token first) {
  std::vector<Token> v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

std::vector<Token> concat(std::vector<Token> a, const std::vector<Token>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<BlockId> table(const BlockManager& m, SequenceId s) {
  const auto t = m.block_table(s);
  return {t.begin(), t.end()};
}

// Allocates and reports the whole prompt computed, as the engine does once its prefill has run.
std::optional<PromptAllocation> prefill(BlockManager& m, SequenceId s, const std::vector<Token>& tokens) {
  auto r = m.allocate_prompt(s, tokens);
  if (r) m.mark_computed(s, tokens.size());
  return r;
}

BlockManager make(std::uint32_t blocks, std::uint32_t block_size = 16, BlockHasher hasher = {}) {
  return BlockManager({.num_blocks = blocks, .block_size = block_size, .hasher = std::move(hasher)});
}

TEST(BlockManager, SharedPrefixCountsReferences) {
  BlockManager m = make(16);
  const auto prefix = iota_tokens(32, 1000);
  ASSERT_TRUE(prefill(m, 1, concat(prefix, iota_tokens(8, 1))));
  const auto b = prefill(m, 2, concat(prefix, iota_tokens(8, 500)));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->cached_tokens, 32u);
  const auto t1 = table(m, 1), t2 = table(m, 2);
  ASSERT_EQ(t1.size(), 3u);
  ASSERT_EQ(t2.size(), 3u);
  EXPECT_EQ(t1[0], t2[0]);
  EXPECT_EQ(t1[1], t2[1]);
  EXPECT_NE(t1[2], t2[2]);
  EXPECT_EQ(m.pool().refcount(t1[0]), 2u);
  EXPECT_EQ(m.pool().refcount(t1[2]), 1u);

  // A fork shares the full blocks and copies the partial one.
  const auto f = m.fork(1, 3);
  ASSERT_TRUE(f);
  ASSERT_TRUE(f->copy);
  EXPECT_EQ(f->copy->src, t1[2]);
  const auto t3 = table(m, 3);
  EXPECT_EQ(t3[0], t1[0]);
  EXPECT_EQ(t3[2], f->copy->dst);
  EXPECT_NE(t3[2], t1[2]);
  EXPECT_EQ(m.pool().refcount(t1[0]), 3u);
  EXPECT_EQ(m.num_tokens(3), 40u);

  m.free(1);
  EXPECT_EQ(m.pool().refcount(t1[0]), 2u);
  EXPECT_EQ(m.pool().refcount(t1[2]), 0u);  // partial, never cached: free
  EXPECT_FALSE(m.pool().cached(t1[2]));
  m.free(2);
  m.free(3);
  EXPECT_EQ(m.pool().refcount(t1[0]), 0u);
  EXPECT_TRUE(m.pool().cached(t1[0]));  // full: stays cached
  EXPECT_EQ(m.stats().in_use_blocks, 0u);
  EXPECT_EQ(m.stats().cached_blocks, 2u);
}

TEST(BlockManager, SystemPromptIsComputedOnce) {
  BlockManager m = make(128);
  const auto system = iota_tokens(512, 7);
  const auto first = prefill(m, 1, concat(system, iota_tokens(20, 90000)));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->cached_tokens, 0u);
  EXPECT_EQ(m.plan_prompt(concat(system, iota_tokens(5, 1))).hit_blocks, 32u);
  const auto second = prefill(m, 2, concat(system, iota_tokens(30, 80000)));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->cached_tokens, 512u);
  const auto t1 = table(m, 1), t2 = table(m, 2);
  EXPECT_TRUE(std::equal(t1.begin(), t1.begin() + 32, t2.begin()));
  EXPECT_EQ(m.stats().prefix_hit_tokens, 512u);

  // Still there after both requests are gone.
  m.free(1);
  m.free(2);
  const auto third = prefill(m, 3, concat(system, iota_tokens(3, 1)));
  ASSERT_TRUE(third);
  EXPECT_EQ(third->cached_tokens, 512u);
  EXPECT_EQ(m.stats().prefix_hit_tokens, 1024u);
}

TEST(BlockManager, PartialLastBlockIsNeverShared) {
  BlockManager m = make(8);
  const auto p = iota_tokens(20, 1);
  ASSERT_TRUE(prefill(m, 1, p));
  const auto again = prefill(m, 2, p);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->cached_tokens, 16u);
  EXPECT_EQ(table(m, 1)[0], table(m, 2)[0]);
  EXPECT_NE(table(m, 1)[1], table(m, 2)[1]);

  // Once the last block fills up by appending, it joins the cache.
  for (Token t = 21; t <= 32; ++t) ASSERT_TRUE(m.append_token(1, t));
  EXPECT_EQ(m.plan_prompt(iota_tokens(32, 1)).hit_blocks, 1u);  // full, but its KV is not computed yet
  m.mark_computed(1, 32);
  const auto full = prefill(m, 3, iota_tokens(32, 1));
  ASSERT_TRUE(full);
  EXPECT_EQ(full->cached_tokens, 32u);
  EXPECT_EQ(table(m, 3), table(m, 1));
}

TEST(BlockManager, EvictsLeastRecentlyUsedUnreferencedBlocks) {
  BlockManager m = make(4, 4);
  const auto a = iota_tokens(4, 100), b = iota_tokens(4, 200), c = iota_tokens(4, 300),
             d = iota_tokens(4, 400);
  for (SequenceId s = 1; s <= 3; ++s) {
    ASSERT_TRUE(prefill(m, s, s == 1 ? a : s == 2 ? b : c));
  }
  m.free(1);  // a, then b, then c released: a is the least recent
  m.free(2);
  m.free(3);
  ASSERT_TRUE(prefill(m, 4, d));  // the one free block: no eviction
  EXPECT_EQ(m.stats().evictions, 0u);
  EXPECT_EQ(m.stats().cached_blocks, 3u);

  // Reusing a makes it the most recent once released again; b is now the oldest.
  ASSERT_EQ(prefill(m, 5, a)->cached_tokens, 4u);
  m.free(5);
  ASSERT_TRUE(prefill(m, 6, iota_tokens(4, 500)));
  EXPECT_EQ(m.stats().evictions, 1u);
  EXPECT_EQ(m.plan_prompt(b).hit_blocks, 0u);
  EXPECT_EQ(m.plan_prompt(a).hit_blocks, 1u);
  EXPECT_EQ(m.plan_prompt(c).hit_blocks, 1u);

  // Hold c: only a is evictable now, so two fresh blocks do not fit, and d/c are never taken.
  ASSERT_EQ(prefill(m, 7, c)->cached_tokens, 4u);
  EXPECT_FALSE(prefill(m, 8, iota_tokens(8, 600)));
  ASSERT_TRUE(prefill(m, 8, iota_tokens(4, 600)));
  EXPECT_EQ(m.stats().evictions, 2u);
  EXPECT_EQ(m.plan_prompt(a).hit_blocks, 0u);
  EXPECT_EQ(m.plan_prompt(c).hit_blocks, 1u);
  EXPECT_EQ(m.plan_prompt(d).hit_blocks, 1u);
}

TEST(BlockManager, RunningOutReportsFailureAndChangesNothing) {
  BlockManager m = make(4, 4);
  ASSERT_TRUE(prefill(m, 1, iota_tokens(10, 1)));  // 3 blocks, last one half full
  EXPECT_TRUE(m.can_allocate(4));
  EXPECT_FALSE(m.can_allocate(5));
  const PromptPlan plan = m.plan_prompt(iota_tokens(8, 50));
  EXPECT_EQ(plan.new_blocks, 2u);
  EXPECT_FALSE(plan.fits);
  const auto before = m.stats();
  EXPECT_FALSE(prefill(m, 2, iota_tokens(8, 50)));
  EXPECT_FALSE(m.contains(2));
  const auto after = m.stats();
  EXPECT_EQ(after.free_blocks, before.free_blocks);
  EXPECT_EQ(after.in_use_blocks, before.in_use_blocks);
  EXPECT_EQ(after.prompt_tokens, before.prompt_tokens);

  ASSERT_TRUE(m.fork(1, 3));  // takes the last block for the partial copy
  EXPECT_FALSE(m.fork(1, 4));
  EXPECT_FALSE(m.contains(4));
  ASSERT_TRUE(m.append_token(1, 11));
  ASSERT_TRUE(m.append_token(1, 12));  // last block now full
  const auto t = table(m, 1);
  EXPECT_FALSE(m.append_token(1, 13));  // needs a fifth block
  EXPECT_EQ(m.num_tokens(1), 12u);
  EXPECT_EQ(table(m, 1), t);
  m.free(3);
  EXPECT_TRUE(m.append_token(1, 13));
}

TEST(BlockManager, HashCollisionsAreMissesNotWrongBlocks) {
  // Every block hashes alike: every lookup past the first finds a block with other contents.
  BlockManager m = make(16, 4, [](std::uint64_t, std::span<const Token>) { return std::uint64_t{42}; });
  const auto a = iota_tokens(8, 1);
  ASSERT_TRUE(prefill(m, 1, a));
  const auto b = prefill(m, 2, iota_tokens(8, 100));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->cached_tokens, 0u);
  for (BlockId id : table(m, 2)) EXPECT_EQ(std::ranges::count(table(m, 1), id), 0);
  const auto again = prefill(m, 3, a);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->cached_tokens, 4u);  // block 0 verified; block 1's hash names block 0: a miss
  EXPECT_EQ(table(m, 3)[0], table(m, 1)[0]);
  EXPECT_NE(table(m, 3)[1], table(m, 1)[1]);
}

TEST(BlockManager, AnUnreferencedCollidingEntryGivesWay) {
  // [1 2 3 4] is cached and unreferenced; [9 9 9 9] has the same hash, so it takes the key over and
  // the old block, no longer reachable, becomes free rather than staying cached for nothing.
  BlockManager m = make(4, 4, [](std::uint64_t, std::span<const Token>) { return std::uint64_t{42}; });
  const auto a = iota_tokens(4, 1);
  const std::vector<Token> b(4, 9);
  ASSERT_TRUE(prefill(m, 1, a));
  m.free(1);
  EXPECT_EQ(m.stats().cached_blocks, 1u);
  const auto r = prefill(m, 2, b);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->cached_tokens, 0u);
  EXPECT_EQ(m.stats().cached_blocks, 0u);
  EXPECT_EQ(m.stats().free_blocks, 3u);
  EXPECT_EQ(m.stats().evictions, 0u);
  EXPECT_EQ(m.plan_prompt(a).hit_blocks, 0u);
  EXPECT_EQ(m.plan_prompt(b).hit_blocks, 1u);
}

TEST(BlockManager, EqualTokensUnderAnotherParentAreAMiss) {
  // A hash that ignores the parent: block [5 6 7 8] after [1 2 3 4] must not serve [5 6 7 8] first.
  BlockManager m =
      make(16, 4, [](std::uint64_t, std::span<const Token> t) { return default_block_hash(0, t); });
  ASSERT_TRUE(prefill(m, 1, iota_tokens(8, 1)));
  const auto r = prefill(m, 2, concat(iota_tokens(4, 5), iota_tokens(4, 50)));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->cached_tokens, 0u);
  EXPECT_NE(table(m, 2)[0], table(m, 1)[1]);
}

TEST(BlockManager, StatsAndBudget) {
  EXPECT_EQ(BlockManager::blocks_for_budget(1000, 100), 10u);
  EXPECT_EQ(BlockManager::blocks_for_budget(99, 100), 0u);
  EXPECT_EQ(BlockManager::blocks_for_budget(~std::uint64_t{0}, 1), 0xffffffffu);
  EXPECT_THROW(BlockManager::blocks_for_budget(1, 0), std::invalid_argument);
  EXPECT_THROW(make(4, 0), std::invalid_argument);

  BlockManager m = make(10, 4);
  EXPECT_EQ(m.stats().total_blocks, 10u);
  EXPECT_EQ(m.stats().free_blocks, 10u);
  ASSERT_TRUE(prefill(m, 1, iota_tokens(10, 1)));
  ASSERT_TRUE(prefill(m, 2, iota_tokens(9, 1)));
  auto s = m.stats();
  EXPECT_EQ(s.in_use_blocks, 4u);  // 2 shared + 2 partial
  EXPECT_EQ(s.free_blocks, 6u);
  EXPECT_EQ(s.prompt_tokens, 19u);
  EXPECT_EQ(s.prefix_hit_tokens, 8u);
  m.free(1);
  m.free(2);
  s = m.stats();
  EXPECT_EQ(s.cached_blocks, 2u);
  EXPECT_EQ(s.free_blocks, 8u);
  EXPECT_EQ(s.in_use_blocks, 0u);
  EXPECT_EQ(s.evictions, 0u);
}

TEST(BlockManager, WithoutPrefixCachingNothingIsShared) {
  BlockManager m({.num_blocks = 8, .block_size = 4, .prefix_caching = false, .hasher = {}});
  ASSERT_TRUE(prefill(m, 1, iota_tokens(8, 1)));
  EXPECT_EQ(prefill(m, 2, iota_tokens(8, 1))->cached_tokens, 0u);
  m.free(1);
  EXPECT_EQ(m.stats().cached_blocks, 0u);
  EXPECT_EQ(m.stats().free_blocks, 6u);
}

TEST(BlockManager, MisuseThrows) {
  BlockManager m = make(8, 4);
  ASSERT_TRUE(prefill(m, 1, iota_tokens(4, 1)));
  EXPECT_THROW(m.allocate_prompt(1, iota_tokens(4, 1)), std::invalid_argument);
  EXPECT_THROW(m.free(2), std::invalid_argument);
  EXPECT_THROW(m.append_token(2, 1), std::invalid_argument);
  EXPECT_THROW(m.fork(2, 3), std::invalid_argument);
  EXPECT_THROW(m.fork(1, 1), std::invalid_argument);
  EXPECT_THROW(m.block_table(2), std::invalid_argument);
  m.free(1);
  EXPECT_THROW(m.free(1), std::invalid_argument);  // double free
}

// Random operations against a model of the device memory (what each block holds): a hit must name
// blocks that hold exactly the prompt's tokens, and no write may land in a block another sequence reads.
TEST(BlockManager, BlocksAreSharedOnlyOnceComputed) {
  // Chunked prefill: a 64-token prompt allocated at once but computed 16 tokens at a time. Another
  // request with the same prompt may only hit the blocks whose KV is already written.
  BlockManager m = make(16, 16);
  const auto p = iota_tokens(64, 1);
  ASSERT_TRUE(m.allocate_prompt(1, p));
  EXPECT_EQ(m.plan_prompt(p).hit_blocks, 0u);
  m.mark_computed(1, 20);  // one full block and a bit
  EXPECT_EQ(m.plan_prompt(p).hit_blocks, 1u);
  m.mark_computed(1, 10);  // never goes back
  EXPECT_EQ(m.plan_prompt(p).hit_blocks, 1u);
  const auto second = m.allocate_prompt(2, p);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->cached_tokens, 16u);
  m.mark_computed(1, 64);
  EXPECT_EQ(m.plan_prompt(p).hit_blocks, 4u);
  // The second copy's own blocks 1..3 duplicate cached contents: computing them keeps the first copy.
  m.mark_computed(2, 64);
  EXPECT_EQ(m.plan_prompt(p).hit_blocks, 4u);
  EXPECT_THROW(m.mark_computed(1, 65), std::invalid_argument);
  EXPECT_THROW(m.mark_computed(3, 1), std::invalid_argument);
  m.free(1);
  m.free(2);
  EXPECT_EQ(m.stats().cached_blocks, 4u);  // the duplicates were never registered: free
  EXPECT_EQ(m.stats().free_blocks, 12u);
}

TEST(BlockManager, RandomOperationsKeepInvariants) {
  constexpr std::uint32_t kBlocks = 48, kSize = 4;
  BlockManager m = make(kBlocks, kSize);
  std::mt19937 rng(20261203);
  std::vector<std::vector<Token>> memory(kBlocks, std::vector<Token>(kSize, -1));
  std::map<SequenceId, std::vector<Token>> seqs;  // expected tokens per live sequence
  SequenceId next = 1;
  const std::vector<std::vector<Token>> prefixes = {iota_tokens(12, 1), iota_tokens(8, 100),
                                                    iota_tokens(16, 1)};
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  auto live = [&] { return std::next(seqs.begin(), static_cast<std::ptrdiff_t>(pick(seqs.size())))->first; };
  auto write = [&](SequenceId s, std::size_t pos, Token t) {
    memory[table(m, s)[pos / kSize]][pos % kSize] = t;
  };
  std::size_t failures = 0, hits = 0;

  for (int step = 0; step < 3000; ++step) {
    const std::size_t op = seqs.empty() ? 0 : pick(10);
    if (op < 3) {
      std::vector<Token> p = prefixes[pick(prefixes.size())];
      p.resize(pick(p.size() + 1));
      for (std::size_t n = pick(7); n > 0; --n) p.push_back(static_cast<Token>(pick(3)));
      const bool fits = m.plan_prompt(p).fits;
      const auto r = m.allocate_prompt(next, p);
      ASSERT_EQ(r.has_value(), fits);
      if (!r) {
        ++failures;
        continue;
      }
      hits += r->cached_tokens;
      for (std::size_t i = 0; i < r->cached_tokens; ++i)
        ASSERT_EQ(memory[r->blocks[i / kSize]][i % kSize], p[i]);
      for (std::size_t i = r->cached_tokens; i < p.size(); ++i) write(next, i, p[i]);
      m.mark_computed(next, p.size());
      seqs[next++] = p;
    } else if (op < 6) {
      const SequenceId s = live();
      const Token t = static_cast<Token>(pick(3));
      if (!m.append_token(s, t)) {
        ++failures;
        continue;
      }
      write(s, seqs[s].size(), t);
      seqs[s].push_back(t);
      m.mark_computed(s, seqs[s].size());
    } else if (op < 8) {
      const SequenceId s = live();
      const auto f = m.fork(s, next);
      if (!f) {
        ++failures;
        continue;
      }
      if (f->copy) memory[f->copy->dst] = memory[f->copy->src];
      seqs[next++] = seqs[s];
    } else {
      const SequenceId s = live();
      m.free(s);
      seqs.erase(s);
    }

    // Every block: free xor cached-unreferenced xor referenced, refcount = tables holding it.
    std::vector<std::uint32_t> holders(kBlocks, 0);
    for (const auto& [s, tokens] : seqs) {
      const auto t = table(m, s);
      ASSERT_EQ(t.size(), m.blocks_for_tokens(tokens.size()));
      ASSERT_EQ(m.num_tokens(s), tokens.size());
      for (std::size_t i = 0; i < tokens.size(); ++i) ASSERT_EQ(memory[t[i / kSize]][i % kSize], tokens[i]);
      for (BlockId b : t) ++holders[b];
    }
    std::uint32_t free = 0, cached = 0, used = 0;
    for (BlockId b = 0; b < kBlocks; ++b) {
      ASSERT_EQ(m.pool().refcount(b), holders[b]) << "block " << b << " at step " << step;
      if (holders[b] > 0) {
        ++used;
      } else if (m.pool().cached(b)) {
        ++cached;
      } else {
        ++free;
      }
    }
    const auto st = m.stats();
    ASSERT_EQ(st.free_blocks, free);
    ASSERT_EQ(st.cached_blocks, cached);
    ASSERT_EQ(st.in_use_blocks, used);
  }
  // The run must have exercised both prefix hits and running out.
  EXPECT_GT(hits, 0u);
  EXPECT_GT(failures, 0u);
  EXPECT_GT(m.stats().evictions, 0u);
}

}  // namespace
}  // namespace plinth::scheduler
