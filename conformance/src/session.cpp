#include <dlfcn.h>

#include <cstdio>
#include <cstring>

#include "harness.hpp"
#include "plinth/abi_lists.h"

namespace plinth::cts {

void fail(const std::string& message) { throw Failure(message); }

const char* status_text(plinth_status_t status) noexcept {
  switch (status) {
    case PLINTH_OK: return "PLINTH_OK";
    case PLINTH_ERROR_INVALID_ARGUMENT: return "PLINTH_ERROR_INVALID_ARGUMENT";
    case PLINTH_ERROR_UNSUPPORTED: return "PLINTH_ERROR_UNSUPPORTED";
    case PLINTH_ERROR_OUT_OF_MEMORY: return "PLINTH_ERROR_OUT_OF_MEMORY";
    case PLINTH_ERROR_DEVICE_LOST: return "PLINTH_ERROR_DEVICE_LOST";
    case PLINTH_ERROR_NOT_READY: return "PLINTH_ERROR_NOT_READY";
    case PLINTH_ERROR_INCOMPATIBLE_VERSION: return "PLINTH_ERROR_INCOMPATIBLE_VERSION";
    case PLINTH_ERROR_OUT_OF_RANGE: return "PLINTH_ERROR_OUT_OF_RANGE";
    case PLINTH_ERROR_INVALID_STATE: return "PLINTH_ERROR_INVALID_STATE";
    case PLINTH_ERROR_INTERNAL: return "PLINTH_ERROR_INTERNAL";
    default: return "unknown status";
  }
}

PluginLibrary::PluginLibrary(const std::string& path) {
  // RTLD_NODELETE: a plugin may leave worker threads running; unloading their code would crash them.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (handle == nullptr) {
    const char* why = dlerror();
    std::string_view reason = why != nullptr ? why : "the dynamic loader gave no reason";
    // The loader names the file first; the message names it already.
    if (reason.starts_with(path + ": ")) reason.remove_prefix(path.size() + 2);
    fail("cannot load plugin " + path + ": " + std::string(reason));
  }
  void* symbol = dlsym(handle, PLINTH_PLUGIN_ENTRY_NAME);
  if (symbol == nullptr) {
    fail("cannot load plugin " + path + ": not a Plinth plugin: no exported symbol '" PLINTH_PLUGIN_ENTRY_NAME "'");
  }
  init_ = reinterpret_cast<plinth_plugin_init_fn>(symbol);
}

namespace {
void log_to_stderr(void* user_data, int32_t level, const char* message) {
  if (user_data == nullptr || message == nullptr) return;
  std::fprintf(stderr, "  [plugin log %d] %s\n", level, message);
}
}  // namespace

HostServices::HostServices(bool verbose, uint32_t abi_minor) {
  services = sized<plinth_host_services_t>();
  services.abi_major = PLINTH_ABI_VERSION_MAJOR;
  services.abi_minor = abi_minor;
  services.log = log_to_stderr;
  // A non-null user_data switches printing on; the pointer itself is never dereferenced.
  services.log_user_data = verbose ? static_cast<void*>(this) : nullptr;
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr && api_ != nullptr) api_->buffer_free(handle_);
    api_ = other.api_;
    handle_ = other.handle_;
    size_ = other.size_;
    other.handle_ = nullptr;
  }
  return *this;
}

DeviceBuffer::~DeviceBuffer() {
  if (handle_ != nullptr && api_ != nullptr) api_->buffer_free(handle_);
}

Session::Session(plinth_plugin_init_fn init, const CtsOptions& options)
    : options_(options), host_(options.verbose, options.host_abi_minor) {
  const plinth_status_t st = init(&host_.services, &api_);
  if (st != PLINTH_OK || api_ == nullptr) {
    fail(std::string("plinth_plugin_init failed: ") + status_text(st) + (api_ == nullptr ? " (no table)" : ""));
  }
  if (api_->struct_size < PLINTH_STRUCT_SIZE_THROUGH(plinth_plugin_api_t, op_launch)) {
    fail("plugin table struct_size " + std::to_string(api_->struct_size) + " is smaller than the v1 table");
  }
  // Calling a NULL entry would crash the suite; name the missing entry instead (abi.table lists all).
  // Every REQUIRED entry of plinth/abi_lists.h's list.
#define PLINTH_CTS_REQUIRED(field, requirement, group, since)                   \
  {(since) == 0 ? reinterpret_cast<const void*>(api_->field) : nullptr, #field, \
   (requirement) == PLINTH_ENTRY_REQUIRED},
  const struct {
    const void* entry;
    const char* name;
    bool required;
  } table_entries[] = {PLINTH_API_ENTRIES(PLINTH_CTS_REQUIRED)};
#undef PLINTH_CTS_REQUIRED
  for (const auto& [entry, name, required] : table_entries) {
    if (required && entry == nullptr) fail(std::string("REQUIRED table entry ") + name + " is NULL");
  }
  uint32_t count = 0;
  check(api_->probe(nullptr, 0, &count), "probe(capacity 0)");
  std::vector<plinth_probe_entry_t> entries(count, sized<plinth_probe_entry_t>());
  uint32_t filled = count;
  if (count > 0) check(api_->probe(entries.data(), count, &filled), "probe");
  entries.resize(std::min(count, filled));
  std::string reasons;
  bool found = false;
  for (const auto& e : entries) {
    const std::string name(e.name, strnlen(e.name, sizeof e.name));
    const std::string reason(e.reason, strnlen(e.reason, sizeof e.reason));
    if (options.device ? e.index == *options.device : (e.usable != 0 && e.index != UINT32_MAX)) {
      device_index_ = e.index;
      found = true;
      break;
    }
    if (!reason.empty()) reasons += (reasons.empty() ? "" : "; ") + (name.empty() ? std::string("plugin") : name) + ": " + reason;
  }
  if (!found) {
    if (options.device) fail("device " + std::to_string(*options.device) + " is not among the probed devices");
    fail("no usable device" + (reasons.empty() ? std::string() : " (" + reasons + ")"));
  }
  check(api_->device_open(device_index_, &device_), "device_open(" + std::to_string(device_index_) + ")");
  if (device_ == nullptr) fail("device_open returned OK but a NULL device handle");
  props_ = sized<plinth_device_properties_t>();
  check(api_->device_get_properties(device_, &props_), "device_get_properties");
  check(api_->stream_create(device_, 0, &stream_), "stream_create");
  if (stream_ == nullptr) fail("stream_create returned OK but a NULL stream handle");
}

Session::~Session() {
  if (api_ == nullptr) return;
  if (stream_ != nullptr) api_->stream_destroy(stream_);
  if (device_ != nullptr) api_->device_close(device_);
  if (api_->shutdown != nullptr) api_->shutdown();
}

plinth_status_t Session::close_device() {
  const plinth_status_t status = api_->device_close(device_);
  stream_ = nullptr;
  device_ = nullptr;
  return status;
}

std::string Session::last_error() const {
  const char* message = api_->last_error_message ? api_->last_error_message() : nullptr;
  return message ? std::string(message) : std::string();
}

void Session::check(plinth_status_t status, std::string_view what) const {
  if (status == PLINTH_OK) return;
  const std::string message = last_error();
  fail(std::string(what) + " failed: " + status_text(status) + (message.empty() ? " (no message)" : ": " + message));
}

void Session::expect_status(plinth_status_t status, plinth_status_t expected, std::string_view what) const {
  const std::string message = last_error();
  if (status != expected) {
    fail(std::string(what) + ": got " + status_text(status) + ", want " + status_text(expected) +
         (message.empty() ? "" : " (message: " + message + ")"));
  }
  if (expected != PLINTH_OK && message.empty()) {
    fail(std::string(what) + ": returned " + status_text(status) + " but last_error_message is empty");
  }
}

DeviceBuffer Session::alloc(uint64_t size, uint32_t kind, uint64_t alignment) const {
  auto desc = sized<plinth_buffer_desc_t>();
  desc.memory_kind = kind;
  desc.size = size;
  desc.alignment = alignment;
  plinth_buffer_t handle = nullptr;
  check(api_->buffer_alloc(device_, &desc, &handle), "buffer_alloc(" + std::to_string(size) + " bytes)");
  if (handle == nullptr) fail("buffer_alloc(" + std::to_string(size) + " bytes) returned OK but a NULL handle");
  return DeviceBuffer(api_, handle, size);
}

void Session::upload(const DeviceBuffer& buffer, uint64_t offset, std::span<const std::byte> bytes) const {
  check(api_->copy_host_to_buffer(stream_, bytes.data(), buffer.get(), offset, bytes.size()), "copy_host_to_buffer");
  sync();
}

std::vector<std::byte> Session::download(const DeviceBuffer& buffer, uint64_t offset, uint64_t size) const {
  std::vector<std::byte> out(size);
  check(api_->copy_buffer_to_host(stream_, buffer.get(), offset, out.data(), size), "copy_buffer_to_host");
  sync();
  return out;
}

void Session::sync() const { check(api_->stream_synchronize(stream_), "stream_synchronize"); }

SessionEvent::SessionEvent(const Session& session, uint32_t flags) : api_(session.api()) {
  session.check(api_.event_create(session.device(), flags, &event_), "event_create");
  if (event_ == nullptr) fail("event_create returned OK but a NULL event handle");
}

SessionEvent::~SessionEvent() { api_.event_destroy(event_); }

plinth_tensor_t f32_vector(plinth_buffer_t buffer, int64_t elements, uint64_t offset) noexcept {
  auto t = sized<plinth_tensor_t>();
  t.dtype = PLINTH_DTYPE_F32;
  t.buffer = buffer;
  t.offset = offset;
  t.ndim = 1;
  t.dims[0] = elements;
  t.strides[0] = 4;
  return t;
}

std::byte guard_byte(std::size_t position) noexcept {
  return static_cast<std::byte>(0xA5u ^ ((position * 0x3Bu) & 0xFFu));
}

std::vector<std::byte> pattern_bytes(std::size_t size, uint64_t seed) {
  std::vector<std::byte> out(size);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = static_cast<std::byte>(x & 0xFF);
  }
  return out;
}

namespace {

// abi.h: "<vendor>.<op>" in lowercase ASCII letters, digits, '_' and '.'; "plinth" is reserved.
bool valid_extension_name(std::string_view name) {
  const auto dot = name.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size()) return false;
  if (name.substr(0, dot) == "plinth") return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) return false;
  }
  return true;
}

}  // namespace

std::vector<plinth_extension_op_t> list_extension_ops(const Session& session) {
  const auto& api = session.api();
  std::vector<plinth_extension_op_t> ops;
  // A host of minor 0 (--host-abi-minor 0) does not know the 1.1 entry, so it never calls it.
  if (session.options().host_abi_minor < 1 ||
      api.struct_size < PLINTH_STRUCT_SIZE_THROUGH(plinth_plugin_api_t, extension_op_get) ||
      api.extension_op_get == nullptr) {
    return ops;
  }
  constexpr uint32_t kLimit = 4096;
  for (uint32_t i = 0;; ++i) {
    if (i == kLimit)
      fail("extension_op_get never answered OUT_OF_RANGE (stopped at index " + std::to_string(kLimit) + ")");
    // Guard bytes after the struct: the plugin writes only inside struct_size (abi.h rule 2).
    struct {
      plinth_extension_op_t op;
      unsigned char guard[64];
    } out;
    std::memset(&out, 0x5A, sizeof out);
    out.op.struct_size = sizeof out.op;
    out.op.next = nullptr;
    const std::string what = "extension_op_get(" + std::to_string(i) + ")";
    const plinth_status_t st = api.extension_op_get(session.device(), i, &out.op);
    if (st == PLINTH_ERROR_OUT_OF_RANGE) break;
    session.check(st, what);
    for (unsigned char b : out.guard) {
      if (b != 0x5A) fail(what + " wrote past struct_size");
    }
    const auto& op = out.op;
    if (memchr(op.name, 0, sizeof op.name) == nullptr) fail(what + ": name is not NUL-terminated");
    if (memchr(op.description, 0, sizeof op.description) == nullptr)
      fail(what + ": description is not NUL-terminated");
    const std::string name(op.name);
    if (!valid_extension_name(name)) {
      fail(what + ": name '" + name +
           "' is not \"<vendor>.<op>\" in [a-z0-9_.] outside the reserved namespace plinth");
    }
    if (op.op < PLINTH_OP_EXTENSION_FIRST)
      fail(what + ": id " + std::to_string(op.op) + " is below PLINTH_OP_EXTENSION_FIRST");
    if (op.version == 0) fail(what + ": " + name + " has version 0 (versions start at 1)");
    if (op.min_inputs > op.max_inputs || op.max_inputs > 8 || op.num_outputs == 0 || op.num_outputs > 4) {
      fail(what + ": " + name + " has an impossible arity (" + std::to_string(op.min_inputs) + ".." +
           std::to_string(op.max_inputs) + " inputs, " + std::to_string(op.num_outputs) + " outputs)");
    }
    for (const auto& seen : ops) {
      if (seen.op == op.op || name == seen.name)
        fail(what + ": " + name + " repeats the name or id of " + seen.name);
    }
    ops.push_back(op);
  }
  return ops;
}

std::string describe_extension_op(const plinth_extension_op_t& op) {
  std::string arity = op.min_inputs == op.max_inputs
                          ? std::to_string(op.min_inputs)
                          : std::to_string(op.min_inputs) + ".." + std::to_string(op.max_inputs);
  std::string text = std::string(op.name) + " v" + std::to_string(op.version) + " (" + arity + " inputs, " +
                     std::to_string(op.num_outputs) + " output" + (op.num_outputs == 1 ? "" : "s") + ")";
  if (op.description[0] != '\0') text += ": " + std::string(op.description);
  return text;
}

}  // namespace plinth::cts
