// A plinth stream: work is recorded into a command buffer (a batch) and submitted to the device's
// queue on flush (synchronize, event record, host copies). Each submission signals the stream's
// timeline semaphore with the next value, so "work up to here" is always one timeline value.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "batch.hpp"
#include "gpu_args.hpp"
#include "graph.hpp"

namespace plinth::vulkan {

class Stream {
 public:
  explicit Stream(Device& device);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  Device& device() const noexcept { return *device_; }
  const std::shared_ptr<Timeline>& timeline() const noexcept { return timeline_; }

  // Records one dispatch of `count` invocations (or, for `per_workgroup`, `count` workgroups).
  void dispatch(Shader shader, const GpuArgs& args_in, uint64_t count, bool per_workgroup);
  // Copies of size > 0 (the SDK adapter skips empty ones).
  void copy(const Buffer& src, uint64_t src_offset, const Buffer& dst, uint64_t dst_offset, uint64_t size);
  void copy_from_host(const void* src, const Buffer& dst, uint64_t dst_offset, uint64_t size);
  // Device address of at least `size` bytes of scratch for the op being recorded, valid for that op's
  // commands. Every command on a stream waits for all before it, so one grow-only buffer serves every
  // op of the stream; while capturing, each op gets its own buffer, owned by the graph.
  uint64_t scratch(uint64_t size);
  // Held while one op records its commands: an op of several commands (sharing the scratch) is then
  // never interleaved with another op recorded on the same stream from another thread.
  std::unique_lock<std::mutex> lock_ops() { return std::unique_lock(ops_mutex_); }
  // Completes before returning: the host sees the data as soon as the call returns.
  void copy_to_host(const Buffer& src, uint64_t src_offset, void* dst, uint64_t size);
  // Records a timestamp into query 0 of `pool` and submits; returns the timeline value.
  uint64_t record(VkQueryPool timestamp_pool);
  // Later work waits for `timeline` to reach `value`.
  void wait_for(std::shared_ptr<Timeline> timeline, uint64_t value);
  // Waits for all submitted work; throws the first asynchronous error (bad indices, device lost).
  void synchronize();

  // Graph capture: work recorded between begin and end goes into the graph instead of running.
  void begin_capture();
  std::unique_ptr<Graph> end_capture();
  void launch(Graph& graph);

 private:
  Batch& open_batch();
  void barrier(VkCommandBuffer cmd, VkPipelineStageFlags dst_stage, VkAccessFlags dst_access);
  void before_command(Batch& batch);
  void end_batch(Batch& batch);
  uint64_t flush_locked();
  uint64_t submit_locked(VkCommandBuffer cmd, std::unique_ptr<Batch> retire);
  void no_capture(const char* what) const;
  void reclaim_locked();
  void wait_locked(uint64_t value);
  void check_status_locked();

  Device* device_;
  std::mutex mutex_;
  std::mutex ops_mutex_;  // see lock_ops(); taken before mutex_, never while holding it
  VkCommandPool pool_ = VK_NULL_HANDLE;
  std::shared_ptr<Timeline> timeline_;
  uint64_t last_value_ = 0;
  std::unique_ptr<Batch> open_;
  std::unique_ptr<Graph> capture_;  // non-null while capturing
  std::deque<std::unique_ptr<Batch>> inflight_;
  std::vector<VkCommandBuffer> free_cmds_;
  std::vector<std::unique_ptr<Buffer>> free_chunks_;
  std::vector<std::pair<std::shared_ptr<Timeline>, uint64_t>> waits_;
  std::unique_ptr<Buffer> status_;  // one word that shaders OR error bits into
  std::unique_ptr<Buffer> scratch_;  // see scratch()
};

}  // namespace plinth::vulkan
