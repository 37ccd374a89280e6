#include "plinth/buffer.hpp"

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "plinth/device.hpp"
#include "plinth/error.hpp"
#include "plinth/stream.hpp"
#include "state.hpp"

namespace plinth {
namespace detail {
namespace {

const char* kind_name(MemoryKind kind) {
  switch (kind) {
    case MemoryKind::device: return "device";
    case MemoryKind::host_pinned: return "host-pinned";
    case MemoryKind::shared: return "shared";
  }
  return "?";
}

}  // namespace

std::shared_ptr<BufferState> allocate_buffer(const std::shared_ptr<DeviceState>& device, uint64_t size,
                                             const AllocOptions& options) {
  device->ensure_usable("allocate");
  uint64_t stream_id = 0;
  std::shared_ptr<StreamState> stream;
  if (options.stream != nullptr) {
    stream = options.stream->state();
    if (!stream) throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "AllocOptions::stream is an empty Stream", "allocate", device->id);
    if (device->validate && stream->device != device) {
      device->misuse(PLINTH_ERROR_INVALID_ARGUMENT, "allocate",
                     fmt::format("AllocOptions::stream belongs to {}, not to this device", stream->device->id));
    }
    stream_id = stream->id;
  }
  device->on_allocation();
  auto block = device->allocator.allocate(size, options, stream_id);
  auto state = std::make_shared<BufferState>();
  state->device = device;
  state->id = device->next_id();
  state->size = size;
  state->kind = options.kind;
  state->alloc_stream_id = stream_id;
  state->alloc_stream = stream;
  state->block = std::move(block);
  // A block reused on its stream may still have that stream's older work queued on it, so the
  // allocation stream always counts as a user: freeing waits for it as for any other.
  if (stream) state->used_streams.push_back(stream);
  device->live_buffers += 1;
  device->track(state->id, fmt::format("buffer #{} ({} bytes, {} memory)", state->id, size, kind_name(options.kind)));
  return state;
}

BufferState::~BufferState() { release(); }

void BufferState::release() {
  std::unique_ptr<Block> b;
  std::vector<std::shared_ptr<StreamState>> used;
  bool was_mapped = false;
  {
    std::lock_guard lock(mutex);
    if (!block) return;
    b = std::move(block);
    for (const auto& w : used_streams) {
      if (auto s = w.lock()) used.push_back(std::move(s));
    }
    used_streams.clear();
    was_mapped = mapped;
    mapped = false;
  }
  // After a loss the plugin reported only destroy calls are valid; buffer_free unmaps anyway.
  if (was_mapped && !device->closed && !device->plugin_lost) device->api().buffer_unmap(b->handle);
  device->allocator.release(std::move(b), used, size);
  device->live_buffers -= 1;
  device->untrack(id);
}

void BufferState::note_stream(const std::shared_ptr<StreamState>& stream) {
  std::lock_guard lock(mutex);
  for (const auto& w : used_streams) {
    if (!w.owner_before(stream) && !stream.owner_before(w)) return;  // already noted
  }
  std::erase_if(used_streams, [](const auto& w) { return w.expired(); });
  used_streams.push_back(stream);
}

}  // namespace detail

namespace {

detail::BufferState& live(const std::shared_ptr<detail::BufferState>& s, const char* call) {
  if (!s) throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "empty Buffer (moved from or default-constructed)", call);
  return *s;
}

// Blocking helpers run on the stream the buffer was allocated for when it still exists: that keeps
// them ordered after the work that used the memory before a stream-ordered reuse.
std::shared_ptr<detail::StreamState> helper_for(detail::BufferState& b) {
  if (auto s = b.alloc_stream.lock()) {
    std::lock_guard lock(s->mutex);
    if (!s->capturing) return s;
  }
  return b.device->helper_stream();
}

}  // namespace

Mapping::Mapping(Mapping&& other) noexcept
    : buffer_(std::move(other.buffer_)), data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

Mapping& Mapping::operator=(Mapping&& other) noexcept {
  if (this != &other) {
    Mapping old(std::move(*this));
    buffer_ = std::move(other.buffer_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

Mapping::~Mapping() {
  if (!buffer_) return;
  std::lock_guard lock(buffer_->mutex);
  if (buffer_->block && buffer_->mapped && !buffer_->device->closed && !buffer_->device->plugin_lost) {
    buffer_->device->api().buffer_unmap(buffer_->block->handle);
    buffer_->mapped = false;
  }
}

Buffer::Buffer(std::shared_ptr<detail::BufferState> state) noexcept : state_(std::move(state)) {}
Buffer::Buffer(Buffer&&) noexcept = default;
Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    reset();
    state_ = std::move(other.state_);
  }
  return *this;
}
Buffer::~Buffer() { reset(); }

void Buffer::reset() {
  if (state_) {
    try {
      state_->release();
    } catch (const std::exception& e) {
      state_->device->logger->error("{}: freeing buffer #{} failed: {}", state_->device->id, state_->id, e.what());
    }
    state_.reset();
  }
}

uint64_t Buffer::size() const { return live(state_, "Buffer::size").size; }
MemoryKind Buffer::kind() const { return live(state_, "Buffer::kind").kind; }
uint64_t Buffer::id() const { return live(state_, "Buffer::id").id; }

Device& Buffer::device() const {
  auto& s = live(state_, "Buffer::device");
  if (s.device->owner == nullptr) {
    throw Error(PLINTH_ERROR_INVALID_STATE, "the buffer's device was closed", "Buffer::device", s.device->id);
  }
  return *s.device->owner;
}

bool Buffer::host_visible() const {
  auto& s = live(state_, "Buffer::host_visible");
  if (s.device->api().buffer_map == nullptr) return false;
  return s.kind != MemoryKind::device || s.device->props.has(PLINTH_FEATURE_UNIFIED_MEMORY);
}

Mapping Buffer::map(uint64_t offset, uint64_t size) {
  auto& s = live(state_, "buffer_map");
  auto& dev = *s.device;
  dev.ensure_usable("buffer_map");
  if (size == 0 && offset <= s.size) size = s.size - offset;
  if (dev.validate) {
    if (!s.alive()) dev.misuse(PLINTH_ERROR_INVALID_ARGUMENT, "buffer_map", fmt::format("buffer #{} was freed", s.id));
    if (!host_visible()) {
      dev.misuse(PLINTH_ERROR_UNSUPPORTED, "buffer_map", fmt::format("buffer #{} is not host-visible", s.id));
    }
    if (offset > s.size || size > s.size - offset) {
      dev.misuse(PLINTH_ERROR_OUT_OF_RANGE, "buffer_map",
                 fmt::format("range [{}, {}) outside buffer #{} of {} bytes", offset, offset + size, s.id, s.size));
    }
  }
  if (dev.api().buffer_map == nullptr) {
    throw Error(PLINTH_ERROR_UNSUPPORTED, "the plugin cannot map buffers", "buffer_map", dev.id);
  }
  void* ptr = nullptr;
  std::lock_guard lock(s.mutex);
  dev.check(dev.api().buffer_map(s.handle(), offset, size, &ptr), "buffer_map");
  s.mapped = true;
  Mapping m;
  m.buffer_ = state_;
  m.data_ = ptr;
  m.size_ = size;
  return m;
}

void Buffer::upload(Stream& stream, const void* src, uint64_t size, uint64_t offset) {
  stream.upload(src, *this, offset, size);
}

void Buffer::download(Stream& stream, void* dst, uint64_t size, uint64_t offset) const {
  stream.download(*this, offset, dst, size);
}

void Buffer::write(std::span<const std::byte> src, uint64_t offset) {
  auto& s = live(state_, "Buffer::write");
  auto stream = helper_for(s);
  detail::stream_upload(stream, src.data(), state_, offset, src.size());
  detail::stream_synchronize(stream);
}

void Buffer::read(std::span<std::byte> dst, uint64_t offset) const {
  auto& s = live(state_, "Buffer::read");
  auto stream = helper_for(s);
  detail::stream_download(stream, state_, offset, dst.data(), dst.size());
  detail::stream_synchronize(stream);
}

void Buffer::record_stream(const Stream& stream) {
  auto& s = live(state_, "Buffer::record_stream");
  if (!stream.state()) throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "empty Stream", "Buffer::record_stream");
  s.note_stream(stream.state());
}

plinth_buffer_t Buffer::native_handle() const { return live(state_, "Buffer::native_handle").handle(); }

}  // namespace plinth
