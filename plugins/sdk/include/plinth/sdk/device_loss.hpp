// Device loss for plugin authors: the state a device enters when its hardware is gone (a GPU reset,
// a removed card, a driver's sticky error), and the test hook that makes a healthy device act lost.
//
// After DEVICE_LOST only destroy calls remain valid (abi.h), and the host can no longer wait for
// anything: it destroys buffers, events, graphs and streams in whatever order its clean-up runs,
// including buffers that queued work still uses. A plugin keeps one DeviceLoss per opened device:
//  - `check` at the top of every entry that would use the device (allocate, copy, launch, record,
//    wait, synchronize, query): it fails them with DEVICE_LOST;
//  - `mark_lost` where the driver reports the loss (VK_ERROR_DEVICE_LOST, a sticky CUDA error);
//  - `lost()` in its destroy paths, which must then submit nothing, wait only for work already
//    submitted (which a driver ends in finite time after a loss), and free everything.
//
// The test hook: PLINTH_PLUGIN_FAULT=device_lost:N, read when a device is opened
// (`hook_from_environment`), loses the device after N op launches on it: launch N+1 and every later
// use fail with DEVICE_LOST exactly as after a real loss (N = 0: every use), while the hardware,
// still healthy, keeps running what was submitted before. The CTS uses it to certify teardown after
// a loss (docs/abi.md).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace plinth::sdk {

class DeviceLoss {
 public:
  // N of PLINTH_PLUGIN_FAULT=device_lost:N, or nullopt when the variable is unset or empty. Throws
  // Error(INVALID_ARGUMENT) for any other value: a typo must not quietly disable a test.
  static std::optional<uint64_t> hook_from_environment();

  // `lose_after`: the hook's N, or nullopt for a device that is lost only when its driver says so.
  // 0 loses the device at once, as the core's PLINTH_FAULT=device_lost:0 does.
  explicit DeviceLoss(std::optional<uint64_t> lose_after = std::nullopt);
  DeviceLoss(const DeviceLoss&) = delete;
  DeviceLoss& operator=(const DeviceLoss&) = delete;

  bool lost() const noexcept { return lost_.load(std::memory_order_acquire); }
  // Records the loss; `why` (the first one given) is quoted by every later DEVICE_LOST. Thread-safe.
  void mark_lost(std::string_view why);
  // Throws Error(DEVICE_LOST) naming `call` and the cause when the device is lost.
  void check(std::string_view call) const;
  // Call in op_launch once the call is known to be valid, before anything is recorded or run:
  // throws DEVICE_LOST when the device is lost, or when this launch is the hook's N+1 (which loses
  // the device).
  void before_launch();

 private:
  const std::optional<uint64_t> lose_after_;
  std::atomic<uint64_t> launches_{0};
  std::atomic<bool> lost_{false};
  mutable std::mutex mutex_;  // guards why_
  std::string why_;
};

}  // namespace plinth::sdk
