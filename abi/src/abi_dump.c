/*
 * abi_dump.c — makes every type of the plugin ABI visible to abidw.
 *
 * abidw only describes types reachable from exported functions and variables, and a header-only
 * ABI exports nothing. This file is built into a throw-away shared library with one exported
 * function per struct and typedef of plinth/abi.h and plinth/ops.h; the ABI check (tests/abi)
 * dumps that library and compares it with abi/baseline/plinth-abi.xml. A type added to either
 * header gets a function here in the same commit, or it is not checked.
 */
#include "plinth/abi.h"
#include "plinth/ops.h"

#define PLINTH_ABI_DUMP(name, type)                                    \
  PLINTH_PLUGIN_EXPORT void plinth_abi_dump_##name(const type* value); \
  void plinth_abi_dump_##name(const type* value) { (void)value; }

/* Scalar typedefs: retyping one (say plinth_status_t to int64_t) breaks every entry using it. */
PLINTH_ABI_DUMP(status, plinth_status_t)
PLINTH_ABI_DUMP(dtype, plinth_dtype_t)
PLINTH_ABI_DUMP(op, plinth_op_t)

/* Opaque handles. */
PLINTH_ABI_DUMP(device, plinth_device_t)
PLINTH_ABI_DUMP(buffer, plinth_buffer_t)
PLINTH_ABI_DUMP(stream, plinth_stream_t)
PLINTH_ABI_DUMP(event, plinth_event_t)
PLINTH_ABI_DUMP(graph, plinth_graph_t)

/* plinth/abi.h structs and the entry point type. */
PLINTH_ABI_DUMP(host_services, plinth_host_services_t)
PLINTH_ABI_DUMP(probe_entry, plinth_probe_entry_t)
PLINTH_ABI_DUMP(device_properties, plinth_device_properties_t)
PLINTH_ABI_DUMP(buffer_desc, plinth_buffer_desc_t)
PLINTH_ABI_DUMP(tensor, plinth_tensor_t)
PLINTH_ABI_DUMP(op_call, plinth_op_call_t)
PLINTH_ABI_DUMP(plugin_api, plinth_plugin_api_t)
PLINTH_ABI_DUMP(plugin_init_fn, plinth_plugin_init_fn)
PLINTH_ABI_DUMP(extension_op, plinth_extension_op_t) /* 1.1 */

/* plinth/ops.h parameter structs. */
PLINTH_ABI_DUMP(fill_params, plinth_fill_params_t)
PLINTH_ABI_DUMP(scale_params, plinth_scale_params_t)
PLINTH_ABI_DUMP(matmul_params, plinth_matmul_params_t)
PLINTH_ABI_DUMP(norm_params, plinth_norm_params_t)
PLINTH_ABI_DUMP(softmax_params, plinth_softmax_params_t)
PLINTH_ABI_DUMP(gelu_params, plinth_gelu_params_t)
PLINTH_ABI_DUMP(rope_params, plinth_rope_params_t)
PLINTH_ABI_DUMP(attention_params, plinth_attention_params_t)
PLINTH_ABI_DUMP(top_k_params, plinth_top_k_params_t)

/*
 * The entry point itself, so a change to its declared signature shows up as a changed function.
 * The library is never loaded as a plugin; the body only has to compile.
 */
plinth_status_t plinth_plugin_init(const plinth_host_services_t* host, const plinth_plugin_api_t** out_api) {
  (void)host;
  (void)out_api;
  return PLINTH_ERROR_UNSUPPORTED;
}
