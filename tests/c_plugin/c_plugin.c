/*
 * A backend plugin in plain C11: proof that plinth/abi.h and plinth/ops.h need nothing but a C
 * compiler. It reports one device that is never usable, with a reason, as a plugin whose driver is
 * missing would. Every REQUIRED entry is present; calls that need an open device cannot happen.
 */
#include <stddef.h>
#include <string.h>

#include "plinth/abi.h"
#include "plinth/ops.h"

#define CTEST_DEVICE_NAME "ctest virtual device"
#define CTEST_REASON "no ctest hardware present (this plugin exists only for tests)"

/* The calling thread's last error (abi.h rule 4); string literals only, so nothing to free. */
static _Thread_local const char* last_error = "";

static plinth_status_t fail(plinth_status_t status, const char* message) {
  last_error = message;
  return status;
}

static const char* c_last_error_message(void) { return last_error; }
static int64_t c_last_error_vendor_code(void) { return 0; }

static plinth_status_t c_shutdown(void) {
  last_error = "";
  return PLINTH_OK;
}

static void copy_text(char* dst, size_t capacity, const char* src) {
  size_t n = strlen(src);
  if (n >= capacity) n = capacity - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static plinth_status_t c_probe(plinth_probe_entry_t* entries, uint32_t capacity, uint32_t* out_count) {
  plinth_probe_entry_t entry;
  if (out_count == NULL) return fail(PLINTH_ERROR_INVALID_ARGUMENT, "probe: out_count is NULL");
  if (entries == NULL && capacity > 0) return fail(PLINTH_ERROR_INVALID_ARGUMENT, "probe: entries is NULL");
  *out_count = 1;
  last_error = "";
  if (capacity == 0) return PLINTH_OK;
  if (entries[0].struct_size < sizeof(plinth_probe_entry_t)) {
    return fail(PLINTH_ERROR_INVALID_ARGUMENT, "probe: entry struct_size is smaller than its v1 size");
  }
  memset(&entry, 0, sizeof entry);
  entry.struct_size = entries[0].struct_size;
  entry.next = entries[0].next;
  entry.index = 0;
  entry.usable = 0;
  copy_text(entry.name, sizeof entry.name, CTEST_DEVICE_NAME);
  copy_text(entry.reason, sizeof entry.reason, CTEST_REASON);
  /* Only the v1 fields: a newer host's larger entry keeps its extra fields untouched. */
  memcpy(&entries[0], &entry, sizeof entry);
  return PLINTH_OK;
}

static plinth_status_t c_device_open(uint32_t index, plinth_device_t* out_device) {
  if (out_device == NULL) return fail(PLINTH_ERROR_INVALID_ARGUMENT, "device_open: out_device is NULL");
  if (index != 0) return fail(PLINTH_ERROR_OUT_OF_RANGE, "device_open: no such device");
  return fail(PLINTH_ERROR_UNSUPPORTED, CTEST_REASON);
}

/* No device can be opened, so every handle the host passes is foreign. */
#define NO_DEVICE fail(PLINTH_ERROR_INVALID_ARGUMENT, "no device of this plugin can be open")

static plinth_status_t c_device_close(plinth_device_t d) { (void)d; return NO_DEVICE; }
static plinth_status_t c_device_get_properties(plinth_device_t d, plinth_device_properties_t* p) {
  (void)d; (void)p; return NO_DEVICE;
}
static plinth_status_t c_buffer_alloc(plinth_device_t d, const plinth_buffer_desc_t* desc, plinth_buffer_t* b) {
  (void)d; (void)desc; (void)b; return NO_DEVICE;
}
static plinth_status_t c_buffer_free(plinth_buffer_t b) { (void)b; return NO_DEVICE; }
static plinth_status_t c_stream_create(plinth_device_t d, uint32_t f, plinth_stream_t* s) {
  (void)d; (void)f; (void)s; return NO_DEVICE;
}
static plinth_status_t c_stream_one(plinth_stream_t s) { (void)s; return NO_DEVICE; }
static plinth_status_t c_copy_h2b(plinth_stream_t s, const void* src, plinth_buffer_t b, uint64_t o, uint64_t n) {
  (void)s; (void)src; (void)b; (void)o; (void)n; return NO_DEVICE;
}
static plinth_status_t c_copy_b2h(plinth_stream_t s, plinth_buffer_t b, uint64_t o, void* dst, uint64_t n) {
  (void)s; (void)b; (void)o; (void)dst; (void)n; return NO_DEVICE;
}
static plinth_status_t c_copy_b2b(plinth_stream_t s, plinth_buffer_t a, uint64_t ao, plinth_buffer_t b, uint64_t bo,
                                  uint64_t n) {
  (void)s; (void)a; (void)ao; (void)b; (void)bo; (void)n; return NO_DEVICE;
}
static plinth_status_t c_event_create(plinth_device_t d, uint32_t f, plinth_event_t* e) {
  (void)d; (void)f; (void)e; return NO_DEVICE;
}
static plinth_status_t c_event_one(plinth_event_t e) { (void)e; return NO_DEVICE; }
static plinth_status_t c_event_record(plinth_event_t e, plinth_stream_t s) { (void)e; (void)s; return NO_DEVICE; }
static plinth_status_t c_stream_wait_event(plinth_stream_t s, plinth_event_t e) { (void)s; (void)e; return NO_DEVICE; }
static plinth_status_t c_op_supports(plinth_device_t d, const plinth_op_call_t* c, uint32_t* out) {
  (void)d; (void)c; (void)out; return NO_DEVICE;
}
static plinth_status_t c_op_launch(plinth_stream_t s, const plinth_op_call_t* c) { (void)s; (void)c; return NO_DEVICE; }

static const plinth_plugin_api_t kApi = {
    sizeof(plinth_plugin_api_t), PLINTH_ABI_VERSION_MAJOR, NULL, PLINTH_ABI_VERSION_MINOR, 0,
    "ctest", "0.1.0",
    c_last_error_message, c_last_error_vendor_code,
    c_shutdown, c_probe, c_device_open, c_device_close, c_device_get_properties,
    NULL, /* device_memory_info */
    c_buffer_alloc, c_buffer_free,
    NULL, NULL, /* buffer_map, buffer_unmap: no host-visible memory */
    c_stream_create, c_stream_one, c_stream_one, c_copy_h2b, c_copy_b2h, c_copy_b2b,
    c_event_create, c_event_one, c_event_record, c_stream_wait_event, c_event_one, c_event_one,
    NULL, /* event_elapsed_ms */
    NULL, NULL, NULL, NULL, /* graphs */
    c_op_supports, c_op_launch,
    NULL, /* extension_op_get (ABI 1.1): no vendor extension ops */
};

PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                        const plinth_plugin_api_t** out_api) {
  if (out_api == NULL) return fail(PLINTH_ERROR_INVALID_ARGUMENT, "plinth_plugin_init: out_api is NULL");
  *out_api = &kApi;
  if (host == NULL) return fail(PLINTH_ERROR_INVALID_ARGUMENT, "plinth_plugin_init: host is NULL");
  if (host->struct_size < sizeof(plinth_host_services_t)) {
    return fail(PLINTH_ERROR_INVALID_ARGUMENT, "plinth_plugin_init: host services struct_size is too small");
  }
  if (host->abi_major != PLINTH_ABI_VERSION_MAJOR) {
    return fail(PLINTH_ERROR_INCOMPATIBLE_VERSION, "plinth_plugin_init: host ABI major differs from the plugin's (1)");
  }
  last_error = "";
  return PLINTH_OK;
}
