/*
 * plinth/abi.h — the Plinth backend plugin ABI, version 1.
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
 *                         struct's struct_size is below its v1.0 size; handles of different devices
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
 *       holds (device_get_properties, device_memory_info, buffer_map, buffer_unmap, op_supports) may
 *       still succeed;
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
#define PLINTH_ABI_VERSION_MINOR 0

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
#define PLINTH_ERROR_DEVICE_LOST 4               /**< The device is unusable; only destroy calls remain valid. */
#define PLINTH_ERROR_NOT_READY 5                 /**< Work not finished yet (event_query); not a failure. */
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
 * until its `shutdown` entry returns (the host keeps the struct alive that long).
 */
typedef struct plinth_host_services {
  uint32_t struct_size; /**< sizeof(plinth_host_services_t) as compiled by the host. */
  uint32_t abi_major;   /**< The host's PLINTH_ABI_VERSION_MAJOR. */
  const void* next;     /**< Extension chain; NULL in v1.0. */
  uint32_t abi_minor;   /**< The host's PLINTH_ABI_VERSION_MINOR. */
  uint32_t reserved0;   /**< Zero. */
  /**
   * Log sink. May be NULL (then the plugin stays silent). Thread-safe; may be called from any
   * plugin thread. [in] level: PLINTH_LOG_*; [in] message: NUL-terminated UTF-8, borrowed for the
   * call; [in] user_data: `log_user_data` below.
   */
  void (*log)(void* user_data, int32_t level, const char* message);
  void* log_user_data; /**< Opaque, passed back to `log`. */
} plinth_host_services_t;

/* ------------------------------------------------------------------------------------------------ */
/* Handles                                                                                          */
/* ------------------------------------------------------------------------------------------------ */

/** Opaque handles. Their structs are defined only inside the plugin. */
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
 */
typedef struct plinth_probe_entry {
  uint32_t struct_size;          /**< Set by the host; the plugin fills fields inside it. */
  uint32_t index;                /**< [out] Device index for device_open, or UINT32_MAX (plugin-wide). */
  const void* next;              /**< [in] Extension chain; NULL. */
  uint32_t usable;               /**< [out] 1 if device_open(index) is expected to succeed, else 0. */
  uint32_t reserved0;            /**< [out] Zero. */
  char name[PLINTH_NAME_MAX];    /**< [out] Device name, NUL-terminated ("" for plugin-wide entries). */
  char reason[PLINTH_REASON_MAX];/**< [out] Why it is unusable, NUL-terminated; "" when usable. */
} plinth_probe_entry_t;

/** Device classes. */
#define PLINTH_DEVICE_TYPE_CPU 0
#define PLINTH_DEVICE_TYPE_DISCRETE_GPU 1
#define PLINTH_DEVICE_TYPE_INTEGRATED_GPU 2
#define PLINTH_DEVICE_TYPE_ACCELERATOR 3
#define PLINTH_DEVICE_TYPE_VIRTUAL 4 /**< Emulated or software device (a template, lavapipe). */

/** Feature bits in plinth_device_properties_t.features. */
#define PLINTH_FEATURE_F16 (1ull << 0)          /**< f16 storage in ops that take it. */
#define PLINTH_FEATURE_BF16 (1ull << 1)         /**< bf16 storage in ops that take it. */
#define PLINTH_FEATURE_INT8 (1ull << 2)         /**< int8 arithmetic (quantized kernels). */
#define PLINTH_FEATURE_SUBGROUPS (1ull << 3)    /**< Subgroup/warp operations are used. */
#define PLINTH_FEATURE_GRAPHS (1ull << 4)       /**< Native graph capture/replay entries are set. */
#define PLINTH_FEATURE_HOST_PINNED (1ull << 5)  /**< PLINTH_MEMORY_HOST_PINNED is supported. */
#define PLINTH_FEATURE_SHARED_MEMORY (1ull << 6)/**< PLINTH_MEMORY_SHARED is supported. */
#define PLINTH_FEATURE_TIMESTAMPS (1ull << 7)   /**< Timing events (event_elapsed_ms) work. */
#define PLINTH_FEATURE_UNIFIED_MEMORY (1ull << 8)/**< Device memory is host memory (mappable). */

/** Device properties. The host sets struct_size; device_get_properties fills fields inside it. */
typedef struct plinth_device_properties {
  uint32_t struct_size;                /**< Set by the host. */
  uint32_t device_type;                /**< [out] PLINTH_DEVICE_TYPE_*. */
  const void* next;                    /**< [in] Extension chain; NULL. */
  char name[PLINTH_NAME_MAX];          /**< [out] Marketing name ("NVIDIA H100", "llvmpipe"). */
  char vendor[PLINTH_NAME_MAX];        /**< [out] Vendor name. */
  char arch[PLINTH_NAME_MAX];          /**< [out] Architecture ("sm_90", "gfx90a", "x86-64-avx512"). */
  char driver_version[PLINTH_NAME_MAX];/**< [out] Driver/runtime version string, or "". */
  uint64_t total_memory;               /**< [out] Bytes of device memory. */
  uint64_t max_allocation;             /**< [out] Largest single buffer in bytes. */
  uint64_t max_op_range;               /**< [out] Largest tensor span one op may address, bytes. */
  uint64_t features;                   /**< [out] PLINTH_FEATURE_* bits. */
  uint32_t compute_units;              /**< [out] SMs, CUs, or CPU threads used. */
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

/** A buffer request. */
typedef struct plinth_buffer_desc {
  uint32_t struct_size; /**< sizeof as compiled by the host. */
  uint32_t memory_kind; /**< PLINTH_MEMORY_*. */
  const void* next;     /**< Extension chain; NULL. */
  uint64_t size;        /**< Bytes, > 0. */
  uint64_t alignment;   /**< Requested alignment (power of two) or 0 for min_alignment. */
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
 * For block-quantized dtypes the innermost dimension must be a multiple of 32 and packed as
 * consecutive blocks; strides[ndim-1] is ignored and the other strides are in bytes between rows.
 * Unused trailing entries of dims/strides (k >= ndim) are ignored.
 */
typedef struct plinth_tensor {
  uint32_t struct_size;               /**< sizeof(plinth_tensor_t) as compiled by the host. */
  plinth_dtype_t dtype;               /**< PLINTH_DTYPE_*. */
  const void* next;                   /**< Extension chain; NULL. */
  plinth_buffer_t buffer;             /**< Borrowed; NULL only in op_supports queries. */
  uint64_t offset;                    /**< Byte offset of element (0,..,0) in buffer. */
  uint32_t ndim;                      /**< 1..PLINTH_MAX_DIMS (0 = scalar, treated as one element). */
  uint32_t reserved0;                 /**< Zero. */
  int64_t dims[PLINTH_MAX_DIMS];      /**< Extent of each dimension, >= 0. */
  int64_t strides[PLINTH_MAX_DIMS];   /**< Byte stride of each dimension, >= 0. */
} plinth_tensor_t;

/** Op identifiers (the catalogue, see plinth/ops.h). */
typedef int32_t plinth_op_t;

/**
 * One op invocation. `inputs` and `outputs` are arrays of pointers (so each tensor's struct_size can
 * differ); an optional operand is a NULL pointer in its slot. `params` points at the op's parameter
 * struct from plinth/ops.h (which starts with struct_size), or is NULL for ops without parameters.
 * Everything is borrowed for the duration of the call; the plugin copies what it needs to run the
 * work later.
 */
typedef struct plinth_op_call {
  uint32_t struct_size;                   /**< sizeof(plinth_op_call_t) as compiled by the host. */
  plinth_op_t op;                         /**< PLINTH_OP_*. */
  const void* next;                       /**< Extension chain; NULL. */
  const plinth_tensor_t* const* inputs;   /**< num_inputs pointers; slots may be NULL (optional). */
  const plinth_tensor_t* const* outputs;  /**< num_outputs pointers, none NULL. */
  uint32_t num_inputs;
  uint32_t num_outputs;
  const void* params;                     /**< Op parameter struct, or NULL. */
} plinth_op_call_t;

/* ------------------------------------------------------------------------------------------------ */
/* The plugin function table                                                                        */
/* ------------------------------------------------------------------------------------------------ */

/**
 * Everything a plugin implements. Returned by plinth_plugin_init; owned by the plugin and valid
 * until `shutdown` returns. The host calls only entries that lie inside struct_size; a NULL entry
 * means "not implemented" (the host reports it or emulates: graphs are emulated by the core).
 * Entries marked REQUIRED must be non-NULL.
 */
typedef struct plinth_plugin_api {
  uint32_t struct_size;   /**< sizeof(plinth_plugin_api_t) the plugin was compiled with. */
  uint32_t abi_major;     /**< The plugin's PLINTH_ABI_VERSION_MAJOR. */
  const void* next;       /**< Extension chain; NULL in v1.0. */
  uint32_t abi_minor;     /**< The plugin's PLINTH_ABI_VERSION_MINOR. */
  uint32_t reserved0;     /**< Zero. */
  const char* name;       /**< Short plugin name used in device ids ("cpu", "vulkan"); static. */
  const char* version;    /**< Plugin build version string; static. */

  /* ---- Errors -------------------------------------------------------------------------------- */

  /**
   * REQUIRED. Message describing the last failed call made *on this thread*, NUL-terminated UTF-8.
   * Returns "" if the last call succeeded or none failed yet, with one exception: after op_supports
   * answers 0 (and returns PLINTH_OK) it holds the reason the call is unsupported. The string is owned by the plugin and
   * valid until the next call on this thread. Never fails.
   */
  const char* (*last_error_message)(void);

  /**
   * Vendor error code of the last failed call on this thread (a CUresult, VkResult, ...), or 0.
   * Never fails. May be NULL.
   */
  int64_t (*last_error_vendor_code)(void);

  /* ---- Lifetime and discovery ---------------------------------------------------------------- */

  /**
   * REQUIRED. Release everything the plugin holds. All devices must already be closed (a plugin may
   * reclaim leaked objects but must not crash). No entry may be called afterwards.
   */
  plinth_status_t (*shutdown)(void);

  /**
   * REQUIRED. Side-effect-free discovery: fills up to `capacity` entries and sets *out_count to the
   * number of entries that exist (so a call with capacity 0 counts). Includes unusable devices and
   * plugin-wide reasons. Opens nothing that outlives the call and never fails merely because no
   * device exists: "no driver" is an entry with usable = 0 and a reason.
   * [out] entries: array of `capacity` structs, each entries[0].struct_size bytes long (the host's
   * sizeof, which may differ from the plugin's: element i starts at byte i * entries[0].struct_size);
   * the host sets struct_size in every element. May be NULL if capacity is 0.
   * [in] capacity. [out] out_count: required.
   * Errors: INVALID_ARGUMENT (NULL out_count, or entries NULL with capacity > 0).
   */
  plinth_status_t (*probe)(plinth_probe_entry_t* entries, uint32_t capacity, uint32_t* out_count);

  /**
   * REQUIRED. Open device `index` (from probe). Opening the same index twice yields two independent
   * handles to the same hardware. [out] out_device: owned by the host until device_close.
   * Errors: OUT_OF_RANGE (no such index), UNSUPPORTED (device unusable; message says why).
   */
  plinth_status_t (*device_open)(uint32_t index, plinth_device_t* out_device);

  /**
   * REQUIRED. Close a device. Waits for its outstanding work. Buffers, streams, events and graphs
   * still alive are reclaimed by the plugin (a host leak, which the core's validation layer reports).
   */
  plinth_status_t (*device_close)(plinth_device_t device);

  /**
   * REQUIRED. Fill `props` (fields inside props->struct_size only). [in] device. [in,out] props.
   */
  plinth_status_t (*device_get_properties)(plinth_device_t device, plinth_device_properties_t* props);

  /**
   * Current free and total bytes of device memory. May be NULL (the host then assumes total_memory
   * from the properties and tracks its own use). [out] out_free, out_total: required.
   */
  plinth_status_t (*device_memory_info)(plinth_device_t device, uint64_t* out_free, uint64_t* out_total);

  /* ---- Buffers ------------------------------------------------------------------------------- */

  /**
   * REQUIRED. Allocate a buffer. Contents are undefined. The returned buffer is aligned to
   * max(desc->alignment, min_alignment). [in] desc. [out] out_buffer: owned by the host until
   * buffer_free. Errors: INVALID_ARGUMENT (size 0, alignment not a power of two), UNSUPPORTED
   * (memory kind), OUT_OF_MEMORY (nothing is leaked; the device stays usable), OUT_OF_RANGE
   * (size > max_allocation).
   */
  plinth_status_t (*buffer_alloc)(plinth_device_t device, const plinth_buffer_desc_t* desc,
                                  plinth_buffer_t* out_buffer);

  /**
   * REQUIRED. Free a buffer. The host guarantees no queued work still uses it (the core's allocator
   * tracks stream use); freeing a mapped buffer unmaps it.
   */
  plinth_status_t (*buffer_free)(plinth_buffer_t buffer);

  /**
   * Map a host-visible buffer (HOST_PINNED, SHARED, or DEVICE when the device has
   * PLINTH_FEATURE_UNIFIED_MEMORY). Returns the host address of the byte at `offset`, valid until
   * buffer_unmap or buffer_free. The host must order accesses with queued work itself (synchronize
   * first). May be NULL when no memory kind is host-visible.
   * Errors: UNSUPPORTED (not host-visible), OUT_OF_RANGE (offset+size beyond the buffer),
   * INVALID_STATE (already mapped).
   */
  plinth_status_t (*buffer_map)(plinth_buffer_t buffer, uint64_t offset, uint64_t size, void** out_ptr);

  /** Unmap a mapped buffer. INVALID_STATE if not mapped. NULL exactly when buffer_map is NULL. */
  plinth_status_t (*buffer_unmap)(plinth_buffer_t buffer);

  /* ---- Streams ------------------------------------------------------------------------------- */

  /**
   * REQUIRED. Create an in-order stream on `device`. [in] flags: 0 in v1. [out] out_stream: owned by
   * the host until stream_destroy.
   */
  plinth_status_t (*stream_create)(plinth_device_t device, uint32_t flags, plinth_stream_t* out_stream);

  /** REQUIRED. Wait for the stream's work, then destroy it. */
  plinth_status_t (*stream_destroy)(plinth_stream_t stream);

  /**
   * REQUIRED. Block the calling thread until all work submitted to `stream` so far has finished.
   * Returns the first asynchronous error of that work, if any (DEVICE_LOST, INTERNAL).
   */
  plinth_status_t (*stream_synchronize)(plinth_stream_t stream);

  /**
   * REQUIRED. Enqueue a copy from host memory into a buffer. [in] src: borrowed until the copy has
   * finished (stream_synchronize or an event after it) — the host must keep it alive and unchanged.
   * Errors: OUT_OF_RANGE (dst_offset+size beyond dst).
   */
  plinth_status_t (*copy_host_to_buffer)(plinth_stream_t stream, const void* src, plinth_buffer_t dst,
                                         uint64_t dst_offset, uint64_t size);

  /**
   * REQUIRED. Enqueue a copy from a buffer into host memory. [out] dst: written when the copy has
   * finished; borrowed until then. Errors: OUT_OF_RANGE.
   */
  plinth_status_t (*copy_buffer_to_host)(plinth_stream_t stream, plinth_buffer_t src, uint64_t src_offset,
                                         void* dst, uint64_t size);

  /**
   * REQUIRED. Enqueue a copy between two buffers of the same device. Overlapping regions of the same
   * buffer are INVALID_ARGUMENT. Errors: OUT_OF_RANGE.
   */
  plinth_status_t (*copy_buffer)(plinth_stream_t stream, plinth_buffer_t src, uint64_t src_offset,
                                 plinth_buffer_t dst, uint64_t dst_offset, uint64_t size);

  /* ---- Events -------------------------------------------------------------------------------- */

  /**
   * REQUIRED. Create an event. [in] flags: PLINTH_EVENT_FLAG_TIMING or 0. An event never recorded
   * counts as complete.
   */
  plinth_status_t (*event_create)(plinth_device_t device, uint32_t flags, plinth_event_t* out_event);

  /** REQUIRED. Destroy an event (pending waits on it still complete). */
  plinth_status_t (*event_destroy)(plinth_event_t event);

  /**
   * REQUIRED. Record `event` at the current end of `stream`: it completes when all work submitted to
   * the stream before this call has finished. Re-recording replaces the previous record.
   */
  plinth_status_t (*event_record)(plinth_event_t event, plinth_stream_t stream);

  /**
   * REQUIRED. Make all later work on `stream` wait until `event` completes (no host blocking).
   * The event and stream may belong to different streams of the same device.
   */
  plinth_status_t (*stream_wait_event)(plinth_stream_t stream, plinth_event_t event);

  /** REQUIRED. Block the calling thread until `event` completes. */
  plinth_status_t (*event_synchronize)(plinth_event_t event);

  /** REQUIRED. PLINTH_OK if complete, PLINTH_ERROR_NOT_READY if not; never blocks. */
  plinth_status_t (*event_query)(plinth_event_t event);

  /**
   * Milliseconds between two completed timing events recorded on the same device.
   * [out] out_ms. Errors: NOT_READY (either not complete), INVALID_ARGUMENT (not timing events or
   * never recorded). May be NULL when PLINTH_FEATURE_TIMESTAMPS is absent.
   */
  plinth_status_t (*event_elapsed_ms)(plinth_event_t start, plinth_event_t end, float* out_ms);

  /* ---- Graphs (optional; the core emulates them when these are NULL) ------------------------- */

  /**
   * Begin capturing `stream`: until graph_end_capture, work submitted to it is recorded instead of
   * executed. Copies with host pointers capture the pointer, which must stay valid for replays.
   * Errors: INVALID_STATE (already capturing), UNSUPPORTED (an op that cannot be captured).
   */
  plinth_status_t (*graph_begin_capture)(plinth_stream_t stream);

  /** End capture and return the recorded graph. [out] out_graph: owned by the host until graph_destroy. */
  plinth_status_t (*graph_end_capture)(plinth_stream_t stream, plinth_graph_t* out_graph);

  /** Enqueue one replay of `graph` on `stream` (any stream of the graph's device). */
  plinth_status_t (*graph_launch)(plinth_graph_t graph, plinth_stream_t stream);

  /** Destroy a graph; queued replays still finish. */
  plinth_status_t (*graph_destroy)(plinth_graph_t graph);

  /* ---- Ops ----------------------------------------------------------------------------------- */

  /**
   * REQUIRED. Whether `device` runs `call` (op, dtypes, shapes, strides, params). Tensors' buffer
   * fields may be NULL; nothing is executed. [out] out_supported: 1 or 0. When 0, the plugin sets
   * the thread's error message to the reason ("bf16 matmul needs AVX512-BF16") and still returns
   * PLINTH_OK. Errors: INVALID_ARGUMENT only for a malformed call (unknown op id is supported = 0).
   */
  plinth_status_t (*op_supports)(plinth_device_t device, const plinth_op_call_t* call, uint32_t* out_supported);

  /**
   * REQUIRED. Enqueue `call` on `stream`. Validates shapes/dtypes/ranges before queueing anything:
   * a rejected call has no effect. Errors: INVALID_ARGUMENT (shapes/dtypes inconsistent with the op's
   * semantics in plinth/ops.h), UNSUPPORTED (valid but not implemented here, or an op id this plugin
   * does not know), OUT_OF_RANGE (a tensor reaches outside its buffer).
   */
  plinth_status_t (*op_launch)(plinth_stream_t stream, const plinth_op_call_t* call);
} plinth_plugin_api_t;

/**
 * The single exported entry point, named PLINTH_PLUGIN_ENTRY_NAME.
 * [in] host: the host's services and version; borrowed until shutdown.
 * [out] out_api: the plugin's table, owned by the plugin.
 * Returns PLINTH_OK, or PLINTH_ERROR_INCOMPATIBLE_VERSION when host->abi_major differs from the
 * plugin's (then *out_api is still set, so the host can name the plugin and its version in a
 * message, but no entry of it may be called), or INVALID_ARGUMENT for NULL arguments or a
 * host->struct_size smaller than the v1.0 struct. Calling it again after shutdown re-initializes.
 * Must have no side effects beyond the plugin's own state (no device is touched).
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
