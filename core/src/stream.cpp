#include "plinth/stream.hpp"

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "executor.hpp"
#include "plinth/buffer.hpp"
#include "plinth/device.hpp"
#include "plinth/error.hpp"
#include "plinth/event.hpp"
#include "plinth/graph.hpp"

namespace plinth {
namespace detail {

std::shared_ptr<StreamState> create_stream_state(const std::shared_ptr<DeviceState>& device, bool internal) {
  device->ensure_usable("stream_create");
  plinth_stream_t handle = nullptr;
  device->check(device->api().stream_create(device->handle, 0, &handle), "stream_create");
  auto s = std::make_shared<StreamState>();
  s->device = device;
  s->handle = handle;
  s->id = device->next_id();
  s->internal = internal;
  if (!internal) {
    device->live_streams += 1;
    device->track(s->id, fmt::format("stream #{}", s->id));
  }
  return s;
}

StreamState::~StreamState() {
  if (handle != nullptr && !device->closed) {
    const plinth_status_t status = device->api().stream_destroy(handle);
    if (status != PLINTH_OK && !device->lost) {
      device->logger->error("{}: stream_destroy failed: {}: {}", device->id, status_name(status),
                            device->plugin->last_error_message());
    }
  }
  if (!internal) {
    device->live_streams -= 1;
    device->untrack(id);
  }
}

// Each operation only builds its command; checks, capture and the plugin call are submit()'s.
using Kind = Command::Kind;

void stream_launch(const std::shared_ptr<StreamState>& stream, const OpCall& call) {
  submit(stream, {.kind = Kind::op, .call = call});
}

void stream_upload(const std::shared_ptr<StreamState>& stream, const void* src, const std::shared_ptr<BufferState>& dst,
                   uint64_t dst_offset, uint64_t size) {
  submit(stream, {.kind = Kind::upload, .dst = dst, .host_src = src, .dst_offset = dst_offset, .size = size});
}

void stream_download(const std::shared_ptr<StreamState>& stream, const std::shared_ptr<BufferState>& src,
                     uint64_t src_offset, void* dst, uint64_t size) {
  submit(stream,
         {.kind = Kind::download, .src = src, .host_dst = dst, .src_offset = src_offset, .size = size});
}

void stream_copy(const std::shared_ptr<StreamState>& stream, const std::shared_ptr<BufferState>& src,
                 uint64_t src_offset, const std::shared_ptr<BufferState>& dst, uint64_t dst_offset, uint64_t size) {
  submit(stream, {.kind = Kind::copy,
                  .src = src,
                  .dst = dst,
                  .src_offset = src_offset,
                  .dst_offset = dst_offset,
                  .size = size});
}

void stream_record(const std::shared_ptr<StreamState>& stream, const std::shared_ptr<EventState>& event) {
  submit(stream, {.kind = Kind::record, .event = event});
}

void stream_wait(const std::shared_ptr<StreamState>& stream, const std::shared_ptr<EventState>& event) {
  submit(stream, {.kind = Kind::wait, .event = event});
}

void synchronize_held(StreamState& s) {
  s.device->ensure_usable("stream_synchronize");
  if (s.capturing) {
    throw Error(PLINTH_ERROR_INVALID_STATE, "cannot synchronize a stream while it is capturing a graph",
                "stream_synchronize", s.device->id);
  }
  s.device->check(s.device->api().stream_synchronize(s.handle), "stream_synchronize");
}

// Waits holding the mutex, so that no capture begins between the check and the wait.
void stream_synchronize(const std::shared_ptr<StreamState>& stream) {
  auto& s = live_stream(stream, "stream_synchronize");
  std::lock_guard lock(s.mutex);
  synchronize_held(s);
}

}  // namespace detail

Stream::Stream(std::shared_ptr<detail::StreamState> state) noexcept : state_(std::move(state)) {}
Stream::Stream(Stream&&) noexcept = default;
Stream& Stream::operator=(Stream&&) noexcept = default;
Stream::~Stream() = default;

Device& Stream::device() const {
  if (!state_) throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "empty Stream", "Stream::device");
  if (state_->device->owner == nullptr) {
    throw Error(PLINTH_ERROR_INVALID_STATE, "the stream's device was closed", "Stream::device", state_->device->id);
  }
  return *state_->device->owner;
}

void Stream::upload(const void* src, Buffer& dst, uint64_t dst_offset, uint64_t size) {
  detail::stream_upload(state_, src, dst.state(), dst_offset, size);
}

void Stream::download(const Buffer& src, uint64_t src_offset, void* dst, uint64_t size) {
  detail::stream_download(state_, src.state(), src_offset, dst, size);
}

void Stream::copy(const Buffer& src, uint64_t src_offset, Buffer& dst, uint64_t dst_offset, uint64_t size) {
  detail::stream_copy(state_, src.state(), src_offset, dst.state(), dst_offset, size);
}

void Stream::launch(const OpCall& call) { detail::stream_launch(state_, call); }
void Stream::record(Event& event) { detail::stream_record(state_, event.state()); }
void Stream::wait(const Event& event) { detail::stream_wait(state_, event.state()); }
void Stream::synchronize() { detail::stream_synchronize(state_); }

void Stream::begin_capture() {
  auto& s = detail::live_stream(state_, "graph_begin_capture");
  s.device->ensure_usable("graph_begin_capture");
  std::lock_guard lock(s.mutex);
  if (s.capturing) {
    throw Error(PLINTH_ERROR_INVALID_STATE, "the stream is already capturing", "graph_begin_capture", s.device->id);
  }
  const auto& api = s.device->api();
  const bool native = api.graph_begin_capture != nullptr && api.graph_end_capture != nullptr &&
                      api.graph_launch != nullptr && api.graph_destroy != nullptr;
  if (native) s.device->check(api.graph_begin_capture(s.handle), "graph_begin_capture");
  s.capturing = true;
  s.native_capture = native;
  s.recorded.clear();
}

Graph Stream::end_capture() {
  auto& s = detail::live_stream(state_, "graph_end_capture");
  std::lock_guard lock(s.mutex);
  if (!s.capturing) {
    throw Error(PLINTH_ERROR_INVALID_STATE, "the stream is not capturing", "graph_end_capture", s.device->id);
  }
  // submit() decides under this same mutex: every command is in this graph or runs after it.
  s.capturing = false;
  auto g = std::make_shared<detail::GraphState>();
  g->device = s.device;
  g->id = s.device->next_id();
  if (s.native_capture) {
    s.native_capture = false;
    s.device->ensure_usable("graph_end_capture");
    s.device->check(s.device->api().graph_end_capture(s.handle, &g->native), "graph_end_capture");
  } else {
    g->commands = std::move(s.recorded);
    s.recorded.clear();
  }
  s.device->live_graphs += 1;
  s.device->track(g->id, fmt::format("graph #{} ({})", g->id,
                                      g->native ? "native" : fmt::format("{} recorded commands", g->commands.size())));
  return Graph(std::move(g));
}

bool Stream::capturing() const {
  auto& s = detail::live_stream(state_, "Stream::capturing");
  std::lock_guard lock(s.mutex);
  return s.capturing;
}

// Under the stream's lock: the executor reads `fallback` under it while another thread submits.
void Stream::set_fallback(Device* device) {
  auto& s = detail::live_stream(state_, "Stream::set_fallback");
  std::lock_guard lock(s.mutex);
  s.fallback = device;
}
Device* Stream::fallback() const {
  auto& s = detail::live_stream(state_, "Stream::fallback");
  std::lock_guard lock(s.mutex);
  return s.fallback;
}
plinth_stream_t Stream::native_handle() const {
  return detail::live_stream(state_, "Stream::native_handle").handle;
}

}  // namespace plinth
