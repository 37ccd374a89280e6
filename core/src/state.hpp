// The objects behind the public handles. Handles (Buffer, Stream, ...) are move-only owners of a
// shared state; the state is shared so that Tensors and the allocator can still recognise an object
// after its owner released it (use-after-free checks, stream-ordered reuse), and so that a device
// closed by the Runtime leaves its leaked handles inert instead of dangling.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "plinth/allocator.hpp"
#include "plinth/device.hpp"
#include "plinth/op_call.hpp"
#include "plinth/validation.hpp"
#include "plugin_library.hpp"

namespace spdlog {
class logger;  // spdlog/logger.h only where a file logs: it is costly to compile
}

namespace plinth::detail {

struct StreamState;
struct EventState;
struct DeviceState;

// One plugin buffer, as the allocator manages it.
struct Block {
  plinth_buffer_t handle = nullptr;
  uint64_t size = 0;  // size-class bytes actually allocated
  MemoryKind kind = MemoryKind::device;
  uint64_t alignment = 0;
  bool pooled = true;
  // Events recorded at free time on each stream that used the block, and those streams' ids.
  struct Pending {
    uint64_t stream_id;
    plinth_event_t event;
  };
  std::vector<Pending> pending;
};

class Allocator {
 public:
  explicit Allocator(DeviceState& device) : device_(device) {}
  Allocator(const Allocator&) = delete;
  Allocator& operator=(const Allocator&) = delete;

  // stream_id 0: no stream.
  std::unique_ptr<Block> allocate(uint64_t size, const AllocOptions& options, uint64_t stream_id);
  // `used` are the streams that used the block (alive ones); `owner_id` the allocation stream.
  void release(std::unique_ptr<Block> block, const std::vector<std::shared_ptr<StreamState>>& used, uint64_t requested);
  void empty_cache();
  void trim(uint64_t max_cached);
  AllocatorStats stats() const;
  void reset_peak();
  // Drops everything without calling the plugin (the device was closed; the plugin reclaimed it).
  void abandon();

 private:
  bool reusable(const Block& block, uint64_t stream_id) const;
  void destroy_block(std::unique_ptr<Block> block, bool wait);

  DeviceState& device_;
  mutable std::mutex mutex_;
  // (kind, alignment, size class) -> free blocks, oldest first.
  std::map<std::tuple<uint32_t, uint64_t, uint64_t>, std::vector<std::unique_ptr<Block>>> cache_;
  AllocatorStats stats_;
};

struct ArmedFault {
  Fault fault;
  uint64_t base = 0;  // the counter's value when the fault was set: N counts from there
};

struct FaultState {
  std::vector<ArmedFault> faults;
  ValidationStats stats;
  uint64_t successful_launches = 0;
};

struct DeviceState : std::enable_shared_from_this<DeviceState> {
  DeviceState(std::shared_ptr<PluginLibrary> plugin_library, plinth_device_t device_handle, uint32_t device_index,
              std::shared_ptr<spdlog::logger> log, std::shared_ptr<std::atomic<uint64_t>> ids, bool validation);
  ~DeviceState();

  const plinth_plugin_api_t& api() const noexcept { return plugin->api(); }

  // Throws Error for a failed plugin call, with the plugin's message; marks the device lost on
  // DEVICE_LOST. Call right after the plugin call, on the same thread.
  void check(plinth_status_t status, std::string_view call) const;
  // For calls that cannot throw (clean-up): true, and the device marked lost, when `status` is
  // DEVICE_LOST. Call right after the plugin call, on the same thread.
  bool reported_lost(plinth_status_t status, std::string_view call) const;
  // Throws when the device is closed or lost (lost: DEVICE_LOST, as every call after the loss must).
  void ensure_usable(std::string_view call) const;
  [[noreturn]] void fail(plinth_status_t status, std::string_view call, std::string message) const;
  // A misuse found by the validation layer.
  [[noreturn]] void misuse(plinth_status_t status, std::string_view call, std::string message) const;

  // Fault injection hooks; each throws the injected error.
  void on_allocation();
  void on_launch();
  void after_launch();

  uint64_t next_id() { return ids->fetch_add(1) + 1; }

  // Validation registry: id -> description, for leak reports.
  void track(uint64_t id, std::string description);
  void untrack(uint64_t id);

  // The stream used by blocking helpers (Buffer::write/read); created on first use.
  std::shared_ptr<StreamState> helper_stream();

  LeakReport close();

  std::shared_ptr<PluginLibrary> plugin;
  plinth_device_t handle;
  uint32_t index;
  std::string id;
  DeviceProperties props;
  std::vector<ExtensionOp> extensions;  // fixed while the device is open (abi.h, extension_op_get)
  std::shared_ptr<spdlog::logger> logger;
  std::shared_ptr<std::atomic<uint64_t>> ids;
  bool validate;
  Device* owner = nullptr;
  Device* default_fallback = nullptr;

  std::atomic<bool> closed{false};
  // Every call of the device's users fails with DEVICE_LOST from now on. Set when the plugin reports
  // DEVICE_LOST, and by fault injection, which the plugin knows nothing about.
  mutable std::atomic<bool> lost{false};
  // The plugin itself reported DEVICE_LOST: only destroy calls are valid now (abi.h), and the work
  // queued before never runs. With `lost` alone (an injected loss) the plugin's device still runs
  // that work, so clean-up must keep the ABI's ordering rules, e.g. free a buffer only after the
  // queued work that uses it finished.
  mutable std::atomic<bool> plugin_lost{false};
  std::atomic<bool> faults_enabled{false};
  std::atomic<uint64_t> live_buffers{0}, live_streams{0}, live_events{0}, live_graphs{0};
  std::atomic<uint64_t> fallbacks{0};

  Allocator allocator{*this};

  mutable std::mutex fault_mutex;
  mutable FaultState fault_state;

  std::mutex registry_mutex;
  std::map<uint64_t, std::string> registry;

  std::mutex helper_mutex;
  std::shared_ptr<StreamState> helper;
};

struct BufferState {
  ~BufferState();
  // Returns the block to the allocator; the buffer is dead afterwards.
  void release();
  bool alive() const noexcept { return block != nullptr; }
  plinth_buffer_t handle() const noexcept { return block ? block->handle : nullptr; }
  void note_stream(const std::shared_ptr<StreamState>& stream);

  std::shared_ptr<DeviceState> device;
  uint64_t id = 0;
  uint64_t size = 0;
  MemoryKind kind = MemoryKind::device;
  uint64_t alloc_stream_id = 0;
  std::weak_ptr<StreamState> alloc_stream;
  std::unique_ptr<Block> block;
  std::mutex mutex;
  std::vector<std::weak_ptr<StreamState>> used_streams;
  bool mapped = false;
};

// One piece of stream work, as submit() runs it and an emulated graph capture records it. Every
// member has an initializer so a command is written with only the fields its kind uses.
struct Command {
  enum class Kind { op, upload, download, copy, record, wait };
  Kind kind = Kind::op;
  OpCall call{};
  std::shared_ptr<BufferState> src{}, dst{};
  const void* host_src = nullptr;
  void* host_dst = nullptr;
  uint64_t src_offset = 0, dst_offset = 0, size = 0;
  std::shared_ptr<EventState> event{};
};

struct StreamState : std::enable_shared_from_this<StreamState> {
  ~StreamState();

  std::shared_ptr<DeviceState> device;
  plinth_stream_t handle = nullptr;
  uint64_t id = 0;
  bool internal = false;  // the helper stream: not a user object, not counted as a leak
  Device* fallback = nullptr;  // guarded by mutex

  std::mutex mutex;
  bool capturing = false;
  bool native_capture = false;
  std::vector<Command> recorded;
};

struct EventState {
  ~EventState();
  std::shared_ptr<DeviceState> device;
  plinth_event_t handle = nullptr;
  uint64_t id = 0;
  bool timing = false;
};

struct GraphState {
  ~GraphState();
  std::shared_ptr<DeviceState> device;
  uint64_t id = 0;
  plinth_graph_t native = nullptr;
  std::vector<Command> commands;
};

// Operations shared by the handle classes (stream.cpp).
void stream_launch(const std::shared_ptr<StreamState>& stream, const OpCall& call);
void stream_upload(const std::shared_ptr<StreamState>& stream, const void* src,
                   const std::shared_ptr<BufferState>& dst, uint64_t dst_offset, uint64_t size);
void stream_download(const std::shared_ptr<StreamState>& stream, const std::shared_ptr<BufferState>& src,
                     uint64_t src_offset, void* dst, uint64_t size);
void stream_copy(const std::shared_ptr<StreamState>& stream, const std::shared_ptr<BufferState>& src,
                 uint64_t src_offset, const std::shared_ptr<BufferState>& dst, uint64_t dst_offset, uint64_t size);
void stream_synchronize(const std::shared_ptr<StreamState>& stream);
void stream_record(const std::shared_ptr<StreamState>& stream, const std::shared_ptr<EventState>& event);
void stream_wait(const std::shared_ptr<StreamState>& stream, const std::shared_ptr<EventState>& event);
std::shared_ptr<StreamState> create_stream_state(const std::shared_ptr<DeviceState>& device, bool internal);
std::shared_ptr<BufferState> allocate_buffer(const std::shared_ptr<DeviceState>& device, uint64_t size,
                                             const AllocOptions& options);

}  // namespace plinth::detail
