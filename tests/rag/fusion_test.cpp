#include <gtest/gtest.h>

#include <vector>

#include "plinth/rag/fusion.hpp"

namespace plinth::rag {
namespace {

TEST(Fusion, ScoresAreWeightedReciprocalRanks) {
  const std::vector<int64_t> bm25{7, 8, 9};
  const std::vector<float> bm25_scores{12.0f, 9.0f, 1.0f};
  const std::vector<int64_t> dense{9, 7};
  const std::vector<float> dense_scores{0.9f, 0.8f};
  const auto hits = fuse_rankings({bm25, bm25_scores}, {dense, dense_scores}, {.k = 60.0}, 10);
  ASSERT_EQ(hits.size(), 3u);
  // 7: 1/61 + 1/62; 9: 1/63 + 1/61; 8: 1/62.
  EXPECT_EQ(hits[0].id, 7);
  EXPECT_DOUBLE_EQ(hits[0].score, 1.0 / 61 + 1.0 / 62);
  EXPECT_EQ(hits[0].bm25_rank, 1);
  EXPECT_EQ(hits[0].dense_rank, 2);
  EXPECT_FLOAT_EQ(hits[0].bm25_score, 12.0f);
  EXPECT_FLOAT_EQ(hits[0].dense_score, 0.8f);
  EXPECT_EQ(hits[1].id, 9);
  EXPECT_EQ(hits[2].id, 8);
  EXPECT_EQ(hits[2].dense_rank, 0);  // only BM25 found it
}

TEST(Fusion, WeightsShiftTheBalanceAndZeroWeightIgnoresAList) {
  const std::vector<int64_t> bm25{1, 2};
  const std::vector<int64_t> dense{2, 1};
  EXPECT_EQ(fuse_rankings({bm25, {}}, {dense, {}}, {.bm25_weight = 2.0}, 2)[0].id, 1);
  EXPECT_EQ(fuse_rankings({bm25, {}}, {dense, {}}, {.dense_weight = 2.0}, 2)[0].id, 2);
  const auto only_dense = fuse_rankings({bm25, {}}, {dense, {}}, {.bm25_weight = 0.0}, 2);
  EXPECT_EQ(only_dense[0].id, 2);
  EXPECT_EQ(only_dense[0].bm25_rank, 2);  // ranks are still reported
}

TEST(Fusion, TiesAreDeterministicAndDuplicatesCountOnce) {
  // 3 and 4 each appear first in one list: equal fused scores, equal best rank -> lower id first.
  const std::vector<int64_t> bm25{4, 5, 4};
  const std::vector<int64_t> dense{3};
  const auto hits = fuse_rankings({bm25, {}}, {dense, {}}, {}, 10);
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].id, 3);
  EXPECT_EQ(hits[1].id, 4);
  EXPECT_DOUBLE_EQ(hits[1].score, 1.0 / 61);  // the repeat at rank 3 adds nothing
  EXPECT_EQ(fuse_rankings({bm25, {}}, {dense, {}}, {}, 1).size(), 1u);
  EXPECT_TRUE(fuse_rankings({{}, {}}, {{}, {}}, {}, 5).empty());
}

TEST(Fusion, BadOptionsAreRejected) {
  const std::vector<int64_t> ids{1, 2};
  const std::vector<float> one_score{1.0f};
  EXPECT_THROW(fuse_rankings({ids, one_score}, {{}, {}}, {}, 5), std::invalid_argument);
  EXPECT_THROW(fuse_rankings({ids, {}}, {{}, {}}, {.k = 0.0}, 5), std::invalid_argument);
  EXPECT_THROW(fuse_rankings({ids, {}}, {{}, {}}, {.dense_weight = -1.0}, 5), std::invalid_argument);
}

}  // namespace
}  // namespace plinth::rag
