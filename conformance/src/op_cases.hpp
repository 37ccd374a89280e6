// The op test catalogue: for every op and dtype variant, the shapes, layouts, parameters, value
// generators, reference and tolerance the ops suite runs. docs/ops.md documents the tolerances.
#pragma once

#include <cstddef>
#include <cstring>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "../reference/reference.hpp"
#include "plinth/cts/cts.hpp"

namespace plinth::cts {

enum class Layout {
  kContiguous,
  kPadded,      // rows padded: every outer stride larger than dense
  kGapped,      // padded rows and an innermost stride of two elements
  kTransposed,  // the last two dims stored column-major
};

enum class Gen {
  kNormal,    // normal(mean = a, stddev = b)
  kUniform,   // uniform [a, b)
  kInt,       // integers uniform in [a, b]
  kMask,      // additive mask: 0 mostly, some -inf, some small negatives
  kKeep,      // 0/1 keep flags, mostly 1
  kTies,      // small integers (many ties) times b
  kWithNaN,   // normal with a few NaNs
  kDistinct,  // distinct integers drawn uniformly from [a, b] (needs b - a + 1 >= numel)
  kFixed,     // exactly Arg::values (index tensors whose entries must agree with each other)
};

struct Arg {
  plinth_dtype_t dtype = PLINTH_DTYPE_F32;
  std::vector<int64_t> shape;
  Layout layout = Layout::kContiguous;
  uint32_t zero_stride_mask = 0;  // bit k: dims[k] has stride 0 (values constant along it)
  Gen gen = Gen::kNormal;
  double a = 0.0, b = 1.0;
  std::vector<double> values;  // Gen::kFixed: the logical values, row-major
};

using RefFn = std::function<std::vector<ref::Tensor>(const std::vector<const ref::Tensor*>& inputs)>;

inline constexpr double kExact = -1.0;

struct OpCase {
  std::string label;                       // "[7,33]+[1,33]", shapes and notable parameters
  std::vector<std::optional<Arg>> inputs;  // nullopt: optional slot passed as NULL
  std::vector<Arg> outputs;
  std::vector<std::byte> params;           // the params struct, or empty for NULL
  RefFn reference;
  std::vector<double> tolerance;           // per output: NMSE bound, or kExact
  int alias_input = -1;                    // output 0 is input `alias_input` itself (in-place)
  // Outputs whose RMS is below `floor` are judged on absolute error at this scale (NMSE and the
  // per-element bound), so round-off of near-zero results does not count as a relative error.
  double floor = 1e-3;
  // Output 0 is read as well as written (SET_ROWS' dst): its elements start with values generated
  // from its Arg, which the reference receives as one more input after the case's inputs.
  bool output_read = false;
};

struct OpVariant {
  std::string id;       // "ops.add.f32"
  std::string op_name;  // "add"
  std::string variant;  // "f32"
  plinth_op_t op = 0;
  bool core = false;      // part of level core
  bool required = false;  // must be supported at the levels that include it
  std::function<std::vector<OpCase>(std::mt19937_64&)> cases;
};

std::vector<OpVariant> op_variants(Level level);

// Tolerance the CTS applies to a float output of `op` in `dtype` (NMSE), or kExact.
double op_tolerance(plinth_op_t op, plinth_dtype_t dtype);

template <class P>
std::vector<std::byte> params_bytes(const P& p) {
  std::vector<std::byte> out(sizeof(P));
  std::memcpy(out.data(), &p, sizeof(P));
  return out;
}

}  // namespace plinth::cts
