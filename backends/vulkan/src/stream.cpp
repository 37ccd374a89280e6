#include "stream.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "vk_error.hpp"

namespace plinth::vulkan {
namespace {

constexpr uint32_t kArgChunkBytes = 64 * 1024;

constexpr VkPipelineStageFlags kWorkStages =
    VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
constexpr VkAccessFlags kWorkAccess = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                      VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;

}  // namespace

Stream::Stream(Device& device) : device_(&device), timeline_(std::make_shared<Timeline>(device)) {
  VkCommandPoolCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
  info.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  info.queueFamilyIndex = device.queue_family();
  check(device.fn().vkCreateCommandPool(device.get(), &info, nullptr, &pool_), "vkCreateCommandPool");
  try {
    status_ = std::make_unique<Buffer>(device, 4, PLINTH_MEMORY_HOST_PINNED, 0);
    std::memset(status_->host(), 0, 4);
  } catch (...) {
    device.fn().vkDestroyCommandPool(device.get(), pool_, nullptr);
    throw;
  }
}

Stream::~Stream() {
  // On a lost device the work still recorded is dropped, never submitted: the host may already have
  // freed the buffers it uses (it cannot wait for anything after a loss). Work already submitted
  // may still be running (a loss found by a later call, or the test hook's healthy hardware), so
  // the queue is drained before the command pool and the batches' buffers go.
  if (device_->loss().lost()) {
    device_->drain();
  } else {
    try {
      std::lock_guard lock(mutex_);
      flush_locked();
      wait_locked(last_value_);
    } catch (...) {
      // Destruction cannot report (the device may have been lost meanwhile); what was submitted must
      // still be over before the batches go.
      device_->drain();
    }
  }
  inflight_.clear();
  open_.reset();
  capture_.reset();
  device_->fn().vkDestroyCommandPool(device_->get(), pool_, nullptr);
}

void Stream::barrier(VkCommandBuffer cmd, VkPipelineStageFlags dst_stage, VkAccessFlags dst_access) {
  VkMemoryBarrier b{};
  b.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
  b.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_HOST_WRITE_BIT;
  b.dstAccessMask = dst_access;
  device_->fn().vkCmdPipelineBarrier(cmd, kWorkStages | VK_PIPELINE_STAGE_HOST_BIT, dst_stage, 0, 1, &b, 0,
                                     nullptr, 0, nullptr);
}

Batch& Stream::open_batch() {
  if (capture_) return capture_->batch();
  if (open_) return *open_;
  auto batch = std::make_unique<Batch>();
  if (!free_cmds_.empty()) {
    batch->cmd = free_cmds_.back();
    free_cmds_.pop_back();
  } else {
    VkCommandBufferAllocateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
    info.commandPool = pool_;
    info.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    info.commandBufferCount = 1;
    check(device_->fn().vkAllocateCommandBuffers(device_->get(), &info, &batch->cmd),
          "vkAllocateCommandBuffers");
  }
  VkCommandBufferBeginInfo begin{};
  begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  VkResult r = device_->fn().vkBeginCommandBuffer(batch->cmd, &begin);
  if (r != VK_SUCCESS) {
    free_cmds_.push_back(batch->cmd);
    check(r, "vkBeginCommandBuffer");
  }
  open_ = std::move(batch);
  return *open_;
}

// Every command waits for everything before it on the queue (earlier batches included): streams
// are in-order, and a global barrier is cheap next to a dispatch.
void Stream::before_command(Batch& batch) {
  barrier(batch.cmd, kWorkStages, kWorkAccess);
  batch.has_commands = true;
}

void Stream::dispatch(Shader shader, const GpuArgs& args_in, uint64_t count, bool per_workgroup) {
  GpuArgs args = args_in;
  if (count == 0) return;
  VkPipeline pipeline = device_->pipeline(shader);
  const uint64_t local = per_workgroup ? 1 : shader_local_size(shader);
  const uint64_t groups = (count + local - 1) / local;
  const uint64_t max_x = std::min<uint64_t>(device_->info().max_workgroup_count_x, 65535);
  const uint64_t gx = std::min(groups, max_x);
  const uint64_t gy = (groups + gx - 1) / gx;
  if (gy > 65535 || count > UINT32_MAX) {
    sdk::fail(PLINTH_ERROR_UNSUPPORTED,
              "op too large for one dispatch (" + std::to_string(count) + " work items)");
  }
  args.total = static_cast<uint32_t>(count);
  std::lock_guard lock(mutex_);
  args.status = status_->address();
  Batch& batch = open_batch();
  if (batch.arg_chunks.empty() || batch.arg_used + kArgSlotBytes > kArgChunkBytes) {
    if (!free_chunks_.empty()) {
      batch.arg_chunks.push_back(std::move(free_chunks_.back()));
      free_chunks_.pop_back();
    } else {
      // Every invocation of a dispatch reads its arguments: on a discrete GPU they must live in device
      // memory the host can write (PLINTH_MEMORY_SHARED prefers device-local host-visible memory), not
      // in host memory read across the bus, which made memory-bound kernels several times slower.
      batch.arg_chunks.push_back(std::make_unique<Buffer>(*device_, kArgChunkBytes, PLINTH_MEMORY_SHARED, 0));
    }
    batch.arg_used = 0;
  }
  Buffer& chunk = *batch.arg_chunks.back();
  std::memcpy(chunk.host() + batch.arg_used, &args, sizeof args);
  const uint64_t address = chunk.address() + batch.arg_used;
  batch.arg_used += kArgSlotBytes;
  const auto& fn = device_->fn();
  before_command(batch);
  fn.vkCmdBindPipeline(batch.cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
  fn.vkCmdPushConstants(batch.cmd, device_->pipeline_layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof address,
                        &address);
  fn.vkCmdDispatch(batch.cmd, static_cast<uint32_t>(gx), static_cast<uint32_t>(gy), 1);
}

void Stream::copy(const Buffer& src, uint64_t src_offset, const Buffer& dst, uint64_t dst_offset,
                  uint64_t size) {
  std::lock_guard lock(mutex_);
  Batch& batch = open_batch();
  before_command(batch);
  VkBufferCopy region{src.base() + src_offset, dst.base() + dst_offset, size};
  device_->fn().vkCmdCopyBuffer(batch.cmd, src.vk(), dst.vk(), 1, &region);
}

void Stream::copy_from_host(const void* src, const Buffer& dst, uint64_t dst_offset, uint64_t size) {
  // Staged at enqueue time: the host's bytes are copied now, the device copy runs in stream order.
  // A captured copy re-reads the host bytes at every replay instead.
  auto staging = std::make_unique<Buffer>(*device_, size, PLINTH_MEMORY_HOST_PINNED, 0);
  std::lock_guard lock(mutex_);
  if (capture_) {
    capture_->batch().uploads.push_back({src, staging.get(), size});
  } else {
    std::memcpy(staging->host(), src, size);
  }
  Batch& batch = open_batch();
  before_command(batch);
  VkBufferCopy region{staging->base(), dst.base() + dst_offset, size};
  device_->fn().vkCmdCopyBuffer(batch.cmd, staging->vk(), dst.vk(), 1, &region);
  batch.staging.push_back(std::move(staging));
}

uint64_t Stream::scratch(uint64_t size) {
  std::lock_guard lock(mutex_);
  if (capture_) {
    auto buffer = std::make_unique<Buffer>(*device_, size, PLINTH_MEMORY_DEVICE, 0);
    const uint64_t address = buffer->address();
    capture_->batch().staging.push_back(std::move(buffer));
    return address;
  }
  if (!scratch_ || scratch_->size() < size) {
    // Work already recorded may still read the old buffer: the open batch keeps it until it completes.
    if (scratch_) open_batch().staging.push_back(std::move(scratch_));
    scratch_ = std::make_unique<Buffer>(*device_, size, PLINTH_MEMORY_DEVICE, 0);
  }
  return scratch_->address();
}

void Stream::copy_to_host(const Buffer& src, uint64_t src_offset, void* dst, uint64_t size) {
  std::unique_ptr<Buffer> staging;
  std::lock_guard lock(mutex_);
  no_capture("copy_buffer_to_host");
  if (!src.host_visible()) {
    staging = std::make_unique<Buffer>(*device_, size, PLINTH_MEMORY_HOST_PINNED, 0);
    Batch& batch = open_batch();
    before_command(batch);
    VkBufferCopy region{src.base() + src_offset, staging->base(), size};
    device_->fn().vkCmdCopyBuffer(batch.cmd, src.vk(), staging->vk(), 1, &region);
  }
  const uint64_t value = flush_locked();
  wait_locked(value);
  const uint8_t* from = staging ? staging->host() : src.host() + src_offset;
  std::memcpy(dst, from, size);
}

uint64_t Stream::record(VkQueryPool timestamp_pool) {
  std::lock_guard lock(mutex_);
  no_capture("event_record");
  if (timestamp_pool != VK_NULL_HANDLE) {
    Batch& batch = open_batch();
    before_command(batch);
    const auto& fn = device_->fn();
    fn.vkCmdResetQueryPool(batch.cmd, timestamp_pool, 0, 1);
    fn.vkCmdWriteTimestamp(batch.cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, timestamp_pool, 0);
  }
  return flush_locked();
}

void Stream::wait_for(std::shared_ptr<Timeline> timeline, uint64_t value) {
  std::lock_guard lock(mutex_);
  no_capture("stream_wait_event");
  if (value == 0) return;
  waits_.emplace_back(std::move(timeline), value);
}

void Stream::synchronize() {
  std::lock_guard lock(mutex_);
  if (capture_)
    sdk::fail(PLINTH_ERROR_INVALID_STATE, "stream_synchronize while the stream is capturing a graph");
  const uint64_t value = flush_locked();
  wait_locked(value);
  check_status_locked();
}

void Stream::no_capture(const char* what) const {
  if (capture_) sdk::fail(PLINTH_ERROR_UNSUPPORTED, std::string(what) + " cannot be captured in a graph");
}

void Stream::end_batch(Batch& batch) {
  // Make the batch's writes visible to the host once its semaphore value is reached.
  barrier(batch.cmd, VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT | VK_ACCESS_HOST_WRITE_BIT);
  check(device_->fn().vkEndCommandBuffer(batch.cmd), "vkEndCommandBuffer");
}

uint64_t Stream::flush_locked() {
  if (!open_ && waits_.empty()) return last_value_;
  open_batch();
  std::unique_ptr<Batch> batch = std::move(open_);
  try {
    end_batch(*batch);
  } catch (...) {
    free_cmds_.push_back(batch->cmd);
    throw;
  }
  const VkCommandBuffer cmd = batch->cmd;
  return submit_locked(cmd, std::move(batch));
}

uint64_t Stream::submit_locked(VkCommandBuffer cmd, std::unique_ptr<Batch> retire) {
  std::vector<VkSemaphore> wait_semaphores;
  std::vector<uint64_t> wait_values;
  std::vector<VkPipelineStageFlags> wait_stages;
  for (auto& [tl, v] : waits_) {
    wait_semaphores.push_back(tl->get());
    wait_values.push_back(v);
    wait_stages.push_back(VK_PIPELINE_STAGE_ALL_COMMANDS_BIT);
  }
  const uint64_t signal = last_value_ + 1;
  VkSemaphore signal_semaphore = timeline_->get();
  VkTimelineSemaphoreSubmitInfo timeline_info{};
  timeline_info.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO;
  timeline_info.waitSemaphoreValueCount = static_cast<uint32_t>(wait_values.size());
  timeline_info.pWaitSemaphoreValues = wait_values.data();
  timeline_info.signalSemaphoreValueCount = 1;
  timeline_info.pSignalSemaphoreValues = &signal;
  VkSubmitInfo submit{};
  submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  submit.pNext = &timeline_info;
  submit.waitSemaphoreCount = static_cast<uint32_t>(wait_semaphores.size());
  submit.pWaitSemaphores = wait_semaphores.data();
  submit.pWaitDstStageMask = wait_stages.data();
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &cmd;
  submit.signalSemaphoreCount = 1;
  submit.pSignalSemaphores = &signal_semaphore;
  try {
    device_->submit(submit);  // submits nothing once the device is lost
  } catch (...) {
    // The recorded work is dropped; the stream stays usable for later calls.
    if (retire->cmd != VK_NULL_HANDLE) free_cmds_.push_back(retire->cmd);
    waits_.clear();
    throw;
  }
  last_value_ = signal;
  retire->value = signal;
  for (auto& w : waits_) retire->waited.push_back(std::move(w.first));
  waits_.clear();
  inflight_.push_back(std::move(retire));
  reclaim_locked();
  return signal;
}

void Stream::begin_capture() {
  std::lock_guard lock(mutex_);
  if (capture_) sdk::fail(PLINTH_ERROR_INVALID_STATE, "stream is already capturing a graph");
  flush_locked();  // work enqueued before the capture runs, it is not part of the graph
  capture_ = std::make_unique<Graph>(*device_);
}

std::unique_ptr<Graph> Stream::end_capture() {
  std::lock_guard lock(mutex_);
  if (!capture_) sdk::fail(PLINTH_ERROR_INVALID_STATE, "stream is not capturing a graph");
  std::unique_ptr<Graph> graph = std::move(capture_);
  end_batch(graph->batch());
  return graph;
}

void Stream::launch(Graph& graph) {
  std::lock_guard lock(mutex_);
  no_capture("graph_launch");
  flush_locked();
  graph.before_launch();
  const uint64_t value = submit_locked(graph.batch().cmd, std::make_unique<Batch>());
  graph.launched(timeline_, value);
}

void Stream::reclaim_locked() {
  if (inflight_.empty()) return;
  const uint64_t done = timeline_->completed();
  while (!inflight_.empty() && inflight_.front()->value <= done) {
    Batch& b = *inflight_.front();
    if (b.cmd != VK_NULL_HANDLE) free_cmds_.push_back(b.cmd);
    for (auto& c : b.arg_chunks) free_chunks_.push_back(std::move(c));
    inflight_.pop_front();
  }
  // Bound the cache of argument chunks (a long burst of dispatches must not pin memory forever).
  if (free_chunks_.size() > 16) free_chunks_.resize(16);
}

void Stream::wait_locked(uint64_t value) {
  if (value != 0) timeline_->wait(value);
  reclaim_locked();
}

void Stream::check_status_locked() {
  uint32_t bits = 0;
  std::memcpy(&bits, status_->host(), sizeof bits);
  if (bits == 0) return;
  std::memset(status_->host(), 0, sizeof bits);
  std::string what;
  if (bits & kStatusBadIndex) what = "get_rows: an index lies outside the table";
  if (bits & kStatusBadKvLen)
    what += std::string(what.empty() ? "" : "; ") + "attention: a kv_lens value lies outside [0, Skv]";
  const auto add = [&what](const char* message) { what += std::string(what.empty() ? "" : "; ") + message; };
  if (bits & kStatusBadSetRowsIndex) add("set_rows: an index lies outside dst's rows [0, R)");
  if (bits & kStatusBadBlockId) add("paged_attention: a block_table entry lies outside [0, NB)");
  if (bits & kStatusBadQueryStart) add("paged_attention: query_start is not [0, ..., T] non-decreasing");
  if (bits & kStatusBadContextLen)
    add("paged_attention: a context_lens value L_s lies outside [n_s, MB * BS]");
  sdk::fail(PLINTH_ERROR_INVALID_ARGUMENT, what);
}

}  // namespace plinth::vulkan
