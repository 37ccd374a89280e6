// Buffer: an RAII allocation on one device, served by the device's caching allocator. Move-only;
// destroying it returns the memory to the allocator (never to a place queued work can still reach).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

#include "plinth/abi.h"
#include "plinth/allocator.hpp"
#include "plinth/export.hpp"

namespace plinth {

class Device;
class Stream;
namespace detail {
struct BufferState;
}

// A host mapping of a host-visible buffer; unmaps on destruction. Move-only.
class PLINTH_CORE_API Mapping {
 public:
  Mapping() = default;
  Mapping(Mapping&& other) noexcept;
  Mapping& operator=(Mapping&& other) noexcept;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping();

  void* data() const noexcept { return data_; }
  uint64_t size() const noexcept { return size_; }
  std::span<std::byte> bytes() const noexcept { return {static_cast<std::byte*>(data_), size_}; }

 private:
  friend class Buffer;
  std::shared_ptr<detail::BufferState> buffer_;
  void* data_ = nullptr;
  uint64_t size_ = 0;
};

class PLINTH_CORE_API Buffer {
 public:
  Buffer() = default;
  Buffer(Buffer&&) noexcept;
  Buffer& operator=(Buffer&&) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer();

  explicit operator bool() const noexcept { return state_ != nullptr; }
  uint64_t size() const;  // bytes requested (the block behind it may be larger)
  MemoryKind kind() const;
  Device& device() const;
  uint64_t id() const;  // unique per runtime, used in messages and leak reports
  // HOST_PINNED, SHARED, or DEVICE on a device with PLINTH_FEATURE_UNIFIED_MEMORY (and buffer_map set).
  bool host_visible() const;

  // Maps [offset, offset+size) (size 0: to the end). The caller orders it with queued work.
  Mapping map(uint64_t offset = 0, uint64_t size = 0);

  // Enqueue copies on `stream` (src/dst borrowed until the stream reaches them).
  void upload(Stream& stream, const void* src, uint64_t size, uint64_t offset = 0);
  void download(Stream& stream, void* dst, uint64_t size, uint64_t offset = 0) const;

  // Blocking copies through the device's internal helper stream.
  void write(std::span<const std::byte> src, uint64_t offset = 0);
  void read(std::span<std::byte> dst, uint64_t offset = 0) const;

  template <class T>
  void write_values(std::span<const T> values, uint64_t offset = 0) {
    static_assert(std::is_trivially_copyable_v<T>);
    write(std::as_bytes(values), offset);
  }
  template <class T>
  void write_values(const std::vector<T>& values, uint64_t offset = 0) {
    write_values(std::span<const T>(values), offset);
  }
  template <class T>
  std::vector<T> read_values(std::size_t count, uint64_t offset = 0) const {
    static_assert(std::is_trivially_copyable_v<T>);
    std::vector<T> out(count);
    read(std::as_writable_bytes(std::span<T>(out)), offset);
    return out;
  }

  // Tells the allocator that work on `stream` uses this buffer (the core does this itself for copies
  // and ops issued through Stream; needed only for work the core does not see).
  void record_stream(const Stream& stream);

  // Frees now (as the destructor does).
  void reset();

  plinth_buffer_t native_handle() const;
  const std::shared_ptr<detail::BufferState>& state() const noexcept { return state_; }
  explicit Buffer(std::shared_ptr<detail::BufferState> state) noexcept;

 private:
  std::shared_ptr<detail::BufferState> state_;
};

}  // namespace plinth
