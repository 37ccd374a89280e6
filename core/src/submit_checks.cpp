// The validation layer of the submit path: every command passes here once, before it is recorded
// or run, so a captured command is checked when it is captured and again when a replay submits it.
// Most checks run only with PLINTH_VALIDATE; an empty handle and an event of another device are
// errors either way, since no plugin call could be built from them.
#include <fmt/format.h>

#include "executor.hpp"
#include "plinth/error.hpp"

namespace plinth::detail {
namespace {

void check_buffer(const StreamState& stream, const std::shared_ptr<BufferState>& buffer, uint64_t offset,
                  uint64_t size, std::string_view call, std::string_view what) {
  const auto& dev = *stream.device;
  if (!buffer) {
    throw Error(PLINTH_ERROR_INVALID_ARGUMENT, fmt::format("{} is an empty Buffer", what), std::string(call),
                dev.id);
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
               fmt::format("{} range [{}, {}) lies outside buffer #{} of {} bytes", what, offset,
                           offset + size, buffer->id, buffer->size));
  }
}

void check_host(const StreamState& stream, const void* host, uint64_t size, std::string_view call,
                const char* message) {
  if (stream.device->validate && host == nullptr && size > 0) {
    stream.device->misuse(PLINTH_ERROR_INVALID_ARGUMENT, call, message);
  }
}

void check_op(const StreamState& stream, const OpCall& op, std::string_view call) {
  if (!stream.device->validate) return;
  auto check_tensor = [&](const Tensor& t, std::string_view slot) {
    if (!t.has_buffer()) {
      stream.device->misuse(PLINTH_ERROR_INVALID_ARGUMENT, call, fmt::format("{} has no buffer", slot));
    }
    check_buffer(stream, t.buffer_state(), t.offset(), t.span_bytes(), call, slot);
  };
  for (std::size_t i = 0; i < op.inputs.size(); ++i) {
    if (op.inputs[i]) check_tensor(*op.inputs[i], fmt::format("input {} ({})", i, op.inputs[i]->to_string()));
  }
  for (std::size_t i = 0; i < op.outputs.size(); ++i) {
    check_tensor(op.outputs[i], fmt::format("output {} ({})", i, op.outputs[i].to_string()));
  }
}

void check_event(const StreamState& stream, const std::shared_ptr<EventState>& event, std::string_view call) {
  const auto& dev = *stream.device;
  if (!event) throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "empty Event", std::string(call), dev.id);
  if (event->device != stream.device) {
    dev.misuse(
        PLINTH_ERROR_INVALID_ARGUMENT, call,
        fmt::format("event #{} belongs to {}, the stream to {}", event->id, event->device->id, dev.id));
  }
}

}  // namespace

void check_command(const StreamState& stream, const Command& c, std::string_view call) {
  switch (c.kind) {
    case Command::Kind::op: check_op(stream, c.call, call); break;
    case Command::Kind::upload:
      check_buffer(stream, c.dst, c.dst_offset, c.size, call, "destination");
      check_host(stream, c.host_src, c.size, call, "NULL host source");
      break;
    case Command::Kind::download:
      check_buffer(stream, c.src, c.src_offset, c.size, call, "source");
      check_host(stream, c.host_dst, c.size, call, "NULL host destination");
      break;
    case Command::Kind::copy:
      check_buffer(stream, c.src, c.src_offset, c.size, call, "source");
      check_buffer(stream, c.dst, c.dst_offset, c.size, call, "destination");
      break;
    case Command::Kind::record:
    case Command::Kind::wait: check_event(stream, c.event, call); break;
  }
}

}  // namespace plinth::detail
