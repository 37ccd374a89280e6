// Every catalogue op, per dtype variant, over the cases in op_cases.cpp: inputs are generated,
// rounded to their dtype and placed inside guard margins; the output is compared with the reference
// (exactly or by NMSE), checked for NaN/Inf, and every byte around and between output elements is
// checked for stray writes. Inputs must come back unchanged.
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "../reference/numeric_types.hpp"
#include "harness.hpp"
#include "op_cases.hpp"
#include "tensor_layout.hpp"

namespace plinth::cts {
namespace {

std::string number(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string short_number(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

std::string index_text(int64_t flat, const std::vector<int64_t>& shape) {
  std::vector<int64_t> idx(shape.size());
  for (std::size_t k = shape.size(); k-- > 0;) {
    idx[k] = shape[k] ? flat % shape[k] : 0;
    flat = shape[k] ? flat / shape[k] : 0;
  }
  std::string out = "[";
  for (std::size_t k = 0; k < idx.size(); ++k) {
    if (k) out += ',';  // not `"," + std::string`: a false -Wrestrict on GCC 12 at -O3
    out += std::to_string(idx[k]);
  }
  return out + "]";
}

// Generates the logical values of `arg` (already representable in its dtype) and the bytes of its
// buffer. Quantized tensors are generated as random blocks and decoded.
void generate(const PlacedTensor& p, std::mt19937_64& rng, ref::Tensor& values, std::vector<std::byte>& image) {
  const Arg& a = p.arg;
  values = ref::Tensor(a.shape);
  image.assign(p.buffer_size, std::byte{0xFF});  // NaN in every float dtype: reading a gap shows up
  const int64_t n = values.numel();
  if (ref::dtype_is_quantized(a.dtype)) {
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_real_distribution<float> scale(0.01f, 0.05f), shift(-0.1f, 0.1f);
    const std::size_t bb = ref::dtype_block_bytes(a.dtype);
    std::vector<std::byte> block(bb);
    for (int64_t blk = 0; blk < p.units(); ++blk) {
      for (auto& b : block) b = static_cast<std::byte>(byte(rng));
      const uint16_t d = ref::float_to_half(scale(rng));
      std::memcpy(block.data(), &d, 2);
      if (a.dtype == PLINTH_DTYPE_Q4_1) {
        const uint16_t m = ref::float_to_half(shift(rng));
        std::memcpy(block.data() + 2, &m, 2);
      }
      std::memcpy(image.data() + p.element_offset(blk), block.data(), bb);
      std::array<double, 32> decoded;
      ref::dequantize_block(a.dtype, block.data(), decoded);
      for (int j = 0; j < 32; ++j) values.data[static_cast<std::size_t>(blk * 32 + j)] = decoded[static_cast<std::size_t>(j)];
    }
    return;
  }
  std::normal_distribution<double> normal(a.a, a.b);
  std::uniform_real_distribution<double> uniform(a.a, a.b), unit(0.0, 1.0);
  for (int64_t i = 0; i < n; ++i) {
    double v = 0;
    switch (a.gen) {
      case Gen::kNormal: v = normal(rng); break;
      case Gen::kUniform: v = uniform(rng); break;
      case Gen::kInt: v = std::floor(a.a + unit(rng) * (a.b - a.a + 1)); v = std::min(v, a.b); break;
      case Gen::kMask: {
        const double u = unit(rng);
        v = u < 0.15 ? -std::numeric_limits<double>::infinity() : u < 0.4 ? -2.0 * unit(rng) : 0.0;
        break;
      }
      case Gen::kKeep: v = unit(rng) < a.a ? 1.0 : 0.0; break;
      case Gen::kTies: v = std::floor(unit(rng) * 7) - 3; break;
      case Gen::kWithNaN: v = unit(rng) < 0.1 ? std::numeric_limits<double>::quiet_NaN() : normal(rng); break;
      case Gen::kDistinct: break;  // drawn below, all at once
      case Gen::kFixed: v = a.values[static_cast<std::size_t>(i)]; break;
    }
    values.data[static_cast<std::size_t>(i)] = ref::round_to_dtype(v, a.dtype);
  }
  if (a.gen == Gen::kDistinct) {
    // A partial Fisher-Yates shuffle of [a, b]: the first n entries are distinct and uniform.
    std::vector<double> pool;
    for (double x = a.a; x <= a.b; x += 1.0) pool.push_back(x);
    for (int64_t i = 0; i < n; ++i) {
      std::uniform_int_distribution<std::size_t> pick(static_cast<std::size_t>(i), pool.size() - 1);
      std::swap(pool[static_cast<std::size_t>(i)], pool[pick(rng)]);
      values.data[static_cast<std::size_t>(i)] = pool[static_cast<std::size_t>(i)];
    }
  }
  // Dims with stride 0 hold one value along them.
  if (a.zero_stride_mask != 0) {
    for (int64_t i = 0; i < n; ++i) {
      int64_t rest = i, src = 0, mul = 1;
      for (std::size_t k = a.shape.size(); k-- > 0;) {
        const int64_t idx = rest % a.shape[k];
        rest /= a.shape[k];
        src += ((a.zero_stride_mask & (1u << k)) ? 0 : idx) * mul;
        mul *= a.shape[k];
      }
      values.data[static_cast<std::size_t>(i)] = values.data[static_cast<std::size_t>(src)];
    }
  }
  for (int64_t i = 0; i < n; ++i) ref::store_element(a.dtype, values.data[static_cast<std::size_t>(i)], image.data() + p.element_offset(i));
}

std::vector<std::byte> guard_image(std::size_t size) {
  std::vector<std::byte> out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = guard_byte(i);
  return out;
}

// Describes the first run of changed bytes outside the output's elements, or "".
std::string check_guard(const PlacedTensor& p, const std::vector<std::byte>& before, const std::vector<std::byte>& after) {
  const auto mask = p.element_mask();
  for (std::size_t i = 0; i < after.size(); ++i) {
    if (mask[i] || after[i] == before[i]) continue;
    std::size_t last = i;
    while (last + 1 < after.size() && !mask[last + 1] && after[last + 1] != before[last + 1]) ++last;
    if (i < p.offset) {
      return "guard bytes before output overwritten at -" + std::to_string(p.offset - i) + "..-" + std::to_string(p.offset - last);
    }
    if (i >= p.span_end) {
      return "guard bytes after output overwritten at +" + std::to_string(i - p.span_end) + "..+" + std::to_string(last - p.span_end);
    }
    return "bytes between elements of the strided output overwritten at output byte +" + std::to_string(i - p.offset) +
           "..+" + std::to_string(last - p.offset);
  }
  return "";
}

// The per-element bound that goes with an NMSE tolerance (docs/ops.md lists both).
double element_bound(double nmse_tolerance) {
  if (nmse_tolerance <= 1e-10) return 1e-6;
  if (nmse_tolerance <= 1e-6) return 1e-3;
  if (nmse_tolerance <= 1e-5) return 1e-2;
  if (nmse_tolerance <= 1e-4) return 3e-2;
  return 5e-2;
}

std::string compare(const ref::Tensor& got, const ref::Tensor& want, double tolerance, double floor) {
  const std::size_t n = want.data.size();
  if (n == 0) return "";
  if (tolerance == kExact) {
    for (std::size_t i = 0; i < n; ++i) {
      const double g = got.data[i], w = want.data[i];
      if (g == w || (std::isnan(g) && std::isnan(w))) continue;
      return "element " + std::to_string(i) + " " + index_text(static_cast<int64_t>(i), want.shape) + " differs: got " +
             number(g) + ", want " + number(w) + " (exact match required)";
    }
    return "";
  }
  double err = 0, ref_sq = 0, worst = -1;
  std::size_t worst_i = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double g = got.data[i], w = want.data[i];
    if (!std::isfinite(w)) {
      if (g == w || (std::isnan(g) && std::isnan(w))) continue;
      return "element " + std::to_string(i) + " " + index_text(static_cast<int64_t>(i), want.shape) + " is " + number(g) + ", want " + number(w);
    }
    if (!std::isfinite(g)) {
      return "element " + std::to_string(i) + " " + index_text(static_cast<int64_t>(i), want.shape) + " is " + number(g) +
             " (NaN/Inf where the reference is finite), want " + number(w);
    }
    err += (g - w) * (g - w);
    ref_sq += w * w;
    if (std::fabs(g - w) > worst) {
      worst = std::fabs(g - w);
      worst_i = i;
    }
  }
  // The floor keeps near-zero outputs (a saturated gelu, a masked row) from turning round-off into
  // a huge relative error: below an RMS of `floor` the bound acts on the absolute error.
  const double nmse = err / std::max(ref_sq, static_cast<double>(n) * floor * floor);
  if (nmse > tolerance) {
    return "element " + std::to_string(worst_i) + " " + index_text(static_cast<int64_t>(worst_i), want.shape) +
           " differs: got " + number(got.data[worst_i]) + ", want " + number(want.data[worst_i]) + " (nmse " +
           short_number(nmse) + " > " + short_number(tolerance) + ")";
  }
  // NMSE dilutes one bad element in a large tensor; a per-element bound relative to
  // max(|want|, rms(want), floor) catches it.
  const double rms = std::sqrt(ref_sq / static_cast<double>(n));
  const double bound = element_bound(tolerance);
  double worst_rel = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double w = want.data[i];
    if (!std::isfinite(w)) continue;
    const double rel = std::fabs(got.data[i] - w) / std::max({std::fabs(w), rms, floor});
    if (rel > worst_rel) {
      worst_rel = rel;
      worst_i = i;
    }
  }
  if (worst_rel <= bound) return "";
  return "element " + std::to_string(worst_i) + " " + index_text(static_cast<int64_t>(worst_i), want.shape) +
         " differs: got " + number(got.data[worst_i]) + ", want " + number(want.data[worst_i]) + " (relative error " +
         short_number(worst_rel) + " > " + short_number(bound) + ", nmse " + short_number(nmse) + ")";
}

struct CallBuilder {
  std::vector<plinth_tensor_t> in_desc, out_desc;
  std::vector<const plinth_tensor_t*> in_ptr, out_ptr;
  plinth_op_call_t call = sized<plinth_op_call_t>();

  CallBuilder(plinth_op_t op, const OpCase& c, const std::vector<std::optional<PlacedTensor>>& ins,
              const std::vector<PlacedTensor>& outs, const std::vector<plinth_buffer_t>& in_buf,
              const std::vector<plinth_buffer_t>& out_buf) {
    in_desc.resize(ins.size());
    out_desc.resize(outs.size());
    for (std::size_t i = 0; i < ins.size(); ++i) {
      if (ins[i]) in_desc[i] = ins[i]->descriptor(in_buf.empty() ? nullptr : in_buf[i]);
      in_ptr.push_back(ins[i] ? &in_desc[i] : nullptr);
    }
    for (std::size_t i = 0; i < outs.size(); ++i) {
      out_desc[i] = outs[i].descriptor(out_buf.empty() ? nullptr : out_buf[i]);
      out_ptr.push_back(&out_desc[i]);
    }
    call.op = op;
    call.inputs = in_ptr.empty() ? nullptr : in_ptr.data();
    call.outputs = out_ptr.data();
    call.num_inputs = static_cast<uint32_t>(in_ptr.size());
    call.num_outputs = static_cast<uint32_t>(out_ptr.size());
    call.params = c.params.empty() ? nullptr : c.params.data();
  }
};

enum class CaseOutcome { kPassed, kDeclined };

// Runs one case; throws Failure with a message that starts with `prefix`.
CaseOutcome run_case(TestEnv& env, const OpVariant& v, const OpCase& c, const std::string& prefix, std::string* declined_reason) {
  const Session& s = env.s();
  const auto& api = s.api();
  std::vector<std::optional<PlacedTensor>> ins;
  for (const auto& a : c.inputs) ins.push_back(a ? std::optional<PlacedTensor>(place_tensor(*a)) : std::nullopt);
  std::vector<PlacedTensor> outs;
  for (const auto& a : c.outputs) outs.push_back(place_tensor(a));
  if (c.alias_input >= 0) outs[0] = *ins[static_cast<std::size_t>(c.alias_input)];
  {
    CallBuilder query(v.op, c, ins, outs, {}, {});
    uint32_t supported = 7;
    const plinth_status_t st = api.op_supports(s.device(), &query.call, &supported);
    if (st != PLINTH_OK) fail(prefix + ": op_supports returned " + status_text(st) + " for a valid call: " + s.last_error());
    if (supported != 0 && supported != 1) fail(prefix + ": op_supports set out_supported to " + std::to_string(supported));
    if (supported == 0) {
      *declined_reason = s.last_error();
      if (declined_reason->empty()) fail(prefix + ": op_supports = 0 without a reason in last_error_message");
      return CaseOutcome::kDeclined;
    }
  }
  // Inputs.
  std::vector<ref::Tensor> in_values(ins.size());
  std::vector<std::vector<std::byte>> in_images(ins.size());
  std::vector<DeviceBuffer> in_buffers(ins.size());
  std::vector<plinth_buffer_t> in_handles(ins.size(), nullptr);
  for (std::size_t i = 0; i < ins.size(); ++i) {
    if (!ins[i]) continue;
    generate(*ins[i], env.rng, in_values[i], in_images[i]);
    in_buffers[i] = s.alloc(ins[i]->buffer_size);
    s.upload(in_buffers[i], 0, in_images[i]);
    in_handles[i] = in_buffers[i].get();
  }
  // Outputs, each inside a guard pattern (or, in place, the input's own bytes).
  std::vector<std::vector<std::byte>> out_images(outs.size());
  ref::Tensor initial_output;  // output 0's starting values when the op reads it
  std::vector<DeviceBuffer> out_buffers(outs.size());
  std::vector<plinth_buffer_t> out_handles(outs.size(), nullptr);
  for (std::size_t i = 0; i < outs.size(); ++i) {
    if (i == 0 && c.alias_input >= 0) {
      out_images[0] = in_images[static_cast<std::size_t>(c.alias_input)];
      out_handles[0] = in_handles[static_cast<std::size_t>(c.alias_input)];
      continue;
    }
    out_images[i] = guard_image(outs[i].buffer_size);
    if (i == 0 && c.output_read) {
      // Elements get generated values; the bytes around and between them keep the guard pattern.
      std::vector<std::byte> generated;
      generate(outs[0], env.rng, initial_output, generated);
      const auto mask = outs[0].element_mask();
      for (std::size_t b = 0; b < generated.size(); ++b) {
        if (mask[b]) out_images[0][b] = generated[b];
      }
    }
    out_buffers[i] = s.alloc(outs[i].buffer_size);
    s.upload(out_buffers[i], 0, out_images[i]);
    out_handles[i] = out_buffers[i].get();
  }
  CallBuilder launch(v.op, c, ins, outs, in_handles, out_handles);
  const plinth_status_t st = api.op_launch(s.stream(), &launch.call);
  if (st == PLINTH_ERROR_UNSUPPORTED) fail(prefix + ": op_supports said 1 but op_launch returned PLINTH_ERROR_UNSUPPORTED: " + s.last_error());
  if (st != PLINTH_OK) fail(prefix + ": op_launch returned " + status_text(st) + ": " + s.last_error());
  const plinth_status_t sync = api.stream_synchronize(s.stream());
  if (sync != PLINTH_OK) fail(prefix + ": stream_synchronize after the op returned " + status_text(sync) + ": " + s.last_error());
  // Reference on the exact input values.
  std::vector<const ref::Tensor*> ref_in;
  for (std::size_t i = 0; i < ins.size(); ++i) ref_in.push_back(ins[i] ? &in_values[i] : nullptr);
  if (c.output_read) ref_in.push_back(&initial_output);
  std::vector<ref::Tensor> want = c.reference(ref_in);
  for (std::size_t o = 0; o < outs.size(); ++o) {
    const std::string which = outs.size() > 1 ? " output " + std::to_string(o) : "";
    const uint64_t size = outs[o].buffer_size;
    std::vector<std::byte> bytes(size);
    s.check(api.copy_buffer_to_host(s.stream(), out_handles[o], 0, bytes.data(), size), prefix + ": reading the output");
    s.sync();
    const std::string guard = check_guard(outs[o], out_images[o], bytes);
    if (!guard.empty()) fail(prefix + ":" + which + " " + guard);
    ref::Tensor got(outs[o].arg.shape);
    for (int64_t e = 0; e < got.numel(); ++e) {
      got.data[static_cast<std::size_t>(e)] = ref::load_element(outs[o].arg.dtype, bytes.data() + outs[o].element_offset(e));
    }
    for (auto& w : want[o].data) w = ref::round_to_dtype(w, outs[o].arg.dtype);
    if (want[o].shape != got.shape) fail(prefix + ": CTS reference shape mismatch (a CTS bug)");
    const std::string diff = compare(got, want[o], c.tolerance[o], c.floor);
    if (!diff.empty()) fail(prefix + ":" + which + " " + diff);
  }
  // Inputs untouched (except the one written in place).
  for (std::size_t i = 0; i < ins.size(); ++i) {
    if (!ins[i] || static_cast<int>(i) == c.alias_input) continue;
    const auto bytes = s.download(in_buffers[i], 0, ins[i]->buffer_size);
    if (bytes != in_images[i]) {
      const auto at = std::mismatch(bytes.begin(), bytes.end(), in_images[i].begin()).first - bytes.begin();
      fail(prefix + ": input " + std::to_string(i) + " was modified (byte " + std::to_string(at) + " of its buffer)");
    }
  }
  return CaseOutcome::kPassed;
}

void run_variant(TestEnv& env, const OpVariant& v) {
  // An op newer than the plugin's ABI minor is unknown to it: say so rather than report its answer.
  if (const uint32_t minor = env.s().api().abi_minor; v.op >= PLINTH_OP_COUNT_OF_MINOR(minor)) {
    const std::string why =
        "op " + v.op_name + " is new in ABI 1.2 and the plugin implements ABI 1." + std::to_string(minor);
    if (v.required)
      fail(why + ": " + v.variant + " " + v.op_name + " is required at level " + level_name(env.level()));
    throw Unsupported(why);
  }
  const auto cases = v.cases(env.rng);
  std::size_t declined = 0, failed = 0;
  std::string first_failure, first_declined;
  for (const auto& c : cases) {
    const std::string prefix = "op " + v.op_name + " " + v.variant + " " + c.label;
    std::string reason;
    try {
      if (run_case(env, v, c, prefix, &reason) == CaseOutcome::kDeclined) {
        ++declined;
        if (first_declined.empty()) first_declined = c.label + ": " + reason;
        if (v.required) {
          fail(prefix + ": op_supports = 0 (" + reason + ") but " + v.variant + " " + v.op_name + " is required at level " +
               level_name(env.level()));
        }
      }
    } catch (const Failure& e) {
      ++failed;
      if (first_failure.empty()) first_failure = e.what();
    }
  }
  if (failed > 0) {
    fail(first_failure + (failed > 1 ? " (and " + std::to_string(failed - 1) + " more failing cases of " + std::to_string(cases.size()) + ")" : ""));
  }
  if (declined == cases.size()) throw Unsupported("op_supports = 0: " + first_declined);
  env.note = std::to_string(cases.size() - declined) + " cases passed";
  if (declined > 0) env.note += ", " + std::to_string(declined) + " declined by op_supports (e.g. " + first_declined + ")";
}

}  // namespace

SuiteDef ops_suite(Level level) {
  SuiteDef s{"ops", true, {}};
  for (auto& v : op_variants(level)) {
    auto shared = std::make_shared<OpVariant>(std::move(v));
    s.tests.push_back({shared->id, shared->op_name, [shared](TestEnv& env) { run_variant(env, *shared); },
                       shared->required});
  }
  return s;
}

}  // namespace plinth::cts
