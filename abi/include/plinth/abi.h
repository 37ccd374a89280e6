/*
 * plinth/abi.h — the Plinth backend plugin ABI, version 1.1 (1.1 appended vendor extension ops).
 *
 * This header is the whole contract between the Plinth host (the core runtime, the conformance suite,
 * or any other program) and a backend plugin. It is plain C11 with no dependencies beyond <stddef.h>
 * and <stdint.h>, so a plugin can be written in any language that speaks the C ABI. The numbered rules
 * below hold for every entry; each entry's comment adds only what is particular to it. docs/abi.md
 * explains why the rules are what they are.
 *
 * How entries and fields are documented
 *  - Tags. [in]: read by the callee. [out]: written by the callee. [in,out]: both. [optional]: a
 *    pointer that may be NULL, or a table entry that may be NULL ("not implemented"); a pointer
 *    without it is required, and NULL there is INVALID_ARGUMENT. [range(0, n)]: points to n elements
 *    (or bytes), indices 0..n-1. REQUIRED marks table entries that are never NULL.
 *  - Status codes are written without their PLINTH_ERROR_ prefix. "Errors:" names each code the
 *    entry returns for its own reasons, with the trigger; "Also:" names the common errors of rule 5
 *    that apply to it. An entry returns no other code.
 *
 *  1. One exported symbol. A plugin exports exactly `plinth_plugin_init` (PLINTH_PLUGIN_ENTRY_NAME).
 *     The host passes its ABI version and its services; the plugin returns its function table.
 *     Same major version means compatible. A plugin never aborts on a version mismatch: it returns
 *     PLINTH_ERROR_INCOMPATIBLE_VERSION.
 *
 *  2. Sizes, not versions, decide what is present. Every struct that crosses the boundary starts with
 *     `uint32_t struct_size` (the sizeof the *writer* of the struct compiled with) and carries a
 *     `const void* next` extension pointer (NULL unless a future extension says otherwise). A reader
 *     uses only the fields that lie entirely inside struct_size and defaults the rest (zero, unless the
 *     field's documentation names another default). A smaller struct from an older peer is never an
 *     error; a struct_size smaller than the struct's first version is PLINTH_ERROR_INVALID_ARGUMENT.
 *     When the callee fills an [out] struct, the caller sets struct_size (and next) first and the
 *     callee writes only the fields inside it, leaving struct_size, next and every byte beyond alone.
 *
 *  3. Append-only. New fields go at the end of structs, new entries at the end of the function table,
 *     new ops and dtypes get new numbers. Nothing is removed, reordered or retyped within a major
 *     version. Layouts are pinned by static asserts (abi/src/abi_layout.c) and by an abidiff check
 *     against abi/baseline in CI.
 *
 *  4. Errors are status codes. No entry throws, aborts or exits. Every entry returns plinth_status_t,
 *     except last_error_message and last_error_vendor_code, which never fail. After each call, those
 *     two describe it for the calling thread: a non-empty message naming the entry, the operand and
 *     the problem for every error, and "" after PLINTH_OK. Two exceptions: op_supports answering 0
 *     returns PLINTH_OK with the reason as its message, and NOT_READY is not an error — it needs no
 *     message (the message is then unspecified) and a host neither logs nor reports it. Calls on
 *     other threads never change this thread's message.
 *     A call that returns an error had no effect: it created, destroyed and enqueued nothing, and an
 *     [out] handle is left as the host set it (other [out] values are unspecified). Exceptions:
 *     stream_synchronize waited before reporting (rule 9), and graph_end_capture ends the capture
 *     whatever it returns (except INVALID_ARGUMENT). When several triggers hold at once, the plugin
 *     may return the code of any of them.
 *
 *  5. Common errors. Besides its own errors, an entry may return these (its "Also:" line says which):
 *       INVALID_ARGUMENT  a handle, or a pointer not marked [optional], is NULL; an [in] or [in,out]
 *                         struct's struct_size is below its first version's size (v1.0, or the
 *                         minor that added the struct); handles of different devices
 *                         are passed together (rule 8). A handle that was destroyed, belongs to a
 *                         closed device or comes from another plugin is a host error: a plugin should
 *                         detect it and return INVALID_ARGUMENT, but need not.
 *       OUT_OF_MEMORY     host or device memory the call itself needs ran out; nothing leaked and the
 *                         device stays usable.
 *       DEVICE_LOST       the device is lost (rule 10).
 *       INTERNAL          a plugin bug or an unexpected driver error; see last_error_vendor_code.
 *
 *  6. Thread safety. Every entry may be called from any thread, concurrently with any other, with
 *     these limits: the host calls plinth_plugin_init and shutdown while no other call into the
 *     plugin is in progress; destroying an object (or closing its device) while another thread still
 *     uses it is a host error. Work submitted to one stream executes in submission order, whichever
 *     threads submitted it; calls that race on one stream are ordered as the plugin serializes them.
 *     The host's log callback may run on any plugin thread, concurrently, and must not call into the
 *     plugin. Entries with further limits say so.
 *
 *  7. Ownership and lifetime.
 *     - Handles returned by device_open, buffer_alloc, stream_create, event_create and
 *       graph_end_capture are owned by the host. Each stays valid until the host passes it to
 *       device_close, buffer_free, stream_destroy, event_destroy or graph_destroy, or until its
 *       device is closed: device_close frees every object of the device, and the host must not use
 *       their handles afterwards, not even to destroy them. After shutdown no handle is valid.
 *     - Destroying cannot fail for a live handle: buffer_free, stream_destroy, event_destroy,
 *       graph_destroy and device_close return PLINTH_OK and release everything, also with
 *       asynchronous errors pending and after device loss (rule 10). They return INVALID_ARGUMENT
 *       only for a NULL or unknown handle.
 *     - The function table and its name and version strings are static in the plugin: valid as
 *       long as the library is loaded. Entries may be called only between a successful
 *       plinth_plugin_init and shutdown (plinth_plugin_init says what a failed one allows).
 *     - last_error_message's string is the plugin's, valid until the same thread's next call into the
 *       plugin (other than last_error_message and last_error_vendor_code), that thread's exit, or
 *       shutdown. buffer_map's pointer is valid until buffer_unmap or buffer_free of that buffer, or
 *       device_close.
 *     - Structs and arrays the plugin fills (probe entries, device properties) belong to the host.
 *     - Pointers the host passes in are borrowed for the duration of the call and never kept, except:
 *       `host` of plinth_plugin_init (until shutdown returns); `src` of copy_host_to_buffer and `dst`
 *       of copy_buffer_to_host (until that copy has finished, rule 9); and the host memory of copies
 *       captured into a graph (until the graph is destroyed and its last replay has finished). An op
 *       call, its tensors and its params are borrowed for op_supports/op_launch only; the plugin
 *       copies what it needs later.
 *
 *  8. Devices. A device is what one device_open call returns. Opening the same index twice gives two
 *     distinct devices that share the hardware and its memory but no objects: each has its own
 *     buffers, streams, events and graphs, and closing one leaves the other working. An object belongs
 *     to the device it was created on (a graph to the device of the stream that captured it).
 *     "Same device" means the same device handle, not the same index. Every entry that takes several
 *     handles requires them to belong to one device and returns INVALID_ARGUMENT otherwise:
 *     copy_host_to_buffer, copy_buffer_to_host and copy_buffer (stream and buffers), event_record and
 *     stream_wait_event (event and stream), event_elapsed_ms (both events), graph_launch (graph and
 *     stream) and op_launch (stream and every tensor's buffer). No entry orders or moves work across
 *     devices: the host waits for one device (stream_synchronize, event_synchronize) before it
 *     submits to another, and moves data through host memory.
 *
 *  9. Asynchronous execution and errors. The submitting entries — copy_host_to_buffer,
 *     copy_buffer_to_host, copy_buffer, op_launch, event_record, stream_wait_event and graph_launch —
 *     check their arguments, enqueue the work on the stream and return; the work runs later, in
 *     stream order (a plugin may also run it before returning). Their status is about the call
 *     only. Work has finished once stream_synchronize of its stream, or stream_destroy of it, has
 *     returned, or once an event recorded after it on that stream has completed (event_synchronize
 *     returned, or event_query returned PLINTH_OK).
 *     Work that fails while it runs leaves an asynchronous error on its stream: INVALID_ARGUMENT for
 *     a value in device memory out of its range (a get_rows index, an attention kv_lens; plinth/ops.h),
 *     OUT_OF_MEMORY, INTERNAL or DEVICE_LOST. The outputs of failed work are undefined; later work on
 *     the stream still runs, in order. The next stream_synchronize of that stream returns the first
 *     such error (its message may mention the others) and clears them: the error is not sticky, and
 *     another stream_synchronize returns PLINTH_OK unless more work failed. DEVICE_LOST alone stays
 *     (rule 10). No other entry reports asynchronous errors, except that any entry may return
 *     DEVICE_LOST; event_synchronize and event_query report completion only, and stream_destroy and
 *     device_close discard pending errors. A plugin that checks data-dependent values at submission
 *     may return their INVALID_ARGUMENT from the submitting call instead (then the call had no effect).
 *
 * 10. Device loss. A device is lost when its hardware or driver fails for good (a GPU fault, a reset,
 *     a removed card); the plugin may notice during any call. From the first DEVICE_LOST returned for
 *     a device or any of its objects, the device stays lost:
 *     - every entry that creates an object on it, submits work to it or waits for it returns
 *       DEVICE_LOST, promptly: no wait hangs on a lost device. Entries that only read what the plugin
 *       holds (device_get_properties, device_memory_info, buffer_map, buffer_unmap, op_supports,
 *       extension_op_get) may still succeed;
 *     - the destroy entries and device_close return PLINTH_OK and free everything without waiting
 *       for work that will never finish (rule 7);
 *     - queued work is abandoned: its outputs, and the host memory of pending copy_buffer_to_host
 *       calls, are undefined;
 *     - other devices opened on the same hardware may be lost too; other hardware is not affected.
 *     The host recovers by closing the device and, once probe reports the hardware usable, opening it
 *     again. plinth_plugin_init, shutdown, probe and the error entries are never affected.
 */
#ifndef PLINTH_ABI_H_
#define PLINTH_ABI_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------------ */
/* Versioning and export                                                                            */
/* ------------------------------------------------------------------------------------------------ */

/** Major version: bumped only for an incompatible change (never within the life of v1). */
#define PLINTH_ABI_VERSION_MAJOR 1
/** Minor version: bumped for every append (new table entry, struct field, op or dtype). */
#define PLINTH_ABI_VERSION_MINOR 2

/** Name of the single symbol a plugin exports. */
#define PLINTH_PLUGIN_ENTRY_NAME "plinth_plugin_init"

#if defined(_WIN32)
#define PLINTH_PLUGIN_EXPORT __declspec(dllexport)
#else
#define PLINTH_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* ------------------------------------------------------------------------------------------------ */
/* Status codes                                                                                     */
/* ------------------------------------------------------------------------------------------------ */

/** Result of every ABI call. A fixed-width integer so its size never depends on the compiler. */
typedef int32_t plinth_status_t;

#define PLINTH_OK 0                              /**< Success. */
#define PLINTH_ERROR_INVALID_ARGUMENT 1          /**< A parameter is malformed (NULL, bad size, bad shape). */
#define PLINTH_ERROR_UNSUPPORTED 2               /**< Valid request this plugin/device does not implement. */
#define PLINTH_ERROR_OUT_OF_MEMORY 3             /**< An allocation failed; nothing was leaked. */
#define PLINTH_ERROR_DEVICE_LOST 4               /**< The device is gone for good (rule 10). */
#define PLINTH_ERROR_NOT_READY 5                 /**< Not finished (event_query); not a failure (rule 4). */
#define PLINTH_ERROR_INCOMPATIBLE_VERSION 6      /**< Host and plugin ABI majors differ. */
#define PLINTH_ERROR_OUT_OF_RANGE 7              /**< An offset/size/index lies outside its object. */
#define PLINTH_ERROR_INVALID_STATE 8             /**< Call not valid now (e.g. map of a mapped buffer). */
#define PLINTH_ERROR_INTERNAL 9                  /**< A bug or unexpected vendor error; see the message. */

/* ------------------------------------------------------------------------------------------------ */
/* Host services                                                                                    */
/* ------------------------------------------------------------------------------------------------ */

/** Log severities, shared with the host's logger. */
#define PLINTH_LOG_TRACE 0
#define PLINTH_LOG_DEBUG 1
#define PLINTH_LOG_INFO 2
#define PLINTH_LOG_WARN 3
#define PLINTH_LOG_ERROR 4

/**
 * What the host offers the plugin. Passed to plinth_plugin_init; the plugin may keep the pointer
 * until its `shutdown` entry returns (the host keeps the struct alive and unchanged that long).
 * Every field is [in].
 */
typedef struct plinth_host_services {
  uint32_t struct_size; /**< [in] sizeof(plinth_host_services_t) as compiled by the host. */
  uint32_t abi_major;   /**< [in] The host's PLINTH_ABI_VERSION_MAJOR. */
  const void* next;     /**< [in] Extension chain; NULL in v1.0. */
  uint32_t abi_minor;   /**< [in] The host's PLINTH_ABI_VERSION_MINOR. */
  uint32_t reserved0;   /**< [in] Zero. */
  /**
   * [in][optional] Log sink; NULL means the plugin stays silent. Thread-safe: the plugin may call it
   * from any of its threads, concurrently, until shutdown returns, never afterwards. It must not call
   * into the plugin. Parameters: [in] user_data: `log_user_data` below; [in] level: PLINTH_LOG_*;
   * [in] message: NUL-terminated UTF-8, borrowed for the call.
   */
  void (*log)(void* user_data, int32_t level, const char* message);
  void* log_user_data; /**< [in][optional] Opaque, passed back to `log`; never dereferenced by the plugin. */
} plinth_host_services_t;

/* ------------------------------------------------------------------------------------------------ */
/* Handles                                                                                          */
/* ------------------------------------------------------------------------------------------------ */

/** Opaque handles. Their structs are defined only inside the plugin; ownership in rule 7. */
typedef struct plinth_device_s* plinth_device_t;
typedef struct plinth_buffer_s* plinth_buffer_t;
typedef struct plinth_stream_s* plinth_stream_t;
typedef struct plinth_event_s* plinth_event_t;
typedef struct plinth_graph_s* plinth_graph_t;

/* ------------------------------------------------------------------------------------------------ */
/* Probe and device properties                                                                      */
/* ------------------------------------------------------------------------------------------------ */

#define PLINTH_NAME_MAX 128
#define PLINTH_REASON_MAX 256

/**
 * One probe result: a device the plugin found (usable or not), or, when index is UINT32_MAX, a
 * plugin-wide reason for having no usable device ("libcuda.so.1 not found", "no ICD installed").
 * usable is 1 exactly when reason is ""; a plugin-wide entry is never usable and has name "".
 */
typedef struct plinth_probe_entry {
  uint32_t struct_size;          /**< [in] Set by the host in each element. */
  uint32_t index;                /**< [out] Index for device_open (< probe's count), or UINT32_MAX. */
  const void* next;              /**< [in] Extension chain; NULL. */
  uint32_t usable;               /**< [out] 1 if device_open(index) is expected to succeed, else 0. */
  uint32_t reserved0;            /**< [out] Zero. */
  char name[PLINTH_NAME_MAX];    /**< [out] Device name, NUL-terminated ("" for plugin-wide entries). */
  char reason[PLINTH_REASON_MAX];/**< [out] Why it is unusable (actionable), NUL-terminated; "" if usable. */
} plinth_probe_entry_t;

/** Device classes. */
#define PLINTH_DEVICE_TYPE_CPU 0
#define PLINTH_DEVICE_TYPE_DISCRETE_GPU 1
#define PLINTH_DEVICE_TYPE_INTEGRATED_GPU 2
#define PLINTH_DEVICE_TYPE_ACCELERATOR 3
#define PLINTH_DEVICE_TYPE_VIRTUAL 4 /**< Emulated or software device (a template, lavapipe). */

/** Feature bits in plinth_device_properties_t.features. A plugin sets only bits whose entries work. */
#define PLINTH_FEATURE_F16 (1ull << 0)          /**< f16 storage in ops that take it. */
#define PLINTH_FEATURE_BF16 (1ull << 1)         /**< bf16 storage in ops that take it. */
#define PLINTH_FEATURE_INT8 (1ull << 2)         /**< int8 arithmetic (quantized kernels). */
#define PLINTH_FEATURE_SUBGROUPS (1ull << 3)    /**< Subgroup/warp operations are used. */
#define PLINTH_FEATURE_GRAPHS (1ull << 4)       /**< Native graph capture/replay entries are set. */
#define PLINTH_FEATURE_HOST_PINNED (1ull << 5)  /**< PLINTH_MEMORY_HOST_PINNED is supported. */
#define PLINTH_FEATURE_SHARED_MEMORY (1ull << 6)/**< PLINTH_MEMORY_SHARED is supported. */
#define PLINTH_FEATURE_TIMESTAMPS (1ull << 7)   /**< Timing events (event_elapsed_ms) work. */
#define PLINTH_FEATURE_UNIFIED_MEMORY (1ull << 8)/**< Device memory is host memory (mappable). */

/**
 * Device properties. The host sets struct_size and next; device_get_properties fills the fields
 * inside struct_size. Strings are NUL-terminated. The values do not change while the device is open.
 */
typedef struct plinth_device_properties {
  uint32_t struct_size;                /**< [in] Set by the host. */
  uint32_t device_type;                /**< [out] PLINTH_DEVICE_TYPE_*. */
  const void* next;                    /**< [in] Extension chain; NULL. */
  char name[PLINTH_NAME_MAX];          /**< [out] Marketing name ("NVIDIA H100", "llvmpipe"), non-empty. */
  char vendor[PLINTH_NAME_MAX];        /**< [out] Vendor name. */
  char arch[PLINTH_NAME_MAX];          /**< [out] Architecture ("sm_90", "gfx90a", "x86-64-avx512"). */
  char driver_version[PLINTH_NAME_MAX];/**< [out] Driver/runtime version string, or "". */
  uint64_t total_memory;               /**< [out] Bytes of the hardware's memory (all its devices), > 0. */
  uint64_t max_allocation;             /**< [out] Largest single buffer in bytes, > 0. */
  uint64_t max_op_range;               /**< [out] Largest tensor span one op may address, bytes, > 0. */
  uint64_t features;                   /**< [out] PLINTH_FEATURE_* bits known to the table's minor. */
  uint32_t compute_units;              /**< [out] SMs, CUs, or CPU threads used; > 0. */
  uint32_t min_alignment;              /**< [out] Alignment every buffer has, bytes (power of two). */
  uint32_t subgroup_size;              /**< [out] Subgroup/warp width, 1 if none. */
  uint32_t vendor_id;                  /**< [out] PCI vendor id, 0 if none. */
  uint32_t device_id;                  /**< [out] PCI device id, 0 if none. */
  uint32_t reserved0;                  /**< [out] Zero. */
} plinth_device_properties_t;

/* ------------------------------------------------------------------------------------------------ */
/* Memory                                                                                           */
/* ------------------------------------------------------------------------------------------------ */

#define PLINTH_MEMORY_DEVICE 0      /**< Device-local; mappable only with PLINTH_FEATURE_UNIFIED_MEMORY. */
#define PLINTH_MEMORY_HOST_PINNED 1 /**< Host memory the device reaches fast; always mappable. */
#define PLINTH_MEMORY_SHARED 2      /**< Visible to host and device (managed/unified); mappable. */

/** A buffer request. Every field is [in]; borrowed for the buffer_alloc call. */
typedef struct plinth_buffer_desc {
  uint32_t struct_size; /**< [in] sizeof as compiled by the host. */
  uint32_t memory_kind; /**< [in] PLINTH_MEMORY_*. */
  const void* next;     /**< [in] Extension chain; NULL. */
  uint64_t size;        /**< [in] Bytes, > 0. */
  uint64_t alignment;   /**< [in] Requested alignment (power of two) or 0 for min_alignment. */
} plinth_buffer_desc_t;

/* ------------------------------------------------------------------------------------------------ */
/* Streams, events, graphs                                                                          */
/* ------------------------------------------------------------------------------------------------ */

#define PLINTH_EVENT_FLAG_TIMING 1u /**< The event records a timestamp for event_elapsed_ms. */

/* ------------------------------------------------------------------------------------------------ */
/* Tensors and ops                                                                                  */
/* ------------------------------------------------------------------------------------------------ */

/** Element types. Quantized types store blocks of 32 elements in the GGUF layouts (see plinth/ops.h). */
typedef int32_t plinth_dtype_t;
#define PLINTH_DTYPE_F32 0
#define PLINTH_DTYPE_F16 1  /**< IEEE binary16. */
#define PLINTH_DTYPE_BF16 2 /**< bfloat16. */
#define PLINTH_DTYPE_I32 3
#define PLINTH_DTYPE_Q8_0 4 /**< 34-byte blocks: f16 scale d, 32 x int8 q; x = d*q. */
#define PLINTH_DTYPE_Q4_0 5 /**< 18-byte blocks: f16 d, 16 bytes of nibbles; x = d*(q-8). */
#define PLINTH_DTYPE_Q4_1 6 /**< 20-byte blocks: f16 d, f16 m, 16 bytes of nibbles; x = d*q + m. */
#define PLINTH_DTYPE_COUNT 7

#define PLINTH_MAX_DIMS 4

/**
 * A tensor view: a buffer region described by a shape and byte strides. dims[0] is the outermost
 * dimension; dims[ndim-1] the innermost. Element (i0,..,i{n-1}) lives at
 * offset + sum(ik * strides[k]) bytes. Strides may be 0 (broadcast) but not negative.
 * For block-quantized dtypes ndim is at least 1, the innermost dimension must be a multiple of 32
 * and packed as consecutive blocks; strides[ndim-1] is ignored and the other strides are in bytes
 * between rows. Unused trailing entries of dims/strides (k >= ndim) are ignored. A tensor of zero
 * elements is valid. In op_launch `buffer` is a live buffer of the stream's device; op_supports does
 * not use it. Every field is [in]; the struct is borrowed for the op_supports/op_launch call.
 */
typedef struct plinth_tensor {
  uint32_t struct_size;               /**< [in] sizeof(plinth_tensor_t) as compiled by the host. */
  plinth_dtype_t dtype;               /**< [in] PLINTH_DTYPE_*. */
  const void* next;                   /**< [in] Extension chain; NULL. */
  plinth_buffer_t buffer;             /**< [in] Borrowed; NULL allowed only in op_supports. */
  uint64_t offset;                    /**< [in] Byte offset of element (0,..,0) in buffer; any alignment. */
  uint32_t ndim;                      /**< [in] 0..PLINTH_MAX_DIMS; 0 is a scalar of one element. */
  uint32_t reserved0;                 /**< [in] Zero. */
  int64_t dims[PLINTH_MAX_DIMS];      /**< [in][range(0, ndim)] Extent of each dimension, >= 0. */
  int64_t strides[PLINTH_MAX_DIMS];   /**< [in][range(0, ndim)] Byte stride of each dimension, >= 0. */
} plinth_tensor_t;

/** Op identifiers (the catalogue, see plinth/ops.h). */
typedef int32_t plinth_op_t;

/**
 * One op invocation. `inputs` and `outputs` are arrays of pointers (so each tensor's struct_size can
 * differ); an optional operand is a NULL pointer in its slot, and trailing optional slots may be
 * left out of num_inputs. `inputs` may be NULL only when num_inputs is 0. `params` points at the op's
 * parameter struct from plinth/ops.h (which starts with struct_size); NULL means the op's defaults,
 * except for FILL, SCALE and TOP_K, which require theirs. Everything is [in] and borrowed for the
 * duration of the call; the plugin copies what it needs to run the work later.
 */
typedef struct plinth_op_call {
  uint32_t struct_size;                   /**< [in] sizeof(plinth_op_call_t) as compiled by the host. */
  plinth_op_t op;                         /**< [in] PLINTH_OP_*. */
  const void* next;                       /**< [in] Extension chain; NULL. */
  const plinth_tensor_t* const* inputs;   /**< [in][range(0, num_inputs)] Slots may be NULL (optional). */
  const plinth_tensor_t* const* outputs;  /**< [in][range(0, num_outputs)] No slot NULL. */
  uint32_t num_inputs;                    /**< [in] From the op's required inputs to all its slots. */
  uint32_t num_outputs;                   /**< [in] Exactly the op's number of outputs. */
  const void* params;                     /**< [in][optional] Op parameter struct, or NULL (defaults). */
} plinth_op_call_t;

/* ------------------------------------------------------------------------------------------------ */
/* Vendor extension ops (since 1.1)                                                                 */
/* ------------------------------------------------------------------------------------------------ */

/**
 * The first op id of the extension range. A device numbers its extension ops itself, from here up;
 * catalogue ids stay below it forever, so the two never collide. An extension id means something
 * only on the device that described it (extension_op_get), and only while that device is open.
 */
#define PLINTH_OP_EXTENSION_FIRST 0x40000000

/**
 * One vendor extension op: a fused or special kernel a plugin offers beside the catalogue, under a
 * namespaced name. Its semantics, operands and params are the vendor's and documented by the vendor;
 * Plinth certifies none of them (the conformance suite only lists them). A host calls one only when
 * its caller asked for it by name and version, and keeps a catalogue path as the fallback.
 * The host sets struct_size and next; extension_op_get fills the fields inside struct_size (rule 2).
 */
typedef struct plinth_extension_op {
  uint32_t struct_size;                /**< [in] Set by the host. */
  plinth_op_t op;                      /**< [out] Id for plinth_op_call_t.op on this device: >=
                                            PLINTH_OP_EXTENSION_FIRST, distinct per extension op, fixed
                                            while the device is open. */
  const void* next;                    /**< [in] Extension chain; NULL. */
  char name[PLINTH_NAME_MAX];          /**< [out] "<vendor>.<op>", NUL-terminated: lowercase ASCII letters,
                                            digits, '_' and '.', starting with the vendor's namespace and a
                                            '.' ("acme.fused_rope_attention"). The namespace "plinth" is
                                            reserved. Distinct per extension op of the device. */
  uint32_t version;                    /**< [out] Version of the op's semantics and params, >= 1. A vendor
                                            bumps it for any change a caller could notice; a new version
                                            accepts every call the old one did, with the same results. */
  uint32_t params_size;                /**< [out] sizeof the op's params struct as the plugin compiled it,
                                            0 for an op without params. A params struct starts with
                                            uint32_t struct_size, uint32_t reserved0 and const void* next,
                                            as the catalogue's do, and grows by appending (rule 2). */
  uint32_t min_inputs;                 /**< [out] Required input slots. */
  uint32_t max_inputs;                 /**< [out] All input slots (>= min_inputs); at most 8. */
  uint32_t num_outputs;                /**< [out] Output slots, 1..4. */
  uint32_t reserved0;                  /**< [out] Zero. */
  char description[PLINTH_REASON_MAX]; /**< [out] One line for reports, NUL-terminated; may be "". */
} plinth_extension_op_t;

/* ------------------------------------------------------------------------------------------------ */
/* The plugin function table                                                                        */
/* ------------------------------------------------------------------------------------------------ */

/**
 * Everything a plugin implements. Returned by plinth_plugin_init; owned by the plugin and static
 * (rule 7). The host calls only entries that lie inside struct_size; a NULL entry means "not
 * implemented" (the host reports it or emulates: graphs are emulated by the core). Entries marked
 * REQUIRED must be non-NULL. The fields before the entries are [out], written by the plugin:
 * struct_size reaches at least the last entry of its abi_minor (a 1.0 table ends at op_launch, a 1.1
 * table at extension_op_get); name is non-empty without ':', ' ', '@' or ','; version is non-NULL.
 * A host of a later minor reads a shorter table as having NULL in every entry past its end.
 */
typedef struct plinth_plugin_api {
  uint32_t struct_size;   /**< [out] sizeof(plinth_plugin_api_t) the plugin was compiled with. */
  uint32_t abi_major;     /**< [out] The plugin's PLINTH_ABI_VERSION_MAJOR. */
  const void* next;       /**< [out] Extension chain; NULL in v1.0. */
  uint32_t abi_minor;     /**< [out] The plugin's PLINTH_ABI_VERSION_MINOR. */
  uint32_t reserved0;     /**< [out] Zero. */
  const char* name;       /**< [out] Short plugin name used in device ids ("cpu", "vulkan"); static. */
  const char* version;    /**< [out] Plugin build version string; static. */

  /* ---- Errors -------------------------------------------------------------------------------- */

  /**
   * REQUIRED. The message of the calling thread's most recent call into this plugin (rule 4):
   * NUL-terminated UTF-8, never NULL; "" when that call returned PLINTH_OK (op_supports answering 0
   * excepted) or when the thread has made no call yet. Calling it changes nothing.
   * Returns: [out] a string owned by the plugin, valid until the same thread's next call into the
   * plugin other than last_error_message/last_error_vendor_code, its exit, or shutdown (rule 7).
   * After a failed plinth_plugin_init that set *out_api it may be called, except after
   * INCOMPATIBLE_VERSION. Never fails.
   */
  const char* (*last_error_message)(void);

  /**
   * [optional] The vendor error code (a CUresult, VkResult, ...) of the calling thread's most recent
   * call into this plugin, or 0 when it succeeded or has none. Same rules as last_error_message.
   * Never fails.
   */
  int64_t (*last_error_vendor_code)(void);

  /* ---- Lifetime and discovery ---------------------------------------------------------------- */

  /**
   * REQUIRED. Release everything the plugin holds and end the initialization. The host closes every
   * device first; a plugin may reclaim what is still open but must not crash. The plugin stops its
   * own threads and never calls the host's log afterwards. No other call may be in progress, and
   * none may follow except plinth_plugin_init, which starts afresh (rule 6).
   * Errors: INTERNAL only (a plugin bug; the plugin is shut down all the same).
   */
  plinth_status_t (*shutdown)(void);

  /**
   * REQUIRED. Side-effect-free discovery: fills up to `capacity` entries and sets *out_count to the
   * number of entries that exist (so a call with capacity 0 counts). Lists every device found, usable
   * or not, and plugin-wide reasons; *out_count is at least 1, since a plugin without a usable device
   * says why. The list stays the same while the hardware does not change. Opens nothing that
   * outlives the call and never fails merely because no device exists: "no driver" is an entry with
   * usable = 0 and a reason. May be called at any time, also while devices are open.
   * [out][optional][range(0, capacity)] entries: the host sets struct_size (its sizeof, the same in
   * every element) and next in each element; element i starts at byte i * entries[0].struct_size,
   * which differs from &entries[i] when the host's struct is larger. The plugin fills elements
   * 0..min(capacity, count)-1 and leaves the rest untouched. NULL only if capacity is 0.
   * [in] capacity: number of elements in entries; 0 only counts.
   * [out] out_count: the number of entries that exist, whatever the capacity.
   * Errors: INVALID_ARGUMENT: out_count is NULL; entries is NULL with capacity > 0;
   *   entries[0].struct_size is below the v1.0 size (nothing is written past it).
   * Also: OUT_OF_MEMORY, INTERNAL.
   */
  plinth_status_t (*probe)(plinth_probe_entry_t* entries, uint32_t capacity, uint32_t* out_count);

  /**
   * REQUIRED. Open device `index` as a new device (rule 8): a second open of the same index returns
   * another, independent handle to the same hardware.
   * [in] index: a device index from probe.
   * [out] out_device: the new device, owned by the host until device_close.
   * Errors: OUT_OF_RANGE: index is not the index of a device that probe lists (UINT32_MAX included).
   *   UNSUPPORTED: the device is unusable (probe lists it with usable = 0); the message says why.
   *   DEVICE_LOST: the hardware is lost and has not recovered.
   * Also: INVALID_ARGUMENT, OUT_OF_MEMORY, INTERNAL.
   */
  plinth_status_t (*device_open)(uint32_t index, plinth_device_t* out_device);

  /**
   * REQUIRED. Close a device: wait for the work submitted to its streams (not on a lost device),
   * then free every buffer, stream, event and graph of it that is still alive (a host leak, which the
   * core's validation layer reports) and the device itself; pending asynchronous errors are
   * discarded. Afterwards no handle of the device may be used (rule 7). Other devices, including
   * ones opened on the same index, keep working. No other thread may be using the device or its
   * objects.
   * [in] device: an open device; invalid after the call.
   * Returns PLINTH_OK, also after device loss (rule 7).
   * Errors: INVALID_ARGUMENT: device is NULL or not an open device.
   */
  plinth_status_t (*device_close)(plinth_device_t device);

  /**
   * REQUIRED. Describe the device.
   * [in] device.
   * [in,out] props: the host sets struct_size and next; the plugin writes the fields inside
   * struct_size (rule 2).
   * Errors: INVALID_ARGUMENT: props is NULL, or props->struct_size is below the v1.0 size (nothing is
   *   written past it).
   * Also: INVALID_ARGUMENT, DEVICE_LOST, INTERNAL.
   */
  plinth_status_t (*device_get_properties)(plinth_device_t device, plinth_device_properties_t* props);

  /**
   * [optional] Current free and total bytes of the hardware's memory (shared by every device opened
   * on it). When NULL, the host assumes total_memory from the properties and tracks its own use.
   * [in] device.
   * [out] out_free: bytes free now, <= *out_total.
   * [out] out_total: bytes in total.
   * Also: INVALID_ARGUMENT, DEVICE_LOST, INTERNAL.
   */
  plinth_status_t (*device_memory_info)(plinth_device_t device, uint64_t* out_free, uint64_t* out_total);

  /* ---- Buffers ------------------------------------------------------------------------------- */

  /**
   * REQUIRED. Allocate a buffer on `device`. Contents are undefined. The buffer is aligned to
   * max(desc->alignment, min_alignment).
   * [in] device.
   * [in] desc: the request.
   * [out] out_buffer: owned by the host until buffer_free.
   * Errors: INVALID_ARGUMENT: desc->size is 0; desc->alignment is neither 0 nor a power of two.
   *   UNSUPPORTED: desc->memory_kind is unknown, or not offered by this device (HOST_PINNED without
   *   PLINTH_FEATURE_HOST_PINNED, SHARED without PLINTH_FEATURE_SHARED_MEMORY); the alignment is
   *   larger than the device can provide.
   *   OUT_OF_RANGE: desc->size (with any padding the alignment needs) exceeds max_allocation.
   *   OUT_OF_MEMORY: the device has not enough free memory now; nothing is leaked, the device stays
   *   usable, and the same request may succeed once memory is freed.
   * Also: INVALID_ARGUMENT, DEVICE_LOST, INTERNAL.
   */
  plinth_status_t (*buffer_alloc)(plinth_device_t device, const plinth_buffer_desc_t* desc,
                                  plinth_buffer_t* out_buffer);

  /**
   * REQUIRED. Free a buffer; a mapping of it ends. The host guarantees that no submitted work using
   * it is still pending (the core's allocator tracks stream use) and that no graph using it will be
   * launched again.
   * [in] buffer: invalid after the call.
   * Returns PLINTH_OK for any live buffer, also after device loss (rule 7).
   * Errors: INVALID_ARGUMENT: buffer is NULL or not live.
   */
  plinth_status_t (*buffer_free)(plinth_buffer_t buffer);

  /**
   * [optional] Map a host-visible buffer for direct host access. NULL exactly when buffer_unmap is
   * NULL, and only when no device of the plugin has host-visible memory (none of the HOST_PINNED,
   * SHARED_MEMORY and UNIFIED_MEMORY features). One mapping per buffer at a time. The memory is coherent, but the host
   * orders its accesses with work itself: it touches the range only while no submitted work using the
   * buffer is pending (synchronize first); work submitted afterwards sees its writes.
   * [in] buffer: HOST_PINNED, SHARED, or DEVICE when the device has PLINTH_FEATURE_UNIFIED_MEMORY.
   * [in] offset, size: the bytes [offset, offset + size) the host may access.
   * [out] out_ptr: the host address of the byte at `offset`; owned by the plugin, valid until
   * buffer_unmap or buffer_free of the buffer, or device_close.
   * Errors: UNSUPPORTED: the buffer's memory is not host-visible.
   *   OUT_OF_RANGE: offset + size exceeds the buffer's size (computed without overflow).
   *   INVALID_STATE: the buffer is already mapped.
   * Also: INVALID_ARGUMENT, DEVICE_LOST, INTERNAL.
   */
  plinth_status_t (*buffer_map)(plinth_buffer_t buffer, uint64_t offset, uint64_t size, void** out_ptr);

  /**
   * [optional] Unmap a mapped buffer; its pointer becomes invalid. NULL exactly when buffer_map is NULL.
   * [in] buffer.
   * Errors: INVALID_STATE: the buffer is not mapped.
   * Also: INVALID_ARGUMENT, DEVICE_LOST, INTERNAL.
   */
  plinth_status_t (*buffer_unmap)(plinth_buffer_t buffer);

  /* ---- Streams ------------------------------------------------------------------------------- */

  /**
   * REQUIRED. Create an in-order stream on `device`.
   * [in] device.
   * [in] flags: 0 in v1.
   * [out] out_stream: owned by the host until stream_destroy.
   * Errors: INVALID_ARGUMENT: flags is not 0.
   * Also: INVALID_ARGUMENT, OUT_OF_MEMORY, DEVICE_LOST, INTERNAL.
   */
  plinth_status_t (*stream_create)(plinth_device_t device, uint32_t flags, plinth_stream_t* out_stream);

  /**
   * REQUIRED. Wait until all work submitted to the stream has finished (not on a lost device), then
   * destroy it. Pending asynchronous errors are discarded and a graph capture in progress is
   * abandoned; events recorded on the stream stay valid.
   * [in] stream: invalid after the call.
   * Returns PLINTH_OK for any live stream, also after device loss (rule 7).
   * Errors: INVALID_ARGUMENT: stream is NULL or not live.
   */
  plinth_status_t (*stream_destroy)(plinth_stream_t stream);

  /**
   * REQUIRED. Block the calling thread until all work submitted to `stream` before this call has
   * finished, then return and clear the first asynchronous error of the stream's work (rule 9).
   * [in] stream.
   * Errors: INVALID_STATE: the stream is capturing a graph.
   *   Asynchronous errors of earlier work: INVALID_ARGUMENT (a value in device memory out of range),
   *   OUT_OF_MEMORY, INTERNAL, DEVICE_LOST.
   * Also: INVALID_ARGUMENT, DEVICE_LOST, INTERNAL.
   */
  plinth_status_t (*stream_synchronize)(plinth_stream_t stream);

  /**
   * REQUIRED. Enqueue a copy from host memory into a buffer (rule 9).
   * [in] stream.
   * [in][range(0, size)] src: host bytes; NULL only if size is 0. Borrowed until the copy has
   * finished: the host keeps it alive and unchanged until then (the plugin may read it any time
   * before, or stage it at once).
   * [in] dst: a buffer of the stream's device (rule 8).
   * [in] dst_offset, size: the bytes [dst_offset, dst_offset + size) of dst; size 0 is an empty copy.
   * Errors: OUT_OF_RANGE: dst_offset + size exceeds dst's size (computed without overflow).
   *   INVALID_ARGUMENT: src is NULL with size > 0.
   *   UNSUPPORTED: the stream is capturing and the plugin cannot capture this copy.
   * Also: INVALID_ARGUMENT, OUT_OF_MEMORY, DEVICE_LOST, INTERNAL.
   */
  plinth_status_t (*copy_host_to_buffer)(plinth_stream_t stream, const void* src, plinth_buffer_t dst,
                                         uint64_t dst_offset, uint64_t size);

  /**
   * REQUIRED. Enqueue a copy from a buffer into host memory (rule 9). A plugin may finish the copy
   * before returning.
   * [in] stream.
   * [in] src: a buffer of the stream's device (rule 8).
   * [in] src_offset, size: the bytes [src_offset, src_offset + size) of src; size 0 is an empty copy.
   * [out][range(0, size)] dst: host memory; NULL only if size is 0. Written by the time the copy has
   * finished and undefined until then; borrowed until then, and the host does not touch it meanwhile.
   * Errors: OUT_OF_RANGE: src_offset + size exceeds src's size (computed without overflow).
   *   INVALID_ARGUMENT: dst is NULL with size > 0.
   *   UNSUPPORTED: the stream is capturing and the plugin cannot capture this copy.
   * Also: INVALID_ARGUMENT, OUT_OF_MEMORY, DEVICE_LOST, INTERNAL.
   */
  plinth_status_t (*copy_buffer_to_host)(plinth_stream_t stream, plinth_buffer_t src, uint64_t src_offset,
                                         void* dst, uint64_t size);

  /**
   * REQUIRED. Enqueue a copy between two buffers of the stream's device (rule 9); src and dst may be
   * the same buffer when the regions do not overlap.
   * [in] stream.
   * [in] src, src_offset: the source buffer and the offset of the first byte read.
   * [in] dst, dst_offset: the destination buffer and the offset of the first byte written.
   * [in] size: bytes to copy; 0 is an empty copy.
   * Errors: OUT_OF_RANGE: src_offset + size exceeds src's size, or dst_offset + size dst's (computed
   *   without overflow).
   *   INVALID_ARGUMENT: src and dst are the same buffer and the two regions overlap (size > 0).
   *   UNSUPPORTED: the stream is capturing and the plugin cannot capture this copy.
   * Also: INVALID_ARGUMENT, OUT_OF_MEMORY, DEVICE_LOST, INTERNAL.
   */
  plinth_status_t (*copy_buffer)(plinth_stream_t stream, plinth_buffer_t src, uint64_t src_offset,
                                 plinth_buffer_t dst, uint64_t dst_offset, uint64_t size);

  /* ---- Events -------------------------------------------------------------------------------- */

  /**
   * REQUIRED. Create an event on `device`. An event never recorded counts as complete.
   * [in] device.
   * [in] flags: PLINTH_EVENT_FLAG_TIMING or 0.
   * [out] out_event: owned by the host until event_destroy.
   * Errors: INVALID_ARGUMENT: flags has a bit other than PLINTH_EVENT_FLAG_TIMING.
   *   UNSUPPORTED: PLINTH_EVENT_FLAG_TIMING on a device without PLINTH_FEATURE_TIMESTAMPS.
   * Also: INVALID_ARGUMENT, OUT_OF_MEMORY, DEVICE_LOST, INTERNAL.
   */
  plinth_status_t (*event_create)(plinth_device_t device, uint32_t flags, plinth_event_t* out_event);

  /**
   * REQUIRED. Destroy an event, recorded and complete or not; waits already enqueued on it with
   * stream_wait_event still take effect.
   * [in] event: invalid after the call.
   * Returns PLINTH_OK for any live event, also after device loss (rule 7).
   * Errors: INVALID_ARGUMENT: event is NULL or not live.
   */
  plinth_status_t (*event_destroy)(plinth_event_t event);

  /**
   * REQUIRED. Record `event` at the current end of `stream` (rule 9): the record completes when all
   * work submitted to the stream before this call has finished; a timing event then takes the
   * device's timestamp. Re-recording replaces the previous record for every later call; waits
   * already enqueued keep the record they saw.
   * [in] event, stream: of the same device (rule 8).
   * Errors: UNSUPPORTED: the stream is capturing and the plugin cannot capture event records.
   * Also: INVALID_ARGUMENT, OUT_OF_MEMORY, DEVICE_LOST, INTERNAL.
   */
  plinth_status_t (*event_record)(plinth_event_t event, plinth_stream_t stream);

  /**
   * REQUIRED. Make all work submitted to `stream` after this call wait until the event's current
   * record has completed, without blocking the host (rule 9). This is how the streams of one device
   * are ordered: the event is usually recorded on another stream of the same device; recorded on
   * `stream` itself it changes nothing. An event never recorded imposes no wait. Across devices the
   * host waits itself (rule 8).
   * [in] stream, event: of the same device (rule 8).
   * Errors: UNSUPPORTED: the stream is capturing and the plugin cannot capture waits.
   * Also: INVALID_ARGUMENT, OUT_OF_MEMORY, DEVICE_LOST, INTERNAL.
   */
  plinth_status_t (*stream_wait_event)(plinth_stream_t stream, plinth_event_t event);

  /**
   * REQUIRED. Block the calling thread until the event's current record has completed; at once if it
   * was never recorded. Reports completion only: asynchronous errors of the work stay pending for
   * stream_synchronize (rule 9).
   * [in] event.
   * Also: INVALID_ARGUMENT, DEVICE_LOST, INTERNAL.
   */
  plinth_status_t (*event_synchronize)(plinth_event_t event);

  /**
   * REQUIRED. Whether the event's current record has completed; never blocks. PLINTH_OK if it has (or
   * was never recorded), NOT_READY if not. NOT_READY is not an error and needs no message (rule 4).
   * [in] event.
   * Also: INVALID_ARGUMENT, DEVICE_LOST, INTERNAL.
   */
  plinth_status_t (*event_query)(plinth_event_t event);

  /**
   * [optional] Milliseconds between two completed timing records. Set whenever the device has
   * PLINTH_FEATURE_TIMESTAMPS; may be NULL otherwise.
   * [in] start, end: events of the same device (rule 8), created with PLINTH_EVENT_FLAG_TIMING.
   * [out] out_ms: time from start's record completing to end's, on the device's clock; negative if
   * end completed first.
   * Errors: NOT_READY: a record has not completed yet (not an error, no message: rule 4).
   *   INVALID_ARGUMENT: an event was created without PLINTH_EVENT_FLAG_TIMING, or never recorded.
   * Also: INVALID_ARGUMENT, DEVICE_LOST, INTERNAL.
   */
  plinth_status_t (*event_elapsed_ms)(plinth_event_t start, plinth_event_t end, float* out_ms);

  /* ---- Graphs (optional; the core emulates them when these are NULL) ------------------------- */
  /*
   * The four entries are all set (and PLINTH_FEATURE_GRAPHS with them) or all NULL. While a stream
   * captures, work submitted to it, from any thread, is recorded into the graph instead of running.
   * Each submission is still checked when it is made; one the plugin cannot capture returns
   * UNSUPPORTED and records nothing. Buffers used by captured work must stay alive as long as the
   * graph. A captured copy_host_to_buffer reads, and a captured copy_buffer_to_host writes, its host
   * memory at every replay, at any time between graph_launch and the replay's completion.
   */

  /**
   * Begin capturing `stream`. Work submitted before this call is not part of the graph.
   * [in] stream.
   * Errors: INVALID_STATE: the stream is already capturing.
   * Also: INVALID_ARGUMENT, OUT_OF_MEMORY, DEVICE_LOST, INTERNAL.
   */
  plinth_status_t (*graph_begin_capture)(plinth_stream_t stream);

  /**
   * End the capture of `stream` and return the recorded graph. Unless it returns INVALID_ARGUMENT,
   * the stream is no longer capturing afterwards, even on failure, and runs work normally again.
   * [in] stream.
   * [out] out_graph: owned by the host until graph_destroy; it belongs to the stream's device and
   * outlives the stream.
   * Errors: INVALID_STATE: the stream is not capturing, or the capture became invalid.
   * Also: INVALID_ARGUMENT, OUT_OF_MEMORY, DEVICE_LOST, INTERNAL.
   */
  plinth_status_t (*graph_end_capture)(plinth_stream_t stream, plinth_graph_t* out_graph);

  /**
   * Enqueue one replay of `graph` on `stream` (rule 9): any stream of the graph's device. A graph may
   * be launched again, on any such stream, before earlier replays finish (the plugin may serialize
   * replays of one graph).
   * [in] graph, stream: of the same device (rule 8).
   * Errors: UNSUPPORTED: the stream is capturing and the plugin cannot capture a replay.
   * Also: INVALID_ARGUMENT, OUT_OF_MEMORY, DEVICE_LOST, INTERNAL.
   */
  plinth_status_t (*graph_launch)(plinth_graph_t graph, plinth_stream_t stream);

  /**
   * Destroy a graph; replays already enqueued still finish (the call may wait for them).
   * [in] graph: invalid after the call.
   * Returns PLINTH_OK for any live graph, also after device loss (rule 7).
   * Errors: INVALID_ARGUMENT: graph is NULL or not live.
   */
  plinth_status_t (*graph_destroy)(plinth_graph_t graph);

  /* ---- Ops ----------------------------------------------------------------------------------- */

  /**
   * REQUIRED. Whether `device` runs `call` (op, dtypes, shapes, strides, params); nothing is
   * executed. The answer for a call does not change while the device is open: 1 means op_launch of
   * it (with valid buffers) will not return UNSUPPORTED, 0 means it will. An op id or dtype this
   * plugin does not know (one from a later minor version, or an extension id this device did not
   * describe) is answered 0, not an error. For an extension op (since 1.1) the call's arity and
   * params are checked against its plinth_extension_op_t; its shapes and dtypes are the vendor's.
   * [in] device.
   * [in] call: as for op_launch, except that the tensors' buffer fields are not used (may be NULL).
   * [out] out_supported: 1 or 0. With 0 the plugin sets the thread's message to the reason ("bf16
   * matmul needs AVX512-BF16"), non-empty, and still returns PLINTH_OK (rule 4).
   * Errors: INVALID_ARGUMENT: the call is malformed (op_launch's INVALID_ARGUMENT triggers that do
   *   not concern buffers).
   * Also: INVALID_ARGUMENT, OUT_OF_MEMORY, DEVICE_LOST, INTERNAL.
   */
  plinth_status_t (*op_supports)(plinth_device_t device, const plinth_op_call_t* call, uint32_t* out_supported);

  /**
   * REQUIRED. Enqueue `call` on `stream` (rule 9). The whole call is checked before anything is
   * enqueued: a rejected call has no effect (its outputs are untouched and the stream has no error).
   * [in] stream.
   * [in] call: borrowed for the call, with its tensors and params (the plugin copies what it needs).
   * Errors: INVALID_ARGUMENT: call, or a tensor or params struct, has struct_size below its v1.0 size;
   *   num_inputs or num_outputs outside the op's arity; a required input slot or any output slot is
   *   NULL; a tensor has ndim > PLINTH_MAX_DIMS, a negative dim or stride, or a quantized innermost
   *   dim that is not a multiple of 32; shapes, dtypes or params break the op's rules in plinth/ops.h
   *   (required params missing included); a tensor's buffer is NULL, not live, or of another device
   *   than the stream (rule 8); a data-dependent value checked at submission (rule 9).
   *   OUT_OF_RANGE: a tensor reaches outside its buffer: offset plus the span of its dims and strides
   *   exceeds the buffer's size, overflow included (for a span that overflows 64 bits,
   *   INVALID_ARGUMENT is allowed too).
   *   UNSUPPORTED: a valid call this device does not implement (op_supports answers 0 for it; the
   *   message gives the same reason), a tensor spanning more than max_op_range bytes, or the stream
   *   is capturing and the op cannot be captured. An op id or dtype the plugin does not know is
   *   UNSUPPORTED or INVALID_ARGUMENT.
   *   An extension op (since 1.1) follows the same rules, with its arity from extension_op_get, a
   *   params struct below 8 bytes (its struct_size and reserved0) as INVALID_ARGUMENT, and the rest
   *   of its rules from its vendor.
   * Also: INVALID_ARGUMENT, OUT_OF_MEMORY, DEVICE_LOST, INTERNAL.
   */
  plinth_status_t (*op_launch)(plinth_stream_t stream, const plinth_op_call_t* call);

  /* ---- Since 1.1 (present when struct_size reaches them) ------------------------------------- */

  /**
   * [optional] Describe extension op number `index` of `device`. Indices run from 0 to the count
   * minus one, and the list is fixed while the device is open, so a host reads it once after
   * device_open, calling with index 0, 1, ... until OUT_OF_RANGE. NULL means the plugin has no
   * extension ops; so does OUT_OF_RANGE for index 0. Side-effect free; may be called on a lost device.
   * [in] device.
   * [in] index: 0-based position in the device's list.
   * [out] out_op: the host sets struct_size and next first; the plugin fills the fields inside
   *   struct_size (rule 2) and nothing past it. Its strings are copies the host owns.
   * Errors: OUT_OF_RANGE: index is not below the number of extension ops (nothing is written; the
   *   message may be "", like NOT_READY's, since this ends every listing).
   *   INVALID_ARGUMENT: out_op->struct_size is below the v1.1 size of plinth_extension_op_t.
   * Also: INVALID_ARGUMENT, INTERNAL.
   */
  plinth_status_t (*extension_op_get)(plinth_device_t device, uint32_t index, plinth_extension_op_t* out_op);
} plinth_plugin_api_t;

/**
 * The single exported entry point, named PLINTH_PLUGIN_ENTRY_NAME. Touches no device and has no side
 * effect beyond the plugin's own state. The host calls it with no other call into the plugin in
 * progress (rule 6). Calling it again after shutdown re-initializes. A call while the plugin is
 * already initialized returns PLINTH_OK and keeps its state (open devices and objects stay valid;
 * the plugin may switch to the new host services, so both stay valid until shutdown). Calls are not
 * counted: the first shutdown ends the plugin for every user, so a process shares one
 * initialization (the core does).
 * [in] host: the host's version and services; borrowed until shutdown returns.
 * [out] out_api: the plugin's table, static (rule 7). Set on success and on INCOMPATIBLE_VERSION,
 * where the host may read only struct_size, abi_major, abi_minor, name and version (to name the plugin
 * in its message) and calls no entry. On other failures it may be set; then only last_error_message
 * and last_error_vendor_code may be called. A failed call leaves the plugin as it was: after a failed
 * first call there is nothing to shut down.
 * Errors: INCOMPATIBLE_VERSION: host->abi_major differs from the plugin's.
 *   INVALID_ARGUMENT: host or out_api is NULL; host->struct_size is below the v1.0 struct.
 * Also: OUT_OF_MEMORY, INTERNAL.
 */
typedef plinth_status_t (*plinth_plugin_init_fn)(const plinth_host_services_t* host,
                                                 const plinth_plugin_api_t** out_api);

/** Plugins define this (exported with PLINTH_PLUGIN_EXPORT). */
PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                        const plinth_plugin_api_t** out_api);

/** Size of a struct up to and including `field`: the smallest struct_size that contains it. */
#define PLINTH_STRUCT_SIZE_THROUGH(type, field) (offsetof(type, field) + sizeof(((type*)0)->field))

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* PLINTH_ABI_H_ */
