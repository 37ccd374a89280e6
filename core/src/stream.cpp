#include "plinth/stream.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "plinth/buffer.hpp"
#include "plinth/device.hpp"
#include "plinth/error.hpp"
#include "plinth/event.hpp"
#include "plinth/graph.hpp"
#include "state.hpp"

namespace plinth {
namespace detail {
namespace {

StreamState& live(const std::shared_ptr<StreamState>& s, const char* call) {
  if (!s) throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "empty Stream (moved from or default-constructed)", call);
  return *s;
}

// Argument checks of the validation layer for a buffer range used on `stream`.
void check_buffer(const StreamState& stream, const std::shared_ptr<BufferState>& buffer, uint64_t offset,
                  uint64_t size, std::string_view call, std::string_view what) {
  const auto& dev = *stream.device;
  if (!buffer) {
    throw Error(PLINTH_ERROR_INVALID_ARGUMENT, fmt::format("{} is an empty Buffer", what), std::string(call), dev.id);
  }
  if (!dev.validate) return;
  if (!buffer->alive()) {
    dev.misuse(PLINTH_ERROR_INVALID_ARGUMENT, call,
               fmt::format("{} uses buffer #{} after it was freed", what, buffer->id));
  }
  if (buffer->device != stream.device) {
    dev.misuse(PLINTH_ERROR_INVALID_ARGUMENT, call,
               fmt::format("{} is buffer #{} of device {}, but the stream belongs to {}", what, buffer->id,
                           buffer->device->id, dev.id));
  }
  if (offset > buffer->size || size > buffer->size - offset) {
    dev.misuse(PLINTH_ERROR_OUT_OF_RANGE, call,
               fmt::format("{} range [{}, {}) lies outside buffer #{} of {} bytes", what, offset, offset + size,
                           buffer->id, buffer->size));
  }
}

void check_call(const StreamState& stream, const OpCall& call, std::string_view what) {
  if (!stream.device->validate) return;
  auto check_tensor = [&](const Tensor& t, std::string_view slot) {
    if (!t.has_buffer()) {
      stream.device->misuse(PLINTH_ERROR_INVALID_ARGUMENT, what, fmt::format("{} has no buffer", slot));
    }
    check_buffer(stream, t.buffer_state(), t.offset(), t.span_bytes(), what, slot);
  };
  for (std::size_t i = 0; i < call.inputs.size(); ++i) {
    if (call.inputs[i]) check_tensor(*call.inputs[i], fmt::format("input {} ({})", i, call.inputs[i]->to_string()));
  }
  for (std::size_t i = 0; i < call.outputs.size(); ++i) {
    check_tensor(call.outputs[i], fmt::format("output {} ({})", i, call.outputs[i].to_string()));
  }
}

// True (and the command recorded) when the stream is capturing in emulation.
bool record_if_capturing(StreamState& stream, Command&& command) {
  std::lock_guard lock(stream.mutex);
  if (!stream.capturing || stream.native_capture) return false;
  stream.recorded.push_back(std::move(command));
  return true;
}

bool capturing_emulated(StreamState& stream) {
  std::lock_guard lock(stream.mutex);
  return stream.capturing && !stream.native_capture;
}

void note_call(const std::shared_ptr<StreamState>& stream, const OpCall& call) {
  for (const auto& in : call.inputs) {
    if (in && in->buffer_state()) in->buffer_state()->note_stream(stream);
  }
  for (const auto& out : call.outputs) {
    if (out.buffer_state()) out.buffer_state()->note_stream(stream);
  }
}

// Runs `call` on `fallback` instead of the stream's device, moving operands through host memory:
// simple and correct for v1, and visible (a warning and a counter), never silent.
void run_on_fallback(const std::shared_ptr<StreamState>& stream, const OpCall& call, Device& fallback,
                     const std::string& reason) {
  auto& dev = *stream->device;
  const auto fb = fallback.state();
  struct Region {
    uint64_t lo = UINT64_MAX;
    uint64_t hi = 0;
    bool written = false;
    std::vector<std::byte> host;
    Buffer remote;
  };
  std::map<BufferState*, Region> regions;
  auto add = [&](const Tensor& t, bool output) {
    if (!t.buffer_state() || t.span_bytes() == 0) return;
    auto& r = regions[t.buffer_state().get()];
    r.lo = std::min(r.lo, t.offset());
    r.hi = std::max(r.hi, t.offset() + t.span_bytes());
    r.written = r.written || output;
  };
  for (const auto& in : call.inputs) {
    if (in) add(*in, false);
  }
  for (const auto& out : call.outputs) add(out, true);

  stream_synchronize(stream);
  for (auto& [buf, r] : regions) {
    r.host.resize(r.hi - r.lo);
    dev.check(dev.api().copy_buffer_to_host(stream->handle, buf->handle(), r.lo, r.host.data(), r.host.size()),
              "copy_buffer_to_host (fallback)");
  }
  stream_synchronize(stream);

  auto fstream = create_stream_state(fb, true);
  for (auto& [buf, r] : regions) {
    r.remote = Buffer(allocate_buffer(fb, r.host.size(), {}));
    stream_upload(fstream, r.host.data(), r.remote.state(), 0, r.host.size());
  }
  auto remap = [&](const Tensor& t) {
    if (!t.buffer_state() || t.span_bytes() == 0) return t;
    const auto& r = regions.at(t.buffer_state().get());
    return Tensor::strided(r.remote, t.dtype(), t.shape(), t.strides(), t.offset() - r.lo);
  };
  OpCall moved = call;
  for (auto& in : moved.inputs) {
    if (in) in = remap(*in);
  }
  for (auto& out : moved.outputs) out = remap(out);
  try {
    stream_launch(fstream, moved);
  } catch (const Error& e) {
    throw Error(e.status(),
                fmt::format("{} is not supported by {} ({}) and failed on fallback device {}: {}", call.describe(),
                            dev.id, reason, fb->id, e.message()),
                "op_launch(" + std::string(op_name(call.op)) + ")", dev.id, e.vendor_code());
  }
  for (auto& [buf, r] : regions) {
    if (!r.written) continue;
    stream_download(fstream, r.remote.state(), 0, r.host.data(), r.host.size());
  }
  stream_synchronize(fstream);
  for (auto& [buf, r] : regions) {
    if (!r.written) continue;
    dev.check(dev.api().copy_host_to_buffer(stream->handle, r.host.data(), buf->handle(), r.lo, r.host.size()),
              "copy_host_to_buffer (fallback)");
  }
  // The host copies must outlive the queued uploads.
  stream_synchronize(stream);
  note_call(stream, call);
  dev.fallbacks += 1;
  dev.logger->warn("fallback: {} is not supported by {} ({}); ran on {} instead", call.describe(), dev.id, reason, fb->id);
}

}  // namespace

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

void stream_launch(const std::shared_ptr<StreamState>& stream, const OpCall& call) {
  auto& s = live(stream, "op_launch");
  auto& dev = *s.device;
  const std::string what = "op_launch(" + std::string(op_name(call.op)) + ")";
  dev.ensure_usable(what);
  check_call(s, call, what);
  if (capturing_emulated(s)) {
    Command c;
    c.kind = Command::Kind::op;
    c.call = call;
    record_if_capturing(s, std::move(c));
    return;
  }
  dev.on_launch();
  AbiOpCall abi(call);
  const plinth_status_t status = dev.api().op_launch(s.handle, abi.get());
  if (status == PLINTH_ERROR_UNSUPPORTED) {
    std::string reason = dev.plugin->last_error_message();
    if (reason.empty()) reason = "the plugin gave no reason";
    Device* fallback = s.fallback;
    if (fallback == nullptr && !s.internal) fallback = dev.default_fallback;
    if (fallback != nullptr && fallback->state().get() != &dev) {
      run_on_fallback(stream, call, *fallback, reason);
      return;
    }
    throw Error(PLINTH_ERROR_UNSUPPORTED,
                fmt::format("{} is not supported by {}: {} (no fallback device is set)", call.describe(), dev.id, reason),
                what, dev.id, dev.plugin->last_error_vendor_code());
  }
  dev.check(status, what);
  dev.after_launch();
  note_call(stream, call);
}

void stream_upload(const std::shared_ptr<StreamState>& stream, const void* src, const std::shared_ptr<BufferState>& dst,
                   uint64_t dst_offset, uint64_t size) {
  auto& s = live(stream, "copy_host_to_buffer");
  s.device->ensure_usable("copy_host_to_buffer");
  check_buffer(s, dst, dst_offset, size, "copy_host_to_buffer", "destination");
  if (s.device->validate && src == nullptr && size > 0) {
    s.device->misuse(PLINTH_ERROR_INVALID_ARGUMENT, "copy_host_to_buffer", "NULL host source");
  }
  Command c;
  c.kind = Command::Kind::upload;
  c.host_src = src;
  c.dst = dst;
  c.dst_offset = dst_offset;
  c.size = size;
  if (record_if_capturing(s, std::move(c))) return;
  s.device->check(s.device->api().copy_host_to_buffer(s.handle, src, dst->handle(), dst_offset, size),
                  "copy_host_to_buffer");
  dst->note_stream(stream);
}

void stream_download(const std::shared_ptr<StreamState>& stream, const std::shared_ptr<BufferState>& src,
                     uint64_t src_offset, void* dst, uint64_t size) {
  auto& s = live(stream, "copy_buffer_to_host");
  s.device->ensure_usable("copy_buffer_to_host");
  check_buffer(s, src, src_offset, size, "copy_buffer_to_host", "source");
  if (s.device->validate && dst == nullptr && size > 0) {
    s.device->misuse(PLINTH_ERROR_INVALID_ARGUMENT, "copy_buffer_to_host", "NULL host destination");
  }
  Command c;
  c.kind = Command::Kind::download;
  c.src = src;
  c.src_offset = src_offset;
  c.host_dst = dst;
  c.size = size;
  if (record_if_capturing(s, std::move(c))) return;
  s.device->check(s.device->api().copy_buffer_to_host(s.handle, src->handle(), src_offset, dst, size),
                  "copy_buffer_to_host");
  src->note_stream(stream);
}

void stream_copy(const std::shared_ptr<StreamState>& stream, const std::shared_ptr<BufferState>& src,
                 uint64_t src_offset, const std::shared_ptr<BufferState>& dst, uint64_t dst_offset, uint64_t size) {
  auto& s = live(stream, "copy_buffer");
  s.device->ensure_usable("copy_buffer");
  check_buffer(s, src, src_offset, size, "copy_buffer", "source");
  check_buffer(s, dst, dst_offset, size, "copy_buffer", "destination");
  Command c;
  c.kind = Command::Kind::copy;
  c.src = src;
  c.src_offset = src_offset;
  c.dst = dst;
  c.dst_offset = dst_offset;
  c.size = size;
  if (record_if_capturing(s, std::move(c))) return;
  s.device->check(s.device->api().copy_buffer(s.handle, src->handle(), src_offset, dst->handle(), dst_offset, size),
                  "copy_buffer");
  src->note_stream(stream);
  dst->note_stream(stream);
}

void stream_synchronize(const std::shared_ptr<StreamState>& stream) {
  auto& s = live(stream, "stream_synchronize");
  s.device->ensure_usable("stream_synchronize");
  {
    std::lock_guard lock(s.mutex);
    if (s.capturing) {
      throw Error(PLINTH_ERROR_INVALID_STATE, "cannot synchronize a stream while it is capturing a graph",
                  "stream_synchronize", s.device->id);
    }
  }
  s.device->check(s.device->api().stream_synchronize(s.handle), "stream_synchronize");
}

void stream_record(const std::shared_ptr<StreamState>& stream, const std::shared_ptr<EventState>& event) {
  auto& s = live(stream, "event_record");
  s.device->ensure_usable("event_record");
  if (!event) throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "empty Event", "event_record", s.device->id);
  if (event->device != s.device) {
    s.device->misuse(PLINTH_ERROR_INVALID_ARGUMENT, "event_record",
                     fmt::format("event #{} belongs to {}, the stream to {}", event->id, event->device->id, s.device->id));
  }
  Command c;
  c.kind = Command::Kind::record;
  c.event = event;
  if (record_if_capturing(s, std::move(c))) return;
  s.device->check(s.device->api().event_record(event->handle, s.handle), "event_record");
}

void stream_wait(const std::shared_ptr<StreamState>& stream, const std::shared_ptr<EventState>& event) {
  auto& s = live(stream, "stream_wait_event");
  s.device->ensure_usable("stream_wait_event");
  if (!event) throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "empty Event", "stream_wait_event", s.device->id);
  if (event->device != s.device) {
    s.device->misuse(PLINTH_ERROR_INVALID_ARGUMENT, "stream_wait_event",
                     fmt::format("event #{} belongs to {}, the stream to {}", event->id, event->device->id, s.device->id));
  }
  Command c;
  c.kind = Command::Kind::wait;
  c.event = event;
  if (record_if_capturing(s, std::move(c))) return;
  s.device->check(s.device->api().stream_wait_event(s.handle, event->handle), "stream_wait_event");
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
  auto& s = detail::live(state_, "graph_begin_capture");
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
  auto& s = detail::live(state_, "graph_end_capture");
  std::lock_guard lock(s.mutex);
  if (!s.capturing) {
    throw Error(PLINTH_ERROR_INVALID_STATE, "the stream is not capturing", "graph_end_capture", s.device->id);
  }
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
  auto& s = detail::live(state_, "Stream::capturing");
  std::lock_guard lock(s.mutex);
  return s.capturing;
}

void Stream::set_fallback(Device* device) { detail::live(state_, "Stream::set_fallback").fallback = device; }
Device* Stream::fallback() const { return detail::live(state_, "Stream::fallback").fallback; }
plinth_stream_t Stream::native_handle() const { return detail::live(state_, "Stream::native_handle").handle; }

}  // namespace plinth
