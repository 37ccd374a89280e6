#include "op_cases.hpp"

#include <algorithm>
#include <cstdio>

#include "../reference/numeric_types.hpp"
#include "harness.hpp"

namespace plinth::cts {
namespace {

using Shape = std::vector<int64_t>;
using ref::Tensor;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string shape_text(const Shape& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i) out += ',';  // not `"," + std::string`: a false -Wrestrict on GCC 12 at -O3
    out += std::to_string(s[i]);
  }
  return out + "]";
}

const char* layout_tag(Layout l) {
  switch (l) {
    case Layout::kPadded: return " padded";
    case Layout::kGapped: return " strided";
    case Layout::kTransposed: return " transposed";
    default: return "";
  }
}

Arg arg(plinth_dtype_t dtype, Shape shape, Layout layout = Layout::kContiguous) {
  Arg a;
  a.dtype = dtype;
  a.shape = std::move(shape);
  a.layout = layout;
  return a;
}

template <class P>
P params_of() {
  return sized<P>();
}

// Shapes every elementwise op is run over: sizes that are not multiples of any vector width, empty
// tensors, size-1 dims and up to four dims.
std::vector<std::pair<Shape, Layout>> elementwise_shapes(std::mt19937_64& rng) {
  std::vector<std::pair<Shape, Layout>> shapes = {
      {{1}, Layout::kContiguous},        {{7}, Layout::kContiguous},
      {{33}, Layout::kContiguous},       {{257}, Layout::kContiguous},
      {{0}, Layout::kContiguous},        {{3, 0}, Layout::kContiguous},
      {{1, 1}, Layout::kContiguous},     {{4, 7, 33}, Layout::kContiguous},
      {{2, 3, 4, 5}, Layout::kContiguous}, {{7, 33}, Layout::kPadded},
      {{5, 17}, Layout::kGapped},        {{2, 3, 9}, Layout::kGapped},
      {{1000}, Layout::kContiguous},
  };
  std::uniform_int_distribution<int64_t> rows(1, 9), cols(1, 300);
  for (int i = 0; i < 3; ++i) shapes.push_back({{rows(rng), cols(rng)}, i == 2 ? Layout::kPadded : Layout::kContiguous});
  return shapes;
}

OpVariant variant(const char* op_name, plinth_op_t op, const std::string& v, bool core, bool required) {
  OpVariant out;
  out.id = std::string("ops.") + op_name + "." + v;
  out.op_name = op_name;
  out.variant = v;
  out.op = op;
  out.core = core;
  out.required = required;
  return out;
}

// ---- copy / fill ---------------------------------------------------------------------------------

OpVariant copy_variant(plinth_dtype_t from, plinth_dtype_t to, bool required) {
  const std::string name = from == to ? std::string(ref::dtype_label(from))
                                      : std::string(ref::dtype_label(from)) + "_to_" + ref::dtype_label(to);
  auto v = variant("copy", PLINTH_OP_COPY, name, true, required);
  v.cases = [from, to](std::mt19937_64& rng) {
    std::vector<OpCase> cases;
    auto add = [&](Shape shape, Layout in_layout, Layout out_layout) {
      OpCase c;
      c.label = shape_text(shape) + layout_tag(in_layout) + " ->" + layout_tag(out_layout);
      Arg x = arg(from, shape, in_layout);
      if (from == PLINTH_DTYPE_I32) {
        // The whole int32 range: a copy through float loses integers beyond 2^24 (mutant
        // cpu.copy.i32_through_float, tests/mutation).
        x.gen = Gen::kInt;
        x.a = -2147483648.0;
        x.b = 2147483647.0;
      }
      c.inputs = {x};
      c.outputs = {arg(to, shape, out_layout)};
      c.reference = [](const std::vector<const Tensor*>& in) { return std::vector<Tensor>{*in[0]}; };
      c.tolerance = {kExact};
      cases.push_back(std::move(c));
    };
    for (auto& [shape, layout] : elementwise_shapes(rng)) add(shape, layout, Layout::kContiguous);
    add({7, 33}, Layout::kTransposed, Layout::kContiguous);
    add({33, 7}, Layout::kContiguous, Layout::kTransposed);
    add({3, 5, 17}, Layout::kGapped, Layout::kPadded);
    return cases;
  };
  return v;
}

OpVariant fill_variant(plinth_dtype_t dtype, bool required) {
  auto v = variant("fill", PLINTH_OP_FILL, ref::dtype_label(dtype), true, required);
  v.cases = [dtype](std::mt19937_64& rng) {
    std::vector<OpCase> cases;
    const double values[] = {1.5, -0.375, 0.0, 1234.0, -7.75, 3.0e-3};
    int k = 0;
    for (auto& [shape, layout] : elementwise_shapes(rng)) {
      const double value = values[k++ % 6];
      auto p = params_of<plinth_fill_params_t>();
      p.value = value;
      OpCase c;
      c.label = shape_text(shape) + layout_tag(layout) + " value " + num(value);
      c.outputs = {arg(dtype, shape, layout)};
      c.params = params_bytes(p);
      c.reference = [shape, value](const std::vector<const Tensor*>&) { return std::vector<Tensor>{Tensor(shape, value)}; };
      c.tolerance = {kExact};
      cases.push_back(std::move(c));
    }
    if (dtype == PLINTH_DTYPE_I32) {
      // Integers a float cannot hold (mutant cpu.fill.i32_through_float, tests/mutation).
      for (const double value : {16777217.0, -2147483000.0}) {
        const Shape shape{7, 33};
        auto p = params_of<plinth_fill_params_t>();
        p.value = value;
        OpCase c;
        c.label = shape_text(shape) + " value " + std::to_string(static_cast<long long>(value));
        c.outputs = {arg(dtype, shape)};
        c.params = params_bytes(p);
        c.reference = [shape, value](const std::vector<const Tensor*>&) {
          return std::vector<Tensor>{Tensor(shape, value)};
        };
        c.tolerance = {kExact};
        cases.push_back(std::move(c));
      }
    }
    return cases;
  };
  return v;
}

// ---- add / mul -----------------------------------------------------------------------------------

OpVariant binary_variant(const char* name, plinth_op_t op, plinth_dtype_t dt) {
  auto v = variant(name, op, ref::dtype_label(dt), false, dt == PLINTH_DTYPE_F32);
  v.cases = [op, dt](std::mt19937_64& rng) {
    struct S {
      Shape a, b;
      Layout la = Layout::kContiguous, lb = Layout::kContiguous;
      uint32_t b_zero = 0;
      bool in_place = false;
    };
    std::vector<S> shapes = {
        {{7, 33}, {1, 33}}, {{7, 33}, {7, 33}}, {{33}, {7, 33}}, {{1}, {1}}, {{257}, {1}},
        {{4, 1, 5}, {1, 3, 1}}, {{0, 5}, {1, 5}}, {{2, 3, 4, 5}, {3, 1, 5}}, {{7, 33}, {7, 1}},
        {{7, 33}, {1, 33}, Layout::kPadded, Layout::kGapped}, {{6, 17}, {6, 17}, Layout::kGapped, Layout::kPadded},
        {{7, 33}, {7, 33}, Layout::kContiguous, Layout::kContiguous, 1u},  // b broadcast through stride 0
        {{9, 65}, {9, 65}, Layout::kContiguous, Layout::kContiguous, 0u, true},
        {{5, 33}, {1, 33}, Layout::kContiguous, Layout::kContiguous, 0u, true},
    };
    std::uniform_int_distribution<int64_t> r(1, 8), c(1, 200);
    shapes.push_back({{r(rng), c(rng)}, {1, 1}});
    const Shape rc{r(rng), c(rng)};
    shapes.push_back({rc, rc});
    std::vector<OpCase> cases;
    for (const auto& s : shapes) {
      const Shape y = *ref::broadcast_shape(s.a, s.b);
      OpCase oc;
      oc.label = shape_text(s.a) + layout_tag(s.la) + (op == PLINTH_OP_ADD ? "+" : "*") + shape_text(s.b) +
                 layout_tag(s.lb) + (s.b_zero ? " (b dim 0 stride 0)" : "") + (s.in_place ? " in place" : "");
      Arg b = arg(dt, s.b, s.lb);
      b.zero_stride_mask = s.b_zero;
      oc.inputs = {arg(dt, s.a, s.la), b};
      oc.outputs = {arg(dt, y, s.in_place ? s.la : Layout::kContiguous)};
      if (s.in_place) oc.alias_input = 0;
      oc.reference = [op](const std::vector<const Tensor*>& in) {
        return std::vector<Tensor>{op == PLINTH_OP_ADD ? ref::add(*in[0], *in[1]) : ref::mul(*in[0], *in[1])};
      };
      oc.tolerance = {op_tolerance(op, dt)};
      cases.push_back(std::move(oc));
    }
    return cases;
  };
  return v;
}

// ---- unary elementwise ---------------------------------------------------------------------------

OpVariant scale_variant(plinth_dtype_t dt) {
  auto v = variant("scale", PLINTH_OP_SCALE, ref::dtype_label(dt), false, dt == PLINTH_DTYPE_F32);
  v.cases = [dt](std::mt19937_64& rng) {
    std::vector<OpCase> cases;
    const std::pair<float, float> sb[] = {{2.5f, 0.0f}, {-0.5f, 1.25f}, {1.0f, -3.0f}, {0.0f, 0.5f}};
    int k = 0;
    auto shapes = elementwise_shapes(rng);
    shapes.push_back({{9, 65}, Layout::kContiguous});  // in place
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      auto& [shape, layout] = shapes[i];
      const bool in_place = i + 1 == shapes.size();
      auto p = params_of<plinth_scale_params_t>();
      p.scale = sb[k % 4].first;
      p.bias = sb[k % 4].second;
      ++k;
      OpCase c;
      c.label = shape_text(shape) + layout_tag(layout) + " scale " + num(p.scale) + " bias " +
                num(p.bias) + (in_place ? " in place" : "");
      c.inputs = {arg(dt, shape, layout)};
      c.outputs = {arg(dt, shape, in_place ? layout : Layout::kContiguous)};
      if (in_place) c.alias_input = 0;
      c.params = params_bytes(p);
      const double s = p.scale, b = p.bias;
      c.reference = [s, b](const std::vector<const Tensor*>& in) { return std::vector<Tensor>{ref::scale(*in[0], s, b)}; };
      c.tolerance = {op_tolerance(PLINTH_OP_SCALE, dt)};
      cases.push_back(std::move(c));
    }
    return cases;
  };
  return v;
}

OpVariant activation_variant(const char* name, plinth_op_t op, plinth_dtype_t dt) {
  auto v = variant(name, op, ref::dtype_label(dt), false, dt == PLINTH_DTYPE_F32);
  v.cases = [op, dt](std::mt19937_64& rng) {
    std::vector<OpCase> cases;
    int k = 0;
    for (auto& [shape, layout] : elementwise_shapes(rng)) {
      const int approx = op == PLINTH_OP_GELU ? (k % 3) : 0;  // 0 erf, 1 tanh, 2 NULL params (erf)
      ++k;
      OpCase c;
      c.label = shape_text(shape) + layout_tag(layout);
      Arg x = arg(dt, shape, layout);
      x.gen = Gen::kUniform;
      x.a = -6;
      x.b = 6;
      if (op == PLINTH_OP_SWIGLU) {
        c.label = shape_text(shape) + layout_tag(layout) + ", " + shape_text(shape);
        c.inputs = {x, arg(dt, shape, Layout::kContiguous)};
        c.reference = [](const std::vector<const Tensor*>& in) { return std::vector<Tensor>{ref::swiglu(*in[0], *in[1])}; };
      } else if (op == PLINTH_OP_SILU) {
        c.inputs = {x};
        c.reference = [](const std::vector<const Tensor*>& in) { return std::vector<Tensor>{ref::silu(*in[0])}; };
      } else {
        c.inputs = {x};
        if (approx < 2) {
          auto p = params_of<plinth_gelu_params_t>();
          p.approximation = approx == 1 ? PLINTH_GELU_TANH : PLINTH_GELU_ERF;
          c.params = params_bytes(p);
        }
        c.label += approx == 1 ? " tanh" : approx == 0 ? " erf" : " erf (NULL params)";
        const bool tanh_form = approx == 1;
        c.reference = [tanh_form](const std::vector<const Tensor*>& in) { return std::vector<Tensor>{ref::gelu(*in[0], tanh_form)}; };
      }
      c.outputs = {arg(dt, shape, Layout::kContiguous)};
      c.tolerance = {op_tolerance(op, dt)};
      // x (1 + erf(x / sqrt 2)) and x / (1 + exp(-x)) cancel in the negative tail: an f32 result
      // there carries an absolute error of order eps * |x|, however small the output.
      c.floor = 1e-2;
      cases.push_back(std::move(c));
    }
    if (op == PLINTH_OP_GELU) {
      // The negative shoulder, where erf and tanh forms differ most relative to the output: on
      // [-6, 6] the 5e-4 between them nearly hides under the NMSE (mutant cpu.gelu.erf_as_tanh).
      for (const bool tanh_form : {false, true}) {
        OpCase c;
        c.label = "[4,65] in [-4,-1]" + std::string(tanh_form ? " tanh" : " erf");
        Arg x = arg(dt, {4, 65});
        x.gen = Gen::kUniform;
        x.a = -4;
        x.b = -1;
        c.inputs = {x};
        auto p = params_of<plinth_gelu_params_t>();
        p.approximation = tanh_form ? PLINTH_GELU_TANH : PLINTH_GELU_ERF;
        c.params = params_bytes(p);
        c.reference = [tanh_form](const std::vector<const Tensor*>& in) {
          return std::vector<Tensor>{ref::gelu(*in[0], tanh_form)};
        };
        c.outputs = {arg(dt, {4, 65})};
        c.tolerance = {op_tolerance(op, dt)};
        c.floor = 1e-2;
        cases.push_back(std::move(c));
      }
    }
    return cases;
  };
  return v;
}

// ---- matmul --------------------------------------------------------------------------------------

OpVariant matmul_variant(plinth_dtype_t dt) {
  auto v = variant("matmul", PLINTH_OP_MATMUL, ref::dtype_label(dt), false, dt == PLINTH_DTYPE_F32);
  v.cases = [dt](std::mt19937_64& rng) {
    struct S {
      Shape batch_a, batch_b;
      int64_t m, k, n;
      bool ta = false, tb = false;
      float alpha = 1.0f;
      Layout la = Layout::kContiguous;
    };
    std::vector<S> shapes = {
        {{}, {}, 1, 1, 1},         {{}, {}, 7, 33, 5},          {{}, {}, 1, 257, 7},
        {{}, {}, 33, 64, 65},      {{}, {}, 7, 33, 5, true},    {{}, {}, 7, 33, 5, false, true},
        {{}, {}, 6, 17, 9, true, true, 0.5f}, {{2}, {2}, 4, 8, 6}, {{2, 3}, {2, 3}, 7, 33, 5},
        {{2, 1}, {1, 3}, 4, 8, 6}, {{3}, {}, 5, 16, 7},         {{}, {}, 0, 8, 4},
        {{}, {}, 9, 40, 11, false, false, 1.0f, Layout::kPadded}, {{}, {}, 1, 1000, 3},
    };
    shapes.push_back({{}, {}, 3, 0, 4});  // K = 0: c is all zeros (mutant cpu.matmul.k0_not_zeroed)
    std::uniform_int_distribution<int64_t> d(1, 70);
    shapes.push_back({{}, {}, d(rng), d(rng), d(rng)});
    std::vector<OpCase> cases;
    for (const auto& s : shapes) {
      Shape a = s.batch_a, b = s.batch_b;
      a.push_back(s.ta ? s.k : s.m);
      a.push_back(s.ta ? s.m : s.k);
      b.push_back(s.tb ? s.n : s.k);
      b.push_back(s.tb ? s.k : s.n);
      Shape c = *ref::broadcast_shape(s.batch_a, s.batch_b);
      c.push_back(s.m);
      c.push_back(s.n);
      auto p = params_of<plinth_matmul_params_t>();
      p.transpose_a = s.ta;
      p.transpose_b = s.tb;
      p.alpha = s.alpha;
      OpCase oc;
      oc.label = shape_text(a) + layout_tag(s.la) + (s.ta ? "^T" : "") + "@" + shape_text(b) + (s.tb ? "^T" : "") +
                 (s.alpha != 1.0f ? " alpha " + num(s.alpha) : "");
      Arg aa = arg(dt, a, s.la), bb = arg(dt, b);
      aa.b = bb.b = 0.5;
      oc.inputs = {aa, bb};
      oc.outputs = {arg(dt, c)};
      oc.params = params_bytes(p);
      const bool ta = s.ta, tb = s.tb;
      const double alpha = s.alpha;
      oc.reference = [ta, tb, alpha](const std::vector<const Tensor*>& in) {
        return std::vector<Tensor>{ref::matmul(*in[0], *in[1], ta, tb, alpha)};
      };
      oc.tolerance = {op_tolerance(PLINTH_OP_MATMUL, dt)};
      cases.push_back(std::move(oc));
    }
    return cases;
  };
  return v;
}

OpVariant matmul_quant_variant(plinth_dtype_t q) {
  auto v = variant("matmul", PLINTH_OP_MATMUL, ref::dtype_label(q), false, false);
  v.cases = [q](std::mt19937_64&) {
    struct S {
      Shape a;
      int64_t n;
      float alpha = 1.0f;
    };
    // More than 32 rows with N > 512 (several weight tiles) and alpha != 1 reach the prefill path and
    // the scaling (mutants cpu.qmatmul.tile_rows, cpu.qmatmul.prefill_stride, cpu.qmatmul.alpha_ignored).
    const S base[] = {{{1, 32}, 1},     {{7, 64}, 33}, {{1, 256}, 257}, {{4, 96}, 5},
                      {{2, 5, 64}, 17}, {{0, 32}, 3},  {{16, 512}, 64}};
    std::vector<S> shapes(std::begin(base), std::end(base));
    shapes.push_back({{40, 64}, 520});
    shapes.push_back({{37, 96}, 40, 0.5f});
    shapes.push_back({{3, 64}, 9, 0.25f});
    std::vector<OpCase> cases;
    for (const auto& s : shapes) {
      const int64_t k = s.a.back();
      Shape c = s.a;
      c.back() = s.n;
      auto p = params_of<plinth_matmul_params_t>();
      p.transpose_b = 1;
      p.alpha = s.alpha;
      OpCase oc;
      oc.label = shape_text(s.a) + " f32 @ " + shape_text({s.n, k}) + "^T " + ref::dtype_label(q) +
                 (s.alpha != 1.0f ? " alpha " + num(s.alpha) : "");
      oc.inputs = {arg(PLINTH_DTYPE_F32, s.a), arg(q, {s.n, k})};
      oc.outputs = {arg(PLINTH_DTYPE_F32, c)};
      oc.params = params_bytes(p);
      const double alpha = s.alpha;
      oc.reference = [alpha](const std::vector<const Tensor*>& in) {
        return std::vector<Tensor>{ref::matmul(*in[0], *in[1], false, true, alpha)};
      };
      oc.tolerance = {op_tolerance(PLINTH_OP_MATMUL, q)};
      cases.push_back(std::move(oc));
    }
    return cases;
  };
  return v;
}

// ---- get_rows ------------------------------------------------------------------------------------

OpVariant get_rows_variant(plinth_dtype_t table_dt) {
  auto v = variant("get_rows", PLINTH_OP_GET_ROWS, ref::dtype_label(table_dt), false, table_dt == PLINTH_DTYPE_F32);
  v.cases = [table_dt](std::mt19937_64&) {
    const bool quant = ref::dtype_is_quantized(table_dt);
    struct S {
      int64_t rows, d, n;
      Layout layout = Layout::kContiguous;
    };
    std::vector<S> shapes = quant ? std::vector<S>{{9, 32, 5}, {20, 64, 13}, {3, 256, 1}, {5, 32, 0}, {7, 96, 7, Layout::kPadded}}
                                  : std::vector<S>{{10, 7, 5}, {5, 33, 13}, {100, 257, 3}, {1, 1, 1}, {4, 8, 0}, {6, 17, 9, Layout::kPadded}};
    std::vector<OpCase> cases;
    for (const auto& s : shapes) {
      OpCase oc;
      oc.label = "table " + shape_text({s.rows, s.d}) + layout_tag(s.layout) + " indices [" + std::to_string(s.n) + "]";
      Arg idx = arg(PLINTH_DTYPE_I32, {s.n});
      idx.gen = Gen::kInt;
      idx.a = 0;
      idx.b = static_cast<double>(s.rows - 1);
      oc.inputs = {arg(table_dt, {s.rows, s.d}, s.layout), idx};
      oc.outputs = {arg(PLINTH_DTYPE_F32, {s.n, s.d})};
      oc.reference = [](const std::vector<const Tensor*>& in) {
        std::vector<int64_t> indices;
        for (double x : in[1]->data) indices.push_back(static_cast<int64_t>(x));
        return std::vector<Tensor>{ref::get_rows(*in[0], indices)};
      };
      oc.tolerance = {op_tolerance(PLINTH_OP_GET_ROWS, table_dt)};
      cases.push_back(std::move(oc));
    }
    return cases;
  };
  return v;
}

// ---- the paged KV cache (ABI 1.2) ----------------------------------------------------------------

// dst's dtype names the variant; its rows start with generated values the op must keep, except the
// N rows it replaces (distinct indices, in random order).
OpVariant set_rows_variant(plinth_dtype_t dst_dt) {
  auto v =
      variant("set_rows", PLINTH_OP_SET_ROWS, ref::dtype_label(dst_dt), false, dst_dt == PLINTH_DTYPE_F32);
  v.cases = [dst_dt](std::mt19937_64&) {
    struct S {
      int64_t rows, w, n;
      Layout dst_layout = Layout::kContiguous;
      plinth_dtype_t src = PLINTH_DTYPE_F32;
      Layout src_layout = Layout::kContiguous;
    };
    const std::vector<S> shapes = {
        {10, 7, 5},
        {64, 33, 13, Layout::kPadded},
        {20, 64, 20},  // every row replaced, in a shuffled order
        {1, 1, 1},
        {5, 8, 0},
        {12, 17, 4, Layout::kGapped, PLINTH_DTYPE_F32, Layout::kPadded},
        {48, 192, 3, Layout::kContiguous, PLINTH_DTYPE_F16},  // a KV cache of 3 kv heads of D = 64
        {9, 40, 2, Layout::kPadded, PLINTH_DTYPE_BF16, Layout::kGapped},
    };
    std::vector<OpCase> cases;
    for (const auto& s : shapes) {
      OpCase oc;
      oc.label = "dst " + shape_text({s.rows, s.w}) + layout_tag(s.dst_layout) + " src " +
                 ref::dtype_label(s.src) + " " + shape_text({s.n, s.w}) + layout_tag(s.src_layout);
      Arg idx = arg(PLINTH_DTYPE_I32, {s.n});
      idx.gen = Gen::kDistinct;
      idx.a = 0;
      idx.b = static_cast<double>(s.rows - 1);
      oc.inputs = {arg(s.src, {s.n, s.w}, s.src_layout), idx};
      oc.outputs = {arg(dst_dt, {s.rows, s.w}, s.dst_layout)};
      oc.output_read = true;
      oc.reference = [](const std::vector<const Tensor*>& in) {
        std::vector<int64_t> indices;
        for (double x : in[1]->data) indices.push_back(static_cast<int64_t>(x));
        return std::vector<Tensor>{ref::set_rows(*in[2], *in[0], indices)};
      };
      oc.tolerance = {op_tolerance(PLINTH_OP_SET_ROWS, dst_dt)};
      cases.push_back(std::move(oc));
    }
    return cases;
  };
  return v;
}

// One ragged batch of a paged-attention case: (query rows n_s, context length L_s) per sequence.
struct PagedShape {
  std::vector<std::pair<int64_t, int64_t>> seqs;
  int64_t hq, hkv, d, dv, bs;
  bool causal = true;
  float scale = 0.0f;
  int64_t shared = 0;  // sequences after the first reuse its first `shared` blocks (a common prefix)
  Layout cache_layout = Layout::kContiguous;
};

// The index tensors of a case: block ids shuffled so sequences' blocks are neither contiguous nor
// in order, two spare blocks no sequence may read, and table entries past a sequence's blocks set
// to -1 or a huge id (never read).
struct PagedIndices {
  std::vector<double> table, starts, lens;
  int64_t t = 0, nb = 0, mb = 0;
};

PagedIndices paged_indices(const PagedShape& s, std::mt19937_64& rng) {
  PagedIndices out;
  int64_t own = 0;
  for (std::size_t i = 0; i < s.seqs.size(); ++i) {
    const int64_t blocks = (s.seqs[i].second + s.bs - 1) / s.bs;
    out.mb = std::max(out.mb, blocks + 1);
    own += i > 0 ? std::max<int64_t>(0, blocks - s.shared) : blocks;
  }
  out.nb = own + 2;
  std::vector<double> ids(static_cast<std::size_t>(out.nb));
  for (int64_t i = 0; i < out.nb; ++i) ids[static_cast<std::size_t>(i)] = static_cast<double>(i);
  std::shuffle(ids.begin(), ids.end(), rng);
  std::size_t next = 0;
  out.starts.push_back(0);
  for (std::size_t i = 0; i < s.seqs.size(); ++i) {
    const auto [n, len] = s.seqs[i];
    const int64_t blocks = (len + s.bs - 1) / s.bs;
    for (int64_t m = 0; m < out.mb; ++m) {
      double id = m % 2 == 0 ? -1.0 : 2147483647.0;
      if (m < blocks) id = i > 0 && m < s.shared ? out.table[static_cast<std::size_t>(m)] : ids[next++];
      out.table.push_back(id);
    }
    out.t += n;
    out.starts.push_back(static_cast<double>(out.t));
    out.lens.push_back(static_cast<double>(len));
  }
  return out;
}

Arg fixed_i32(Shape shape, std::vector<double> values) {
  Arg a = arg(PLINTH_DTYPE_I32, std::move(shape));
  a.gen = Gen::kFixed;
  a.values = std::move(values);
  return a;
}

// q and o are f32; the cache dtype names the variant (the KV cache is what serving engines keep in
// half precision).
OpVariant paged_attention_variant(plinth_dtype_t cache_dt) {
  auto v = variant("paged_attention", PLINTH_OP_PAGED_ATTENTION, ref::dtype_label(cache_dt), false,
                   cache_dt == PLINTH_DTYPE_F32);
  v.cases = [cache_dt](std::mt19937_64& rng) {
    const std::vector<PagedShape> shapes = {
        {{{1, 1}}, 1, 1, 8, 8, 4},
        // Decode steps of a batch: GQA 4, contexts from 1 token to several blocks, a partial last block.
        {{{1, 37}, {1, 1}, {1, 64}, {1, 16}}, 4, 1, 16, 16, 16},
        // Prefill chunks with earlier context next to a first prefill and a decode step; GQA 8, Dv != D.
        {{{5, 40}, {7, 7}, {1, 3}}, 8, 1, 32, 16, 8},
        {{{5, 40}, {7, 7}, {1, 3}}, 2, 2, 16, 16, 8, false},
        // Shared prefix blocks, an explicit scale, and a sequence with no queries this step.
        {{{2, 20}, {1, 21}, {0, 9}, {3, 19}}, 6, 3, 16, 16, 8, true, 0.3f, 2},
        // The small model's decode shape (9 query heads over 3 kv heads, D = 64), padded caches.
        {{{1, 300}, {1, 1}, {1, 129}}, 9, 3, 64, 64, 16, true, 0.0f, 0, Layout::kPadded},
        // A long prefill chunk (many query rows of one sequence), causal and not.
        {{{40, 150}, {1, 2}}, 2, 1, 16, 16, 32},
        {{{40, 150}, {1, 2}}, 4, 2, 8, 8, 32, false},
        // No query rows at all.
        {{{0, 0}, {0, 5}}, 2, 1, 8, 8, 4},
    };
    std::vector<OpCase> cases;
    for (const auto& s : shapes) {
      const PagedIndices ix = paged_indices(s, rng);
      const auto sc = static_cast<int64_t>(s.seqs.size());
      auto p = params_of<plinth_attention_params_t>();
      p.causal = s.causal;
      p.scale = s.scale;
      OpCase oc;
      oc.inputs = {arg(PLINTH_DTYPE_F32, {ix.t, s.hq, s.d}),
                   arg(cache_dt, {ix.nb, s.bs, s.hkv, s.d}, s.cache_layout),
                   arg(cache_dt, {ix.nb, s.bs, s.hkv, s.dv}, s.cache_layout),
                   fixed_i32({sc, ix.mb}, ix.table),
                   fixed_i32({sc + 1}, ix.starts),
                   fixed_i32({sc}, ix.lens)};
      oc.outputs = {arg(PLINTH_DTYPE_F32, {ix.t, s.hq, s.dv})};
      oc.params = params_bytes(p);
      std::string seqs;
      for (const auto& [n, len] : s.seqs) seqs += "(" + std::to_string(n) + "," + std::to_string(len) + ")";
      oc.label = "seqs (n,L) " + seqs + " Hq " + std::to_string(s.hq) + " Hkv " + std::to_string(s.hkv) +
                 " D " + std::to_string(s.d) + " Dv " + std::to_string(s.dv) + " BS " + std::to_string(s.bs) +
                 layout_tag(s.cache_layout) + (s.causal ? " causal" : "") +
                 (s.scale != 0.0f ? " scale " + num(s.scale) : "") +
                 (s.shared ? " " + std::to_string(s.shared) + " shared blocks" : "");
      const bool causal = s.causal;
      const double scale = s.scale;
      oc.reference = [=](const std::vector<const Tensor*>& in) {
        return std::vector<Tensor>{
            ref::paged_attention(*in[0], *in[1], *in[2], *in[3], *in[4], *in[5], scale, causal)};
      };
      oc.tolerance = {op_tolerance(PLINTH_OP_PAGED_ATTENTION, cache_dt)};
      cases.push_back(std::move(oc));
    }
    return cases;
  };
  return v;
}

// ---- normalizations ------------------------------------------------------------------------------

OpVariant norm_variant(const char* name, plinth_op_t op, plinth_dtype_t dt) {
  auto v = variant(name, op, ref::dtype_label(dt), false, dt == PLINTH_DTYPE_F32);
  v.cases = [op, dt](std::mt19937_64&) {
    struct S {
      Shape x;
      Layout layout = Layout::kContiguous;
      int weights = 0;  // rms: 0/1 weight; layer: bit0 gamma, bit1 beta
      float eps = 1e-5f;
      double layer_norm_mean = 3.0;  // mean of layer_norm's x
    };
    const std::vector<S> base = {
        {{7, 33}, Layout::kContiguous, 3},
        {{1, 1}, Layout::kContiguous, 0},
        {{3, 257}, Layout::kContiguous, 1},
        {{1, 7}, Layout::kContiguous, 2},
        {{4, 2, 64}, Layout::kContiguous, 3, 1e-6f},
        {{0, 5}, Layout::kContiguous, 0},
        {{5, 33}, Layout::kPadded, 3},
        {{6, 1000}, Layout::kContiguous, 1},
        {{3, 16}, Layout::kContiguous, 0, 0.5f},
    };
    // Rows with a mean 100 deviations from 0, where a one-pass f32 variance (E[x^2] - mean^2)
    // cancels; at mean 3 it hides under the NMSE (mutant cpu.layer_norm.one_pass_variance).
    std::vector<S> shapes = base;
    shapes.push_back({{4, 256}, Layout::kContiguous, 3, 1e-5f, 100.0});
    std::vector<OpCase> cases;
    for (const auto& s : shapes) {
      const int64_t d = s.x.back();
      auto p = params_of<plinth_norm_params_t>();
      p.eps = s.eps;
      OpCase oc;
      Arg x = arg(dt, s.x, s.layout);
      if (op == PLINTH_OP_LAYER_NORM) x.a = s.layer_norm_mean;  // a mean far from 0 exposes one-pass variance
      oc.inputs = {x};
      const bool w0 = op != PLINTH_OP_L2_NORMALIZE && (s.weights & 1);
      const bool w1 = op == PLINTH_OP_LAYER_NORM && (s.weights & 2);
      if (op == PLINTH_OP_RMS_NORM) oc.inputs.push_back(w0 ? std::optional<Arg>(arg(dt, {d})) : std::nullopt);
      if (op == PLINTH_OP_LAYER_NORM) {
        oc.inputs.push_back(w0 ? std::optional<Arg>(arg(dt, {d})) : std::nullopt);
        oc.inputs.push_back(w1 ? std::optional<Arg>(arg(dt, {d})) : std::nullopt);
      }
      oc.label = shape_text(s.x) + layout_tag(s.layout) + (w0 ? (op == PLINTH_OP_RMS_NORM ? " weight" : " gamma") : "") +
                 (w1 ? " beta" : "") + " eps " + num(s.eps);
      oc.outputs = {arg(dt, s.x)};
      oc.params = params_bytes(p);
      const double eps = s.eps;
      oc.reference = [op, eps](const std::vector<const Tensor*>& in) {
        if (op == PLINTH_OP_RMS_NORM) return std::vector<Tensor>{ref::rms_norm(*in[0], in[1], eps)};
        if (op == PLINTH_OP_LAYER_NORM) return std::vector<Tensor>{ref::layer_norm(*in[0], in[1], in[2], eps)};
        return std::vector<Tensor>{ref::l2_normalize(*in[0], eps)};
      };
      oc.tolerance = {op_tolerance(op, dt)};
      cases.push_back(std::move(oc));
    }
    return cases;
  };
  return v;
}

// ---- softmax -------------------------------------------------------------------------------------

OpVariant softmax_variant(plinth_dtype_t dt) {
  auto v = variant("softmax", PLINTH_OP_SOFTMAX, ref::dtype_label(dt), false, dt == PLINTH_DTYPE_F32);
  v.cases = [dt](std::mt19937_64&) {
    struct S {
      Shape x;
      std::optional<Shape> mask = std::nullopt;
      float scale = 0.0f;
      bool causal = false;
      Layout layout = Layout::kContiguous;
    };
    const std::vector<S> base = {
        {{7, 33}},
        {{1, 1}},
        {{3, 257}, std::nullopt, 0.5f},
        {{2, 4, 5, 7}, Shape{5, 7}},
        {{5, 7}, std::nullopt, 0.0f, true},
        {{6, 4}, std::nullopt, 1.0f, true},
        {{2, 3, 4, 9}, Shape{2, 1, 4, 9}, 0.125f, true},
        {{0, 5}},
        {{4, 33}, std::nullopt, 2.0f, false, Layout::kPadded},
        {{3, 1000}, Shape{1, 1000}},
    };
    // Logits far beyond exp's range (z up to ~500: mutant cpu.softmax.no_max_shift), and a flat
    // row of 4096 where every probability is small (cpu.softmax.prune_small).
    std::vector<S> shapes = base;
    shapes.push_back({{4, 65}, std::nullopt, 60.0f});
    shapes.push_back({{2, 4096}, std::nullopt, 0.5f});
    std::vector<OpCase> cases;
    for (const auto& s : shapes) {
      auto p = params_of<plinth_softmax_params_t>();
      p.scale = s.scale;
      p.causal = s.causal;
      OpCase oc;
      Arg x = arg(dt, s.x, s.layout);
      x.b = 2.0;
      oc.inputs = {x};
      if (s.mask) {
        Arg m = arg(dt, *s.mask);
        m.gen = Gen::kMask;
        oc.inputs.push_back(m);
      }
      oc.label = shape_text(s.x) + layout_tag(s.layout) + (s.mask ? " mask " + shape_text(*s.mask) : "") + " scale " +
                 num(s.scale) + (s.causal ? " causal" : "");
      oc.outputs = {arg(dt, s.x)};
      oc.params = params_bytes(p);
      const double scale = s.scale;
      const bool causal = s.causal;
      oc.reference = [scale, causal](const std::vector<const Tensor*>& in) {
        return std::vector<Tensor>{ref::softmax(*in[0], in.size() > 1 ? in[1] : nullptr, scale, causal)};
      };
      oc.tolerance = {op_tolerance(PLINTH_OP_SOFTMAX, dt)};
      cases.push_back(std::move(oc));
    }
    return cases;
  };
  return v;
}

// ---- rope ----------------------------------------------------------------------------------------

OpVariant rope_variant(plinth_dtype_t dt) {
  auto v = variant("rope", PLINTH_OP_ROPE, ref::dtype_label(dt), false, dt == PLINTH_DTYPE_F32);
  v.cases = [dt](std::mt19937_64&) {
    struct S {
      Shape x;
      bool batched_pos;
      uint32_t mode, n_dims;
      float base = 10000.0f, fscale = 1.0f;
      bool in_place = false;
      double pos_lo = 0, pos_hi = 600;
    };
    const std::vector<S> shapes = {
        {{5, 4, 16}, false, PLINTH_ROPE_NORMAL, 0},
        {{5, 4, 16}, false, PLINTH_ROPE_NEOX, 0},
        {{2, 3, 2, 64}, true, PLINTH_ROPE_NORMAL, 32},
        {{2, 3, 2, 64}, true, PLINTH_ROPE_NEOX, 32, 500000.0f, 0.25f},
        {{1, 1, 2}, false, PLINTH_ROPE_NORMAL, 2},
        {{7, 3, 10}, false, PLINTH_ROPE_NEOX, 6},
        {{0, 2, 8}, false, PLINTH_ROPE_NORMAL, 0},
        {{3, 2, 8}, false, PLINTH_ROPE_NORMAL, 0, 10000.0f, 1.0f, true},
        // Long-context positions beyond 2^15 (mutant cpu.rope.position_int16). Judged at 1e-3: an
        // angle computed in f32 is off by about p * 2^-24 there.
        {{4, 2, 16}, false, PLINTH_ROPE_NORMAL, 0, 10000.0f, 1.0f, false, 32768, 100000},
        {{2, 4, 2, 16}, true, PLINTH_ROPE_NEOX, 8, 10000.0f, 1.0f, false, 32768, 100000},
    };
    std::vector<OpCase> cases;
    for (const auto& s : shapes) {
      auto p = params_of<plinth_rope_params_t>();
      p.mode = s.mode;
      p.n_dims = s.n_dims;
      p.freq_base = s.base;
      p.freq_scale = s.fscale;
      const int64_t seq = s.x.size() == 4 ? s.x[1] : s.x[0];
      Shape pos_shape = s.batched_pos ? Shape{s.x[0], seq} : Shape{seq};
      Arg pos = arg(PLINTH_DTYPE_I32, pos_shape);
      pos.gen = Gen::kInt;
      pos.a = s.pos_lo;
      pos.b = s.pos_hi;
      OpCase oc;
      oc.label = shape_text(s.x) + " positions " + shape_text(pos_shape) + (s.mode == PLINTH_ROPE_NEOX ? " neox" : " normal") +
                 " n_dims " + std::to_string(s.n_dims) + " base " + num(s.base) + " freq_scale " +
                 num(s.fscale) + (s.in_place ? " in place" : "");
      oc.inputs = {arg(dt, s.x), pos};
      oc.outputs = {arg(dt, s.x)};
      if (s.in_place) oc.alias_input = 0;
      oc.params = params_bytes(p);
      const int mode = static_cast<int>(s.mode), nd = static_cast<int>(s.n_dims);
      const double base = s.base, fs = s.fscale;
      oc.reference = [mode, nd, base, fs](const std::vector<const Tensor*>& in) {
        return std::vector<Tensor>{ref::rope(*in[0], *in[1], mode, nd, base, fs)};
      };
      const double rope_tol = op_tolerance(PLINTH_OP_ROPE, dt);
      oc.tolerance = {s.pos_hi > 600 ? std::max(1e-3, rope_tol) : rope_tol};
      cases.push_back(std::move(oc));
    }
    return cases;
  };
  return v;
}

// ---- attention -----------------------------------------------------------------------------------

OpVariant attention_variant(plinth_dtype_t dt) {
  auto v = variant("attention", PLINTH_OP_ATTENTION, ref::dtype_label(dt), false, dt == PLINTH_DTYPE_F32);
  v.cases = [dt](std::mt19937_64&) {
    struct S {
      int64_t b, hq, hkv, sq, skv, d, dv;
      bool causal = false;
      std::optional<Shape> mask = std::nullopt;
      bool kv_lens = false;
      float scale = 0.0f;
    };
    const std::vector<S> shapes = {
        {1, 1, 1, 1, 1, 8, 8},
        {2, 4, 2, 5, 7, 16, 16},
        {2, 4, 2, 5, 7, 16, 8, true},
        {1, 2, 2, 1, 33, 32, 32, false, std::nullopt, false, 0.3f},
        {2, 6, 3, 4, 9, 8, 8, false, Shape{4, 9}},
        {2, 2, 1, 3, 6, 8, 4, true, Shape{2, 1, 3, 6}, true},
        {3, 2, 1, 1, 12, 16, 16, false, std::nullopt, true},
        {1, 8, 1, 7, 7, 64, 64, true},
        {1, 1, 1, 0, 4, 8, 8},
        // Long enough for the tiled paths: several blocks of queries and of keys (Sq >= 4), and more
        // than one chunk of keys per query (Sq < 4); the running max must rescale across them
        // (mutants cpu.attention.blocked_no_rescale, .blocked_one_query_block, .chunked_no_rescale).
        {1, 2, 1, 40, 150, 16, 16, true},
        {2, 2, 1, 37, 200, 8, 8, false, std::nullopt, true},
        {1, 2, 2, 2, 300, 16, 8},
    };
    std::vector<OpCase> cases;
    for (const auto& s : shapes) {
      auto p = params_of<plinth_attention_params_t>();
      p.causal = s.causal;
      p.scale = s.scale;
      OpCase oc;
      oc.inputs = {arg(dt, {s.b, s.hq, s.sq, s.d}), arg(dt, {s.b, s.hkv, s.skv, s.d}), arg(dt, {s.b, s.hkv, s.skv, s.dv})};
      if (s.mask) {
        Arg m = arg(dt, *s.mask);
        m.gen = Gen::kMask;
        oc.inputs.push_back(m);
      } else if (s.kv_lens) {
        oc.inputs.push_back(std::nullopt);
      }
      if (s.kv_lens) {
        // Lengths from 0 (every key masked: zeros) to Skv.
        Arg lens = arg(PLINTH_DTYPE_I32, {s.b});
        lens.gen = Gen::kInt;
        lens.a = s.causal ? static_cast<double>(s.sq) : 0.0;
        lens.b = static_cast<double>(s.skv);
        oc.inputs.push_back(lens);
      }
      oc.label = "q " + shape_text({s.b, s.hq, s.sq, s.d}) + " k " + shape_text({s.b, s.hkv, s.skv, s.d}) + " v " +
                 shape_text({s.b, s.hkv, s.skv, s.dv}) + (s.mask ? " mask " + shape_text(*s.mask) : "") +
                 (s.kv_lens ? " kv_lens" : "") + (s.causal ? " causal" : "") +
                 (s.scale != 0.0f ? " scale " + num(s.scale) : "");
      oc.outputs = {arg(dt, {s.b, s.hq, s.sq, s.dv})};
      oc.params = params_bytes(p);
      const bool causal = s.causal, has_mask = s.mask.has_value(), has_lens = s.kv_lens;
      const double scale = s.scale;
      oc.reference = [=](const std::vector<const Tensor*>& in) {
        return std::vector<Tensor>{ref::attention(*in[0], *in[1], *in[2], has_mask ? in[3] : nullptr,
                                                  has_lens ? in[4] : nullptr, scale, causal)};
      };
      oc.tolerance = {op_tolerance(PLINTH_OP_ATTENTION, dt)};
      cases.push_back(std::move(oc));
    }
    return cases;
  };
  return v;
}

// ---- pooling and selection -----------------------------------------------------------------------

OpVariant mean_pool_variant(plinth_dtype_t dt) {
  auto v = variant("mean_pool", PLINTH_OP_MEAN_POOL, ref::dtype_label(dt), false, dt == PLINTH_DTYPE_F32);
  v.cases = [dt](std::mt19937_64&) {
    struct S {
      Shape x;
      int mask;  // 0 none, 1 float, 2 i32, 3 float all-zero row possible
    };
    const S shapes[] = {{{2, 5, 7}, 1}, {{3, 4, 33}, 2}, {{1, 1, 1}, 0}, {{2, 9, 257}, 0}, {{4, 3, 16}, 3}, {{0, 3, 4}, 1}};
    std::vector<OpCase> cases;
    for (const auto& s : shapes) {
      OpCase oc;
      oc.inputs = {arg(dt, s.x)};
      if (s.mask) {
        Arg m = arg(s.mask == 2 ? PLINTH_DTYPE_I32 : dt, {s.x[0], s.x[1]});
        m.gen = Gen::kKeep;
        m.a = s.mask == 3 ? 0.5 : 0.8;  // probability of keeping
        oc.inputs.push_back(m);
      }
      oc.label = shape_text(s.x) + (s.mask == 2 ? " i32 mask" : s.mask ? " float mask" : " no mask");
      oc.outputs = {arg(dt, {s.x[0], s.x[2]})};
      oc.reference = [](const std::vector<const Tensor*>& in) {
        return std::vector<Tensor>{ref::mean_pool(*in[0], in.size() > 1 ? in[1] : nullptr)};
      };
      oc.tolerance = {op_tolerance(PLINTH_OP_MEAN_POOL, dt)};
      cases.push_back(std::move(oc));
    }
    return cases;
  };
  return v;
}

OpVariant top_k_variant(plinth_dtype_t dt) {
  auto v = variant("top_k", PLINTH_OP_TOP_K, ref::dtype_label(dt), false, dt == PLINTH_DTYPE_F32);
  v.cases = [dt](std::mt19937_64&) {
    struct S {
      Shape x;
      uint32_t k;
      Gen gen = Gen::kNormal;
    };
    const S shapes[] = {{{1, 7}, 3}, {{4, 33}, 1}, {{3, 257}, 10}, {{20}, 20}, {{5, 40}, 8, Gen::kTies},
                        {{3, 16}, 5, Gen::kWithNaN}, {{2, 1000}, 50}, {{0, 5}, 2}};
    std::vector<OpCase> cases;
    for (const auto& s : shapes) {
      auto p = params_of<plinth_top_k_params_t>();
      p.k = s.k;
      Shape out = s.x;
      out.back() = s.k;
      OpCase oc;
      Arg x = arg(dt, s.x);
      x.gen = s.gen;
      oc.inputs = {x};
      oc.outputs = {arg(dt, out), arg(PLINTH_DTYPE_I32, out)};
      oc.params = params_bytes(p);
      oc.label = shape_text(s.x) + " k " + std::to_string(s.k) + (s.gen == Gen::kTies ? " with ties" : s.gen == Gen::kWithNaN ? " with NaN" : "");
      const int k = static_cast<int>(s.k);
      oc.reference = [k](const std::vector<const Tensor*>& in) {
        auto [values, indices] = ref::top_k(*in[0], k);
        return std::vector<Tensor>{values, indices};
      };
      oc.tolerance = {kExact, kExact};
      cases.push_back(std::move(oc));
    }
    return cases;
  };
  return v;
}

OpVariant argmax_variant(plinth_dtype_t dt) {
  auto v = variant("argmax", PLINTH_OP_ARGMAX, ref::dtype_label(dt), false, dt == PLINTH_DTYPE_F32);
  v.cases = [dt](std::mt19937_64&) {
    struct S {
      Shape x;
      Gen gen = Gen::kNormal;
    };
    const S shapes[] = {{{1, 7}}, {{5, 33}}, {{257}}, {{1, 1}}, {{6, 40}, Gen::kTies}, {{4, 16}, Gen::kWithNaN}, {{3, 5000}}};
    std::vector<OpCase> cases;
    for (const auto& s : shapes) {
      OpCase oc;
      Arg x = arg(dt, s.x);
      x.gen = s.gen;
      oc.inputs = {x};
      oc.outputs = {arg(PLINTH_DTYPE_I32, {s.x.size() == 1 ? 1 : s.x[0]})};
      oc.label = shape_text(s.x) + (s.gen == Gen::kTies ? " with ties" : s.gen == Gen::kWithNaN ? " with NaN" : "");
      oc.reference = [](const std::vector<const Tensor*>& in) { return std::vector<Tensor>{ref::argmax(*in[0])}; };
      oc.tolerance = {kExact};
      cases.push_back(std::move(oc));
    }
    return cases;
  };
  return v;
}

}  // namespace

double op_tolerance(plinth_op_t op, plinth_dtype_t dtype) {
  switch (op) {
    case PLINTH_OP_COPY:
    case PLINTH_OP_FILL:
    case PLINTH_OP_TOP_K:
    case PLINTH_OP_ARGMAX:
      return kExact;
    case PLINTH_OP_GET_ROWS:
      return ref::dtype_is_quantized(dtype) ? 1e-10 : kExact;
    case PLINTH_OP_SET_ROWS: return kExact;  // a conversion, rounded to nearest even like the reference's
    case PLINTH_OP_PAGED_ATTENTION:
      // q and o are f32 and a half-precision cache converts exactly: every variant computes in f32.
      return dtype == PLINTH_DTYPE_F32 ? 1e-8 : 1e-7;
    default:
      break;
  }
  if (dtype == PLINTH_DTYPE_F16) return 1e-5;
  if (dtype == PLINTH_DTYPE_BF16) return 1e-4;
  if (ref::dtype_is_quantized(dtype)) return 3e-4;  // quantized matmul vs the dequantized weights
  switch (op) {
    case PLINTH_OP_ADD:
    case PLINTH_OP_MUL:
    case PLINTH_OP_SCALE:
      return 1e-10;
    case PLINTH_OP_ROPE:
      return 1e-6;  // angles p * base^(-2i/n) in f32 for positions up to 600
    default:
      return 1e-8;
  }
}

std::vector<OpVariant> op_variants(Level level) {
  const plinth_dtype_t f32 = PLINTH_DTYPE_F32, f16 = PLINTH_DTYPE_F16, bf16 = PLINTH_DTYPE_BF16;
  std::vector<OpVariant> out = {
      copy_variant(f32, f32, true),   copy_variant(f16, f16, false),  copy_variant(bf16, bf16, false),
      copy_variant(f32, f16, false),  copy_variant(f16, f32, false),  copy_variant(f32, bf16, false),
      copy_variant(bf16, f32, false), copy_variant(PLINTH_DTYPE_I32, PLINTH_DTYPE_I32, false),
      fill_variant(f32, true),        fill_variant(f16, false),       fill_variant(bf16, false),
      fill_variant(PLINTH_DTYPE_I32, false),
  };
  if (level == Level::kCore) return out;
  for (auto dt : {f32, f16, bf16}) {
    out.push_back(binary_variant("add", PLINTH_OP_ADD, dt));
    out.push_back(binary_variant("mul", PLINTH_OP_MUL, dt));
    out.push_back(scale_variant(dt));
    out.push_back(matmul_variant(dt));
    out.push_back(norm_variant("rms_norm", PLINTH_OP_RMS_NORM, dt));
    out.push_back(norm_variant("layer_norm", PLINTH_OP_LAYER_NORM, dt));
    out.push_back(softmax_variant(dt));
    out.push_back(activation_variant("gelu", PLINTH_OP_GELU, dt));
    out.push_back(activation_variant("silu", PLINTH_OP_SILU, dt));
    out.push_back(activation_variant("swiglu", PLINTH_OP_SWIGLU, dt));
    out.push_back(rope_variant(dt));
    out.push_back(attention_variant(dt));
    out.push_back(mean_pool_variant(dt));
    out.push_back(norm_variant("l2_normalize", PLINTH_OP_L2_NORMALIZE, dt));
    out.push_back(top_k_variant(dt));
    out.push_back(argmax_variant(dt));
  }
  for (auto q : {PLINTH_DTYPE_Q8_0, PLINTH_DTYPE_Q4_0, PLINTH_DTYPE_Q4_1}) out.push_back(matmul_quant_variant(q));
  for (auto dt : {f32, f16, bf16, PLINTH_DTYPE_Q8_0, PLINTH_DTYPE_Q4_0, PLINTH_DTYPE_Q4_1}) out.push_back(get_rows_variant(dt));
  if (level_includes(level, Level::kInference2)) {
    for (auto dt : {f32, f16, bf16}) {
      out.push_back(set_rows_variant(dt));
      out.push_back(paged_attention_variant(dt));
    }
  }
  // Group each op's variants together, in catalogue order.
  std::stable_sort(out.begin(), out.end(), [](const OpVariant& a, const OpVariant& b) { return a.op < b.op; });
  return out;
}

}  // namespace plinth::cts
