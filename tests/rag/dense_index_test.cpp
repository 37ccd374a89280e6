// DenseIndex on real devices (the cpu plugin, and Vulkan where the tree built it and a device opens):
// results checked against a host computation of the same inner products.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <unordered_set>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "plinth/rag/dense_index.hpp"
#include "device_runtime.hpp"

namespace plinth::rag {
namespace {

std::vector<std::string> plugin_paths() {
  std::vector<std::string> paths{PLINTH_CPU_PLUGIN_PATH};
#ifdef PLINTH_VULKAN_PLUGIN_PATH
  paths.emplace_back(PLINTH_VULKAN_PLUGIN_PATH);
#endif
  return paths;
}

class DenseIndexTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    runtime_ = test::runtime_with(GetParam());
    if (runtime_->devices().empty()) GTEST_SKIP() << "no device opened by " << GetParam();
    device_ = runtime_->devices()[0];
  }

  std::unique_ptr<Runtime> runtime_;
  Device* device_ = nullptr;
};

std::vector<float> random_unit_vectors(int64_t n, int64_t dim, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  std::vector<float> v(static_cast<std::size_t>(n * dim));
  for (int64_t i = 0; i < n; ++i) {
    float norm = 0.0f;
    for (int64_t d = 0; d < dim; ++d) {
      float& x = v[static_cast<std::size_t>(i * dim + d)];
      x = normal(gen);
      norm += x * x;
    }
    for (int64_t d = 0; d < dim; ++d) v[static_cast<std::size_t>(i * dim + d)] /= std::sqrt(norm);
  }
  return v;
}

// The host's ranking of rows by inner product with query q (ids = 1000 + row), among `keep`.
std::vector<int64_t> host_top(const std::vector<float>& rows, const float* q, int64_t dim, std::size_t k,
                              const std::function<bool(int64_t)>& keep) {
  std::vector<std::pair<float, int64_t>> all;
  for (int64_t r = 0; r < static_cast<int64_t>(rows.size()) / dim; ++r) {
    if (!keep(1000 + r)) continue;
    float s = 0.0f;
    for (int64_t d = 0; d < dim; ++d) s += rows[static_cast<std::size_t>(r * dim + d)] * q[d];
    all.emplace_back(s, 1000 + r);
  }
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<int64_t> ids;
  for (std::size_t i = 0; i < std::min(k, all.size()); ++i) ids.push_back(all[i].second);
  return ids;
}

std::vector<int64_t> ids_of(const std::vector<DenseHit>& hits) {
  std::vector<int64_t> ids;
  for (const auto& h : hits) ids.push_back(h.id);
  return ids;
}

TEST_P(DenseIndexTest, SearchMatchesHostRankingInF32AndF16) {
  constexpr int64_t kDim = 48;
  constexpr int64_t kRows = 300;
  const std::vector<float> rows = random_unit_vectors(kRows, kDim, 1);
  std::vector<int64_t> ids(kRows);
  for (int64_t i = 0; i < kRows; ++i) ids[static_cast<std::size_t>(i)] = 1000 + i;
  // Queries: three stored rows exactly (each must come back first with score ~1) and two random ones.
  std::vector<float> queries(rows.begin() + 5 * kDim, rows.begin() + 8 * kDim);
  const std::vector<float> extra = random_unit_vectors(2, kDim, 2);
  queries.insert(queries.end(), extra.begin(), extra.end());

  for (const DType storage : {DType::f32, DType::f16}) {
    DenseIndex index(*device_, kDim, {.storage = storage, .initial_capacity = 16});  // grows while adding
    for (int64_t first = 0; first < kRows; first += 100) {
      index.add(std::span(ids).subspan(static_cast<std::size_t>(first), 100),
                std::span(rows).subspan(static_cast<std::size_t>(first * kDim), 100 * kDim));
    }
    EXPECT_EQ(index.size(), kRows);
    const auto results = index.search(queries, 10);
    ASSERT_EQ(results.size(), 5u);
    for (int q = 0; q < 3; ++q) {
      ASSERT_EQ(results[static_cast<std::size_t>(q)].size(), 10u);
      EXPECT_EQ(results[static_cast<std::size_t>(q)][0].id, 1005 + q);
      EXPECT_NEAR(results[static_cast<std::size_t>(q)][0].score, 1.0f, storage == DType::f16 ? 2e-3 : 1e-5);
    }
    for (int q = 3; q < 5; ++q) {
      const auto& hits = results[static_cast<std::size_t>(q)];
      for (std::size_t i = 1; i < hits.size(); ++i) EXPECT_GE(hits[i - 1].score, hits[i].score);
      if (storage == DType::f32) {
        EXPECT_EQ(ids_of(hits), host_top(rows, queries.data() + q * kDim, kDim, 10, [](int64_t) { return true; }));
      } else {  // f16 rows may swap near-ties; the best three stand far enough apart here
        const auto want = host_top(rows, queries.data() + q * kDim, kDim, 1, [](int64_t) { return true; });
        EXPECT_EQ(hits[0].id, want[0]);
      }
    }
  }
}

TEST_P(DenseIndexTest, FilterIsAppliedBeforeTopK) {
  constexpr int64_t kDim = 16;
  const std::vector<float> rows = random_unit_vectors(64, kDim, 3);
  std::vector<int64_t> ids(64);
  for (int64_t i = 0; i < 64; ++i) ids[static_cast<std::size_t>(i)] = 1000 + i;
  DenseIndex index(*device_, kDim, {.storage = DType::f32});
  index.add(ids, rows);
  // Query = row 0: the unfiltered best is 1000; the filter allows only odd rows, and a search for 5
  // must still return 5 of them (a post-filter of the global top 5 would return fewer).
  const std::unordered_set<int64_t> odd = [] {
    std::unordered_set<int64_t> s;
    for (int64_t i = 1; i < 64; i += 2) s.insert(1000 + i);
    return s;
  }();
  const auto hits = index.search(std::span(rows).first(kDim), 5, &odd)[0];
  EXPECT_EQ(ids_of(hits), host_top(rows, rows.data(), kDim, 5, [&](int64_t id) { return odd.contains(id); }));
  // Fewer qualifying rows than k: exactly those, never a masked row.
  const std::unordered_set<int64_t> two{1003, 1010};
  const auto few = index.search(std::span(rows).first(kDim), 5, &two)[0];
  ASSERT_EQ(few.size(), 2u);
  EXPECT_TRUE(two.contains(few[0].id) && two.contains(few[1].id));
  const std::unordered_set<int64_t> none;
  EXPECT_TRUE(index.search(std::span(rows).first(kDim), 5, &none)[0].empty());
}

TEST_P(DenseIndexTest, RemovedRowsNeverComeBackAndCompactionKeepsTheRest) {
  constexpr int64_t kDim = 8;
  const std::vector<float> rows = random_unit_vectors(40, kDim, 4);
  std::vector<int64_t> ids(40);
  for (int64_t i = 0; i < 40; ++i) ids[static_cast<std::size_t>(i)] = 1000 + i;
  DenseIndex index(*device_, kDim, {.storage = DType::f32});
  index.add(ids, rows);
  std::vector<int64_t> gone;
  for (int64_t i = 0; i < 30; ++i) gone.push_back(1000 + i);  // past half: compacts
  index.remove(std::span(gone).first(10));
  EXPECT_EQ(index.size(), 30);
  auto hits = index.search(std::span(rows).first(kDim), 40)[0];  // query = removed row 1000
  EXPECT_EQ(hits.size(), 30u);
  for (const auto& h : hits) EXPECT_GE(h.id, 1010);
  index.remove(gone);
  EXPECT_EQ(index.size(), 10);
  hits = index.search(std::span(rows).subspan(35 * kDim, kDim), 40)[0];
  ASSERT_EQ(hits.size(), 10u);
  EXPECT_EQ(hits[0].id, 1035);
  EXPECT_EQ(ids_of(hits), host_top(rows, rows.data() + 35 * kDim, kDim, 10, [](int64_t id) { return id >= 1030; }));
  // Slots freed by compaction take new rows; a removed id may come back.
  index.add(std::span(ids).first(1), std::span(rows).first(kDim));
  EXPECT_EQ(index.search(std::span(rows).first(kDim), 1)[0][0].id, 1000);
}

TEST_P(DenseIndexTest, BadInputIsRejectedAndChangesNothing) {
  DenseIndex index(*device_, 4);
  const std::vector<int64_t> ids{1, 2};
  const std::vector<float> v{1, 0, 0, 0, 0, 1, 0, 0};
  EXPECT_THROW(index.add(ids, std::span(v).first(7)), std::invalid_argument);
  std::vector<float> nan = v;
  nan[6] = std::nanf("");
  EXPECT_THROW(index.add(ids, nan), std::invalid_argument);
  const std::vector<int64_t> dup{3, 3};
  EXPECT_THROW(index.add(dup, v), std::invalid_argument);
  EXPECT_EQ(index.size(), 0);
  index.add(ids, v);
  EXPECT_THROW(index.add(std::span(ids).first(1), std::span(v).first(4)), std::invalid_argument);
  EXPECT_THROW(index.search(std::span(v).first(3), 1), std::invalid_argument);
  EXPECT_THROW(DenseIndex(*device_, 0), std::invalid_argument);
  EXPECT_THROW(DenseIndex(*device_, 4, {.storage = DType::q4_1}), std::invalid_argument);
  EXPECT_EQ(index.size(), 2);
  EXPECT_TRUE(DenseIndex(*device_, 4).search(v, 3)[0].empty());  // an empty index finds nothing
}

INSTANTIATE_TEST_SUITE_P(Devices, DenseIndexTest, testing::ValuesIn(plugin_paths()),
                         [](const testing::TestParamInfo<std::string>& param) {
                           return param.param.find("vulkan") != std::string::npos ? std::string("vulkan")
                                                                                  : std::string("cpu");
                         });

}  // namespace
}  // namespace plinth::rag
