// ABI negotiation: plinth_plugin_init with current, older, newer and foreign host services; the
// function table; probe; per-thread error messages; re-initialization.
#include <cstring>
#include <thread>

#include "harness.hpp"
#include "plinth/abi_lists.h"

namespace plinth::cts {
namespace {

constexpr std::size_t kHostV1 = PLINTH_STRUCT_SIZE_THROUGH(plinth_host_services_t, log_user_data);
constexpr std::size_t kTableV1 = PLINTH_STRUCT_SIZE_THROUGH(plinth_plugin_api_t, op_launch);
constexpr std::size_t kProbeV1 = PLINTH_STRUCT_SIZE_THROUGH(plinth_probe_entry_t, reason);

plinth_host_services_t current_host() {
  auto host = sized<plinth_host_services_t>();
  host.abi_major = PLINTH_ABI_VERSION_MAJOR;
  host.abi_minor = PLINTH_ABI_VERSION_MINOR;
  return host;
}

std::string message_of(const plinth_plugin_api_t* api) {
  if (api == nullptr || api->last_error_message == nullptr) return "";
  const char* m = api->last_error_message();
  return m ? m : "";
}

// Initializes with `host` and expects OK; shuts the plugin down again when it goes out of scope.
class Initialized {
 public:
  Initialized(plinth_plugin_init_fn init, const plinth_host_services_t* host, const char* what) {
    const plinth_status_t st = init(host, &api_);
    if (st != PLINTH_OK) fail(std::string(what) + ": plinth_plugin_init returned " + status_text(st));
    if (api_ == nullptr) fail(std::string(what) + ": plinth_plugin_init returned OK but no table");
  }
  ~Initialized() {
    if (api_ != nullptr && api_->shutdown != nullptr) api_->shutdown();
  }
  Initialized(const Initialized&) = delete;
  Initialized& operator=(const Initialized&) = delete;
  const plinth_plugin_api_t& api() const { return *api_; }

 private:
  const plinth_plugin_api_t* api_ = nullptr;
};

void check_probe_works(const plinth_plugin_api_t& api, const char* what) {
  uint32_t count = 0;
  const plinth_status_t st = api.probe(nullptr, 0, &count);
  if (st != PLINTH_OK) fail(std::string(what) + ": probe(capacity 0) returned " + status_text(st) + ": " + message_of(&api));
}

void init_current(TestEnv& env) {
  const auto host = current_host();
  Initialized p(env.init, &host, "current host services");
  const auto& api = p.api();
  if (api.abi_major != PLINTH_ABI_VERSION_MAJOR) fail("table abi_major is " + std::to_string(api.abi_major) + ", want 1");
  if (api.name == nullptr || api.name[0] == '\0') fail("table name is NULL or empty");
  if (api.version == nullptr) fail("table version is NULL");
  check_probe_works(api, "current host services");
  env.note = std::string("plugin ") + api.name + " " + api.version + ", ABI " + std::to_string(api.abi_major) + "." +
             std::to_string(api.abi_minor);
}

void init_older_host(TestEnv& env) {
  // Exactly the v1.0 size is accepted; anything smaller than the first version is INVALID_ARGUMENT.
  auto host = current_host();
  host.struct_size = static_cast<uint32_t>(kHostV1);
  { Initialized p(env.init, &host, "host services of exactly the v1.0 size"); check_probe_works(p.api(), "v1.0 host"); }
  host.struct_size = PLINTH_STRUCT_SIZE_THROUGH(plinth_host_services_t, abi_major);
  const plinth_plugin_api_t* api = nullptr;
  const plinth_status_t st = env.init(&host, &api);
  if (st == PLINTH_OK) {
    if (api != nullptr) api->shutdown();
    fail("host services with struct_size " + std::to_string(host.struct_size) +
         " (smaller than v1.0) were accepted; want PLINTH_ERROR_INVALID_ARGUMENT");
  }
  if (st != PLINTH_ERROR_INVALID_ARGUMENT) {
    fail("host services smaller than v1.0: got " + std::string(status_text(st)) + ", want PLINTH_ERROR_INVALID_ARGUMENT");
  }
}

void init_newer_host(TestEnv& env) {
  // A newer host: larger struct, higher minor, garbage in the fields this plugin cannot know.
  struct Newer {
    plinth_host_services_t base;
    unsigned char future[64];
  } newer;
  std::memset(&newer, 0xFF, sizeof newer);
  newer.base = current_host();
  newer.base.struct_size = sizeof newer;
  newer.base.abi_minor = PLINTH_ABI_VERSION_MINOR + 7;
  Initialized p(env.init, &newer.base, "newer, larger host services (minor +7, 64 garbage bytes after)");
  check_probe_works(p.api(), "newer host");
}

void init_other_major(TestEnv& env) {
  for (uint32_t major : {PLINTH_ABI_VERSION_MAJOR + 1u, 0u, 1000u}) {
    auto host = current_host();
    host.abi_major = major;
    const plinth_plugin_api_t* api = nullptr;
    const plinth_status_t st = env.init(&host, &api);
    if (st == PLINTH_OK) {
      if (api != nullptr) api->shutdown();
      fail("host ABI major " + std::to_string(major) + " was accepted; want PLINTH_ERROR_INCOMPATIBLE_VERSION");
    }
    if (st != PLINTH_ERROR_INCOMPATIBLE_VERSION) {
      fail("host ABI major " + std::to_string(major) + ": got " + status_text(st) +
           ", want PLINTH_ERROR_INCOMPATIBLE_VERSION");
    }
    if (api == nullptr) fail("host ABI major " + std::to_string(major) + ": *out_api must still be set so the host can name the plugin");
  }
}

void init_null_arguments(TestEnv& env) {
  const plinth_plugin_api_t* api = nullptr;
  plinth_status_t st = env.init(nullptr, &api);
  if (st != PLINTH_ERROR_INVALID_ARGUMENT) fail(std::string("init(NULL host): got ") + status_text(st) + ", want PLINTH_ERROR_INVALID_ARGUMENT");
  const auto host = current_host();
  st = env.init(&host, nullptr);
  if (st != PLINTH_ERROR_INVALID_ARGUMENT) fail(std::string("init(host, NULL out_api): got ") + status_text(st) + ", want PLINTH_ERROR_INVALID_ARGUMENT");
}

void table(TestEnv& env) {
  const auto host = current_host();
  Initialized p(env.init, &host, "current host services");
  const auto& api = p.api();
  if (api.struct_size < kTableV1) {
    fail("table struct_size " + std::to_string(api.struct_size) + " is smaller than the v1.0 table (" +
         std::to_string(kTableV1) + ")");
  }
  // The table is exactly as large as its own minor's: smaller, and a host of that minor calls entries
  // past its end; larger, and a host reads garbage as entries. A minor newer than this CTS may have
  // entries it does not know, so then only the lower bound is checked.
  std::size_t minor_end = 0;
  const auto minor = static_cast<int64_t>(api.abi_minor);
#define PLINTH_CTS_END(field, requirement, group, since) \
  if (int64_t{since} <= minor) minor_end = offsetof(plinth_plugin_api_t, field) + sizeof api.field;
  PLINTH_API_ENTRIES(PLINTH_CTS_END)
#undef PLINTH_CTS_END
  const std::string version = "1." + std::to_string(api.abi_minor);
  if (api.struct_size < minor_end) {
    fail("table struct_size " + std::to_string(api.struct_size) + " ends before the last entry of ABI " + version +
         " (" + std::to_string(minor_end) + " bytes)");
  }
  if (api.abi_minor <= PLINTH_ABI_VERSION_MINOR && api.struct_size != minor_end) {
    fail("table struct_size " + std::to_string(api.struct_size) + " differs from the v" + version + " table size " +
         std::to_string(minor_end) + " although abi_minor is " + std::to_string(api.abi_minor) +
         ": the host would call entries that do not exist");
  }
  if (api.next != nullptr) fail("table next is not NULL in ABI v1");
    // Every entry of plinth/abi_lists.h's list: the REQUIRED ones set, each group all set or all NULL.
    // An entry past the plugin's struct_size is absent (a 1.0 table has no 1.1 entries), and is not read.
#define PLINTH_CTS_ENTRY(field, requirement, group, since)                                             \
  {#field,                                                                                             \
   offsetof(plinth_plugin_api_t, field) + sizeof api.field <= api.struct_size && api.field != nullptr, \
   (requirement) == PLINTH_ENTRY_REQUIRED, group},
  const struct {
    const char* name;
    bool present;
    bool required;
    int group;
  } entries[] = {PLINTH_API_ENTRIES(PLINTH_CTS_ENTRY)};
#undef PLINTH_CTS_ENTRY
  std::string missing;
  for (const auto& e : entries) {
    if (e.required && !e.present) missing += (missing.empty() ? "" : ", ") + std::string(e.name);
  }
  if (!missing.empty()) fail("REQUIRED entries are NULL: " + missing);
  for (int group : {PLINTH_ENTRY_GROUP_MAP, PLINTH_ENTRY_GROUP_GRAPH}) {
    std::string names;
    int set = 0, total = 0;
    for (const auto& e : entries) {
      if (e.group != group) continue;
      names += (total++ == 0 ? "" : ", ") + std::string(e.name);
      set += e.present ? 1 : 0;
    }
    if (set != 0 && set != total) {
      fail(names + " must be all set or all NULL (" + std::to_string(set) + " of " + std::to_string(total) + " set)");
    }
  }
}

void probe_counts(TestEnv& env) {
  const auto host = current_host();
  Initialized p(env.init, &host, "current host services");
  const auto& api = p.api();
  uint32_t count = 12345;
  plinth_status_t st = api.probe(nullptr, 0, &count);
  if (st != PLINTH_OK) fail(std::string("probe(NULL, 0): ") + status_text(st) + ": " + message_of(&api));
  if (count == 12345 || count > 4096) fail("probe(capacity 0) reported an implausible count " + std::to_string(count));
  if (count == 0) fail("probe reports no entry at all: a plugin without a device must still report why");
  // Capacity N+2: the plugin fills N entries; the two spare ones must stay untouched.
  std::vector<plinth_probe_entry_t> entries(count + 2);
  std::memset(entries.data(), 0x5A, entries.size() * sizeof(plinth_probe_entry_t));
  for (auto& e : entries) {
    e.struct_size = sizeof(plinth_probe_entry_t);
    e.next = nullptr;
  }
  uint32_t filled = 0;
  st = api.probe(entries.data(), count + 2, &filled);
  if (st != PLINTH_OK) fail(std::string("probe(capacity N+2): ") + status_text(st) + ": " + message_of(&api));
  if (filled != count) fail("probe counts " + std::to_string(count) + " entries with capacity 0 but " + std::to_string(filled) + " with capacity N+2");
  for (uint32_t i = count; i < count + 2; ++i) {
    const auto* raw = reinterpret_cast<const unsigned char*>(&entries[i]);
    for (std::size_t b = offsetof(plinth_probe_entry_t, index); b < sizeof(plinth_probe_entry_t); ++b) {
      if (b >= offsetof(plinth_probe_entry_t, next) && b < offsetof(plinth_probe_entry_t, usable)) continue;
      if (raw[b] != 0x5A) fail("probe wrote into entry " + std::to_string(i) + " beyond the " + std::to_string(count) + " entries it reported (byte " + std::to_string(b) + ")");
    }
  }
  bool any_usable = false;
  for (uint32_t i = 0; i < count; ++i) {
    const auto& e = entries[i];
    if (memchr(e.name, 0, sizeof e.name) == nullptr) fail("probe entry " + std::to_string(i) + ": name is not NUL-terminated");
    if (memchr(e.reason, 0, sizeof e.reason) == nullptr) fail("probe entry " + std::to_string(i) + ": reason is not NUL-terminated");
    if (e.usable > 1) fail("probe entry " + std::to_string(i) + ": usable is " + std::to_string(e.usable) + ", want 0 or 1");
    if (e.usable == 0 && e.reason[0] == '\0') fail("probe entry " + std::to_string(i) + " is unusable but gives no reason");
    if (e.usable == 1 && e.reason[0] != '\0') fail("probe entry " + std::to_string(i) + " is usable but has a reason: " + e.reason);
    if (e.index == UINT32_MAX && e.usable) fail("probe entry " + std::to_string(i) + ": a plugin-wide entry cannot be usable");
    if (e.index != UINT32_MAX && e.index >= count) fail("probe entry " + std::to_string(i) + ": device index " + std::to_string(e.index) + " out of range");
    any_usable = any_usable || e.usable;
  }
  // Capacity 1 when there are more: fills one, still counts all.
  if (count > 1) {
    plinth_probe_entry_t one = sized<plinth_probe_entry_t>();
    st = api.probe(&one, 1, &filled);
    if (st != PLINTH_OK || filled != count) fail("probe(capacity 1) must still report the full count " + std::to_string(count));
  }
  if (api.probe(nullptr, 0, nullptr) != PLINTH_ERROR_INVALID_ARGUMENT) fail("probe with NULL out_count must be PLINTH_ERROR_INVALID_ARGUMENT");
  if (api.probe(nullptr, 3, &filled) != PLINTH_ERROR_INVALID_ARGUMENT) fail("probe with NULL entries and capacity 3 must be PLINTH_ERROR_INVALID_ARGUMENT");
  if (!any_usable) env.note = "no usable device";
}

void probe_entry_sizes(TestEnv& env) {
  const auto host = current_host();
  Initialized p(env.init, &host, "current host services");
  const auto& api = p.api();
  // Larger entry (a newer host): the plugin fills its fields and leaves the tail alone.
  struct Newer {
    plinth_probe_entry_t base;
    unsigned char future[48];
  } newer;
  std::memset(&newer, 0x5A, sizeof newer);
  newer.base.struct_size = sizeof newer;
  newer.base.next = nullptr;
  uint32_t count = 0;
  plinth_status_t st = api.probe(&newer.base, 1, &count);
  if (st != PLINTH_OK) fail(std::string("probe with a larger entry struct_size: ") + status_text(st) + ": " + message_of(&api));
  for (std::size_t i = 0; i < sizeof newer.future; ++i) {
    if (newer.future[i] != 0x5A) fail("probe wrote past its own plinth_probe_entry_t into a newer host's fields at +" + std::to_string(i));
  }
  if (newer.base.struct_size != sizeof newer) fail("probe changed the host's struct_size");
  if (memchr(newer.base.name, 0, sizeof newer.base.name) == nullptr) fail("probe entry name not NUL-terminated");
  // An array from a newer host is laid out with the host's size: entry i starts at
  // (char*)entries + i * entries[0].struct_size (docs/abi.md).
  uint32_t total = 0;
  if (api.probe(nullptr, 0, &total) != PLINTH_OK) fail("probe(capacity 0) failed: " + message_of(&api));
  if (total > 0 && total < 64) {
    std::vector<Newer> array(total);
    std::memset(array.data(), 0x5A, array.size() * sizeof(Newer));
    for (auto& e : array) {
      e.base.struct_size = sizeof(Newer);
      e.base.next = nullptr;
    }
    uint32_t filled = 0;
    st = api.probe(&array[0].base, total, &filled);
    if (st != PLINTH_OK) fail(std::string("probe into an array of larger entries: ") + status_text(st) + ": " + message_of(&api));
    for (uint32_t i = 0; i < total; ++i) {
      for (std::size_t b = 0; b < sizeof array[i].future; ++b) {
        if (array[i].future[b] != 0x5A) {
          fail("probe into an array of " + std::to_string(sizeof(Newer)) + "-byte entries wrote into entry " + std::to_string(i) +
               "'s newer fields (+" + std::to_string(b) + "): it must step by entries[0].struct_size, not sizeof");
        }
      }
      if (memchr(array[i].base.name, 0, sizeof array[i].base.name) == nullptr || array[i].base.struct_size != sizeof(Newer)) {
        fail("probe into an array of larger entries left entry " + std::to_string(i) + " malformed (wrong stride?)");
      }
    }
  }
  // Smaller than the first version: INVALID_ARGUMENT, and nothing written past the caller's size.
  struct Small {
    unsigned char bytes[sizeof(plinth_probe_entry_t)];
  } small;
  std::memset(&small, 0x5A, sizeof small);
  const uint32_t small_size = PLINTH_STRUCT_SIZE_THROUGH(plinth_probe_entry_t, name);
  auto* entry = reinterpret_cast<plinth_probe_entry_t*>(&small);
  entry->struct_size = small_size;
  entry->next = nullptr;
  st = api.probe(entry, 1, &count);
  for (std::size_t i = small_size; i < sizeof small; ++i) {
    if (small.bytes[i] != 0x5A) fail("probe with entry struct_size " + std::to_string(small_size) + " wrote past it at byte " + std::to_string(i));
  }
  // abi.h probe: entries[0].struct_size below the v1.0 size is INVALID_ARGUMENT.
  if (st != PLINTH_ERROR_INVALID_ARGUMENT) {
    fail(std::string("probe with an entry smaller than v1.0: got ") + status_text(st) +
         ", want PLINTH_ERROR_INVALID_ARGUMENT");
  }
  (void)kProbeV1;
}

void last_error_per_thread(TestEnv& env) {
  const auto host = current_host();
  Initialized p(env.init, &host, "current host services");
  const auto& api = p.api();
  plinth_device_t device = nullptr;
  const plinth_status_t st = api.device_open(UINT32_MAX - 1, &device);
  if (st != PLINTH_ERROR_OUT_OF_RANGE) {
    if (st == PLINTH_OK && device) api.device_close(device);
    fail(std::string("device_open(UINT32_MAX-1): got ") + status_text(st) + ", want PLINTH_ERROR_OUT_OF_RANGE");
  }
  const std::string message = message_of(&api);
  if (message.empty()) fail("device_open failed but last_error_message is empty");
  // Another thread's state is its own: a successful call there leaves "" there, and ours intact.
  std::string other;
  std::thread([&] {
    uint32_t count = 0;
    api.probe(nullptr, 0, &count);
    other = message_of(&api);
  }).join();
  if (!other.empty()) fail("after a successful probe on a fresh thread last_error_message is \"" + other + "\", want \"\"");
  if (message_of(&api) != message) fail("last_error_message of this thread changed after another thread's call");
  uint32_t count = 0;
  api.probe(nullptr, 0, &count);
  if (!message_of(&api).empty()) fail("last_error_message is not \"\" after a successful call: \"" + message_of(&api) + "\"");
  if (api.last_error_vendor_code != nullptr) (void)api.last_error_vendor_code();
}

void reinitialize(TestEnv& env) {
  const auto host = current_host();
  for (int round = 0; round < 3; ++round) {
    Initialized p(env.init, &host, ("init round " + std::to_string(round + 1)).c_str());
    check_probe_works(p.api(), "after re-initialization");
  }
}

}  // namespace

// The level's ops exist only from an ABI minor on: a plugin of an older minor cannot be certified at
// it, whatever it does with the ops' ids.
void level_version(TestEnv& env) {
  const auto host = current_host();
  Initialized p(env.init, &host, "current host services");
  const uint32_t need = level_abi_minor(env.level());
  if (p.api().abi_minor < need) {
    fail(std::string("level ") + level_name(env.level()) + " needs a plugin of ABI 1." +
         std::to_string(need) +
         " or newer (its ops SET_ROWS and PAGED_ATTENTION are new in 1.2), but the plugin implements ABI 1." +
         std::to_string(p.api().abi_minor));
  }
}

SuiteDef abi_suite(Level level) {
  SuiteDef s{"abi", false, {}};
  s.tests = {
      {"abi.init_current", "", init_current},
      {"abi.init_older_host", "", init_older_host},
      {"abi.init_newer_host", "", init_newer_host},
      {"abi.init_other_major", "", init_other_major},
      {"abi.init_null_arguments", "", init_null_arguments},
      {"abi.table", "", table},
      {"abi.probe_counts", "", probe_counts},
      {"abi.probe_entry_sizes", "", probe_entry_sizes},
      {"abi.last_error_per_thread", "", last_error_per_thread},
      {"abi.reinitialize", "", reinitialize},
  };
  if (level_abi_minor(level) > 0) s.tests.push_back({"abi.level_version", "", level_version});
  return s;
}

}  // namespace plinth::cts
