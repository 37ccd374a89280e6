// Internal plumbing shared by the suites: the loaded plugin library, a session (initialized plugin,
// opened device, one stream), device buffers, and the test definitions the runner executes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "plinth/cts/cts.hpp"
#include "plinth/ops.h"

namespace plinth::cts {

// A test fails by throwing Failure, reports "not supported here" with Unsupported, and "not
// applicable" (e.g. an optional entry that is NULL) with Skipped.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct Unsupported : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct Skipped : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& message);
const char* status_text(plinth_status_t status) noexcept;  // "PLINTH_ERROR_OUT_OF_RANGE", or "status 42"

template <class T>
T sized() {
  T value{};
  value.struct_size = static_cast<uint32_t>(sizeof(T));
  return value;
}

// The plugin binary, opened with dlopen. Never unloaded: plugins may leave threads behind.
class PluginLibrary {
 public:
  explicit PluginLibrary(const std::string& path);  // throws Failure with the loader's message
  plinth_plugin_init_fn init() const noexcept { return init_; }

 private:
  plinth_plugin_init_fn init_ = nullptr;
};

// Host services the CTS hands to plugins; the log sink prints only in verbose mode.
struct HostServices {
  HostServices(bool verbose, uint32_t abi_minor);
  plinth_host_services_t services{};
};

class Session;

// The device's vendor extension ops (abi.h 1.1), read with extension_op_get until OUT_OF_RANGE; empty
// when the plugin's table lacks the entry. Fails (throws Failure) on any entry that breaks the
// contract: a bad status, a name, id, version or arity abi.h forbids, a duplicate, a write past
// struct_size, or a list that never ends.
std::vector<plinth_extension_op_t> list_extension_ops(const Session& session);
// "name vN (a..b inputs, c outputs): description", one per extension op, for reports.
std::string describe_extension_op(const plinth_extension_op_t& op);

// An owned device buffer; freed through the plugin when destroyed.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const plinth_plugin_api_t* api, plinth_buffer_t handle, uint64_t size) : api_(api), handle_(handle), size_(size) {}
  DeviceBuffer(DeviceBuffer&& other) noexcept { *this = std::move(other); }
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer();
  plinth_buffer_t get() const noexcept { return handle_; }
  uint64_t size() const noexcept { return size_; }

 private:
  const plinth_plugin_api_t* api_ = nullptr;
  plinth_buffer_t handle_ = nullptr;
  uint64_t size_ = 0;
};

// An initialized plugin with one opened device and one stream.
class Session {
 public:
  Session(plinth_plugin_init_fn init, const CtsOptions& options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const plinth_plugin_api_t& api() const noexcept { return *api_; }
  plinth_device_t device() const noexcept { return device_; }
  plinth_stream_t stream() const noexcept { return stream_; }
  uint32_t device_index() const noexcept { return device_index_; }
  const plinth_device_properties_t& props() const noexcept { return props_; }
  const CtsOptions& options() const noexcept { return options_; }

  std::string last_error() const;  // the plugin's message for this thread ("" if none)
  // Throws Failure "<what>: PLINTH_ERROR_x: <message>" unless status is OK.
  void check(plinth_status_t status, std::string_view what) const;
  // Requires `status == expected` and, for an error, a non-empty message.
  void expect_status(plinth_status_t status, plinth_status_t expected, std::string_view what) const;

  DeviceBuffer alloc(uint64_t size, uint32_t kind = PLINTH_MEMORY_DEVICE, uint64_t alignment = 0) const;
  // Synchronous helpers on the session stream.
  void upload(const DeviceBuffer& buffer, uint64_t offset, std::span<const std::byte> bytes) const;
  std::vector<std::byte> download(const DeviceBuffer& buffer, uint64_t offset, uint64_t size) const;
  void sync() const;

  // Closes the device now (device_close reclaims what is still alive on it, the session stream
  // included) and returns its status; afterwards the destructor only shuts the plugin down.
  plinth_status_t close_device();

 private:
  CtsOptions options_;
  HostServices host_;
  const plinth_plugin_api_t* api_ = nullptr;
  plinth_device_t device_ = nullptr;
  plinth_stream_t stream_ = nullptr;
  uint32_t device_index_ = 0;
  plinth_device_properties_t props_{};
};

// An event created on the session's device; destroyed with this object.
class SessionEvent {
 public:
  SessionEvent(const Session& session, uint32_t flags);
  ~SessionEvent();
  SessionEvent(const SessionEvent&) = delete;
  SessionEvent& operator=(const SessionEvent&) = delete;
  plinth_event_t get() const noexcept { return event_; }

 private:
  const plinth_plugin_api_t& api_;
  plinth_event_t event_ = nullptr;
};

// A dense 1-D f32 tensor of `elements` values at byte `offset` of `buffer`.
plinth_tensor_t f32_vector(plinth_buffer_t buffer, int64_t elements, uint64_t offset = 0) noexcept;

// What a running test can reach.
struct TestEnv {
  plinth_plugin_init_fn init = nullptr;  // for suites that negotiate the ABI themselves
  Session* session = nullptr;            // null for the abi suite
  const CtsOptions* options = nullptr;
  std::mt19937_64 rng;
  std::string note;  // informational message attached to a passing test
  std::function<void(const PerfMetric&)> metric;

  Session& s() const { return *session; }
  Level level() const { return options->level; }
};

struct TestDef {
  std::string id;
  std::string group;
  std::function<void(TestEnv&)> run;
  bool required = false;  // a required op variant of the level: a list entry that covers it is a waiver
};

struct SuiteDef {
  std::string name;
  bool needs_session = true;
  std::vector<TestDef> tests;
};

std::vector<SuiteDef> build_suites(Level level);

// Suite builders (one file each).
SuiteDef abi_suite(Level level);
SuiteDef device_suite();
SuiteDef multi_device_suite();
SuiteDef memory_suite();
SuiteDef streams_suite();
SuiteDef stress_suite();
SuiteDef lost_suite();
SuiteDef ops_suite(Level level);
SuiteDef errors_suite(Level level);
SuiteDef perf_suite(Level level);

// Byte pattern helpers for guard regions.
std::byte guard_byte(std::size_t position) noexcept;
std::vector<std::byte> pattern_bytes(std::size_t size, uint64_t seed);

}  // namespace plinth::cts
