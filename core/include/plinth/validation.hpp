// The validation layer: sits between the core and the plugin when enabled (PLINTH_VALIDATE=1 or
// RuntimeOptions::validate). It
//  - checks arguments before they reach the plugin: handles alive (no use of a freed buffer through a
//    Tensor, no moved-from objects), tensors and copy ranges inside their buffers, buffers and events
//    belonging to the stream's device, host-visible buffers for map;
//  - tracks object lifetimes and reports leaks: objects still alive when a device is closed (by
//    Runtime::close or the Runtime destructor) are logged one per line and counted (LeakReport);
//  - injects faults for tests of the layers above.
//
// Fault syntax (PLINTH_FAULT, RuntimeOptions::faults, parse_faults): comma-separated items
//   alloc:N            the Nth buffer allocation on the device fails with OUT_OF_MEMORY (no retry)
//   launch:N           the Nth op launch on the device fails with INTERNAL
//   device_lost:N      after N successful op launches the device is lost: every later call on it
//                      (allocation, copy, launch, synchronize, ...) fails with DEVICE_LOST
// N counts from 1, per device, from the moment the fault is set (device_lost:0 loses the device at
// once). Each fault fires once. Any item may end in @DEVICE_ID to apply to one device only, e.g.
//   PLINTH_FAULT="alloc:3,launch:10@cpu:0,device_lost:100@vulkan:0"
// Setting faults enables fault injection even when the rest of validation is off.
// An injected loss is the core's alone: the plugin still runs the work queued before it, so the
// core's clean-up keeps ordering frees after that work (docs/architecture.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "plinth/export.hpp"

namespace plinth {

enum class FaultKind { alloc, launch, device_lost };

struct Fault {
  FaultKind kind = FaultKind::alloc;
  uint64_t n = 1;
  std::string device{};  // device id; empty: every device
};

// Parses the syntax above; throws Error(INVALID_ARGUMENT) naming the bad item.
PLINTH_CORE_API std::vector<Fault> parse_faults(std::string_view spec);
PLINTH_CORE_API std::string to_string(const Fault& fault);  // "alloc:3@cpu:0"

// Objects alive when a device was closed (or, from Device::live_objects, alive now).
struct LeakReport {
  uint64_t buffers = 0;
  uint64_t streams = 0;
  uint64_t events = 0;
  uint64_t graphs = 0;
  uint64_t total() const noexcept { return buffers + streams + events + graphs; }
};

// Counters of the validation layer on one device.
struct ValidationStats {
  uint64_t allocations_seen = 0;  // allocation attempts counted for alloc:N
  uint64_t launches_seen = 0;     // op launches counted for launch:N and device_lost:N
  uint64_t faults_injected = 0;
  uint64_t errors_caught = 0;     // misuse the argument checks turned into Errors
};

}  // namespace plinth
