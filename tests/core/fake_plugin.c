/* Deliberately broken plugins for the loader's rejection tests; FAKE_KIND selects the defect. */
#include <stddef.h>

#include "plinth/abi.h"
#include "plinth/abi_lists.h"

#define FAKE_NO_SYMBOL 1    /* a shared library without plinth_plugin_init */
#define FAKE_BAD_VERSION 2  /* init answers INCOMPATIBLE_VERSION with an ABI 2 table */
#define FAKE_BAD_TABLE 3    /* init succeeds but REQUIRED entries are NULL */
#define FAKE_INIT_FAIL 4    /* init fails with INTERNAL and a message */
#define FAKE_SMALL_TABLE 5  /* struct_size smaller than the v1 table */
#define FAKE_PARTIAL_GRAPH 6 /* every entry set but graph_launch: the graph group is incomplete */

#if FAKE_KIND == FAKE_NO_SYMBOL
PLINTH_PLUGIN_EXPORT int fake_not_a_plugin(void);
PLINTH_PLUGIN_EXPORT int fake_not_a_plugin(void) { return 42; }
#else

static const char* fake_message(void) { return "simulated init failure: no widgets"; }
static plinth_status_t fake_shutdown(void) { return PLINTH_OK; }

static plinth_plugin_api_t fake_api;

#if FAKE_KIND == FAKE_PARTIAL_GRAPH
/* Never called: the host rejects the table before it calls anything but shutdown. */
static void fake_entry(void) {}
#define FAKE_SET_ENTRY(field, requirement, group, since) \
  if (fake_api.field == NULL) fake_api.field = (__typeof__(fake_api.field))fake_entry;
#endif

PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                        const plinth_plugin_api_t** out_api) {
  (void)host;
  fake_api.struct_size = sizeof fake_api;
  fake_api.abi_major = PLINTH_ABI_VERSION_MAJOR;
  fake_api.name = "fake";
  fake_api.version = "0.0-fake";
  fake_api.last_error_message = fake_message;
  fake_api.shutdown = fake_shutdown;
  *out_api = &fake_api;
#if FAKE_KIND == FAKE_BAD_VERSION
  fake_api.abi_major = 2;
  fake_api.abi_minor = 7;
  return PLINTH_ERROR_INCOMPATIBLE_VERSION;
#elif FAKE_KIND == FAKE_BAD_TABLE
  return PLINTH_OK;
#elif FAKE_KIND == FAKE_INIT_FAIL
  return PLINTH_ERROR_INTERNAL;
#elif FAKE_KIND == FAKE_PARTIAL_GRAPH
  PLINTH_API_ENTRIES(FAKE_SET_ENTRY)
  fake_api.graph_launch = NULL;
  return PLINTH_OK;
#elif FAKE_KIND == FAKE_SMALL_TABLE
  fake_api.struct_size = 40;
  return PLINTH_OK;
#else
#error "unknown FAKE_KIND"
#endif
}
#endif
