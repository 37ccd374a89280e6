// An op the stream's plugin does not support runs on a fallback device instead, moving its operands
// through host memory: simple and correct for v1, and visible (a warning and a counter), never
// silent. The executor calls this with the stream's mutex held, so no other work on the stream
// slips in between reading the operands back and writing the results.
#include <fmt/format.h>
#include <spdlog/logger.h>

#include <algorithm>
#include <map>

#include "executor.hpp"
#include "plinth/buffer.hpp"
#include "plinth/device.hpp"
#include "plinth/error.hpp"
#include "plinth/tensor.hpp"

namespace plinth::detail {
namespace {

void run_on_fallback(const std::shared_ptr<StreamState>& stream, const OpCall& call, std::string_view what,
                     Device& fallback, const std::string& reason) {
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

  synchronize_held(*stream);
  for (auto& [buf, r] : regions) {
    r.host.resize(r.hi - r.lo);
    dev.check(
        dev.api().copy_buffer_to_host(stream->handle, buf->handle(), r.lo, r.host.data(), r.host.size()),
        "copy_buffer_to_host (fallback)");
  }
  synchronize_held(*stream);

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
                fmt::format("{} is not supported by {} ({}) and failed on fallback device {}: {}",
                            call.describe(), dev.id, reason, fb->id, e.message()),
                std::string(what), dev.id, e.vendor_code());
  }
  for (auto& [buf, r] : regions) {
    if (!r.written) continue;
    stream_download(fstream, r.remote.state(), 0, r.host.data(), r.host.size());
  }
  stream_synchronize(fstream);
  for (auto& [buf, r] : regions) {
    if (!r.written) continue;
    dev.check(
        dev.api().copy_host_to_buffer(stream->handle, r.host.data(), buf->handle(), r.lo, r.host.size()),
        "copy_host_to_buffer (fallback)");
  }
  // The host copies must outlive the queued uploads.
  synchronize_held(*stream);
  dev.fallbacks += 1;
  dev.logger->warn("fallback: {} is not supported by {} ({}); ran on {} instead", call.describe(), dev.id,
                   reason, fb->id);
}

}  // namespace

void launch_unsupported(const std::shared_ptr<StreamState>& stream, const OpCall& call, std::string_view what,
                        std::string reason) {
  auto& dev = *stream->device;
  // Read at once: the plugin keeps its message per thread and only until its next call.
  if (reason.empty()) reason = dev.plugin->last_error_message();
  if (reason.empty()) reason = "the plugin gave no reason";
  Device* fallback = stream->fallback;
  // The internal streams (the helper, a fallback's own) never fall back to the Runtime's default.
  if (fallback == nullptr && !stream->internal) fallback = dev.default_fallback;
  // An extension id means something on its own device only, so it never moves to another.
  if (fallback != nullptr && fallback->state().get() != &dev && call.op < PLINTH_OP_EXTENSION_FIRST) {
    run_on_fallback(stream, call, what, *fallback, reason);
    return;
  }
  throw Error(PLINTH_ERROR_UNSUPPORTED,
              fmt::format("{} is not supported by {}: {} (no fallback device is set)", call.describe(),
                          dev.id, reason),
              std::string(what), dev.id, dev.plugin->last_error_vendor_code());
}

}  // namespace plinth::detail
