// Event: a marker in a stream's work. Record it on a stream, wait for it from another stream or the
// host, poll it, or time the work between two timing events. Move-only RAII.
#pragma once

#include <memory>

#include "plinth/abi.h"
#include "plinth/export.hpp"

namespace plinth {

class Device;
class Stream;
namespace detail {
struct EventState;
}

struct EventOptions {
  bool timing = false;  // record timestamps for elapsed_ms (needs PLINTH_FEATURE_TIMESTAMPS)
};

class PLINTH_CORE_API Event {
 public:
  Event() = default;
  Event(Event&&) noexcept;
  Event& operator=(Event&&) noexcept;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event();

  explicit operator bool() const noexcept { return state_ != nullptr; }
  Device& device() const;

  void record(Stream& stream);  // completes when the stream's work so far has finished
  void synchronize();           // block the host until complete
  bool query();                 // true when complete (an event never recorded is complete)
  // Milliseconds from `start` to this event; both timing events, recorded and complete.
  float elapsed_ms_since(const Event& start) const;

  plinth_event_t native_handle() const;
  const std::shared_ptr<detail::EventState>& state() const noexcept { return state_; }
  explicit Event(std::shared_ptr<detail::EventState> state) noexcept;

 private:
  std::shared_ptr<detail::EventState> state_;
};

}  // namespace plinth
