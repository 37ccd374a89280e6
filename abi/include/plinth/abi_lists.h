/*
 * plinth/abi_lists.h — the function table, the op catalogue and the element types as lists, for
 * tables derived from them.
 *
 * abi.h and ops.h are the contract and document every entry and op; this header restates their
 * names once more as X-macros so that no host, SDK or test keeps its own hand-written copy of "which
 * entries are required", "which slots an op has" or "how many bytes a Q4_1 block takes". Each list is checked against the header it
 * mirrors where it is expanded (abi_layout.c pins it at compile time), so it cannot drift. Appending
 * an entry or an op to abi.h/ops.h means appending it here, in the same order.
 *
 * Nothing here is part of the binary ABI: the lists are macros and expand to nothing by themselves.
 */
#ifndef PLINTH_ABI_LISTS_H_
#define PLINTH_ABI_LISTS_H_

#include "plinth/abi.h"
#include "plinth/ops.h"

/** Whether a table entry must be non-NULL (REQUIRED in abi.h) or may be NULL ([optional]). */
#define PLINTH_ENTRY_OPTIONAL 0
#define PLINTH_ENTRY_REQUIRED 1

/**
 * Groups of optional entries that are set together or not at all (abi.h): buffer_map with
 * buffer_unmap, and the four graph entries. PLINTH_ENTRY_GROUP_NONE: the entry stands alone.
 */
#define PLINTH_ENTRY_GROUP_NONE 0
#define PLINTH_ENTRY_GROUP_MAP 1
#define PLINTH_ENTRY_GROUP_GRAPH 2

/**
 * Every function entry of plinth_plugin_api_t, in table order:
 *   X(field, requirement, group, since_minor)
 * field: the member name; requirement: PLINTH_ENTRY_REQUIRED or PLINTH_ENTRY_OPTIONAL; group: a
 * PLINTH_ENTRY_GROUP_*; since_minor: the ABI minor version that appended the entry (a host calls it
 * only when the plugin's struct_size reaches it).
 */
#define PLINTH_API_ENTRIES(X)                                                  \
  X(last_error_message, PLINTH_ENTRY_REQUIRED, PLINTH_ENTRY_GROUP_NONE, 0)     \
  X(last_error_vendor_code, PLINTH_ENTRY_OPTIONAL, PLINTH_ENTRY_GROUP_NONE, 0) \
  X(shutdown, PLINTH_ENTRY_REQUIRED, PLINTH_ENTRY_GROUP_NONE, 0)               \
  X(probe, PLINTH_ENTRY_REQUIRED, PLINTH_ENTRY_GROUP_NONE, 0)                  \
  X(device_open, PLINTH_ENTRY_REQUIRED, PLINTH_ENTRY_GROUP_NONE, 0)            \
  X(device_close, PLINTH_ENTRY_REQUIRED, PLINTH_ENTRY_GROUP_NONE, 0)           \
  X(device_get_properties, PLINTH_ENTRY_REQUIRED, PLINTH_ENTRY_GROUP_NONE, 0)  \
  X(device_memory_info, PLINTH_ENTRY_OPTIONAL, PLINTH_ENTRY_GROUP_NONE, 0)     \
  X(buffer_alloc, PLINTH_ENTRY_REQUIRED, PLINTH_ENTRY_GROUP_NONE, 0)           \
  X(buffer_free, PLINTH_ENTRY_REQUIRED, PLINTH_ENTRY_GROUP_NONE, 0)            \
  X(buffer_map, PLINTH_ENTRY_OPTIONAL, PLINTH_ENTRY_GROUP_MAP, 0)              \
  X(buffer_unmap, PLINTH_ENTRY_OPTIONAL, PLINTH_ENTRY_GROUP_MAP, 0)            \
  X(stream_create, PLINTH_ENTRY_REQUIRED, PLINTH_ENTRY_GROUP_NONE, 0)          \
  X(stream_destroy, PLINTH_ENTRY_REQUIRED, PLINTH_ENTRY_GROUP_NONE, 0)         \
  X(stream_synchronize, PLINTH_ENTRY_REQUIRED, PLINTH_ENTRY_GROUP_NONE, 0)     \
  X(copy_host_to_buffer, PLINTH_ENTRY_REQUIRED, PLINTH_ENTRY_GROUP_NONE, 0)    \
  X(copy_buffer_to_host, PLINTH_ENTRY_REQUIRED, PLINTH_ENTRY_GROUP_NONE, 0)    \
  X(copy_buffer, PLINTH_ENTRY_REQUIRED, PLINTH_ENTRY_GROUP_NONE, 0)            \
  X(event_create, PLINTH_ENTRY_REQUIRED, PLINTH_ENTRY_GROUP_NONE, 0)           \
  X(event_destroy, PLINTH_ENTRY_REQUIRED, PLINTH_ENTRY_GROUP_NONE, 0)          \
  X(event_record, PLINTH_ENTRY_REQUIRED, PLINTH_ENTRY_GROUP_NONE, 0)           \
  X(stream_wait_event, PLINTH_ENTRY_REQUIRED, PLINTH_ENTRY_GROUP_NONE, 0)      \
  X(event_synchronize, PLINTH_ENTRY_REQUIRED, PLINTH_ENTRY_GROUP_NONE, 0)      \
  X(event_query, PLINTH_ENTRY_REQUIRED, PLINTH_ENTRY_GROUP_NONE, 0)            \
  X(event_elapsed_ms, PLINTH_ENTRY_OPTIONAL, PLINTH_ENTRY_GROUP_NONE, 0)       \
  X(graph_begin_capture, PLINTH_ENTRY_OPTIONAL, PLINTH_ENTRY_GROUP_GRAPH, 0)   \
  X(graph_end_capture, PLINTH_ENTRY_OPTIONAL, PLINTH_ENTRY_GROUP_GRAPH, 0)     \
  X(graph_launch, PLINTH_ENTRY_OPTIONAL, PLINTH_ENTRY_GROUP_GRAPH, 0)          \
  X(graph_destroy, PLINTH_ENTRY_OPTIONAL, PLINTH_ENTRY_GROUP_GRAPH, 0)         \
  X(op_supports, PLINTH_ENTRY_REQUIRED, PLINTH_ENTRY_GROUP_NONE, 0)            \
  X(op_launch, PLINTH_ENTRY_REQUIRED, PLINTH_ENTRY_GROUP_NONE, 0)              \
  X(extension_op_get, PLINTH_ENTRY_OPTIONAL, PLINTH_ENTRY_GROUP_NONE, 1)

/**
 * Every op of the catalogue, in id order:
 *   X(ID, name, min_inputs, max_inputs, num_outputs, (input slot names), (output slot names))
 * ID: the suffix of its PLINTH_OP_* id; name: its lower-case name as a token (#name is the string
 * messages use); inputs min_inputs..max_inputs are given (slots past min_inputs are optional and
 * always trailing); the slot names, as ops.h writes them, come as parenthesized lists of string
 * literals, which an expansion unwraps with a variadic macro (e.g. `{ UNWRAP inputs }` where
 * `#define UNWRAP(...) __VA_ARGS__`).
 */
#define PLINTH_OP_LIST(X)                                                     \
  X(COPY, copy, 1, 1, 1, ("x"), ("y"))                                        \
  X(FILL, fill, 0, 0, 1, (), ("y"))                                           \
  X(ADD, add, 2, 2, 1, ("a", "b"), ("y"))                                     \
  X(MUL, mul, 2, 2, 1, ("a", "b"), ("y"))                                     \
  X(SCALE, scale, 1, 1, 1, ("x"), ("y"))                                      \
  X(MATMUL, matmul, 2, 2, 1, ("a", "b"), ("c"))                               \
  X(GET_ROWS, get_rows, 2, 2, 1, ("table", "indices"), ("y"))                 \
  X(RMS_NORM, rms_norm, 1, 2, 1, ("x", "weight"), ("y"))                      \
  X(LAYER_NORM, layer_norm, 1, 3, 1, ("x", "gamma", "beta"), ("y"))           \
  X(SOFTMAX, softmax, 1, 2, 1, ("x", "mask"), ("y"))                          \
  X(GELU, gelu, 1, 1, 1, ("x"), ("y"))                                        \
  X(SILU, silu, 1, 1, 1, ("x"), ("y"))                                        \
  X(SWIGLU, swiglu, 2, 2, 1, ("gate", "up"), ("y"))                           \
  X(ROPE, rope, 2, 2, 1, ("x", "positions"), ("y"))                           \
  X(ATTENTION, attention, 3, 5, 1, ("q", "k", "v", "mask", "kv_lens"), ("o")) \
  X(MEAN_POOL, mean_pool, 1, 2, 1, ("x", "mask"), ("y"))                      \
  X(L2_NORMALIZE, l2_normalize, 1, 1, 1, ("x"), ("y"))                        \
  X(TOP_K, top_k, 1, 1, 2, ("x"), ("values", "indices"))                      \
  X(ARGMAX, argmax, 1, 1, 1, ("x"), ("indices"))                              \
  X(SET_ROWS, set_rows, 2, 2, 1, ("src", "indices"), ("dst"))                 \
  X(PAGED_ATTENTION, paged_attention, 6, 6, 1,                                \
    ("q", "k_cache", "v_cache", "block_table", "query_start", "context_lens"), ("o"))

/** Kinds of element type (the catalogue's dtype classes). */
#define PLINTH_DTYPE_KIND_FLOAT 0 /**< F32, F16, BF16. */
#define PLINTH_DTYPE_KIND_INT 1   /**< I32. */
#define PLINTH_DTYPE_KIND_QUANT 2 /**< Block-quantized: PLINTH_QUANT_BLOCK elements per block. */

/**
 * Every element type of abi.h, in id order:
 *   X(ID, name, block_bytes, block_elems, kind)
 * ID: the suffix of its PLINTH_DTYPE_* id; name: its lower-case name as a token; a block of
 * block_elems elements takes block_bytes bytes (1 element for unquantized types); kind: a
 * PLINTH_DTYPE_KIND_*.
 */
#define PLINTH_DTYPE_LIST(X)                                   \
  X(F32, f32, 4, 1, PLINTH_DTYPE_KIND_FLOAT)                   \
  X(F16, f16, 2, 1, PLINTH_DTYPE_KIND_FLOAT)                   \
  X(BF16, bf16, 2, 1, PLINTH_DTYPE_KIND_FLOAT)                 \
  X(I32, i32, 4, 1, PLINTH_DTYPE_KIND_INT)                     \
  X(Q8_0, q8_0, 34, PLINTH_QUANT_BLOCK, PLINTH_DTYPE_KIND_QUANT) \
  X(Q4_0, q4_0, 18, PLINTH_QUANT_BLOCK, PLINTH_DTYPE_KIND_QUANT) \
  X(Q4_1, q4_1, 20, PLINTH_QUANT_BLOCK, PLINTH_DTYPE_KIND_QUANT)

#endif /* PLINTH_ABI_LISTS_H_ */
