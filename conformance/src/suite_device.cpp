// Device queries: properties (sane values, struct sizes honoured both ways), memory info, opening.
#include <cstring>

#include "harness.hpp"

namespace plinth::cts {
namespace {

constexpr std::size_t kPropsV1 = PLINTH_STRUCT_SIZE_THROUGH(plinth_device_properties_t, reserved0);
constexpr uint64_t kKnownFeatures = (1ull << 9) - 1;

bool terminated(const char (&s)[PLINTH_NAME_MAX]) { return memchr(s, 0, PLINTH_NAME_MAX) != nullptr; }

void properties(TestEnv& env) {
  const auto& p = env.s().props();
  if (!terminated(p.name) || !terminated(p.vendor) || !terminated(p.arch) || !terminated(p.driver_version)) {
    fail("a property string is not NUL-terminated");
  }
  if (p.name[0] == '\0') fail("device name is empty");
  if (p.device_type > PLINTH_DEVICE_TYPE_VIRTUAL) fail("device_type " + std::to_string(p.device_type) + " is not a PLINTH_DEVICE_TYPE_*");
  if (p.total_memory == 0) fail("total_memory is 0");
  if (p.max_allocation == 0) fail("max_allocation is 0");
  if (p.max_op_range == 0) fail("max_op_range is 0");
  if (p.compute_units == 0) fail("compute_units is 0");
  if (p.min_alignment == 0 || (p.min_alignment & (p.min_alignment - 1)) != 0) {
    fail("min_alignment " + std::to_string(p.min_alignment) + " is not a power of two");
  }
  if (p.subgroup_size == 0) fail("subgroup_size is 0 (want 1 when there are no subgroups)");
  if (p.reserved0 != 0) fail("reserved0 is not zero");
  if (env.s().api().abi_minor == 0 && (p.features & ~kKnownFeatures) != 0) fail("features has bits unknown to ABI v1.0");
  const auto& api = env.s().api();
  if ((p.features & PLINTH_FEATURE_TIMESTAMPS) && api.event_elapsed_ms == nullptr) {
    fail("PLINTH_FEATURE_TIMESTAMPS is set but event_elapsed_ms is NULL");
  }
  if ((p.features & PLINTH_FEATURE_GRAPHS) && api.graph_launch == nullptr) fail("PLINTH_FEATURE_GRAPHS is set but the graph entries are NULL");
  const bool mappable_kind = (p.features & (PLINTH_FEATURE_HOST_PINNED | PLINTH_FEATURE_SHARED_MEMORY | PLINTH_FEATURE_UNIFIED_MEMORY)) != 0;
  if (mappable_kind && api.buffer_map == nullptr) fail("a host-visible memory kind is advertised but buffer_map is NULL");
  env.note = std::string(p.name) + " (" + p.vendor + ", " + p.arch + "), " + std::to_string(p.total_memory >> 20) +
             " MiB, " + std::to_string(p.compute_units) + " compute units";
}

void properties_struct_sizes(TestEnv& env) {
  const auto& api = env.s().api();
  constexpr std::size_t kGuard = 96;
  struct Probe {
    unsigned char bytes[sizeof(plinth_device_properties_t) + kGuard];
  };
  // Smaller than v1.0 (documented INVALID_ARGUMENT), v1.0 exactly, and larger (a newer host).
  const std::size_t sizes[] = {PLINTH_STRUCT_SIZE_THROUGH(plinth_device_properties_t, name),
                               PLINTH_STRUCT_SIZE_THROUGH(plinth_device_properties_t, total_memory),
                               kPropsV1 - 4, kPropsV1, kPropsV1 + 40};
  for (const std::size_t size : sizes) {
    Probe probe;
    std::memset(&probe, 0xC3, sizeof probe);
    auto* props = reinterpret_cast<plinth_device_properties_t*>(&probe);
    props->struct_size = static_cast<uint32_t>(size);
    props->next = nullptr;
    const plinth_status_t st = api.device_get_properties(env.s().device(), props);
    // Beyond the caller's size, and beyond the v1 struct for larger callers, nothing may change.
    const std::size_t limit = std::min(size, kPropsV1);
    for (std::size_t i = limit; i < sizeof probe; ++i) {
      if (probe.bytes[i] != 0xC3) {
        std::size_t last = i;
        while (last + 1 < sizeof probe && probe.bytes[last + 1] != 0xC3) ++last;
        fail("device_get_properties with struct_size " + std::to_string(size) + " wrote past " +
             (size < kPropsV1 ? "the caller's struct_size" : "the v1 struct") + ": guard bytes overwritten at +" +
             std::to_string(i - limit) + "..+" + std::to_string(last - limit));
      }
    }
    if (props->struct_size != size) fail("device_get_properties changed the caller's struct_size");
    if (size < kPropsV1) {
      // abi.h rule 2 and device_get_properties: a struct_size below v1.0 is INVALID_ARGUMENT.
      if (st != PLINTH_ERROR_INVALID_ARGUMENT) {
        fail("device_get_properties with struct_size " + std::to_string(size) + " (smaller than v1.0): got " +
             status_text(st) + ", want PLINTH_ERROR_INVALID_ARGUMENT");
      }
    } else if (st != PLINTH_OK) {
      fail("device_get_properties with struct_size " + std::to_string(size) + ": " + status_text(st) + ": " + env.s().last_error());
    } else if (std::memcmp(props->name, env.s().props().name, PLINTH_NAME_MAX) != 0) {
      fail("device_get_properties with struct_size " + std::to_string(size) + " returned a different name");
    }
  }
  if (api.device_get_properties(env.s().device(), nullptr) != PLINTH_ERROR_INVALID_ARGUMENT) {
    fail("device_get_properties(NULL) must be PLINTH_ERROR_INVALID_ARGUMENT");
  }
}

void memory_info(TestEnv& env) {
  const auto& api = env.s().api();
  if (api.device_memory_info == nullptr) throw Skipped("device_memory_info is NULL (optional)");
  uint64_t free_bytes = 0, total = 0;
  env.s().check(api.device_memory_info(env.s().device(), &free_bytes, &total), "device_memory_info");
  if (total == 0) fail("device_memory_info: total is 0");
  if (free_bytes > total) fail("device_memory_info: free " + std::to_string(free_bytes) + " > total " + std::to_string(total));
  if (api.device_memory_info(env.s().device(), nullptr, &total) != PLINTH_ERROR_INVALID_ARGUMENT) {
    fail("device_memory_info(NULL out_free) must be PLINTH_ERROR_INVALID_ARGUMENT");
  }
}

void open_twice(TestEnv& env) {
  const auto& api = env.s().api();
  plinth_device_t second = nullptr;
  env.s().check(api.device_open(env.s().device_index(), &second), "second device_open of the same index");
  if (second == nullptr || second == env.s().device()) {
    if (second && second != env.s().device()) api.device_close(second);
    fail("a second device_open of the same index must return a distinct handle");
  }
  plinth_stream_t stream = nullptr;
  plinth_status_t st = api.stream_create(second, 0, &stream);
  if (st == PLINTH_OK) st = api.stream_synchronize(stream);
  if (stream) api.stream_destroy(stream);
  const plinth_status_t closed = api.device_close(second);
  if (st != PLINTH_OK) fail(std::string("stream on the second handle: ") + status_text(st));
  if (closed != PLINTH_OK) fail(std::string("device_close of the second handle: ") + status_text(closed));
  // The first handle is unaffected.
  auto buffer = env.s().alloc(64);
  const auto data = pattern_bytes(64, 7);
  env.s().upload(buffer, 0, data);
  if (env.s().download(buffer, 0, 64) != data) fail("the first device handle stopped working after closing the second");
}

void open_out_of_range(TestEnv& env) {
  const auto& api = env.s().api();
  uint32_t count = 0;
  env.s().check(api.probe(nullptr, 0, &count), "probe");
  for (uint32_t index : {count, count + 10, UINT32_MAX}) {
    plinth_device_t d = nullptr;
    const plinth_status_t st = api.device_open(index, &d);
    if (st == PLINTH_OK && d) api.device_close(d);
    env.s().expect_status(st, PLINTH_ERROR_OUT_OF_RANGE, "device_open(" + std::to_string(index) + ")");
  }
}

}  // namespace

SuiteDef device_suite() {
  SuiteDef s{"device", true, {}};
  s.tests = {
      {"device.properties", "", properties},
      {"device.properties_struct_sizes", "", properties_struct_sizes},
      {"device.memory_info", "", memory_info},
      {"device.open_twice", "", open_twice},
      {"device.open_out_of_range", "", open_out_of_range},
  };
  return s;
}

}  // namespace plinth::cts
