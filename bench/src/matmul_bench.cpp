// MATMUL rows: c[M, N] = a[M, K] x w[N, K]^T (weights stored [N, K], transpose_b, as an LLM's linear
// layers do), for each shape and weight dtype. Float weights are compared with oneDNN's matmul called
// directly; quantized weights with memcpy of a buffer as large as the quantized weight tensor.
#include <cmath>
#include <cstring>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "bench_context.hpp"
#include "host_memory.hpp"
#include "onednn_matmul_baseline.hpp"
#include "plinth/buffer.hpp"
#include "plinth/error.hpp"
#include "plinth/ops.hpp"
#include "plinth/tensor.hpp"
#include "test_data.hpp"

namespace plinth::bench {
namespace {

struct Shape3 {
  int64_t m, k, n;
};

// Above this estimated time per repetition a shape is skipped (the estimate comes from the same dtype
// at 1024^3, which is 64 times less work than 4096^3).
constexpr double kMaxRepSeconds = 4.0;
// Results must agree with the baseline this well (normalized mean squared error); a kernel that
// computes garbage fast is not fast.
constexpr double kMaxNmse = 1e-3;

std::vector<Shape3> shapes_for(BenchSize size) {
  const Shape3 decode{1, 576, 1536};
  switch (size) {
    case BenchSize::full: return {{1024, 1024, 1024}, {4096, 4096, 4096}, decode};
    case BenchSize::quick: return {{1024, 1024, 1024}, decode};
    case BenchSize::tiny: return {{64, 64, 64}, decode};
  }
  return {};
}

std::string shape_name(DType dtype, const Shape3& s) {
  return std::string(dtype_name(dtype)) + " m" + std::to_string(s.m) + " k" + std::to_string(s.k) + " n" +
         std::to_string(s.n);
}

double nmse(const float* got, const float* want, std::size_t n) {
  double err = 0.0;
  double ref = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(got[i]) - static_cast<double>(want[i]);
    err += d * d;
    ref += static_cast<double>(want[i]) * static_cast<double>(want[i]);
  }
  return ref > 0.0 ? err / ref : err;
}

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// The operands of one shape and dtype, on the device and (for the baseline) on the host.
struct Operands {
  Buffer a, b, c;
  HostMemory host_a, host_b, host_c;
  Tensor ta, tb, tc;
};

Operands make_operands(Device& device, DType a_type, DType b_type, const Shape3& s, uint32_t seed) {
  Operands o;
  const uint64_t a_bytes = dtype_bytes(a_type, static_cast<uint64_t>(s.m * s.k));
  const uint64_t b_bytes = dtype_bytes(b_type, static_cast<uint64_t>(s.n * s.k));
  const uint64_t c_bytes = dtype_bytes(DType::f32, static_cast<uint64_t>(s.m * s.n));
  o.host_a = HostMemory(a_bytes);
  o.host_b = HostMemory(b_bytes);
  o.host_c = HostMemory(c_bytes);
  fill_random(a_type, static_cast<uint64_t>(s.m * s.k), o.host_a.bytes(), seed);
  fill_random(b_type, static_cast<uint64_t>(s.n * s.k), o.host_b.bytes(), seed + 1);
  o.a = device.allocate(a_bytes);
  o.b = device.allocate(b_bytes);
  o.c = device.allocate(c_bytes);
  o.a.write(o.host_a.bytes());
  o.b.write(o.host_b.bytes());
  o.ta = Tensor::contiguous(o.a, a_type, {s.m, s.k});
  o.tb = Tensor::contiguous(o.b, b_type, {s.n, s.k});
  o.tc = Tensor::contiguous(o.c, DType::f32, {s.m, s.n});
  return o;
}

class MatmulSection {
 public:
  explicit MatmulSection(BenchContext& ctx) : ctx_(ctx) {}

  void run() {
    const DType dtypes[] = {DType::f32, DType::bf16, DType::f16, DType::q8_0, DType::q4_0, DType::q4_1};
    ctx_.table.section("matmul: c[M,N] = a[M,K] * w[N,K]^T, c f32; GFLOP/s (float w) or GB/s of weights (quantized w)");
    for (const Shape3& s : shapes_for(ctx_.size)) {
      for (DType dt : dtypes) ctx_.table.add(measure(dt, s));
    }
  }

 private:
  Row measure(DType w_type, const Shape3& s) {
    Row row;
    row.section = "matmul";
    row.name = shape_name(w_type, s);
    const bool quant = is_quantized(w_type);
    const DType a_type = quant ? DType::f32 : w_type;
    const ops::MatmulOptions opts{.transpose_b = true};

    const SupportResult sup = ctx_.device.supports(ops::make_matmul(
        Tensor::descriptor(a_type, {s.m, s.k}), Tensor::descriptor(w_type, {s.n, s.k}),
        Tensor::descriptor(DType::f32, {s.m, s.n}), opts));
    if (!sup) {
      row.status = "unsupported";
      row.reason = sup.reason.empty() ? "the device does not support it" : sup.reason;
      return row;
    }
    if (auto it = rep_estimate_.find(w_type); it != rep_estimate_.end()) {
      const double work_ratio = static_cast<double>(s.m * s.k * s.n) / it->second.first;
      const double estimate = it->second.second * work_ratio;
      if (work_ratio > 1.0 && estimate > kMaxRepSeconds) {
        row.status = "skipped";
        row.reason = "too slow on this device (~" + format_seconds(estimate) + " per repetition)";
        return row;
      }
    }

    Operands o = make_operands(ctx_.device, a_type, w_type, s, 1234);
    const double flop = 2.0 * static_cast<double>(s.m) * static_cast<double>(s.k) * static_cast<double>(s.n);
    const double w_bytes = static_cast<double>(o.b.size());
    auto plinth_work = [&] {
      ops::matmul(ctx_.stream, o.ta, o.tb, o.tc, opts);
      ctx_.stream.synchronize();
    };
    Side plinth{"plinth", {}, quant ? w_bytes * 1e-9 : flop * 1e-9, quant ? "GB/s" : "GFLOP/s"};
    std::vector<std::string> notes;

    if (quant) {
      // Baseline: memcpy of a buffer as large as the quantized weights.
      HostMemory dst(o.host_b.size());
      Side base{"memcpy", {}, w_bytes * 1e-9, "GB/s"};
      std::tie(plinth.timing, base.timing) = ctx_.sampler.measure_pair(
          plinth_work, [&] { std::memcpy(dst.data(), o.host_b.data(), o.host_b.size()); });
      row.baseline = base;
    } else {
      // Baseline: oneDNN with the same dtype; where oneDNN lacks it (f16 on most CPUs), f32 at the
      // same shape stands in and the note says so.
      std::optional<OneDnnMatmulBaseline> onednn;
      HostMemory f32_a;
      HostMemory f32_b;
      std::string name = "onednn " + std::string(dtype_name(w_type));
      try {
        onednn.emplace(s.m, s.k, s.n, w_type, DType::f32, o.host_a.data(), o.host_b.data(), o.host_c.data());
      } catch (const std::runtime_error& e) {
        if (w_type == DType::f32 || !OneDnnMatmulBaseline::available()) {
          notes.push_back(std::string("no baseline: ") + e.what());
        } else {
          f32_a = HostMemory(dtype_bytes(DType::f32, static_cast<uint64_t>(s.m * s.k)));
          f32_b = HostMemory(dtype_bytes(DType::f32, static_cast<uint64_t>(s.n * s.k)));
          fill_random(DType::f32, static_cast<uint64_t>(s.m * s.k), f32_a.bytes(), 1234);
          fill_random(DType::f32, static_cast<uint64_t>(s.n * s.k), f32_b.bytes(), 1235);
          onednn.emplace(s.m, s.k, s.n, DType::f32, DType::f32, f32_a.data(), f32_b.data(), o.host_c.data());
          name = "onednn f32";
          notes.push_back("oneDNN has no " + std::string(dtype_name(w_type)) + " matmul here");
        }
      }
      if (onednn) {
        Side base{name, {}, flop * 1e-9, "GFLOP/s"};
        std::tie(plinth.timing, base.timing) = ctx_.sampler.measure_pair(plinth_work, [&] { onednn->run(); });
        row.baseline = base;
        row.metrics["baseline_weights_gbps"] = w_bytes * 1e-9 / base.timing.median_s;
        if (w_type == DType::f32) {
          onednn_f32_[shape_key(row.name)] = {flop * 1e-9 / base.timing.median_s,
                                             w_bytes * 1e-9 / base.timing.median_s};
        }
        if (f32_a.size() == 0) check_result(row, o, s, notes);
      } else {
        plinth.timing = ctx_.sampler.measure(plinth_work);
      }
    }
    row.plinth = plinth;
    if (!rep_estimate_.contains(w_type)) {
      rep_estimate_[w_type] = {static_cast<double>(s.m * s.k * s.n), plinth.timing.median_s};
    }
    row.metrics["gflops"] = flop * 1e-9 / plinth.timing.median_s;
    row.metrics["weights_gbps"] = w_bytes * 1e-9 / plinth.timing.median_s;
    if (quant) {
      notes.push_back(fmt("%.2f GFLOP/s", row.metrics["gflops"]));
      // Context: the same shape with f32 weights through oneDNN, from this run's f32 row.
      if (auto it = onednn_f32_.find(shape_key(row.name)); it != onednn_f32_.end()) {
        notes.push_back(fmt("onednn f32 %.2f GFLOP/s", it->second.first) +
                        fmt(" = %.2f GB/s of f32 weights", it->second.second));
      }
    } else if (s.m <= 16 && row.baseline) {
      notes.push_back(fmt("weights %.2f GB/s", row.metrics["weights_gbps"]) +
                      fmt(" vs %.2f GB/s", row.metrics["baseline_weights_gbps"]));
    }
    for (const std::string& n : notes) row.note += (row.note.empty() ? "" : "; ") + n;
    return row;
  }

  // The same inputs went to both sides; their outputs must agree.
  void check_result(Row& row, Operands& o, const Shape3& s, std::vector<std::string>& notes) {
    const auto n = static_cast<std::size_t>(s.m * s.n);
    const std::vector<float> got = o.c.read_values<float>(n);
    const double e = nmse(got.data(), o.host_c.as<float>(), n);
    row.metrics["nmse_vs_baseline"] = e;
    if (!(e <= kMaxNmse)) notes.push_back(fmt("RESULT DIFFERS FROM BASELINE (nmse %.3g)", e));
  }

  // "f32 m1 k576 n1536" -> "m1 k576 n1536"
  static std::string shape_key(const std::string& row_name) { return row_name.substr(row_name.find(' ') + 1); }

  BenchContext& ctx_;
  std::map<DType, std::pair<double, double>> rep_estimate_;  // dtype -> (m*k*n, median seconds) of its first shape
  std::map<std::string, std::pair<double, double>> onednn_f32_;  // shape -> (GFLOP/s, weight GB/s)
};

}  // namespace

void run_matmul_bench(BenchContext& ctx) { MatmulSection(ctx).run(); }

}  // namespace plinth::bench
