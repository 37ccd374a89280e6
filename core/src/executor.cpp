#include "executor.hpp"

#include <fmt/format.h>

#include "plinth/error.hpp"

namespace plinth::detail {
namespace {

// The ABI entry a command calls, as errors name it.
std::string_view entry_name(Command::Kind kind) {
  switch (kind) {
    case Command::Kind::op: return "op_launch";
    case Command::Kind::upload: return "copy_host_to_buffer";
    case Command::Kind::download: return "copy_buffer_to_host";
    case Command::Kind::copy: return "copy_buffer";
    case Command::Kind::record: return "event_record";
    case Command::Kind::wait: return "stream_wait_event";
  }
  return "?";
}

// The plugin table as the executor sees it: fault injection (PLINTH_FAULT) wraps op_launch here,
// since the plugin knows nothing of it; the other entries go straight through.
plinth_status_t call_plugin(DeviceState& dev, plinth_stream_t stream, const Command& c) {
  const auto& api = dev.api();
  switch (c.kind) {
    case Command::Kind::op: {
      dev.on_launch();
      const AbiOpCall abi(c.call);
      const plinth_status_t status = api.op_launch(stream, abi.get());
      if (status == PLINTH_OK) dev.after_launch();
      return status;
    }
    case Command::Kind::upload:
      return api.copy_host_to_buffer(stream, c.host_src, c.dst->handle(), c.dst_offset, c.size);
    case Command::Kind::download:
      return api.copy_buffer_to_host(stream, c.src->handle(), c.src_offset, c.host_dst, c.size);
    case Command::Kind::copy:
      return api.copy_buffer(stream, c.src->handle(), c.src_offset, c.dst->handle(), c.dst_offset, c.size);
    case Command::Kind::record: return api.event_record(c.event->handle, stream);
    case Command::Kind::wait: return api.stream_wait_event(stream, c.event->handle);
  }
  return PLINTH_ERROR_INTERNAL;
}

// A buffer is freed only after every stream that used it reached its work (allocator.cpp).
void note_use(const std::shared_ptr<StreamState>& stream, const Command& c) {
  if (c.src) c.src->note_stream(stream);
  if (c.dst) c.dst->note_stream(stream);
  for (const auto& in : c.call.inputs) {
    if (in && in->buffer_state()) in->buffer_state()->note_stream(stream);
  }
  for (const auto& out : c.call.outputs) {
    if (out.buffer_state()) out.buffer_state()->note_stream(stream);
  }
}

}  // namespace

StreamState& live_stream(const std::shared_ptr<StreamState>& stream, std::string_view call) {
  if (!stream) {
    throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "empty Stream (moved from or default-constructed)",
                std::string(call));
  }
  return *stream;
}

void submit(const std::shared_ptr<StreamState>& stream, Command command) {
  auto& s = live_stream(stream, entry_name(command.kind));
  auto& dev = *s.device;
  const std::string what = command.kind == Command::Kind::op
                               ? fmt::format("op_launch({})", op_name(command.call.op))
                               : std::string(entry_name(command.kind));
  dev.ensure_usable(what);
  check_command(s, command, what);

  // Held through the plugin call: begin_capture and end_capture take the same mutex, so the
  // command lands in the capture it saw or runs outside any, never dropped in between. A stream's
  // work is ordered anyway, so holding the mutex across the enqueue costs little.
  std::lock_guard lock(s.mutex);
  // A native capture records inside the plugin: its commands go to the plugin like direct ones.
  if (s.capturing && !s.native_capture) {
    s.recorded.push_back(std::move(command));
    return;
  }
  if (command.kind == Command::Kind::op) {
    if (std::string unknown = dev.plugin->op_unknown_reason(command.call.op); !unknown.empty()) {
      launch_unsupported(stream, command.call, what, std::move(unknown));
      note_use(stream, command);
      return;
    }
  }
  const plinth_status_t status = call_plugin(dev, s.handle, command);
  if (status == PLINTH_ERROR_UNSUPPORTED && command.kind == Command::Kind::op) {
    launch_unsupported(stream, command.call, what, {});
  } else {
    dev.check(status, what);
  }
  note_use(stream, command);
}

}  // namespace plinth::detail
