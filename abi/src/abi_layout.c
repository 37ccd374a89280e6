/*
 * abi_layout.c — pins the plugin ABI's layout at compile time.
 *
 * Every struct of plinth/abi.h and plinth/ops.h has its size and each member's offset and size
 * asserted here for LP64 targets (x86-64, AArch64 Linux), together with the numeric values of the
 * constants that cross the boundary. This file is compiled in every build, so a change that moves
 * a byte of the ABI stops the build. The ABI is append-only within a major version (docs/abi.md):
 * an append changes only the struct's size assert and adds lines; any other edit here is a break.
 * The abidiff check (abi/src/abi_check.sh) covers the same ground from the debug information.
 */
#include <stddef.h>
#include <stdint.h>

#include "plinth/abi.h"
#include "plinth/ops.h"

#define PLINTH_PIN_SIZE(type, size) _Static_assert(sizeof(type) == (size), "ABI: sizeof(" #type ") changed")
#define PLINTH_PIN_FIELD(type, field, offset, size)                                                 \
  _Static_assert(offsetof(type, field) == (offset), "ABI: offset of " #type "." #field " changed"); \
  _Static_assert(sizeof(((type*)0)->field) == (size), "ABI: size of " #type "." #field " changed")
#define PLINTH_PIN_VALUE(name, value) _Static_assert((name) == (value), "ABI: value of " #name " changed")

/* ---- Rules that hold on every target ---------------------------------------------------------- */

/* struct_size first and the next pointer at a fixed place is what lets any reader size a struct. */
#define PLINTH_PIN_HEAD(type)                                                                        \
  _Static_assert(offsetof(type, struct_size) == 0, "ABI: " #type " must start with struct_size");    \
  _Static_assert(sizeof(((type*)0)->struct_size) == 4, "ABI: " #type ".struct_size must be 32-bit"); \
  _Static_assert(offsetof(type, next) == 8, "ABI: " #type ".next must sit at byte 8")

PLINTH_PIN_HEAD(plinth_host_services_t);
PLINTH_PIN_HEAD(plinth_probe_entry_t);
PLINTH_PIN_HEAD(plinth_device_properties_t);
PLINTH_PIN_HEAD(plinth_buffer_desc_t);
PLINTH_PIN_HEAD(plinth_tensor_t);
PLINTH_PIN_HEAD(plinth_op_call_t);
PLINTH_PIN_HEAD(plinth_plugin_api_t);
PLINTH_PIN_HEAD(plinth_extension_op_t);
PLINTH_PIN_HEAD(plinth_fill_params_t);
PLINTH_PIN_HEAD(plinth_scale_params_t);
PLINTH_PIN_HEAD(plinth_matmul_params_t);
PLINTH_PIN_HEAD(plinth_norm_params_t);
PLINTH_PIN_HEAD(plinth_softmax_params_t);
PLINTH_PIN_HEAD(plinth_gelu_params_t);
PLINTH_PIN_HEAD(plinth_rope_params_t);
PLINTH_PIN_HEAD(plinth_attention_params_t);
PLINTH_PIN_HEAD(plinth_top_k_params_t);

PLINTH_PIN_SIZE(plinth_status_t, 4);
PLINTH_PIN_SIZE(plinth_dtype_t, 4);
PLINTH_PIN_SIZE(plinth_op_t, 4);

/* ---- Constants -------------------------------------------------------------------------------- */

PLINTH_PIN_VALUE(PLINTH_ABI_VERSION_MAJOR, 1);

PLINTH_PIN_VALUE(PLINTH_OK, 0);
PLINTH_PIN_VALUE(PLINTH_ERROR_INVALID_ARGUMENT, 1);
PLINTH_PIN_VALUE(PLINTH_ERROR_UNSUPPORTED, 2);
PLINTH_PIN_VALUE(PLINTH_ERROR_OUT_OF_MEMORY, 3);
PLINTH_PIN_VALUE(PLINTH_ERROR_DEVICE_LOST, 4);
PLINTH_PIN_VALUE(PLINTH_ERROR_NOT_READY, 5);
PLINTH_PIN_VALUE(PLINTH_ERROR_INCOMPATIBLE_VERSION, 6);
PLINTH_PIN_VALUE(PLINTH_ERROR_OUT_OF_RANGE, 7);
PLINTH_PIN_VALUE(PLINTH_ERROR_INVALID_STATE, 8);
PLINTH_PIN_VALUE(PLINTH_ERROR_INTERNAL, 9);

PLINTH_PIN_VALUE(PLINTH_LOG_TRACE, 0);
PLINTH_PIN_VALUE(PLINTH_LOG_DEBUG, 1);
PLINTH_PIN_VALUE(PLINTH_LOG_INFO, 2);
PLINTH_PIN_VALUE(PLINTH_LOG_WARN, 3);
PLINTH_PIN_VALUE(PLINTH_LOG_ERROR, 4);

PLINTH_PIN_VALUE(PLINTH_NAME_MAX, 128);
PLINTH_PIN_VALUE(PLINTH_REASON_MAX, 256);
PLINTH_PIN_VALUE(PLINTH_MAX_DIMS, 4);
PLINTH_PIN_VALUE(PLINTH_QUANT_BLOCK, 32);

PLINTH_PIN_VALUE(PLINTH_DEVICE_TYPE_CPU, 0);
PLINTH_PIN_VALUE(PLINTH_DEVICE_TYPE_DISCRETE_GPU, 1);
PLINTH_PIN_VALUE(PLINTH_DEVICE_TYPE_INTEGRATED_GPU, 2);
PLINTH_PIN_VALUE(PLINTH_DEVICE_TYPE_ACCELERATOR, 3);
PLINTH_PIN_VALUE(PLINTH_DEVICE_TYPE_VIRTUAL, 4);

PLINTH_PIN_VALUE(PLINTH_FEATURE_F16, 1ull << 0);
PLINTH_PIN_VALUE(PLINTH_FEATURE_BF16, 1ull << 1);
PLINTH_PIN_VALUE(PLINTH_FEATURE_INT8, 1ull << 2);
PLINTH_PIN_VALUE(PLINTH_FEATURE_SUBGROUPS, 1ull << 3);
PLINTH_PIN_VALUE(PLINTH_FEATURE_GRAPHS, 1ull << 4);
PLINTH_PIN_VALUE(PLINTH_FEATURE_HOST_PINNED, 1ull << 5);
PLINTH_PIN_VALUE(PLINTH_FEATURE_SHARED_MEMORY, 1ull << 6);
PLINTH_PIN_VALUE(PLINTH_FEATURE_TIMESTAMPS, 1ull << 7);
PLINTH_PIN_VALUE(PLINTH_FEATURE_UNIFIED_MEMORY, 1ull << 8);

PLINTH_PIN_VALUE(PLINTH_MEMORY_DEVICE, 0);
PLINTH_PIN_VALUE(PLINTH_MEMORY_HOST_PINNED, 1);
PLINTH_PIN_VALUE(PLINTH_MEMORY_SHARED, 2);
PLINTH_PIN_VALUE(PLINTH_EVENT_FLAG_TIMING, 1u);

/* Dtype and op numbers are append-only: the COUNT macros may grow, the numbers never move. */
PLINTH_PIN_VALUE(PLINTH_DTYPE_F32, 0);
PLINTH_PIN_VALUE(PLINTH_DTYPE_F16, 1);
PLINTH_PIN_VALUE(PLINTH_DTYPE_BF16, 2);
PLINTH_PIN_VALUE(PLINTH_DTYPE_I32, 3);
PLINTH_PIN_VALUE(PLINTH_DTYPE_Q8_0, 4);
PLINTH_PIN_VALUE(PLINTH_DTYPE_Q4_0, 5);
PLINTH_PIN_VALUE(PLINTH_DTYPE_Q4_1, 6);
_Static_assert(PLINTH_DTYPE_COUNT >= 7, "ABI: dtypes are never removed");

PLINTH_PIN_VALUE(PLINTH_OP_COPY, 0);
PLINTH_PIN_VALUE(PLINTH_OP_FILL, 1);
PLINTH_PIN_VALUE(PLINTH_OP_ADD, 2);
PLINTH_PIN_VALUE(PLINTH_OP_MUL, 3);
PLINTH_PIN_VALUE(PLINTH_OP_SCALE, 4);
PLINTH_PIN_VALUE(PLINTH_OP_MATMUL, 5);
PLINTH_PIN_VALUE(PLINTH_OP_GET_ROWS, 6);
PLINTH_PIN_VALUE(PLINTH_OP_RMS_NORM, 7);
PLINTH_PIN_VALUE(PLINTH_OP_LAYER_NORM, 8);
PLINTH_PIN_VALUE(PLINTH_OP_SOFTMAX, 9);
PLINTH_PIN_VALUE(PLINTH_OP_GELU, 10);
PLINTH_PIN_VALUE(PLINTH_OP_SILU, 11);
PLINTH_PIN_VALUE(PLINTH_OP_SWIGLU, 12);
PLINTH_PIN_VALUE(PLINTH_OP_ROPE, 13);
PLINTH_PIN_VALUE(PLINTH_OP_ATTENTION, 14);
PLINTH_PIN_VALUE(PLINTH_OP_MEAN_POOL, 15);
PLINTH_PIN_VALUE(PLINTH_OP_L2_NORMALIZE, 16);
PLINTH_PIN_VALUE(PLINTH_OP_TOP_K, 17);
PLINTH_PIN_VALUE(PLINTH_OP_ARGMAX, 18);
PLINTH_PIN_VALUE(PLINTH_OP_SET_ROWS, 19);        /* 1.2 */
PLINTH_PIN_VALUE(PLINTH_OP_PAGED_ATTENTION, 20); /* 1.2 */
_Static_assert(PLINTH_OP_COUNT >= 21, "ABI: ops are never removed");
PLINTH_PIN_VALUE(PLINTH_OP_COUNT_OF_MINOR(0), 19);
PLINTH_PIN_VALUE(PLINTH_OP_COUNT_OF_MINOR(1), 19);
PLINTH_PIN_VALUE(PLINTH_OP_COUNT_OF_MINOR(2), 21);
_Static_assert(PLINTH_OP_COUNT_OF_MINOR(PLINTH_ABI_VERSION_MINOR) == PLINTH_OP_COUNT,
               "ops.h: PLINTH_OP_COUNT_OF_MINOR misses the current minor version");

PLINTH_PIN_VALUE(PLINTH_GELU_ERF, 0);
PLINTH_PIN_VALUE(PLINTH_GELU_TANH, 1);
PLINTH_PIN_VALUE(PLINTH_ROPE_NORMAL, 0);
PLINTH_PIN_VALUE(PLINTH_ROPE_NEOX, 1);

/* ---- LP64 layouts: size, then offset and size of every member --------------------------------- */

#if defined(__LP64__) || defined(_LP64)

/* ---- plinth/abi.h ---- */
PLINTH_PIN_SIZE(plinth_host_services_t, 40);
PLINTH_PIN_FIELD(plinth_host_services_t, struct_size, 0, 4);
PLINTH_PIN_FIELD(plinth_host_services_t, abi_major, 4, 4);
PLINTH_PIN_FIELD(plinth_host_services_t, next, 8, 8);
PLINTH_PIN_FIELD(plinth_host_services_t, abi_minor, 16, 4);
PLINTH_PIN_FIELD(plinth_host_services_t, reserved0, 20, 4);
PLINTH_PIN_FIELD(plinth_host_services_t, log, 24, 8);
PLINTH_PIN_FIELD(plinth_host_services_t, log_user_data, 32, 8);

PLINTH_PIN_SIZE(plinth_probe_entry_t, 408);
PLINTH_PIN_FIELD(plinth_probe_entry_t, struct_size, 0, 4);
PLINTH_PIN_FIELD(plinth_probe_entry_t, index, 4, 4);
PLINTH_PIN_FIELD(plinth_probe_entry_t, next, 8, 8);
PLINTH_PIN_FIELD(plinth_probe_entry_t, usable, 16, 4);
PLINTH_PIN_FIELD(plinth_probe_entry_t, reserved0, 20, 4);
PLINTH_PIN_FIELD(plinth_probe_entry_t, name, 24, 128);
PLINTH_PIN_FIELD(plinth_probe_entry_t, reason, 152, 256);

PLINTH_PIN_SIZE(plinth_device_properties_t, 584);
PLINTH_PIN_FIELD(plinth_device_properties_t, struct_size, 0, 4);
PLINTH_PIN_FIELD(plinth_device_properties_t, device_type, 4, 4);
PLINTH_PIN_FIELD(plinth_device_properties_t, next, 8, 8);
PLINTH_PIN_FIELD(plinth_device_properties_t, name, 16, 128);
PLINTH_PIN_FIELD(plinth_device_properties_t, vendor, 144, 128);
PLINTH_PIN_FIELD(plinth_device_properties_t, arch, 272, 128);
PLINTH_PIN_FIELD(plinth_device_properties_t, driver_version, 400, 128);
PLINTH_PIN_FIELD(plinth_device_properties_t, total_memory, 528, 8);
PLINTH_PIN_FIELD(plinth_device_properties_t, max_allocation, 536, 8);
PLINTH_PIN_FIELD(plinth_device_properties_t, max_op_range, 544, 8);
PLINTH_PIN_FIELD(plinth_device_properties_t, features, 552, 8);
PLINTH_PIN_FIELD(plinth_device_properties_t, compute_units, 560, 4);
PLINTH_PIN_FIELD(plinth_device_properties_t, min_alignment, 564, 4);
PLINTH_PIN_FIELD(plinth_device_properties_t, subgroup_size, 568, 4);
PLINTH_PIN_FIELD(plinth_device_properties_t, vendor_id, 572, 4);
PLINTH_PIN_FIELD(plinth_device_properties_t, device_id, 576, 4);
PLINTH_PIN_FIELD(plinth_device_properties_t, reserved0, 580, 4);

PLINTH_PIN_SIZE(plinth_buffer_desc_t, 32);
PLINTH_PIN_FIELD(plinth_buffer_desc_t, struct_size, 0, 4);
PLINTH_PIN_FIELD(plinth_buffer_desc_t, memory_kind, 4, 4);
PLINTH_PIN_FIELD(plinth_buffer_desc_t, next, 8, 8);
PLINTH_PIN_FIELD(plinth_buffer_desc_t, size, 16, 8);
PLINTH_PIN_FIELD(plinth_buffer_desc_t, alignment, 24, 8);

PLINTH_PIN_SIZE(plinth_tensor_t, 104);
PLINTH_PIN_FIELD(plinth_tensor_t, struct_size, 0, 4);
PLINTH_PIN_FIELD(plinth_tensor_t, dtype, 4, 4);
PLINTH_PIN_FIELD(plinth_tensor_t, next, 8, 8);
PLINTH_PIN_FIELD(plinth_tensor_t, buffer, 16, 8);
PLINTH_PIN_FIELD(plinth_tensor_t, offset, 24, 8);
PLINTH_PIN_FIELD(plinth_tensor_t, ndim, 32, 4);
PLINTH_PIN_FIELD(plinth_tensor_t, reserved0, 36, 4);
PLINTH_PIN_FIELD(plinth_tensor_t, dims, 40, 32);
PLINTH_PIN_FIELD(plinth_tensor_t, strides, 72, 32);

PLINTH_PIN_SIZE(plinth_op_call_t, 48);
PLINTH_PIN_FIELD(plinth_op_call_t, struct_size, 0, 4);
PLINTH_PIN_FIELD(plinth_op_call_t, op, 4, 4);
PLINTH_PIN_FIELD(plinth_op_call_t, next, 8, 8);
PLINTH_PIN_FIELD(plinth_op_call_t, inputs, 16, 8);
PLINTH_PIN_FIELD(plinth_op_call_t, outputs, 24, 8);
PLINTH_PIN_FIELD(plinth_op_call_t, num_inputs, 32, 4);
PLINTH_PIN_FIELD(plinth_op_call_t, num_outputs, 36, 4);
PLINTH_PIN_FIELD(plinth_op_call_t, params, 40, 8);

PLINTH_PIN_SIZE(plinth_plugin_api_t, 296);
PLINTH_PIN_FIELD(plinth_plugin_api_t, struct_size, 0, 4);
PLINTH_PIN_FIELD(plinth_plugin_api_t, abi_major, 4, 4);
PLINTH_PIN_FIELD(plinth_plugin_api_t, next, 8, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, abi_minor, 16, 4);
PLINTH_PIN_FIELD(plinth_plugin_api_t, reserved0, 20, 4);
PLINTH_PIN_FIELD(plinth_plugin_api_t, name, 24, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, version, 32, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, last_error_message, 40, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, last_error_vendor_code, 48, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, shutdown, 56, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, probe, 64, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, device_open, 72, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, device_close, 80, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, device_get_properties, 88, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, device_memory_info, 96, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, buffer_alloc, 104, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, buffer_free, 112, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, buffer_map, 120, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, buffer_unmap, 128, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, stream_create, 136, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, stream_destroy, 144, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, stream_synchronize, 152, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, copy_host_to_buffer, 160, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, copy_buffer_to_host, 168, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, copy_buffer, 176, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, event_create, 184, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, event_destroy, 192, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, event_record, 200, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, stream_wait_event, 208, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, event_synchronize, 216, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, event_query, 224, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, event_elapsed_ms, 232, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, graph_begin_capture, 240, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, graph_end_capture, 248, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, graph_launch, 256, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, graph_destroy, 264, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, op_supports, 272, 8);
PLINTH_PIN_FIELD(plinth_plugin_api_t, op_launch, 280, 8);
/* 1.1 */
PLINTH_PIN_FIELD(plinth_plugin_api_t, extension_op_get, 288, 8);

PLINTH_PIN_SIZE(plinth_extension_op_t, 424);
PLINTH_PIN_FIELD(plinth_extension_op_t, struct_size, 0, 4);
PLINTH_PIN_FIELD(plinth_extension_op_t, op, 4, 4);
PLINTH_PIN_FIELD(plinth_extension_op_t, next, 8, 8);
PLINTH_PIN_FIELD(plinth_extension_op_t, name, 16, 128);
PLINTH_PIN_FIELD(plinth_extension_op_t, version, 144, 4);
PLINTH_PIN_FIELD(plinth_extension_op_t, params_size, 148, 4);
PLINTH_PIN_FIELD(plinth_extension_op_t, min_inputs, 152, 4);
PLINTH_PIN_FIELD(plinth_extension_op_t, max_inputs, 156, 4);
PLINTH_PIN_FIELD(plinth_extension_op_t, num_outputs, 160, 4);
PLINTH_PIN_FIELD(plinth_extension_op_t, reserved0, 164, 4);
PLINTH_PIN_FIELD(plinth_extension_op_t, description, 168, 256);

/* ---- plinth/ops.h ---- */
PLINTH_PIN_SIZE(plinth_fill_params_t, 24);
PLINTH_PIN_FIELD(plinth_fill_params_t, struct_size, 0, 4);
PLINTH_PIN_FIELD(plinth_fill_params_t, reserved0, 4, 4);
PLINTH_PIN_FIELD(plinth_fill_params_t, next, 8, 8);
PLINTH_PIN_FIELD(plinth_fill_params_t, value, 16, 8);

PLINTH_PIN_SIZE(plinth_scale_params_t, 24);
PLINTH_PIN_FIELD(plinth_scale_params_t, struct_size, 0, 4);
PLINTH_PIN_FIELD(plinth_scale_params_t, reserved0, 4, 4);
PLINTH_PIN_FIELD(plinth_scale_params_t, next, 8, 8);
PLINTH_PIN_FIELD(plinth_scale_params_t, scale, 16, 4);
PLINTH_PIN_FIELD(plinth_scale_params_t, bias, 20, 4);

PLINTH_PIN_SIZE(plinth_matmul_params_t, 32);
PLINTH_PIN_FIELD(plinth_matmul_params_t, struct_size, 0, 4);
PLINTH_PIN_FIELD(plinth_matmul_params_t, reserved0, 4, 4);
PLINTH_PIN_FIELD(plinth_matmul_params_t, next, 8, 8);
PLINTH_PIN_FIELD(plinth_matmul_params_t, transpose_a, 16, 4);
PLINTH_PIN_FIELD(plinth_matmul_params_t, transpose_b, 20, 4);
PLINTH_PIN_FIELD(plinth_matmul_params_t, alpha, 24, 4);
PLINTH_PIN_FIELD(plinth_matmul_params_t, reserved1, 28, 4);

PLINTH_PIN_SIZE(plinth_norm_params_t, 24);
PLINTH_PIN_FIELD(plinth_norm_params_t, struct_size, 0, 4);
PLINTH_PIN_FIELD(plinth_norm_params_t, reserved0, 4, 4);
PLINTH_PIN_FIELD(plinth_norm_params_t, next, 8, 8);
PLINTH_PIN_FIELD(plinth_norm_params_t, eps, 16, 4);
PLINTH_PIN_FIELD(plinth_norm_params_t, reserved1, 20, 4);

PLINTH_PIN_SIZE(plinth_softmax_params_t, 24);
PLINTH_PIN_FIELD(plinth_softmax_params_t, struct_size, 0, 4);
PLINTH_PIN_FIELD(plinth_softmax_params_t, reserved0, 4, 4);
PLINTH_PIN_FIELD(plinth_softmax_params_t, next, 8, 8);
PLINTH_PIN_FIELD(plinth_softmax_params_t, scale, 16, 4);
PLINTH_PIN_FIELD(plinth_softmax_params_t, causal, 20, 4);

PLINTH_PIN_SIZE(plinth_gelu_params_t, 24);
PLINTH_PIN_FIELD(plinth_gelu_params_t, struct_size, 0, 4);
PLINTH_PIN_FIELD(plinth_gelu_params_t, reserved0, 4, 4);
PLINTH_PIN_FIELD(plinth_gelu_params_t, next, 8, 8);
PLINTH_PIN_FIELD(plinth_gelu_params_t, approximation, 16, 4);
PLINTH_PIN_FIELD(plinth_gelu_params_t, reserved1, 20, 4);

PLINTH_PIN_SIZE(plinth_rope_params_t, 32);
PLINTH_PIN_FIELD(plinth_rope_params_t, struct_size, 0, 4);
PLINTH_PIN_FIELD(plinth_rope_params_t, mode, 4, 4);
PLINTH_PIN_FIELD(plinth_rope_params_t, next, 8, 8);
PLINTH_PIN_FIELD(plinth_rope_params_t, n_dims, 16, 4);
PLINTH_PIN_FIELD(plinth_rope_params_t, freq_base, 20, 4);
PLINTH_PIN_FIELD(plinth_rope_params_t, freq_scale, 24, 4);
PLINTH_PIN_FIELD(plinth_rope_params_t, reserved0, 28, 4);

PLINTH_PIN_SIZE(plinth_attention_params_t, 24);
PLINTH_PIN_FIELD(plinth_attention_params_t, struct_size, 0, 4);
PLINTH_PIN_FIELD(plinth_attention_params_t, causal, 4, 4);
PLINTH_PIN_FIELD(plinth_attention_params_t, next, 8, 8);
PLINTH_PIN_FIELD(plinth_attention_params_t, scale, 16, 4);
PLINTH_PIN_FIELD(plinth_attention_params_t, reserved0, 20, 4);

PLINTH_PIN_SIZE(plinth_top_k_params_t, 16);
PLINTH_PIN_FIELD(plinth_top_k_params_t, struct_size, 0, 4);
PLINTH_PIN_FIELD(plinth_top_k_params_t, k, 4, 4);
PLINTH_PIN_FIELD(plinth_top_k_params_t, next, 8, 8);

#endif /* LP64 */

/* ---- plinth/abi_lists.h mirrors the headers ------------------------------------------------- */

#include "plinth/abi_lists.h"

/* Op list: one line per op, in id order, and nothing missing. */
#define PLINTH_LIST_OP_INDEX(ID, name, min_in, max_in, outs, ins, outnames) plinth_list_index_op_##ID,
enum { PLINTH_OP_LIST(PLINTH_LIST_OP_INDEX) plinth_list_op_count };
#define PLINTH_LIST_OP_CHECK(ID, name, min_in, max_in, outs, ins, outnames)                            \
  _Static_assert(PLINTH_OP_##ID == plinth_list_index_op_##ID, "abi_lists.h: op " #ID " is out of order"); \
  _Static_assert((min_in) <= (max_in), "abi_lists.h: op " #ID " min_inputs > max_inputs");
PLINTH_OP_LIST(PLINTH_LIST_OP_CHECK)
_Static_assert(plinth_list_op_count == PLINTH_OP_COUNT, "abi_lists.h: PLINTH_OP_LIST misses ops");

/* Entry list: every function pointer of the table, back to back in table order, through the end of
 * the struct. */
#define PLINTH_LIST_ENTRY_INDEX(field, requirement, group, since) plinth_list_index_entry_##field,
enum { PLINTH_API_ENTRIES(PLINTH_LIST_ENTRY_INDEX) plinth_list_entry_count };
#define PLINTH_LIST_ENTRY_CHECK(field, requirement, group, since)                                   \
  _Static_assert(offsetof(plinth_plugin_api_t, field) ==                                            \
                     offsetof(plinth_plugin_api_t, last_error_message) +                            \
                         plinth_list_index_entry_##field * sizeof(void (*)(void)),                  \
                 "abi_lists.h: entry " #field " is out of table order");
PLINTH_API_ENTRIES(PLINTH_LIST_ENTRY_CHECK)
_Static_assert(offsetof(plinth_plugin_api_t, last_error_message) +
                       plinth_list_entry_count * sizeof(void (*)(void)) ==
                   sizeof(plinth_plugin_api_t),
               "abi_lists.h: PLINTH_API_ENTRIES misses entries at the end of the table");
_Static_assert(offsetof(plinth_plugin_api_t, last_error_message) ==
                   offsetof(plinth_plugin_api_t, version) + sizeof(const char*),
               "abi_lists.h: the first entry must follow the table's header fields");

/* Element type list: one line per dtype, in id order, and nothing missing. */
#define PLINTH_LIST_DTYPE_INDEX(ID, name, bytes, elems, kind) plinth_list_index_dtype_##ID,
enum { PLINTH_DTYPE_LIST(PLINTH_LIST_DTYPE_INDEX) plinth_list_dtype_count };
#define PLINTH_LIST_DTYPE_CHECK(ID, name, bytes, elems, kind) \
  _Static_assert(PLINTH_DTYPE_##ID == plinth_list_index_dtype_##ID, "abi_lists.h: dtype " #ID " is out of order");
PLINTH_DTYPE_LIST(PLINTH_LIST_DTYPE_CHECK)
_Static_assert(plinth_list_dtype_count == PLINTH_DTYPE_COUNT, "abi_lists.h: PLINTH_DTYPE_LIST misses dtypes");
