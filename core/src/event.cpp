#include "plinth/event.hpp"

#include <fmt/format.h>

#include "plinth/device.hpp"
#include "plinth/error.hpp"
#include "plinth/stream.hpp"
#include "state.hpp"

namespace plinth {
namespace detail {

EventState::~EventState() {
  if (handle != nullptr && !device->closed) device->api().event_destroy(handle);
  device->live_events -= 1;
  device->untrack(id);
}

}  // namespace detail

namespace {

detail::EventState& live(const std::shared_ptr<detail::EventState>& s, const char* call) {
  if (!s) throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "empty Event (moved from or default-constructed)", call);
  s->device->ensure_usable(call);
  return *s;
}

}  // namespace

Event Device::create_event(const EventOptions& options) {
  state_->ensure_usable("event_create");
  plinth_event_t handle = nullptr;
  const uint32_t flags = options.timing ? PLINTH_EVENT_FLAG_TIMING : 0u;
  state_->check(state_->api().event_create(state_->handle, flags, &handle), "event_create");
  auto s = std::make_shared<detail::EventState>();
  s->device = state_;
  s->handle = handle;
  s->id = state_->next_id();
  s->timing = options.timing;
  state_->live_events += 1;
  state_->track(s->id, fmt::format("event #{}", s->id));
  return Event(std::move(s));
}

Event::Event(std::shared_ptr<detail::EventState> state) noexcept : state_(std::move(state)) {}
Event::Event(Event&&) noexcept = default;
Event& Event::operator=(Event&&) noexcept = default;
Event::~Event() = default;

Device& Event::device() const {
  if (!state_) throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "empty Event", "Event::device");
  if (state_->device->owner == nullptr) {
    throw Error(PLINTH_ERROR_INVALID_STATE, "the event's device was closed", "Event::device", state_->device->id);
  }
  return *state_->device->owner;
}

void Event::record(Stream& stream) { stream.record(*this); }

void Event::synchronize() {
  auto& s = live(state_, "event_synchronize");
  s.device->check(s.device->api().event_synchronize(s.handle), "event_synchronize");
}

bool Event::query() {
  auto& s = live(state_, "event_query");
  const plinth_status_t status = s.device->api().event_query(s.handle);
  if (status == PLINTH_ERROR_NOT_READY) return false;
  s.device->check(status, "event_query");
  return true;
}

float Event::elapsed_ms_since(const Event& start) const {
  auto& end = live(state_, "event_elapsed_ms");
  auto& begin = live(start.state_, "event_elapsed_ms");
  if (begin.device != end.device) {
    throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "timing events of different devices", "event_elapsed_ms", end.device->id);
  }
  if (end.device->validate && (!begin.timing || !end.timing)) {
    end.device->misuse(PLINTH_ERROR_INVALID_ARGUMENT, "event_elapsed_ms",
                       "both events must be created with EventOptions::timing");
  }
  if (end.device->api().event_elapsed_ms == nullptr) {
    throw Error(PLINTH_ERROR_UNSUPPORTED, "the plugin has no timing events", "event_elapsed_ms", end.device->id);
  }
  float ms = 0;
  end.device->check(end.device->api().event_elapsed_ms(begin.handle, end.handle, &ms), "event_elapsed_ms");
  return ms;
}

plinth_event_t Event::native_handle() const {
  if (!state_) throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "empty Event", "Event::native_handle");
  return state_->handle;
}

}  // namespace plinth
