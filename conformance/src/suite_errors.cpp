// Error paths: malformed op calls are rejected with the documented status and a message, have no
// effect on their output, and leave the plugin working.
#include <cstring>

#include "../reference/numeric_types.hpp"
#include "harness.hpp"

namespace plinth::cts {
namespace {

plinth_tensor_t tensor(plinth_dtype_t dtype, plinth_buffer_t buffer, std::vector<int64_t> dims, uint64_t offset = 0) {
  auto t = sized<plinth_tensor_t>();
  t.dtype = dtype;
  t.buffer = buffer;
  t.offset = offset;
  t.ndim = static_cast<uint32_t>(dims.size());
  int64_t stride = static_cast<int64_t>(ref::dtype_block_bytes(dtype));
  for (std::size_t k = dims.size(); k-- > 0;) {
    t.dims[k] = dims[k];
    t.strides[k] = stride;
    stride *= dims[k];
  }
  return t;
}

struct Call {
  std::vector<plinth_tensor_t> ins, outs;
  std::vector<const plinth_tensor_t*> in_ptr, out_ptr;
  const void* params = nullptr;
  plinth_op_call_t get(plinth_op_t op) {
    in_ptr.clear();
    out_ptr.clear();
    for (auto& t : ins)
      in_ptr.push_back(t.struct_size == 0 ? nullptr : &t);  // plinth_tensor_t{}: a NULL slot
    for (auto& t : outs) out_ptr.push_back(&t);
    auto c = sized<plinth_op_call_t>();
    c.op = op;
    c.inputs = in_ptr.empty() ? nullptr : in_ptr.data();
    c.outputs = out_ptr.empty() ? nullptr : out_ptr.data();
    c.num_inputs = static_cast<uint32_t>(in_ptr.size());
    c.num_outputs = static_cast<uint32_t>(out_ptr.size());
    c.params = params;
    return c;
  }
};

// Buffers with known contents: a rejected call must leave them exactly so.
struct Scene {
  const Session& s;
  DeviceBuffer a, b, out;
  std::vector<std::byte> a_img, b_img, out_img;
  static constexpr uint64_t kSize = 1024;

  explicit Scene(const Session& session) : s(session) {
    a = s.alloc(kSize);
    b = s.alloc(kSize);
    out = s.alloc(kSize);
    a_img = pattern_bytes(kSize, 1);
    b_img = pattern_bytes(kSize, 2);
    out_img = pattern_bytes(kSize, 3);
    // Inputs hold small finite floats so any accidental computation stays harmless.
    for (uint64_t i = 0; i < kSize; i += 4) {
      const float va = static_cast<float>(i) * 0.25f, vb = 1.0f - static_cast<float>(i);
      std::memcpy(a_img.data() + i, &va, 4);
      std::memcpy(b_img.data() + i, &vb, 4);
    }
    s.upload(a, 0, a_img);
    s.upload(b, 0, b_img);
    s.upload(out, 0, out_img);
  }

  void expect_rejected(plinth_op_t op, Call& call, std::initializer_list<plinth_status_t> allowed, const std::string& what) {
    const auto c = call.get(op);
    const plinth_status_t st = s.api().op_launch(s.stream(), &c);
    const std::string message = s.last_error();
    const plinth_status_t sync = s.api().stream_synchronize(s.stream());
    bool ok = false;
    std::string want;
    for (auto a : allowed) {
      ok = ok || st == a;
      want += (want.empty() ? "" : " or ") + std::string(status_text(a));
    }
    if (!ok) fail(what + ": op_launch returned " + status_text(st) + ", want " + want + (message.empty() ? "" : " (" + message + ")"));
    if (message.empty()) fail(what + ": op_launch returned " + status_text(st) + " with an empty last_error_message");
    if (sync != PLINTH_OK) fail(what + ": the rejected call left an error on the stream: stream_synchronize returned " + status_text(sync));
    if (s.download(out, 0, kSize) != out_img) fail(what + ": the rejected call wrote to its output buffer");
    still_works(what);
  }

  void still_works(const std::string& after) {
    Call ok;
    ok.ins = {tensor(PLINTH_DTYPE_F32, a.get(), {33})};
    ok.outs = {tensor(PLINTH_DTYPE_F32, b.get(), {33}, 512)};
    const auto c = ok.get(PLINTH_OP_COPY);
    s.check(s.api().op_launch(s.stream(), &c), "a valid COPY after: " + after);
    s.sync();
    const auto got = s.download(b, 512, 33 * 4);
    if (std::memcmp(got.data(), a_img.data(), 33 * 4) != 0) fail("the plugin computes a wrong COPY after: " + after);
    s.upload(b, 0, b_img);
  }
};

void bad_arity(TestEnv& env) {
  Scene sc(env.s());
  Call c;
  c.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {16})};
  sc.expect_rejected(PLINTH_OP_COPY, c, {PLINTH_ERROR_INVALID_ARGUMENT}, "COPY with no input");
  c.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {16}), tensor(PLINTH_DTYPE_F32, sc.b.get(), {16})};
  sc.expect_rejected(PLINTH_OP_COPY, c, {PLINTH_ERROR_INVALID_ARGUMENT}, "COPY with two inputs");
  c.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {16})};
  c.outs.clear();
  sc.expect_rejected(PLINTH_OP_COPY, c, {PLINTH_ERROR_INVALID_ARGUMENT}, "COPY with no output");
  if (level_includes(env.level(), Level::kInference1)) {
    Call add;
    add.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {16})};
    add.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {16})};
    sc.expect_rejected(PLINTH_OP_ADD, add, {PLINTH_ERROR_INVALID_ARGUMENT}, "ADD with one input");
    Call mm;
    mm.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {4, 4}), tensor(PLINTH_DTYPE_F32, sc.b.get(), {4, 4})};
    mm.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {4, 4}), tensor(PLINTH_DTYPE_F32, sc.out.get(), {4, 4}, 512)};
    sc.expect_rejected(PLINTH_OP_MATMUL, mm, {PLINTH_ERROR_INVALID_ARGUMENT}, "MATMUL with two outputs");
  }
}

void bad_shape(TestEnv& env) {
  Scene sc(env.s());
  Call c;
  c.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {3, 4})};
  c.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {4, 3})};
  sc.expect_rejected(PLINTH_OP_COPY, c, {PLINTH_ERROR_INVALID_ARGUMENT}, "COPY [3,4] -> [4,3]");
  c.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {3, 4})};
  c.outs[0].dims[1] = -4;
  sc.expect_rejected(PLINTH_OP_COPY, c, {PLINTH_ERROR_INVALID_ARGUMENT}, "COPY into a tensor with a negative dim");
  c.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {3, 4})};
  c.outs[0].ndim = 5;
  sc.expect_rejected(PLINTH_OP_COPY, c, {PLINTH_ERROR_INVALID_ARGUMENT}, "COPY into a tensor with ndim 5");
  c.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {3, 4})};
  c.outs[0].strides[0] = -16;
  sc.expect_rejected(PLINTH_OP_COPY, c, {PLINTH_ERROR_INVALID_ARGUMENT}, "COPY into a tensor with a negative stride");
  c.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {3, 4})};
  c.ins = {tensor(PLINTH_DTYPE_Q8_0, sc.a.get(), {3, 32})};
  c.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {3, 32})};
  sc.expect_rejected(PLINTH_OP_COPY, c, {PLINTH_ERROR_INVALID_ARGUMENT}, "COPY from Q8_0 (quantized dtypes are not accepted)");
  c.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {3, 4})};
  c.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {3, 4})};
  c.ins[0].dtype = 99;
  sc.expect_rejected(PLINTH_OP_COPY, c, {PLINTH_ERROR_INVALID_ARGUMENT, PLINTH_ERROR_UNSUPPORTED}, "COPY from dtype 99");
  if (level_includes(env.level(), Level::kInference1)) {
    Call add;
    add.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {3, 4}), tensor(PLINTH_DTYPE_F32, sc.b.get(), {5, 4})};
    add.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {3, 4})};
    sc.expect_rejected(PLINTH_OP_ADD, add, {PLINTH_ERROR_INVALID_ARGUMENT}, "ADD [3,4]+[5,4]");
    add.ins[1] = tensor(PLINTH_DTYPE_F32, sc.b.get(), {1, 4});
    add.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {3, 5})};
    sc.expect_rejected(PLINTH_OP_ADD, add, {PLINTH_ERROR_INVALID_ARGUMENT}, "ADD [3,4]+[1,4] -> [3,5]");
    Call mm;
    mm.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {4, 5}), tensor(PLINTH_DTYPE_F32, sc.b.get(), {6, 3})};
    mm.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {4, 3})};
    sc.expect_rejected(PLINTH_OP_MATMUL, mm, {PLINTH_ERROR_INVALID_ARGUMENT}, "MATMUL [4,5]@[6,3] (K differs)");
    Call sm;
    sm.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {4, 8})};
    sm.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {4, 7})};
    auto sp = sized<plinth_softmax_params_t>();
    sm.params = &sp;
    sc.expect_rejected(PLINTH_OP_SOFTMAX, sm, {PLINTH_ERROR_INVALID_ARGUMENT}, "SOFTMAX [4,8] -> [4,7]");
    Call at;
    at.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {1, 3, 2, 4}), tensor(PLINTH_DTYPE_F32, sc.b.get(), {1, 2, 2, 4}),
              tensor(PLINTH_DTYPE_F32, sc.b.get(), {1, 2, 2, 4})};
    at.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {1, 3, 2, 4})};
    auto ap = sized<plinth_attention_params_t>();
    at.params = &ap;
    sc.expect_rejected(PLINTH_OP_ATTENTION, at, {PLINTH_ERROR_INVALID_ARGUMENT}, "ATTENTION with Hq 3 not a multiple of Hkv 2");
    // The rest of the catalogue's shape and dtype rules, one call each (each found by a mutant of
    // tests/mutation that dropped the check: cpu.sdk.<name> in the comment).
    at.ins[1] = tensor(PLINTH_DTYPE_F32, sc.b.get(), {1, 3, 2, 8});  // attention_d_unchecked
    at.ins[2] = tensor(PLINTH_DTYPE_F32, sc.b.get(), {1, 3, 2, 4});
    sc.expect_rejected(PLINTH_OP_ATTENTION, at, {PLINTH_ERROR_INVALID_ARGUMENT},
                       "ATTENTION with k's D 8 != q's D 4");
    Call qm;  // quant_b_untransposed
    qm.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {2, 32}), tensor(PLINTH_DTYPE_Q4_0, sc.b.get(), {32, 32})};
    qm.ins[1].strides[0] = 18;  // one Q4_0 block of 18 bytes per row
    qm.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {2, 32})};
    auto mp = sized<plinth_matmul_params_t>();
    mp.alpha = 1.0f;
    qm.params = &mp;
    sc.expect_rejected(PLINTH_OP_MATMUL, qm, {PLINTH_ERROR_INVALID_ARGUMENT},
                       "MATMUL with a Q4_0 b stored [K, N] (transpose_b 0)");
    mp.transpose_b = 1;  // quant_block_unchecked
    qm.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {2, 40}), tensor(PLINTH_DTYPE_Q8_0, sc.b.get(), {4, 32})};
    qm.ins[1].dims[1] = 40;
    qm.ins[1].strides[0] = 2 * 34;  // as if rows were two Q8_0 blocks
    qm.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {2, 4})};
    sc.expect_rejected(PLINTH_OP_MATMUL, qm, {PLINTH_ERROR_INVALID_ARGUMENT},
                       "MATMUL with a Q8_0 b of K 40 (not a multiple of the block of 32)");
    Call gr;  // get_rows_y_unchecked
    gr.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {4, 8}), tensor(PLINTH_DTYPE_I32, sc.b.get(), {3})};
    gr.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {0, 8})};
    sc.expect_rejected(PLINTH_OP_GET_ROWS, gr, {PLINTH_ERROR_INVALID_ARGUMENT},
                       "GET_ROWS of 3 indices into y [0,8]");
    Call pool;  // mean_pool_mask_unchecked
    pool.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {2, 3, 4}),
                tensor(PLINTH_DTYPE_F32, sc.b.get(), {2, 4})};
    pool.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {2, 4})};
    sc.expect_rejected(PLINTH_OP_MEAN_POOL, pool, {PLINTH_ERROR_INVALID_ARGUMENT},
                       "MEAN_POOL x [2,3,4] with mask [2,4]");
    Call am;  // argmax_empty_rows
    am.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {3, 0})};
    am.outs = {tensor(PLINTH_DTYPE_I32, sc.out.get(), {3})};
    sc.expect_rejected(PLINTH_OP_ARGMAX, am, {PLINTH_ERROR_INVALID_ARGUMENT}, "ARGMAX of rows of 0 elements");
    Call cp;  // copy_i32_to_float
    cp.ins = {tensor(PLINTH_DTYPE_I32, sc.a.get(), {3, 4})};
    cp.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {3, 4})};
    sc.expect_rejected(PLINTH_OP_COPY, cp, {PLINTH_ERROR_INVALID_ARGUMENT},
                       "COPY i32 -> f32 (i32 copies only to i32)");
  }
}

void bad_params(TestEnv& env) {
  Scene sc(env.s());
  Call fill;
  fill.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {16})};
  sc.expect_rejected(PLINTH_OP_FILL, fill, {PLINTH_ERROR_INVALID_ARGUMENT}, "FILL with NULL params");
  auto fp = sized<plinth_fill_params_t>();
  fp.struct_size = 4;
  fill.params = &fp;
  sc.expect_rejected(PLINTH_OP_FILL, fill, {PLINTH_ERROR_INVALID_ARGUMENT}, "FILL with params.struct_size 4");
}

void bad_op_params(TestEnv& env) {
  Scene sc(env.s());
  Call tk;
  tk.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {2, 5})};
  tk.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {2, 6}), tensor(PLINTH_DTYPE_I32, sc.out.get(), {2, 6}, 512)};
  auto kp = sized<plinth_top_k_params_t>();
  kp.k = 6;
  tk.params = &kp;
  sc.expect_rejected(PLINTH_OP_TOP_K, tk, {PLINTH_ERROR_INVALID_ARGUMENT}, "TOP_K with k 6 > N 5");
  Call rn;
  rn.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {2, 8})};
  rn.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {2, 8})};
  auto np = sized<plinth_norm_params_t>();
  np.eps = 0.0f;
  rn.params = &np;
  sc.expect_rejected(PLINTH_OP_RMS_NORM, rn, {PLINTH_ERROR_INVALID_ARGUMENT}, "RMS_NORM with eps 0");
  Call rp;
  rp.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {2, 1, 8}), tensor(PLINTH_DTYPE_I32, sc.b.get(), {2})};
  rp.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {2, 1, 8})};
  auto ropep = sized<plinth_rope_params_t>();
  ropep.n_dims = 3;
  ropep.freq_base = 10000.0f;
  ropep.freq_scale = 1.0f;
  rp.params = &ropep;
  sc.expect_rejected(PLINTH_OP_ROPE, rp, {PLINTH_ERROR_INVALID_ARGUMENT}, "ROPE with odd n_dims 3");
  // Every other parameter rule of the catalogue (each found by a mutant of tests/mutation that
  // dropped the check: cpu.sdk.<name> in the comment).
  ropep.n_dims = 10;  // rope_n_dims_exceeds_d
  sc.expect_rejected(PLINTH_OP_ROPE, rp, {PLINTH_ERROR_INVALID_ARGUMENT}, "ROPE with n_dims 10 > D 8");
  ropep.n_dims = 8;  // rope_mode_unchecked
  ropep.mode = 7;
  sc.expect_rejected(PLINTH_OP_ROPE, rp, {PLINTH_ERROR_INVALID_ARGUMENT}, "ROPE with mode 7");
  ropep.mode = PLINTH_ROPE_NORMAL;  // rope_freq_base_unchecked
  ropep.freq_base = 0.0f;
  sc.expect_rejected(PLINTH_OP_ROPE, rp, {PLINTH_ERROR_INVALID_ARGUMENT}, "ROPE with freq_base 0");
  kp.k = 0;  // top_k_zero
  tk.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {2, 0}),
             tensor(PLINTH_DTYPE_I32, sc.out.get(), {2, 0}, 512)};
  sc.expect_rejected(PLINTH_OP_TOP_K, tk, {PLINTH_ERROR_INVALID_ARGUMENT}, "TOP_K with k 0");
  Call ge;  // gelu_approximation_unchecked
  ge.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {2, 8})};
  ge.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {2, 8})};
  auto gp = sized<plinth_gelu_params_t>();
  gp.approximation = 9;
  ge.params = &gp;
  sc.expect_rejected(PLINTH_OP_GELU, ge, {PLINTH_ERROR_INVALID_ARGUMENT}, "GELU with approximation 9");
  Call sm;  // flag_unchecked
  sm.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {4, 8})};
  sm.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {4, 8})};
  auto sp = sized<plinth_softmax_params_t>();
  sp.causal = 2;
  sm.params = &sp;
  sc.expect_rejected(PLINTH_OP_SOFTMAX, sm, {PLINTH_ERROR_INVALID_ARGUMENT},
                     "SOFTMAX with causal 2 (a flag is 0 or 1)");
}

// Launches a call that must fail on its data (abi.h rule 9): either op_launch returns
// INVALID_ARGUMENT with a message and leaves no error on the stream, or it returns OK and the next
// stream_synchronize returns INVALID_ARGUMENT with a message, once (the error is not sticky).
void expect_data_error(const Session& s, const plinth_op_call_t& c, const std::string& what) {
  const auto& api = s.api();
  const plinth_status_t launched = api.op_launch(s.stream(), &c);
  const std::string message = s.last_error();
  const plinth_status_t sync = api.stream_synchronize(s.stream());
  if (launched == PLINTH_ERROR_INVALID_ARGUMENT) {
    if (message.empty()) fail(what + ": op_launch returned INVALID_ARGUMENT with an empty last_error_message");
    if (sync != PLINTH_OK)
      fail(what + ": op_launch rejected the call, yet stream_synchronize then returned " + status_text(sync));
    return;
  }
  if (launched != PLINTH_OK)
    fail(what + ": op_launch returned " + status_text(launched) +
         ", want INVALID_ARGUMENT (or OK and the error at synchronize)");
  if (sync != PLINTH_ERROR_INVALID_ARGUMENT)
    fail(what + ": accepted: op_launch and stream_synchronize returned " + status_text(launched) + " and " +
         status_text(sync) + ", want INVALID_ARGUMENT from one of them");
  if (s.last_error().empty()) fail(what + ": stream_synchronize returned the error with an empty last_error_message");
  s.check(api.stream_synchronize(s.stream()), what + ": a second stream_synchronize (the error is not sticky)");
}

// Data-dependent range errors besides async_error's GET_ROWS index past the table: a negative
// GET_ROWS index and ATTENTION kv_lens outside [0, Skv] (mutants cpu.get_rows.index_negative_unchecked
// and cpu.attention.kv_lens_unchecked of tests/mutation). Either op_launch returns INVALID_ARGUMENT
// (then no error is left on the stream), or the next stream_synchronize does (abi.h rule 9); a
// variant the plugin does not support is skipped.
void bad_indices(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  DeviceBuffer a = s.alloc(4096), b = s.alloc(4096), ints = s.alloc(64), out = s.alloc(4096);
  std::vector<float> ones(1024, 0.5f);
  s.upload(a, 0, std::as_bytes(std::span(ones)));
  s.upload(b, 0, std::as_bytes(std::span(ones)));
  int checked = 0;
  auto expect = [&](plinth_op_t op, Call& call, std::vector<int32_t> values, const std::string& what) {
    auto query = call.get(op);
    uint32_t supported = 0;
    s.check(api.op_supports(s.device(), &query, &supported), "op_supports for " + what);
    if (supported == 0) return;
    ++checked;
    s.upload(ints, 0, std::as_bytes(std::span(values)));
    expect_data_error(s, call.get(op), what);
  };
  Call gr;
  gr.ins = {tensor(PLINTH_DTYPE_F32, a.get(), {4, 8}), tensor(PLINTH_DTYPE_I32, ints.get(), {3})};
  gr.outs = {tensor(PLINTH_DTYPE_F32, out.get(), {3, 8})};
  expect(PLINTH_OP_GET_ROWS, gr, {0, -1, 1}, "GET_ROWS with index -1");
  Call at;
  at.ins = {tensor(PLINTH_DTYPE_F32, a.get(), {2, 1, 2, 8}), tensor(PLINTH_DTYPE_F32, b.get(), {2, 1, 5, 8}),
            tensor(PLINTH_DTYPE_F32, b.get(), {2, 1, 5, 8}), plinth_tensor_t{},
            tensor(PLINTH_DTYPE_I32, ints.get(), {2})};
  at.outs = {tensor(PLINTH_DTYPE_F32, out.get(), {2, 1, 2, 8})};
  auto ap = sized<plinth_attention_params_t>();
  at.params = &ap;
  expect(PLINTH_OP_ATTENTION, at, {5, 6}, "ATTENTION with kv_lens 6 > Skv 5");
  expect(PLINTH_OP_ATTENTION, at, {-1, 5}, "ATTENTION with kv_lens -1");
  if (checked == 0) throw Skipped("needs GET_ROWS or ATTENTION f32, which the plugin does not support");
}

// The ABI 1.2 ops' data-dependent errors: out-of-range SET_ROWS indices and PAGED_ATTENTION block
// ids, lengths and query starts. Each must be reported (from op_launch or the next synchronize) with
// a message, leave every input and every byte of the output buffer outside the output tensor as it
// was (the output's own elements are undefined then), and leave the plugin working.
void bad_paged_indices(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  constexpr uint64_t kSize = 4096, kOut = 256;  // the output tensor starts kOut bytes into its buffer
  DeviceBuffer src = s.alloc(kSize), cache = s.alloc(kSize), ints = s.alloc(256), out = s.alloc(kSize);
  std::vector<std::byte> src_img = pattern_bytes(kSize, 5), cache_img = pattern_bytes(kSize, 6);
  for (uint64_t i = 0; i < kSize; i += 4) {  // small finite floats
    const float a = 0.01f * static_cast<float>(i % 97), b = 0.5f - 0.001f * static_cast<float>(i % 61);
    std::memcpy(src_img.data() + i, &a, 4);
    std::memcpy(cache_img.data() + i, &b, 4);
  }
  const std::vector<std::byte> out_img = pattern_bytes(kSize, 7);
  s.upload(src, 0, src_img);
  s.upload(cache, 0, cache_img);
  int checked = 0;
  // Runs `call` with the given I32 arrays at offsets 0, 64 and 128 of `ints`; the output spans
  // [kOut, kOut + out_bytes) of `out`.
  auto expect = [&](plinth_op_t op, Call& call, const std::vector<std::vector<int32_t>>& arrays,
                    uint64_t out_bytes, const std::string& what) {
    auto query = call.get(op);
    uint32_t supported = 0;
    s.check(api.op_supports(s.device(), &query, &supported), "op_supports for " + what);
    if (supported == 0) return;
    ++checked;
    for (std::size_t k = 0; k < arrays.size(); ++k)
      s.upload(ints, 64 * k, std::as_bytes(std::span(arrays[k])));
    s.upload(out, 0, out_img);
    expect_data_error(s, call.get(op), what);
    const auto after = s.download(out, 0, kSize);
    for (uint64_t i = 0; i < kSize; ++i) {
      if ((i < kOut || i >= kOut + out_bytes) && after[i] != out_img[i]) {
        fail(what + ": byte " + std::to_string(i) +
             " of the output buffer, outside the output tensor, was written");
      }
    }
    if (s.download(src, 0, kSize) != src_img || s.download(cache, 0, kSize) != cache_img)
      fail(what + ": an input buffer was written");
  };

  Call sr;  // SET_ROWS src [3, 8] -> dst [4, 8]
  sr.ins = {tensor(PLINTH_DTYPE_F32, src.get(), {3, 8}), tensor(PLINTH_DTYPE_I32, ints.get(), {3})};
  sr.outs = {tensor(PLINTH_DTYPE_F32, out.get(), {4, 8}, kOut)};
  expect(PLINTH_OP_SET_ROWS, sr, {{0, 4, 1}}, 4 * 8 * 4, "SET_ROWS with index 4 into 4 rows");
  expect(PLINTH_OP_SET_ROWS, sr, {{-1, 0, 1}}, 4 * 8 * 4, "SET_ROWS with index -1");
  expect(PLINTH_OP_SET_ROWS, sr, {{0, 1, 2147483647}}, 4 * 8 * 4, "SET_ROWS with index 2^31-1");

  // PAGED_ATTENTION: T = 2 query rows of 2 heads, NB = 3 blocks of BS = 4 slots, S = 2 sequences of
  // at most MB = 2 blocks. Valid: table {{0, 1}, {2, -1}}, query_start {0, 1, 2}, context_lens {6, 3}.
  Call pa;
  pa.ins = {tensor(PLINTH_DTYPE_F32, src.get(), {2, 2, 8}),
            tensor(PLINTH_DTYPE_F32, cache.get(), {3, 4, 1, 8}),
            tensor(PLINTH_DTYPE_F32, cache.get(), {3, 4, 1, 8}, 1024),
            tensor(PLINTH_DTYPE_I32, ints.get(), {2, 2}),
            tensor(PLINTH_DTYPE_I32, ints.get(), {3}, 64),
            tensor(PLINTH_DTYPE_I32, ints.get(), {2}, 128)};
  pa.outs = {tensor(PLINTH_DTYPE_F32, out.get(), {2, 2, 8}, kOut)};
  auto ap = sized<plinth_attention_params_t>();
  ap.causal = 1;
  pa.params = &ap;
  const uint64_t o_bytes = 2 * 2 * 8 * 4;
  const std::vector<int32_t> table{0, 1, 2, -1}, starts{0, 1, 2}, lens{6, 3};
  expect(PLINTH_OP_PAGED_ATTENTION, pa, {{0, 3, 2, -1}, starts, lens}, o_bytes,
         "PAGED_ATTENTION with block id NB = 3");
  expect(PLINTH_OP_PAGED_ATTENTION, pa, {{0, 1, -5, -1}, starts, lens}, o_bytes,
         "PAGED_ATTENTION with block id -5");
  expect(PLINTH_OP_PAGED_ATTENTION, pa, {table, starts, {6, 0}}, o_bytes,
         "PAGED_ATTENTION with context_lens 0 below the sequence's 1 query");
  expect(PLINTH_OP_PAGED_ATTENTION, pa, {table, starts, {9, 3}}, o_bytes,
         "PAGED_ATTENTION with context_lens 9 > MB * BS = 8");
  expect(PLINTH_OP_PAGED_ATTENTION, pa, {table, {1, 1, 2}, lens}, o_bytes,
         "PAGED_ATTENTION with query_start[0] = 1");
  expect(PLINTH_OP_PAGED_ATTENTION, pa, {table, {0, 5, 2}, lens}, o_bytes,
         "PAGED_ATTENTION with query_start decreasing past T");
  expect(PLINTH_OP_PAGED_ATTENTION, pa, {table, {0, 1, 3}, lens}, o_bytes,
         "PAGED_ATTENTION with query_start[S] = 3 != T = 2");
  if (checked == 0) throw Skipped("needs SET_ROWS or PAGED_ATTENTION f32, which the plugin does not support");
  // The plugin still computes after the errors: a valid call succeeds.
  for (std::size_t k = 0; k < 3; ++k) {
    const std::vector<int32_t>& a = k == 0 ? table : k == 1 ? starts : lens;
    s.upload(ints, 64 * k, std::as_bytes(std::span(a)));
  }
  auto query = pa.get(PLINTH_OP_PAGED_ATTENTION);
  uint32_t supported = 0;
  s.check(api.op_supports(s.device(), &query, &supported), "op_supports for a valid PAGED_ATTENTION");
  if (supported != 0) {
    const auto c = pa.get(PLINTH_OP_PAGED_ATTENTION);
    s.check(api.op_launch(s.stream(), &c), "a valid PAGED_ATTENTION after the errors");
    s.sync();
  }
}

void tensor_outside_buffer(TestEnv& env) {
  Scene sc(env.s());
  const auto n = static_cast<int64_t>(Scene::kSize / 4);
  Call c;
  c.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {16})};
  c.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {n + 1})};
  c.ins[0].dims[0] = n + 1;
  sc.expect_rejected(PLINTH_OP_COPY, c, {PLINTH_ERROR_OUT_OF_RANGE}, "COPY of " + std::to_string(n + 1) + " floats into a " + std::to_string(Scene::kSize) + "-byte buffer");
  c.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {16})};
  c.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {16}, Scene::kSize - 60)};
  sc.expect_rejected(PLINTH_OP_COPY, c, {PLINTH_ERROR_OUT_OF_RANGE}, "COPY output at offset " + std::to_string(Scene::kSize - 60) + " (4 bytes past the end)");
  c.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {16})};
  c.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {16}, Scene::kSize)};
  sc.expect_rejected(PLINTH_OP_COPY, c, {PLINTH_ERROR_OUT_OF_RANGE}, "COPY input at offset = buffer size");
  c.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {16})};
  c.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {4, 4})};
  c.ins[0] = tensor(PLINTH_DTYPE_F32, sc.a.get(), {4, 4});
  c.outs[0].strides[0] = int64_t{1} << 61;
  sc.expect_rejected(PLINTH_OP_COPY, c, {PLINTH_ERROR_OUT_OF_RANGE, PLINTH_ERROR_INVALID_ARGUMENT}, "COPY output with stride 2^61 (overflowing span)");
  c.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {16}, UINT64_MAX - 8)};
  c.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {16})};
  sc.expect_rejected(PLINTH_OP_COPY, c, {PLINTH_ERROR_OUT_OF_RANGE}, "COPY output at offset 2^64-9 (overflowing)");
  Call f;
  auto fp = sized<plinth_fill_params_t>();
  fp.value = 1.0;
  f.params = &fp;
  f.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {2, n})};
  sc.expect_rejected(PLINTH_OP_FILL, f, {PLINTH_ERROR_OUT_OF_RANGE}, "FILL [2," + std::to_string(n) + "] f32 in a " + std::to_string(Scene::kSize) + "-byte buffer");
}

void unknown_op(TestEnv& env) {
  Scene sc(env.s());
  const auto& s = env.s();
  Call c;
  c.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {16})};
  c.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {16})};
  const auto call = c.get(9999);
  uint32_t supported = 7;
  const plinth_status_t st = s.api().op_supports(s.device(), &call, &supported);
  if (st != PLINTH_OK) fail(std::string("op_supports(op 9999): got ") + status_text(st) + ", want PLINTH_OK with supported = 0");
  if (supported != 0) fail("op_supports(op 9999) says supported = " + std::to_string(supported));
  if (s.last_error().empty()) fail("op_supports(op 9999) = 0 without a reason in last_error_message");
  sc.expect_rejected(9999, c, {PLINTH_ERROR_UNSUPPORTED, PLINTH_ERROR_INVALID_ARGUMENT}, "op_launch of unknown op 9999");
}

// Vendor extension ops (abi.h 1.1): the CTS checks the entry's contract and how their ids are
// screened, and lists them; their semantics are the vendor's, so none is run or certified.
void extension_ops(TestEnv& env) {
  Scene sc(env.s());
  const auto& s = env.s();
  const std::vector<plinth_extension_op_t> ops = list_extension_ops(s);  // checks each entry
  Call c;
  c.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {16})};
  c.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {16})};
  // An extension id the device did not describe is "not supported", like an unknown catalogue id.
  const auto unknown_id = static_cast<plinth_op_t>(PLINTH_OP_EXTENSION_FIRST + ops.size() + 1000);
  const auto unknown = c.get(unknown_id);
  uint32_t supported = 7;
  s.check(s.api().op_supports(s.device(), &unknown, &supported), "op_supports(undescribed extension id)");
  if (supported != 0) fail("op_supports says an extension id the device never described is supported");
  sc.expect_rejected(unknown_id, c, {PLINTH_ERROR_UNSUPPORTED, PLINTH_ERROR_INVALID_ARGUMENT},
                     "op_launch of an undescribed extension id");
  std::string listed;
  for (const auto& op : ops) {
    const std::string name(op.name);
    // One input slot too many is malformed for any extension op (abi.h: arity from its entry).
    Call wide;
    for (uint32_t i = 0; i <= op.max_inputs; ++i)
      wide.ins.push_back(tensor(PLINTH_DTYPE_F32, sc.a.get(), {16}));
    for (uint32_t i = 0; i < op.num_outputs; ++i)
      wide.outs.push_back(tensor(PLINTH_DTYPE_F32, sc.out.get(), {16}));
    if (op.max_inputs < 8) {
      sc.expect_rejected(op.op, wide, {PLINTH_ERROR_INVALID_ARGUMENT},
                         name + " with " + std::to_string(op.max_inputs + 1) + " inputs");
    }
    listed += (listed.empty() ? "" : "; ") + name + " v" + std::to_string(op.version);
  }
  env.note = ops.empty() ? "no extension ops"
                         : std::to_string(ops.size()) + " extension op" + (ops.size() == 1 ? "" : "s") +
                               " (vendor semantics, not certified): " + listed;
}

void null_arguments(TestEnv& env) {
  Scene sc(env.s());
  const auto& s = env.s();
  s.expect_status(s.api().op_launch(s.stream(), nullptr), PLINTH_ERROR_INVALID_ARGUMENT, "op_launch(NULL call)");
  uint32_t supported = 0;
  s.expect_status(s.api().op_supports(s.device(), nullptr, &supported), PLINTH_ERROR_INVALID_ARGUMENT, "op_supports(NULL call)");
  Call c;
  c.ins = {tensor(PLINTH_DTYPE_F32, sc.a.get(), {16})};
  c.outs = {tensor(PLINTH_DTYPE_F32, sc.out.get(), {16})};
  auto call = c.get(PLINTH_OP_COPY);
  s.expect_status(s.api().op_supports(s.device(), &call, nullptr), PLINTH_ERROR_INVALID_ARGUMENT, "op_supports(NULL out_supported)");
  const plinth_tensor_t* null_out[1] = {nullptr};
  call.outputs = null_out;
  s.expect_status(s.api().op_launch(s.stream(), &call), PLINTH_ERROR_INVALID_ARGUMENT, "op_launch with a NULL output slot");
  call = c.get(PLINTH_OP_COPY);
  call.struct_size = 4;
  s.expect_status(s.api().op_launch(s.stream(), &call), PLINTH_ERROR_INVALID_ARGUMENT, "op_launch with call.struct_size 4");
  c.outs[0].buffer = nullptr;
  sc.expect_rejected(PLINTH_OP_COPY, c, {PLINTH_ERROR_INVALID_ARGUMENT}, "COPY into a tensor with a NULL buffer");
  s.sync();
  sc.still_works("NULL-argument calls");
}

// abi.h rule 9: work that fails while it runs leaves an asynchronous error on its stream. The next
// stream_synchronize returns it and clears it (not sticky: the one after returns OK); later work on
// the stream still runs, in order; event_synchronize and event_query report completion only. A
// plugin that checks the indices at submission returns INVALID_ARGUMENT from op_launch instead, and
// then the call had no effect (the stream has no error). GET_ROWS with an index outside the table is
// the catalogue's data-dependent error (plinth/ops.h).
void async_error(TestEnv& env) {
  const auto& s = env.s();
  const auto& api = s.api();
  constexpr int64_t kRows = 4, kCols = 8;
  DeviceBuffer table = s.alloc(kRows * kCols * 4);
  DeviceBuffer indices = s.alloc(3 * 4);
  DeviceBuffer y = s.alloc(3 * kCols * 4);
  DeviceBuffer marker = s.alloc(256);
  Call c;
  c.ins = {tensor(PLINTH_DTYPE_F32, table.get(), {kRows, kCols}),
           tensor(PLINTH_DTYPE_I32, indices.get(), {3})};
  c.outs = {tensor(PLINTH_DTYPE_F32, y.get(), {3, kCols})};
  {
    auto query = c.get(PLINTH_OP_GET_ROWS);
    uint32_t supported = 0;
    s.check(api.op_supports(s.device(), &query, &supported), "op_supports(GET_ROWS f32)");
    if (supported == 0)
      throw Skipped("needs GET_ROWS f32, which the plugin does not support: " + s.last_error());
  }
  std::vector<float> table_img(kRows * kCols);
  for (std::size_t i = 0; i < table_img.size(); ++i) table_img[i] = static_cast<float>(i);
  s.upload(table, 0, std::as_bytes(std::span(table_img)));
  const int32_t bad[3] = {0, 99, 1};
  s.upload(indices, 0, std::as_bytes(std::span(bad)));
  const auto before = pattern_bytes(256, 5), after = pattern_bytes(256, 6);
  s.upload(marker, 0, before);

  const auto call = c.get(PLINTH_OP_GET_ROWS);
  const plinth_status_t launched = api.op_launch(s.stream(), &call);
  if (launched == PLINTH_ERROR_INVALID_ARGUMENT) {
    // Checked at submission: no effect, so no error may be left on the stream.
    if (s.last_error().empty())
      fail("op_launch(GET_ROWS, index 99 of 4 rows) returned INVALID_ARGUMENT with no message");
    const plinth_status_t sync = api.stream_synchronize(s.stream());
    if (sync != PLINTH_OK) {
      fail(std::string("op_launch rejected GET_ROWS with index 99 at submission, yet stream_synchronize then "
                       "returned ") +
           status_text(sync) + ": a call that returns an error has no effect (abi.h rules 4 and 9)");
    }
    env.note = "indices are checked at submission (op_launch returned INVALID_ARGUMENT)";
    return;
  }
  if (launched != PLINTH_OK) {
    fail(std::string("op_launch(GET_ROWS, index 99 of 4 rows): got ") + status_text(launched) +
         ", want PLINTH_OK (error reported by stream_synchronize) or PLINTH_ERROR_INVALID_ARGUMENT");
  }
  // Later work on the stream still runs, in order.
  s.check(api.copy_host_to_buffer(s.stream(), after.data(), marker.get(), 0, after.size()),
          "copy_host_to_buffer after the failing GET_ROWS");
  const SessionEvent recorded(s, 0);
  const plinth_event_t event = recorded.get();
  s.check(api.event_record(event, s.stream()), "event_record after the failing GET_ROWS");
  const plinth_status_t waited = api.event_synchronize(event);
  if (waited != PLINTH_OK) {
    fail(std::string("event_synchronize after a failing GET_ROWS returned ") + status_text(waited) +
         ": it reports completion only; the error stays for stream_synchronize (abi.h rule 9)");
  }
  const plinth_status_t queried = api.event_query(event);
  if (queried != PLINTH_OK) {
    fail(std::string("event_query of a completed record after a failing GET_ROWS returned ") +
         status_text(queried) + ", want PLINTH_OK (completion only, abi.h rule 9)");
  }
  const plinth_status_t first = api.stream_synchronize(s.stream());
  const std::string message = s.last_error();
  if (first != PLINTH_ERROR_INVALID_ARGUMENT) {
    fail(std::string("stream_synchronize after GET_ROWS with index 99 of 4 rows: got ") + status_text(first) +
         ", want PLINTH_ERROR_INVALID_ARGUMENT (the asynchronous error, abi.h rule 9)");
  }
  if (message.empty())
    fail("stream_synchronize returned the asynchronous error with an empty last_error_message");
  const plinth_status_t second = api.stream_synchronize(s.stream());
  if (second != PLINTH_OK) {
    fail(std::string("a second stream_synchronize returned ") + status_text(second) +
         " again: the first one must clear the asynchronous error (abi.h rule 9: not sticky)");
  }
  if (s.download(marker, 0, after.size()) != after) {
    fail(
        "the copy submitted after the failing GET_ROWS did not run: later work on the stream must still run");
  }
  // The stream keeps working: a valid GET_ROWS now succeeds.
  const int32_t good[3] = {3, 0, 2};
  s.upload(indices, 0, std::as_bytes(std::span(good)));
  s.check(api.op_launch(s.stream(), &call), "a valid GET_ROWS after the asynchronous error");
  s.sync();
  const auto got = s.download(y, 0, 3 * kCols * 4);
  for (int r = 0; r < 3; ++r) {
    if (std::memcmp(got.data() + r * kCols * 4, table_img.data() + good[r] * kCols, kCols * 4) != 0) {
      fail("a valid GET_ROWS after the asynchronous error computed a wrong row " + std::to_string(r));
    }
  }
  env.note = "stream_synchronize reported: " + message;
}

}  // namespace

SuiteDef errors_suite(Level level) {
  SuiteDef s{"errors", true, {}};
  s.tests = {
      {"errors.bad_arity", "", bad_arity},     {"errors.bad_shape", "", bad_shape},
      {"errors.bad_params", "", bad_params},   {"errors.tensor_outside_buffer", "", tensor_outside_buffer},
      {"errors.unknown_op", "", unknown_op},   {"errors.null_arguments", "", null_arguments},
      {"errors.async_error", "", async_error}, {"errors.extension_ops", "", extension_ops},
  };
  if (level_includes(level, Level::kInference1))
    s.tests.push_back({"errors.bad_op_params", "", bad_op_params});
  if (level_includes(level, Level::kInference1)) s.tests.push_back({"errors.bad_indices", "", bad_indices});
  if (level_includes(level, Level::kInference2))
    s.tests.push_back({"errors.bad_paged_indices", "", bad_paged_indices});
  return s;
}

}  // namespace plinth::cts
