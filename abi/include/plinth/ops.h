/*
 * plinth/ops.h — the op catalogue, version 1 (ids 0-18), extended by ABI 1.2 (ids 19-20).
 *
 * Each op has an id, a fixed list of input and output slots, a parameter struct (or none), and
 * semantics written here and in docs/ops.md. conformance/reference holds the reference kernel each
 * plugin is certified against (double accumulation) and the tolerance per dtype.
 *
 * Shape conventions (all ops):
 *  - dims[0] is outermost, dims[ndim-1] innermost ("the last dimension"). Shapes are written
 *    outermost first: [B, M, K].
 *  - "Float" dtypes are F32, F16 and BF16. Unless an op says otherwise, an op computes in at least
 *    f32 precision, reads any float dtype for its float inputs and writes any float dtype for its float
 *    outputs; inputs and outputs need not share a dtype. A plugin that does not implement a
 *    combination answers op_supports = 0 and op_launch = UNSUPPORTED.
 *  - Broadcasting (add, mul, masks): shapes are aligned at the last dimension (numpy rules); an input
 *    dimension of extent 1 is repeated. An input with fewer dims is padded with leading 1s.
 *  - An output must not overlap any input unless the op says in-place is allowed.
 *  - Tensors of zero elements are valid and do nothing.
 *  - Params: FILL, SCALE and TOP_K require their params struct (NULL is INVALID_ARGUMENT); for every
 *    other op NULL params means the documented defaults.
 *
 * New ops are appended with new ids in a new minor version; an existing op's semantics never change.
 */
#ifndef PLINTH_OPS_H_
#define PLINTH_OPS_H_

#include "plinth/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Elements per block of every block-quantized dtype (Q8_0, Q4_0, Q4_1). */
#define PLINTH_QUANT_BLOCK 32

/*
 * Block layouts (GGUF's, byte for byte; little-endian). For element j of a block (0..31):
 *   Q8_0 (34 bytes): f16 d; int8 qs[32].            x_j = d * qs[j]
 *   Q4_0 (18 bytes): f16 d; uint8 qs[16].           x_j = d * (nib_j - 8)
 *   Q4_1 (20 bytes): f16 d; f16 m; uint8 qs[16].    x_j = d * nib_j + m
 * where nib_j = qs[j] & 0xF for j < 16 and qs[j-16] >> 4 for j >= 16.
 */

/* ---- Op ids -------------------------------------------------------------------------------------- */

/**
 * COPY (copy / convert). inputs: [x]; outputs: [y]. x and y have the same shape; any strides.
 * y = convert(x). Float <-> float conversions round to nearest even; I32 -> I32 is an exact copy.
 * Quantized dtypes are not accepted. No params.
 */
#define PLINTH_OP_COPY 0

/**
 * FILL. inputs: none; outputs: [y] (float or I32, any strides). Every element of y = params.value
 * (converted to y's dtype; for I32 truncated toward zero). Params: plinth_fill_params_t.
 */
#define PLINTH_OP_FILL 1

/**
 * ADD. inputs: [a, b]; outputs: [y]. y = a + b with broadcasting of a and b to y's shape (y's shape
 * must equal the broadcast shape). Float dtypes. y may alias a exactly (same buffer, offset, shape
 * and strides) for in-place accumulation. No params.
 */
#define PLINTH_OP_ADD 2

/** MUL. As ADD, with y = a * b. */
#define PLINTH_OP_MUL 3

/**
 * SCALE. inputs: [x]; outputs: [y] (same shape). y = x * scale + bias. y may alias x exactly.
 * Params: plinth_scale_params_t.
 */
#define PLINTH_OP_SCALE 4

/**
 * MATMUL (batched). inputs: [a, b]; outputs: [c]. Params: plinth_matmul_params_t.
 * a has shape [..., M, K] (or [..., K, M] when transpose_a), b has shape [..., K, N] (or [..., N, K]
 * when transpose_b); c has shape [..., M, N]. Leading (batch) dims broadcast as in ADD: c's batch
 * shape is the broadcast of a's and b's (up to 2 batch dims).
 * c = alpha * op(a) @ op(b), accumulated in at least f32.
 * Dtypes: a float (F32, F16, BF16); b float or block-quantized (Q8_0, Q4_0, Q4_1). A quantized b
 * must use transpose_b = 1: it is stored as weight rows [N, K] with K a multiple of 32 (GGUF's
 * weight layout), and batch dims of extent 1. c float.
 */
#define PLINTH_OP_MATMUL 5

/**
 * GET_ROWS (embedding gather). inputs: [table, indices]; outputs: [y].
 * table [R, D] (float or block-quantized; quantized rows need D % 32 == 0), indices [N] I32,
 * y [N, D] float. y[i, :] = dequant(table[indices[i], :]). An index outside [0, R) is an error the
 * plugin reports from the stream (INVALID_ARGUMENT at the next synchronize) or, when indices are
 * checked at launch, from op_launch; it never reads outside the table. No params.
 */
#define PLINTH_OP_GET_ROWS 6

/**
 * RMS_NORM over the last dimension. inputs: [x, weight?]; outputs: [y] (same shape as x).
 * weight [D] optional (NULL slot = all ones). y = x / sqrt(mean(x^2) + eps) * weight.
 * Params: plinth_norm_params_t.
 */
#define PLINTH_OP_RMS_NORM 7

/**
 * LAYER_NORM over the last dimension. inputs: [x, gamma?, beta?]; outputs: [y].
 * y = (x - mean) / sqrt(var + eps) * gamma + beta, var the biased (population) variance.
 * gamma [D] optional (ones), beta [D] optional (zeros). Params: plinth_norm_params_t.
 */
#define PLINTH_OP_LAYER_NORM 8

/**
 * SOFTMAX over the last dimension. inputs: [x, mask?]; outputs: [y] (same shape as x).
 * z = x * scale + mask (mask float, broadcast to x's shape; -inf allowed). With causal = 1 and x's
 * last two dims [Sq, Sk] (a 1-D x is one row: Sq = 1), element (i, j) is masked (treated as -inf)
 * when j > i + (Sk - Sq).
 * y = exp(z - max z) / sum exp(z - max z); a row whose elements are all masked yields zeros.
 * Params: plinth_softmax_params_t.
 */
#define PLINTH_OP_SOFTMAX 9

/**
 * GELU, elementwise. inputs: [x]; outputs: [y]. Params: plinth_gelu_params_t (NULL = exact erf form).
 * exact: y = 0.5 x (1 + erf(x / sqrt 2)); tanh: y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
 */
#define PLINTH_OP_GELU 10

/** SILU, elementwise. inputs: [x]; outputs: [y]. y = x / (1 + exp(-x)). No params. */
#define PLINTH_OP_SILU 11

/**
 * SWIGLU. inputs: [gate, up] (same shape); outputs: [y]. y = silu(gate) * up. No params.
 */
#define PLINTH_OP_SWIGLU 12

/**
 * ROPE (rotary position embedding). inputs: [x, positions]; outputs: [y] (same shape as x).
 * x [B, S, H, D] float (ndim 3 means B = 1: [S, H, D]); positions [S] or [B, S] I32.
 * For pair index i in [0, n_dims/2): theta = p * freq_scale * freq_base^(-2i / n_dims) with p the
 * token's position. NORMAL mode rotates the pairs (x[2i], x[2i+1]); NEOX mode rotates
 * (x[i], x[i + n_dims/2]). (a, b) -> (a cos theta - b sin theta, a sin theta + b cos theta).
 * Dimensions >= n_dims are copied unchanged. n_dims is even and <= D; 0 means D.
 * y may alias x exactly. Params: plinth_rope_params_t.
 */
#define PLINTH_OP_ROPE 13

/**
 * ATTENTION (fused scaled dot-product). inputs: [q, k, v, mask?, kv_lens?]; outputs: [o].
 * q [B, Hq, Sq, D], k [B, Hkv, Skv, D], v [B, Hkv, Skv, Dv], o [B, Hq, Sq, Dv]; Hq % Hkv == 0 and
 * query head h reads kv head h / (Hq / Hkv) (grouped-query attention).
 * mask: optional additive float mask broadcast to [B, Hq, Sq, Skv].
 * kv_lens: optional I32 [B]; batch b uses only keys [0, kv_lens[b]) (default Skv); values must lie
 * in [0, Skv].
 * s = scale * q k^T + mask; with causal = 1, query i of batch b sits at position
 * L_b - Sq + i (L_b = kv_lens[b] or Skv) and key j is masked when j > L_b - Sq + i.
 * o = softmax(s) v; a query whose keys are all masked yields zeros.
 * Params: plinth_attention_params_t (scale 0 means 1/sqrt(D), or 1 when D = 0).
 */
#define PLINTH_OP_ATTENTION 14

/**
 * MEAN_POOL (masked). inputs: [x, mask?]; outputs: [y]. x [B, S, D] float, mask [B, S] (float or
 * I32; nonzero = keep; NULL = all kept), y [B, D]. y[b] = sum_s keep(b,s) x[b,s] / max(1, count).
 * No params.
 */
#define PLINTH_OP_MEAN_POOL 15

/**
 * L2_NORMALIZE over the last dimension. inputs: [x]; outputs: [y]. y = x / max(||x||_2, eps).
 * Params: plinth_norm_params_t.
 */
#define PLINTH_OP_L2_NORMALIZE 16

/**
 * TOP_K over the last dimension. inputs: [x] [R, N] (or [N]) float; outputs: [values, indices],
 * values [R, k] float, indices [R, k] I32 (for x [N]: [k] or [1, k]). The k largest elements of each
 * row in descending order;
 * equal values order by lower index first. NaN compares greater than every number (and equal NaNs
 * by index). k <= N. Params: plinth_top_k_params_t.
 */
#define PLINTH_OP_TOP_K 17

/**
 * ARGMAX over the last dimension. inputs: [x] [R, N] (or [N]) float; outputs: [indices] [R] (or
 * [1]) I32. The index of the largest element; ties go to the lower index; NaN as in TOP_K. No params.
 */
#define PLINTH_OP_ARGMAX 18

/* ---- Ops of ABI 1.2: the paged KV cache ---------------------------------------------------------- */

/**
 * SET_ROWS (row scatter; the paged KV-cache write). inputs: [src, indices]; outputs: [dst].
 * src [N, W] float, indices [N] I32, dst [R, W] float (any strides). dst is read and written:
 * dst[indices[i], :] = convert(src[i, :]) for every i, and every other row of dst keeps its contents.
 * Indices must be distinct; with duplicates, which of their source rows lands is unspecified. An
 * index outside [0, R) is an error reported as for GET_ROWS (from the stream, or from op_launch when
 * indices are checked at launch); nothing is written outside dst, and whether the rows with valid
 * indices are written is unspecified. dst must not overlap src or indices. No params.
 * Since ABI 1.2: a plugin of an older minor version reports it as an unknown op.
 */
#define PLINTH_OP_SET_ROWS 19

/**
 * PAGED_ATTENTION (attention over a ragged batch with a paged KV cache).
 * inputs: [q, k_cache, v_cache, block_table, query_start, context_lens]; outputs: [o].
 *   q            [T, Hq, D] float: the queries of S sequences packed one after another;
 *   k_cache      [NB, BS, Hkv, D] float: NB blocks of BS token slots;
 *   v_cache      [NB, BS, Hkv, Dv] float (same NB, BS, Hkv as k_cache);
 *   block_table  [S, MB] I32: row s lists the blocks of sequence s; entries past the ones a
 *                sequence uses are not read (they may hold anything, e.g. -1);
 *   query_start  [S + 1] I32: sequence s owns query rows [query_start[s], query_start[s+1]);
 *                query_start[0] = 0, non-decreasing, query_start[S] = T;
 *   context_lens [S] I32: L_s, the tokens of sequence s in the cache, its new ones included;
 *   o            [T, Hq, Dv] float.
 * Key/value position j < L_s of sequence s is slot j % BS of block block_table[s, j / BS]. Query row
 * query_start[s] + i (i < n_s = query_start[s+1] - query_start[s]) sits at position L_s - n_s + i;
 * with causal = 1 it sees keys j <= L_s - n_s + i, otherwise all L_s keys. Grouped-query heads as in
 * ATTENTION (Hq % Hkv == 0; query head h reads kv head h / (Hq / Hkv)).
 * o = softmax(scale * q k^T) v per query and head; a query that sees no key yields zeros. Blocks may
 * be shared by several sequences and appear in any order.
 * Data-dependent errors (reported as for GET_ROWS; nothing is read outside the inputs, and the rows
 * of o are then undefined): a block id read outside [0, NB), L_s < n_s, L_s > MB * BS, or
 * query_start not as described.
 * Params: plinth_attention_params_t (scale 0 means 1/sqrt(D), or 1 when D = 0).
 * Since ABI 1.2: a plugin of an older minor version reports it as an unknown op.
 */
#define PLINTH_OP_PAGED_ATTENTION 20

/** Number of ops in the catalogue; ids are 0 .. PLINTH_OP_COUNT-1. */
#define PLINTH_OP_COUNT 21

/**
 * PLINTH_OP_COUNT as each ABI minor version defined it: a plugin of minor version m knows the ops
 * with ids below PLINTH_OP_COUNT_OF_MINOR(m). Hosts use it to tell "unknown to this plugin" from
 * "not supported by this device".
 */
#define PLINTH_OP_COUNT_OF_MINOR(m) ((m) >= 2 ? 21 : 19)

/* ---- Parameter structs (each starts with struct_size and next; see plinth/abi.h rule 2) ---------- */

typedef struct plinth_fill_params {
  uint32_t struct_size; /**< sizeof(plinth_fill_params_t) as compiled by the host. */
  uint32_t reserved0;
  const void* next;
  double value;
} plinth_fill_params_t;

typedef struct plinth_scale_params {
  uint32_t struct_size;
  uint32_t reserved0;
  const void* next;
  float scale; /**< Multiplier. */
  float bias;  /**< Added after scaling (default 0). */
} plinth_scale_params_t;

typedef struct plinth_matmul_params {
  uint32_t struct_size;
  uint32_t reserved0;
  const void* next;
  uint32_t transpose_a; /**< 1: a is stored [..., K, M]. */
  uint32_t transpose_b; /**< 1: b is stored [..., N, K] (required for quantized b). */
  float alpha;          /**< Output scale; 1 for the plain product. */
  uint32_t reserved1;
} plinth_matmul_params_t;

/** Shared by RMS_NORM, LAYER_NORM and L2_NORMALIZE. */
typedef struct plinth_norm_params {
  uint32_t struct_size;
  uint32_t reserved0;
  const void* next;
  float eps; /**< > 0. */
  uint32_t reserved1;
} plinth_norm_params_t;

typedef struct plinth_softmax_params {
  uint32_t struct_size;
  uint32_t reserved0;
  const void* next;
  float scale;     /**< Applied to x before the mask; 0 means 1. */
  uint32_t causal; /**< 1: causal mask over the last two dims. */
} plinth_softmax_params_t;

#define PLINTH_GELU_ERF 0
#define PLINTH_GELU_TANH 1

typedef struct plinth_gelu_params {
  uint32_t struct_size;
  uint32_t reserved0;
  const void* next;
  uint32_t approximation; /**< PLINTH_GELU_ERF or PLINTH_GELU_TANH. */
  uint32_t reserved1;
} plinth_gelu_params_t;

#define PLINTH_ROPE_NORMAL 0
#define PLINTH_ROPE_NEOX 1

typedef struct plinth_rope_params {
  uint32_t struct_size;
  uint32_t mode;        /**< PLINTH_ROPE_NORMAL or PLINTH_ROPE_NEOX. */
  const void* next;
  uint32_t n_dims;      /**< Rotated dims (even, <= D); 0 means D. */
  float freq_base;      /**< Typically 10000. */
  float freq_scale;     /**< Position multiplier; typically 1. */
  uint32_t reserved0;
} plinth_rope_params_t;

typedef struct plinth_attention_params {
  uint32_t struct_size;
  uint32_t causal; /**< 1: causal masking as described for PLINTH_OP_ATTENTION. */
  const void* next;
  float scale;     /**< Score scale; 0 means 1/sqrt(D). */
  uint32_t reserved0;
} plinth_attention_params_t;

typedef struct plinth_top_k_params {
  uint32_t struct_size;
  uint32_t k; /**< >= 1 and <= N. */
  const void* next;
} plinth_top_k_params_t;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* PLINTH_OPS_H_ */
