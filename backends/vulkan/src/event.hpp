// A plinth event: a (timeline semaphore, value) pair captured at record time, plus a one-query
// timestamp pool for timing events.
#pragma once

#include <memory>
#include <mutex>

#include "stream.hpp"

namespace plinth::vulkan {

class Event {
 public:
  Event(Device& device, bool timing);
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  // Every call but record is for a recorded event, and a stream of the event's device (the SDK
  // adapter checks both).
  void record(Stream& stream);
  void make_wait(Stream& stream) const;
  void synchronize() const;
  bool query() const;
  // Timestamp in nanoseconds of a timing event; throws NOT_READY until it completes.
  double timestamp_ns() const;

 private:
  Device* device_;
  bool timing_;
  VkQueryPool pool_ = VK_NULL_HANDLE;
  mutable std::mutex mutex_;
  std::shared_ptr<Timeline> timeline_;  // null until recorded
  uint64_t value_ = 0;
};

}  // namespace plinth::vulkan
