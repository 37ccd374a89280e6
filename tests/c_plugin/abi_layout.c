/*
 * The v1 layout of every ABI struct on x86-64 (LP64), pinned field by field. A change here is an ABI
 * break: appending a field changes only the sizes (and needs a minor version bump); anything else
 * must never happen within major version 1.
 */
#include <assert.h>
#include <stddef.h>

#include "plinth/abi.h"
#include "plinth/ops.h"

#if defined(__x86_64__)

#define PIN(type, field, off) static_assert(offsetof(type, field) == (off), #type "." #field " moved")
#define SIZE(type, n) static_assert(sizeof(type) == (n), "sizeof " #type " changed")

SIZE(plinth_status_t, 4);
SIZE(plinth_dtype_t, 4);
SIZE(plinth_op_t, 4);

PIN(plinth_host_services_t, struct_size, 0);
PIN(plinth_host_services_t, abi_major, 4);
PIN(plinth_host_services_t, next, 8);
PIN(plinth_host_services_t, abi_minor, 16);
PIN(plinth_host_services_t, reserved0, 20);
PIN(plinth_host_services_t, log, 24);
PIN(plinth_host_services_t, log_user_data, 32);
SIZE(plinth_host_services_t, 40);

PIN(plinth_probe_entry_t, struct_size, 0);
PIN(plinth_probe_entry_t, index, 4);
PIN(plinth_probe_entry_t, next, 8);
PIN(plinth_probe_entry_t, usable, 16);
PIN(plinth_probe_entry_t, reserved0, 20);
PIN(plinth_probe_entry_t, name, 24);
PIN(plinth_probe_entry_t, reason, 152);
SIZE(plinth_probe_entry_t, 408);

PIN(plinth_device_properties_t, struct_size, 0);
PIN(plinth_device_properties_t, device_type, 4);
PIN(plinth_device_properties_t, next, 8);
PIN(plinth_device_properties_t, name, 16);
PIN(plinth_device_properties_t, vendor, 144);
PIN(plinth_device_properties_t, arch, 272);
PIN(plinth_device_properties_t, driver_version, 400);
PIN(plinth_device_properties_t, total_memory, 528);
PIN(plinth_device_properties_t, max_allocation, 536);
PIN(plinth_device_properties_t, max_op_range, 544);
PIN(plinth_device_properties_t, features, 552);
PIN(plinth_device_properties_t, compute_units, 560);
PIN(plinth_device_properties_t, min_alignment, 564);
PIN(plinth_device_properties_t, subgroup_size, 568);
PIN(plinth_device_properties_t, vendor_id, 572);
PIN(plinth_device_properties_t, device_id, 576);
PIN(plinth_device_properties_t, reserved0, 580);
SIZE(plinth_device_properties_t, 584);

PIN(plinth_buffer_desc_t, struct_size, 0);
PIN(plinth_buffer_desc_t, memory_kind, 4);
PIN(plinth_buffer_desc_t, next, 8);
PIN(plinth_buffer_desc_t, size, 16);
PIN(plinth_buffer_desc_t, alignment, 24);
SIZE(plinth_buffer_desc_t, 32);

PIN(plinth_tensor_t, struct_size, 0);
PIN(plinth_tensor_t, dtype, 4);
PIN(plinth_tensor_t, next, 8);
PIN(plinth_tensor_t, buffer, 16);
PIN(plinth_tensor_t, offset, 24);
PIN(plinth_tensor_t, ndim, 32);
PIN(plinth_tensor_t, reserved0, 36);
PIN(plinth_tensor_t, dims, 40);
PIN(plinth_tensor_t, strides, 72);
SIZE(plinth_tensor_t, 104);

PIN(plinth_op_call_t, struct_size, 0);
PIN(plinth_op_call_t, op, 4);
PIN(plinth_op_call_t, next, 8);
PIN(plinth_op_call_t, inputs, 16);
PIN(plinth_op_call_t, outputs, 24);
PIN(plinth_op_call_t, num_inputs, 32);
PIN(plinth_op_call_t, num_outputs, 36);
PIN(plinth_op_call_t, params, 40);
SIZE(plinth_op_call_t, 48);

PIN(plinth_plugin_api_t, struct_size, 0);
PIN(plinth_plugin_api_t, abi_major, 4);
PIN(plinth_plugin_api_t, next, 8);
PIN(plinth_plugin_api_t, abi_minor, 16);
PIN(plinth_plugin_api_t, reserved0, 20);
PIN(plinth_plugin_api_t, name, 24);
PIN(plinth_plugin_api_t, version, 32);
PIN(plinth_plugin_api_t, last_error_message, 40);
PIN(plinth_plugin_api_t, last_error_vendor_code, 48);
PIN(plinth_plugin_api_t, shutdown, 56);
PIN(plinth_plugin_api_t, probe, 64);
PIN(plinth_plugin_api_t, device_open, 72);
PIN(plinth_plugin_api_t, device_close, 80);
PIN(plinth_plugin_api_t, device_get_properties, 88);
PIN(plinth_plugin_api_t, device_memory_info, 96);
PIN(plinth_plugin_api_t, buffer_alloc, 104);
PIN(plinth_plugin_api_t, buffer_free, 112);
PIN(plinth_plugin_api_t, buffer_map, 120);
PIN(plinth_plugin_api_t, buffer_unmap, 128);
PIN(plinth_plugin_api_t, stream_create, 136);
PIN(plinth_plugin_api_t, stream_destroy, 144);
PIN(plinth_plugin_api_t, stream_synchronize, 152);
PIN(plinth_plugin_api_t, copy_host_to_buffer, 160);
PIN(plinth_plugin_api_t, copy_buffer_to_host, 168);
PIN(plinth_plugin_api_t, copy_buffer, 176);
PIN(plinth_plugin_api_t, event_create, 184);
PIN(plinth_plugin_api_t, event_destroy, 192);
PIN(plinth_plugin_api_t, event_record, 200);
PIN(plinth_plugin_api_t, stream_wait_event, 208);
PIN(plinth_plugin_api_t, event_synchronize, 216);
PIN(plinth_plugin_api_t, event_query, 224);
PIN(plinth_plugin_api_t, event_elapsed_ms, 232);
PIN(plinth_plugin_api_t, graph_begin_capture, 240);
PIN(plinth_plugin_api_t, graph_end_capture, 248);
PIN(plinth_plugin_api_t, graph_launch, 256);
PIN(plinth_plugin_api_t, graph_destroy, 264);
PIN(plinth_plugin_api_t, op_supports, 272);
PIN(plinth_plugin_api_t, op_launch, 280);
SIZE(plinth_plugin_api_t, 288);

PIN(plinth_fill_params_t, value, 16);
SIZE(plinth_fill_params_t, 24);
PIN(plinth_scale_params_t, scale, 16);
PIN(plinth_scale_params_t, bias, 20);
SIZE(plinth_scale_params_t, 24);
PIN(plinth_matmul_params_t, transpose_a, 16);
PIN(plinth_matmul_params_t, transpose_b, 20);
PIN(plinth_matmul_params_t, alpha, 24);
SIZE(plinth_matmul_params_t, 32);
PIN(plinth_norm_params_t, eps, 16);
SIZE(plinth_norm_params_t, 24);
PIN(plinth_softmax_params_t, scale, 16);
PIN(plinth_softmax_params_t, causal, 20);
SIZE(plinth_softmax_params_t, 24);
PIN(plinth_gelu_params_t, approximation, 16);
SIZE(plinth_gelu_params_t, 24);
PIN(plinth_rope_params_t, mode, 4);
PIN(plinth_rope_params_t, n_dims, 16);
PIN(plinth_rope_params_t, freq_base, 20);
PIN(plinth_rope_params_t, freq_scale, 24);
SIZE(plinth_rope_params_t, 32);
PIN(plinth_attention_params_t, causal, 4);
PIN(plinth_attention_params_t, scale, 16);
SIZE(plinth_attention_params_t, 24);
PIN(plinth_top_k_params_t, k, 4);
PIN(plinth_top_k_params_t, next, 8);
SIZE(plinth_top_k_params_t, 16);

#endif /* __x86_64__ */

/* Numbers are part of the ABI on every platform. */
static_assert(PLINTH_ABI_VERSION_MAJOR == 1, "this file pins ABI major 1");
static_assert(PLINTH_ERROR_INTERNAL == 9 && PLINTH_ERROR_OUT_OF_RANGE == 7, "status codes renumbered");
static_assert(PLINTH_DTYPE_Q4_1 == 6 && PLINTH_DTYPE_COUNT == 7, "dtype ids renumbered");
static_assert(PLINTH_OP_MATMUL == 5 && PLINTH_OP_ATTENTION == 14 && PLINTH_OP_ARGMAX == 18, "op ids renumbered");
static_assert(PLINTH_OP_COUNT >= 19, "ops are never removed");
static_assert(PLINTH_MEMORY_SHARED == 2 && PLINTH_DEVICE_TYPE_VIRTUAL == 4, "enumerations renumbered");

/* ISO C forbids an empty translation unit on other platforms. */
typedef int plinth_abi_layout_pinned;
