// Stream: an in-order queue of work on one device. Work runs in submission order whichever thread
// submits it. Move-only RAII; destroying a stream waits for its work.
#pragma once

#include <cstdint>
#include <memory>

#include "plinth/abi.h"
#include "plinth/export.hpp"

namespace plinth {

class Buffer;
class Device;
class Event;
class Graph;
struct OpCall;
namespace detail {
struct StreamState;
}

struct StreamOptions {
  // Where op calls this stream's device does not support run instead (operands go through host
  // memory). nullptr: the Runtime's fallback device, if one was configured; otherwise an unsupported
  // op is an Error. Every fallback logs a warning and counts in Device::fallback_count().
  Device* fallback = nullptr;
};

class PLINTH_CORE_API Stream {
 public:
  Stream() = default;
  Stream(Stream&&) noexcept;
  Stream& operator=(Stream&&) noexcept;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream();

  explicit operator bool() const noexcept { return state_ != nullptr; }
  Device& device() const;

  // Copies. Host pointers are borrowed until the stream reaches the copy (synchronize or an event).
  void upload(const void* src, Buffer& dst, uint64_t dst_offset, uint64_t size);
  void download(const Buffer& src, uint64_t src_offset, void* dst, uint64_t size);
  void copy(const Buffer& src, uint64_t src_offset, Buffer& dst, uint64_t dst_offset, uint64_t size);

  // Enqueue an op; the typed helpers in plinth/ops.hpp build the OpCall. An unsupported call is an
  // Error naming the op, its dtypes and the plugin's reason, unless a fallback device is set.
  void launch(const OpCall& call);

  void record(Event& event);
  void wait(const Event& event);  // later work on this stream waits for `event`
  void synchronize();             // block until all submitted work finished; throws its first error

  // Capture: work submitted between begin_capture and end_capture is recorded, not run.
  void begin_capture();
  Graph end_capture();
  bool capturing() const;

  void set_fallback(Device* device);  // see StreamOptions::fallback
  Device* fallback() const;

  plinth_stream_t native_handle() const;
  const std::shared_ptr<detail::StreamState>& state() const noexcept { return state_; }
  explicit Stream(std::shared_ptr<detail::StreamState> state) noexcept;

 private:
  std::shared_ptr<detail::StreamState> state_;
};

}  // namespace plinth
