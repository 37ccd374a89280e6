#include "batch_plan.hpp"

#include <algorithm>
#include <limits>

namespace plinth::models::detail {

std::vector<EncoderBatch> plan_batches(std::span<const int64_t> lengths, int batch_size) {
  std::vector<std::size_t> order;
  order.reserve(lengths.size());
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    if (lengths[i] > 0) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return lengths[a] > lengths[b]; });
  const std::size_t n = order.size();
  const std::size_t max_batch = static_cast<std::size_t>(std::max(1, batch_size));

  // cost[j]: the cheapest plan for the first j sorted sequences; start[j]: where its last batch
  // starts. A batch of sorted[i, j) pads to sorted[i]'s length.
  std::vector<int64_t> cost(n + 1, std::numeric_limits<int64_t>::max());
  std::vector<std::size_t> start(n + 1, 0);
  cost[0] = 0;
  for (std::size_t j = 1; j <= n; ++j) {
    for (std::size_t i = j > max_batch ? j - max_batch : 0; i < j; ++i) {
      const int64_t c = cost[i] + static_cast<int64_t>(j - i) * lengths[order[i]] + kBatchOverheadTokens;
      if (c < cost[j]) {
        cost[j] = c;
        start[j] = i;
      }
    }
  }
  std::vector<EncoderBatch> batches;
  for (std::size_t j = n; j > 0; j = start[j]) {
    EncoderBatch batch;
    batch.members.assign(order.begin() + static_cast<std::ptrdiff_t>(start[j]),
                         order.begin() + static_cast<std::ptrdiff_t>(j));
    batch.seq_len = lengths[order[start[j]]];
    batches.push_back(std::move(batch));
  }
  std::reverse(batches.begin(), batches.end());
  return batches;
}

}  // namespace plinth::models::detail
