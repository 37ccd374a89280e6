// A captured stream segment: one command buffer recorded once (with its argument blocks and staging
// buffers) and submitted again on every launch.
#pragma once

#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "batch.hpp"

namespace plinth::vulkan {

class Graph {
 public:
  explicit Graph(Device& device);
  ~Graph();  // waits for queued replays
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  Batch& batch() noexcept { return batch_; }
  // Before a replay: refreshes captured host uploads (after earlier replays stopped reading them).
  void before_launch();
  void launched(std::shared_ptr<Timeline> timeline, uint64_t value);

 private:
  void wait_launches();

  Device* device_;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  Batch batch_;
  std::mutex mutex_;
  std::vector<std::pair<std::shared_ptr<Timeline>, uint64_t>> launches_;
};

}  // namespace plinth::vulkan
