#include "event.hpp"

#include "vk_error.hpp"

namespace plinth::vulkan {

Event::Event(Device& device, bool timing) : device_(&device), timing_(timing) {
  if (timing_) {
    if (!(device.info().props.features & PLINTH_FEATURE_TIMESTAMPS)) {
      sdk::fail(PLINTH_ERROR_UNSUPPORTED, "device has no compute-queue timestamps");
    }
    VkQueryPoolCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO;
    info.queryType = VK_QUERY_TYPE_TIMESTAMP;
    info.queryCount = 1;
    check(device.fn().vkCreateQueryPool(device.get(), &info, nullptr, &pool_), "vkCreateQueryPool");
  }
}

Event::~Event() {
  if (pool_ == VK_NULL_HANDLE) return;
  // A timestamp write submitted before a loss may still be pending on the query pool.
  if (device_->loss().lost()) device_->drain();
  device_->fn().vkDestroyQueryPool(device_->get(), pool_, nullptr);
}

void Event::record(Stream& stream) {
  std::lock_guard lock(mutex_);
  if (timing_ && timeline_ && timeline_->completed() < value_) {
    // The query is reset by the new record; wait so the previous one cannot be read mid-reset.
    timeline_->wait(value_);
  }
  value_ = stream.record(pool_);
  timeline_ = stream.timeline();
}

void Event::make_wait(Stream& stream) const {
  std::lock_guard lock(mutex_);
  stream.wait_for(timeline_, value_);
}

// Value 0 is a record on a stream that had submitted nothing yet: complete at once.
void Event::synchronize() const {
  std::lock_guard lock(mutex_);
  if (value_ != 0) timeline_->wait(value_);
}

bool Event::query() const {
  std::lock_guard lock(mutex_);
  return value_ == 0 || timeline_->completed() >= value_;
}

double Event::timestamp_ns() const {
  std::lock_guard lock(mutex_);
  if (timeline_->completed() < value_) sdk::fail(PLINTH_ERROR_NOT_READY, "timing event has not completed");
  uint64_t ticks = 0;
  device_->check(device_->fn().vkGetQueryPoolResults(device_->get(), pool_, 0, 1, sizeof ticks, &ticks,
                                                    sizeof ticks, VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
                "vkGetQueryPoolResults");
  const uint32_t bits = device_->info().timestamp_valid_bits;
  if (bits < 64) ticks &= (uint64_t(1) << bits) - 1;
  return static_cast<double>(ticks) * device_->info().timestamp_period_ns;
}

}  // namespace plinth::vulkan
