// Launch-overhead rows: a tiny op (SCALE of 16 floats) launched N times and synchronized once, per
// launch, beside a direct C++ call doing the same arithmetic; the difference is what the core and the
// plugin ABI add per op. Then a captured 100-op sequence replayed as one graph beside the same 100
// ops launched eagerly.
#include <cstdio>
#include <functional>
#include <tuple>
#include <vector>
#include <string>

#include "bench_context.hpp"
#include "plinth/buffer.hpp"
#include "plinth/error.hpp"
#include "plinth/graph.hpp"
#include "plinth/op_call.hpp"
#include "plinth/ops.hpp"
#include "plinth/tensor.hpp"

namespace plinth::bench {
namespace {

constexpr int64_t kElems = 16;
constexpr int kGraphOps = 100;
// y = x * 0.5 + 1 converges to 2: repeating it forever never overflows.
constexpr ops::ScaleOptions kScale{.scale = 0.5f, .bias = 1.0f};

// The direct-call baseline. noinline and called through a volatile pointer so the compiler cannot
// fold N calls into one or hoist them out of the loop: it is a real call each time, as a launch is.
[[gnu::noinline]] void scale_direct(const float* x, float* y, int64_t n, float scale, float bias) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale + bias;
}
using ScaleFn = void (*)(const float*, float*, int64_t, float, float);

int launches_for(BenchSize size) {
  switch (size) {
    case BenchSize::full: return 2000;
    case BenchSize::quick: return 1000;
    case BenchSize::tiny: return 20;
  }
  return 1;
}

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

}  // namespace

void run_launch_bench(BenchContext& ctx) {
  const int n = launches_for(ctx.size);
  ctx.table.section("launch: SCALE of f32[16] launched " + std::to_string(n) +
                    " times, one synchronize; time per op");
  Buffer buf = ctx.device.allocate(kElems * 4);
  buf.write_values(std::vector<float>(kElems, 1.0f));
  const Tensor t = Tensor::contiguous(buf, DType::f32, {kElems});

  std::vector<float> host(kElems, 1.0f);
  volatile ScaleFn direct = &scale_direct;
  // Measures `plinth_work` (n launches and a synchronize) interleaved with n direct calls.
  auto measure_beside_direct = [&](Row& row, const std::function<void()>& plinth_work) {
    Side plinth{"plinth", {}, static_cast<double>(n), "us/op"};
    Side base{"direct call", {}, static_cast<double>(n), "us/op"};
    std::tie(plinth.timing, base.timing) = ctx.sampler.measure_pair(plinth_work, [&] {
      for (int i = 0; i < n; ++i) direct(host.data(), host.data(), kElems, kScale.scale, kScale.bias);
    });
    row.plinth = plinth;
    row.baseline = base;
    const double overhead_us = row.plinth->rate() - row.baseline->rate();
    row.metrics["overhead_us"] = overhead_us;
    row.note = fmt("overhead %+.3f us/launch", overhead_us);
  };

  const OpCall call = ops::make_scale(t, t, kScale);
  const SupportResult sup = ctx.device.supports(call);
  auto unsupported = [&](Row row) {
    row.status = "unsupported";
    row.reason = sup.reason;
    ctx.table.add(std::move(row));
  };
  if (!sup) {
    unsupported(Row("launch", "ops::scale f32[16]"));
    unsupported(Row("launch", "Stream::launch f32[16]"));
    unsupported(Row("launch", "graph replay 100 ops"));
    return;
  }

  {
    Row row("launch", "ops::scale f32[16]");
    measure_beside_direct(row, [&] {
      for (int i = 0; i < n; ++i) ops::scale(ctx.stream, t, t, kScale);
      ctx.stream.synchronize();
    });
    ctx.table.add(std::move(row));
  }
  {
    // The same with the OpCall built once: what is left is the core's launch path and the plugin's.
    Row row("launch", "Stream::launch f32[16]");
    measure_beside_direct(row, [&] {
      for (int i = 0; i < n; ++i) ctx.stream.launch(call);
      ctx.stream.synchronize();
    });
    ctx.table.add(std::move(row));
  }
  {
    Row row("launch", "graph replay 100 ops");
    Graph graph;
    try {
      ctx.stream.begin_capture();
      for (int i = 0; i < kGraphOps; ++i) ops::scale(ctx.stream, t, t, kScale);
      graph = ctx.stream.end_capture();
    } catch (const Error& e) {
      if (ctx.stream.capturing()) (void)ctx.stream.end_capture();
      row.status = "unsupported";
      row.reason = std::string("capture failed: ") + e.what();
      ctx.table.add(std::move(row));
      return;
    }
    Side plinth{"plinth", {}, kGraphOps, "us/op"};
    Side eager{"eager x100", {}, kGraphOps, "us/op"};
    std::tie(plinth.timing, eager.timing) = ctx.sampler.measure_pair(
        [&] {
          graph.launch(ctx.stream);
          ctx.stream.synchronize();
        },
        [&] {
          for (int i = 0; i < kGraphOps; ++i) ops::scale(ctx.stream, t, t, kScale);
          ctx.stream.synchronize();
        });
    row.plinth = plinth;
    row.baseline = eager;
    row.note = graph.emulated() ? "emulated graph (core replays the recorded ops)" : "native graph";
    ctx.table.add(std::move(row));
  }
}

}  // namespace plinth::bench
