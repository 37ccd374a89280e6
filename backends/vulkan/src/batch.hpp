// One command buffer's worth of recorded stream work and everything it must keep alive until the
// GPU has finished with it (argument blocks, staging buffers, semaphores it waits on).
#pragma once

#include <memory>
#include <vector>

#include "buffer.hpp"
#include "timeline.hpp"

namespace plinth::vulkan {

struct Batch {
  // A host-to-buffer copy captured in a graph: the host bytes are re-read at every replay.
  struct HostUpload {
    const void* src;
    Buffer* staging;
    uint64_t size;
  };

  VkCommandBuffer cmd = VK_NULL_HANDLE;  // VK_NULL_HANDLE for a graph replay (the graph owns it)
  uint64_t value = 0;                    // timeline value its submission signals
  bool has_commands = false;
  std::vector<std::unique_ptr<Buffer>> arg_chunks;
  uint32_t arg_used = 0;  // bytes used in arg_chunks.back()
  std::vector<std::unique_ptr<Buffer>> staging;
  std::vector<HostUpload> uploads;
  std::vector<std::shared_ptr<Timeline>> waited;
};

}  // namespace plinth::vulkan
