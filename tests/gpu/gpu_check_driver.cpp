// Standalone device check for the GPU plugins (needs only the ABI headers and the plugin binary): runs
// every numerical check of gpu_op_checks.hpp, then measures what the plugin's design promises:
// quantized decode matmul bandwidth against the device's own copy bandwidth, launch overhead, graph
// replay against eager submission, and a large f16 matmul. Exit status 1 if any check fails.
//   plinth_gpu_check_driver <plugin.so> [--no-bench | --paged-attention-bench]
// --paged-attention-bench skips the checks and the other measurements and times only the paged
// attention decode shape against the device's peak memory bandwidth (PLINTH_PEAK_GBS overrides the
// table of known GPUs below).
#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "gpu_op_checks.hpp"

namespace {

using plinth::gpu_test::DeviceContext;
using plinth::gpu_test::tensor;

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Device time of `iters` runs of `body` between two timing events.
template <class F>
double device_ms(DeviceContext& ctx, int iters, F body) {
  const auto* api = ctx.api();
  plinth_event_t a = nullptr, b = nullptr;
  api->event_create(ctx.device(), PLINTH_EVENT_FLAG_TIMING, &a);
  api->event_create(ctx.device(), PLINTH_EVENT_FLAG_TIMING, &b);
  body();  // warm-up
  api->stream_synchronize(ctx.stream());
  api->event_record(a, ctx.stream());
  for (int i = 0; i < iters; ++i) body();
  api->event_record(b, ctx.stream());
  api->event_synchronize(b);
  float ms = 0.0f;
  api->event_elapsed_ms(a, b, &ms);
  api->event_destroy(a);
  api->event_destroy(b);
  return ms / iters;
}

// Peak memory bandwidth in GB/s of the GPUs this project measures on, by marketing name (the ABI does
// not report it): from PLINTH_PEAK_GBS when set, else the vendor's data sheet, else 0 (unknown).
double peak_gbs(const char* name, const char** source) {
  if (const char* env = std::getenv("PLINTH_PEAK_GBS"); env != nullptr && std::atof(env) > 0.0) {
    *source = "PLINTH_PEAK_GBS";
    return std::atof(env);
  }
  *source = "data sheet";
  // Ordered so that a name is matched by its most specific entry first ("GH200" before "H200").
  const std::pair<const char*, double> known[] = {
      {"GH200", 4000.0},          {"H200", 4800.0},
      {"H100 NVL", 3900.0},       {"H100 PCIe", 2000.0},
      {"H100", 3350.0},           {"A100-SXM4-80GB", 2039.0},
      {"A100 80GB PCIe", 1935.0}, {"A100-PCIE-80GB", 1935.0},
      {"A100", 1555.0},           {"L40S", 864.0},
      {"B200", 8000.0},
  };
  for (const auto& [key, gbs] : known) {
    if (std::strstr(name, key) != nullptr) return gbs;
  }
  *source = "unknown GPU";
  return 0.0;
}

// Decode over a paged f16 KV cache: 64 sequences of 2048 tokens, Hq=32, Hkv=8, D=128, block size 16,
// each sequence's blocks scattered over the cache. The kernel must read every K and V row once, so
// its bandwidth is those bytes over its time; the goal is at least half the device's peak.
void bench_paged_attention(DeviceContext& ctx, const char* device_name) {
  const auto* api = ctx.api();
  const int64_t seqs = 64, ctx_len = 2048, hq = 32, hkv = 8, d = 128, bs = 16;
  const int64_t per_seq = ctx_len / bs, nb = seqs * per_seq;
  const int64_t cache_elems = nb * bs * hkv * d;
  plinth_buffer_t q = ctx.alloc(seqs * hq * d * 4), o = ctx.alloc(seqs * hq * d * 4);
  plinth_buffer_t k = ctx.alloc(cache_elems * 2), v = ctx.alloc(cache_elems * 2);
  std::vector<int32_t> table(nb), starts(seqs + 1), lens(seqs, static_cast<int32_t>(ctx_len));
  for (int64_t i = 0; i < nb; ++i) table[i] = static_cast<int32_t>(i);
  std::shuffle(table.begin(), table.end(), std::mt19937(5));  // blocks scattered as after churn
  for (int64_t s = 0; s <= seqs; ++s) starts[s] = static_cast<int32_t>(s);
  plinth_buffer_t bt = ctx.upload(table), bst = ctx.upload(starts), bl = ctx.upload(lens);
  if (q == nullptr || o == nullptr || k == nullptr || v == nullptr) {
    std::printf("bench paged_attention: allocation failed: %s\n", api->last_error_message());
    return;
  }
  plinth_fill_params_t fp{};
  fp.struct_size = sizeof fp;
  fp.value = 0.01;
  const auto tq = tensor(q, PLINTH_DTYPE_F32, {seqs, hq, d});
  const auto tk = tensor(k, PLINTH_DTYPE_F16, {nb, bs, hkv, d}, 2);
  const auto tv = tensor(v, PLINTH_DTYPE_F16, {nb, bs, hkv, d}, 2);
  const auto tt = tensor(bt, PLINTH_DTYPE_I32, {seqs, per_seq});
  const auto ts = tensor(bst, PLINTH_DTYPE_I32, {seqs + 1});
  const auto tl = tensor(bl, PLINTH_DTYPE_I32, {seqs});
  const auto to = tensor(o, PLINTH_DTYPE_F32, {seqs, hq, d});
  ctx.run(PLINTH_OP_FILL, {}, {&tq}, &fp);
  ctx.run(PLINTH_OP_FILL, {}, {&tk}, &fp);
  ctx.run(PLINTH_OP_FILL, {}, {&tv}, &fp);
  plinth_attention_params_t p{};
  p.struct_size = sizeof p;
  p.causal = 1;
  if (const plinth_status_t s = ctx.run(PLINTH_OP_PAGED_ATTENTION, {&tq, &tk, &tv, &tt, &ts, &tl}, {&to}, &p);
      s != PLINTH_OK) {
    std::printf("bench paged_attention: launch failed (%d): %s\n", s, api->last_error_message());
    return;
  }
  if (const plinth_status_t s = api->stream_synchronize(ctx.stream()); s != PLINTH_OK) {
    std::printf("bench paged_attention: synchronize failed (%d): %s\n", s, api->last_error_message());
    return;
  }
  const uint64_t copy_bytes = 1ull << 30;
  plinth_buffer_t src = ctx.alloc(copy_bytes), dst = ctx.alloc(copy_bytes);
  const double copy_ms =
      device_ms(ctx, 10, [&] { api->copy_buffer(ctx.stream(), src, 0, dst, 0, copy_bytes); });
  const double copy_gbs = 2.0 * copy_bytes / (copy_ms * 1e6);
  const double ms = device_ms(ctx, 50, [&] {
    ctx.run(PLINTH_OP_PAGED_ATTENTION, {&tq, &tk, &tv, &tt, &ts, &tl}, {&to}, &p);
  });
  if (const plinth_status_t s = api->stream_synchronize(ctx.stream()); s != PLINTH_OK) {
    std::printf("bench paged_attention: timed runs failed (%d): %s\n", s, api->last_error_message());
    return;
  }
  const double bytes = 2.0 * cache_elems * 2;  // every K and V element once
  const double gbs = bytes / (ms * 1e6);
  const char* source = "";
  const double peak = peak_gbs(device_name, &source);
  std::printf(
      "bench paged_attention decode 64 seqs x 2048 ctx Hq=32 Hkv=8 D=128 f16 cache: %.3f ms, %.0f GB/s "
      "= %.2f of copy_buffer (%.0f GB/s)\n",
      ms, gbs, gbs / copy_gbs, copy_gbs);
  if (peak > 0.0) {
    std::printf("bench paged_attention decode: %.2f of peak bandwidth %.0f GB/s (%s); goal >= 0.50: %s\n",
                gbs / peak, peak, source, gbs / peak >= 0.5 ? "met" : "NOT met");
  } else {
    std::printf("bench paged_attention decode: peak bandwidth of '%s' unknown; set PLINTH_PEAK_GBS\n",
                device_name);
  }
}

void bench(DeviceContext& ctx) {
  const auto* api = ctx.api();
  // Device copy bandwidth: the yardstick for memory-bound kernels.
  const uint64_t copy_bytes = 1ull << 30;
  plinth_buffer_t src = ctx.alloc(copy_bytes), dst = ctx.alloc(copy_bytes);
  const double copy_ms = device_ms(ctx, 10, [&] { api->copy_buffer(ctx.stream(), src, 0, dst, 0, copy_bytes); });
  const double copy_gbs = 2.0 * copy_bytes / (copy_ms * 1e6);
  std::printf("bench copy_buffer 1 GiB: %.3f ms, %.0f GB/s (read+write)\n", copy_ms, copy_gbs);

  // Elementwise kernels on the same 1 GiB: bytes read + written per second against the copy above.
  {
    const int64_t count = static_cast<int64_t>(copy_bytes / 4);
    plinth_buffer_t third = ctx.alloc(copy_bytes);
    const auto ts = tensor(src, PLINTH_DTYPE_F32, {count});
    const auto td = tensor(dst, PLINTH_DTYPE_F32, {count});
    const auto t3 = tensor(third, PLINTH_DTYPE_F32, {count});
    plinth_fill_params_t fp{};
    fp.struct_size = sizeof fp;
    fp.value = 1.0;
    ctx.run(PLINTH_OP_FILL, {}, {&ts}, &fp);
    ctx.run(PLINTH_OP_FILL, {}, {&t3}, &fp);
    plinth_scale_params_t sp{};
    sp.struct_size = sizeof sp;
    sp.scale = 1.0f;
    struct Case {
      const char* name;
      double bytes;
      std::function<void()> body;
    };
    const Case cases[] = {
        {"copy op f32", 2.0 * copy_bytes, [&] { ctx.run(PLINTH_OP_COPY, {&ts}, {&td}, nullptr); }},
        {"scale f32 (out of place)", 2.0 * copy_bytes, [&] { ctx.run(PLINTH_OP_SCALE, {&ts}, {&td}, &sp); }},
        {"add f32", 3.0 * copy_bytes, [&] { ctx.run(PLINTH_OP_ADD, {&ts, &t3}, {&td}, nullptr); }},
        {"fill f32", 1.0 * copy_bytes, [&] { ctx.run(PLINTH_OP_FILL, {}, {&td}, &fp); }},
    };
    for (const Case& c : cases) {
      const double ms = device_ms(ctx, 10, c.body);
      const double gbs = c.bytes / (ms * 1e6);
      std::printf("bench %s 1 GiB: %.3f ms, %.0f GB/s = %.2f of copy_buffer\n", c.name, ms, gbs, gbs / copy_gbs);
    }
  }

  // Q4_1 decode: M=1, weights far larger than L2.
  for (const int64_t m : {1, 4}) {
    const int64_t n = 32768, k = 8192;
    const uint64_t wbytes = static_cast<uint64_t>(n) * (k / 32) * 20;
    plinth_buffer_t bw = ctx.alloc(wbytes), ba = ctx.alloc(m * k * 4), bc = ctx.alloc(m * n * 4);
    api->copy_buffer(ctx.stream(), src, 0, bw, 0, wbytes);  // arbitrary bytes: timing only
    plinth_fill_params_t fp{};
    fp.struct_size = sizeof fp;
    fp.value = 0.01;
    const auto ta = tensor(ba, PLINTH_DTYPE_F32, {m, k});
    ctx.run(PLINTH_OP_FILL, {}, {&ta}, &fp);
    auto tb = tensor(bw, PLINTH_DTYPE_Q4_1, {n, k});
    tb.strides[0] = (k / 32) * 20;
    const auto tc = tensor(bc, PLINTH_DTYPE_F32, {m, n});
    plinth_matmul_params_t p{};
    p.struct_size = sizeof p;
    p.transpose_b = 1;
    p.alpha = 1.0f;
    const double ms = device_ms(ctx, 20, [&] { ctx.run(PLINTH_OP_MATMUL, {&ta, &tb}, {&tc}, &p); });
    const double gbs = wbytes / (ms * 1e6);
    std::printf("bench q4_1 matmul M=%lld N=%lld K=%lld: %.3f ms, %.0f GB/s = %.0f%% of copy bandwidth\n",
                static_cast<long long>(m), static_cast<long long>(n), static_cast<long long>(k), ms, gbs,
                100.0 * gbs / copy_gbs);
  }

  // Accuracy of the default decode path against the exact product (8-bit activations allowed).
  for (const plinth_dtype_t dt : {PLINTH_DTYPE_Q4_1, PLINTH_DTYPE_Q4_0, PLINTH_DTYPE_Q8_0}) {
    double e = 0.0;
    const std::string error = plinth::gpu_test::check_matmul_quant(ctx, dt, 1, 4160, 1.0, &e);
    std::printf("bench %s decode matmul M=1 K=4160: nmse %.2g vs the exact product%s%s\n",
                dt == PLINTH_DTYPE_Q4_1 ? "q4_1" : dt == PLINTH_DTYPE_Q4_0 ? "q4_0" : "q8_0", e,
                error.empty() ? "" : ": ", error.c_str());
  }

  // Launch overhead and graph replay of a 100-op sequence of tiny ops.
  plinth_buffer_t tiny = ctx.alloc(4096);
  const auto tt = tensor(tiny, PLINTH_DTYPE_F32, {256});
  plinth_scale_params_t sp{};
  sp.struct_size = sizeof sp;
  sp.scale = 1.0f;
  const auto hundred = [&] {
    for (int i = 0; i < 100; ++i) ctx.run(PLINTH_OP_SCALE, {&tt}, {&tt}, &sp);
  };
  hundred();
  api->stream_synchronize(ctx.stream());
  const int reps = 50;
  double t0 = now_ms();
  for (int r = 0; r < reps; ++r) hundred();
  const double submit_ms = now_ms() - t0;
  api->stream_synchronize(ctx.stream());
  const double eager_ms = now_ms() - t0;
  std::printf("bench eager 100 tiny ops: %.1f us per op to submit, %.1f us per op end to end\n",
              1000.0 * submit_ms / (reps * 100), 1000.0 * eager_ms / (reps * 100));
  plinth_graph_t g = nullptr;
  if (api->graph_begin_capture(ctx.stream()) == PLINTH_OK) {
    hundred();
    if (api->graph_end_capture(ctx.stream(), &g) == PLINTH_OK) {
      api->graph_launch(g, ctx.stream());
      api->stream_synchronize(ctx.stream());
      t0 = now_ms();
      for (int r = 0; r < reps; ++r) api->graph_launch(g, ctx.stream());
      api->stream_synchronize(ctx.stream());
      const double graph_ms = now_ms() - t0;
      std::printf("bench graph replay of the same 100 ops: %.1f us per op end to end, %.2fx faster than eager\n",
                  1000.0 * graph_ms / (reps * 100), eager_ms / graph_ms);
      api->graph_destroy(g);
    } else {
      std::printf("bench graph: end_capture failed: %s\n", api->last_error_message());
    }
  }

  // Large matmul through the plugin (cuBLAS on CUDA unless PLINTH_CUDA_MATMUL=tiled).
  for (const plinth_dtype_t dt : {PLINTH_DTYPE_F16, PLINTH_DTYPE_BF16, PLINTH_DTYPE_F32}) {
    const int64_t s = 4096;
    const int64_t e = dt == PLINTH_DTYPE_F32 ? 4 : 2;
    plinth_buffer_t a = ctx.alloc(s * s * e), b = ctx.alloc(s * s * e), c = ctx.alloc(s * s * e);
    plinth_fill_params_t fp{};
    fp.struct_size = sizeof fp;
    fp.value = 0.5;
    const auto ta = tensor(a, dt, {s, s}, e);
    const auto tb = tensor(b, dt, {s, s}, e);
    const auto tc = tensor(c, dt, {s, s}, e);
    ctx.run(PLINTH_OP_FILL, {}, {&ta}, &fp);
    ctx.run(PLINTH_OP_FILL, {}, {&tb}, &fp);
    plinth_matmul_params_t p{};
    p.struct_size = sizeof p;
    p.alpha = 1.0f;
    const double ms = device_ms(ctx, 10, [&] { ctx.run(PLINTH_OP_MATMUL, {&ta, &tb}, {&tc}, &p); });
    std::printf("bench matmul %s 4096^3: %.3f ms, %.1f TFLOP/s\n", dt == PLINTH_DTYPE_F16 ? "f16" : dt == PLINTH_DTYPE_BF16 ? "bf16" : "f32",
                ms, 2.0 * s * s * s / (ms * 1e9));
  }

  // Decode attention: one query per head over a 4096-token cache.
  {
    const int64_t hq = 32, hkv = 8, skv = 4096, d = 128;
    plinth_buffer_t q = ctx.alloc(hq * d * 4), k = ctx.alloc(hkv * skv * d * 4), v = ctx.alloc(hkv * skv * d * 4),
                    o = ctx.alloc(hq * d * 4);
    plinth_fill_params_t fp{};
    fp.struct_size = sizeof fp;
    fp.value = 0.01;
    const auto tq = tensor(q, PLINTH_DTYPE_F32, {1, hq, 1, d});
    const auto tk = tensor(k, PLINTH_DTYPE_F32, {1, hkv, skv, d});
    const auto tv = tensor(v, PLINTH_DTYPE_F32, {1, hkv, skv, d});
    const auto to = tensor(o, PLINTH_DTYPE_F32, {1, hq, 1, d});
    ctx.run(PLINTH_OP_FILL, {}, {&tq}, &fp);
    ctx.run(PLINTH_OP_FILL, {}, {&tk}, &fp);
    ctx.run(PLINTH_OP_FILL, {}, {&tv}, &fp);
    plinth_attention_params_t p{};
    p.struct_size = sizeof p;
    const double ms = device_ms(ctx, 20, [&] { ctx.run(PLINTH_OP_ATTENTION, {&tq, &tk, &tv}, {&to}, &p); });
    const double bytes = 2.0 * hkv * skv * d * 4;
    std::printf("bench attention decode Hq=32 Hkv=8 Skv=4096 D=128 f32: %.3f ms, %.0f GB/s of K/V\n", ms, bytes / (ms * 1e6));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <plugin.so> [--no-bench]\n", argv[0]);
    return 2;
  }
  const std::string mode = argc > 2 ? argv[2] : "";
  const bool run_bench = mode != "--no-bench";
  const bool paged_only = mode == "--paged-attention-bench";
  void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    std::printf("FAIL load: %s\n", dlerror());
    return 1;
  }
  auto init = reinterpret_cast<plinth_plugin_init_fn>(dlsym(lib, PLINTH_PLUGIN_ENTRY_NAME));
  plinth_host_services_t host{};
  host.struct_size = sizeof host;
  host.abi_major = PLINTH_ABI_VERSION_MAJOR;
  const plinth_plugin_api_t* api = nullptr;
  if (init == nullptr || init(&host, &api) != PLINTH_OK) {
    std::printf("FAIL init\n");
    return 1;
  }
  uint32_t count = 0;
  api->probe(nullptr, 0, &count);
  std::vector<plinth_probe_entry_t> entries(count);
  for (auto& e : entries) e.struct_size = sizeof e;
  api->probe(entries.data(), count, &count);
  int usable = -1;
  for (const auto& e : entries) {
    std::printf("probe: index %d usable %u name '%s' reason '%s'\n", e.index == UINT32_MAX ? -1 : static_cast<int>(e.index),
                e.usable, e.name, e.reason);
    if (e.usable != 0 && usable < 0) usable = static_cast<int>(e.index);
  }
  if (usable < 0) {
    std::printf("SKIP no usable device\n");
    api->shutdown();
    return 0;
  }
  int failures = 0;
  for (const bool tiled : {false, true}) {
    if (tiled) setenv("PLINTH_CUDA_MATMUL", "tiled", 1);
    plinth_device_t device = nullptr;
    if (api->device_open(static_cast<uint32_t>(usable), &device) != PLINTH_OK) {
      std::printf("FAIL device_open: %s\n", api->last_error_message());
      return 1;
    }
    plinth_device_properties_t props{};
    props.struct_size = sizeof props;
    api->device_get_properties(device, &props);
    if (!tiled) {
      std::printf("device: %s, vendor %s, arch %s, %s, %.1f GiB, %u SMs, warp %u, features 0x%llx\n", props.name,
                  props.vendor, props.arch, props.driver_version, props.total_memory / 1073741824.0, props.compute_units,
                  props.subgroup_size, static_cast<unsigned long long>(props.features));
    }
    if (paged_only) {
      {
        DeviceContext ctx(api, device);
        bench_paged_attention(ctx, props.name);
      }
      api->device_close(device);
      break;
    }
    {
      DeviceContext ctx(api, device);
      for (const auto& [name, check] : plinth::gpu_test::all_checks()) {
        if (tiled && name.rfind("matmul", 0) != 0) continue;
        const double t0 = now_ms();
        const std::string error = check(ctx);
        // "skip: ..." is a plugin that does not claim an op of a newer catalogue (the Vulkan plugin).
        const bool skipped = error.rfind("skip: ", 0) == 0;
        std::printf("%s %s%s (%.1f ms)%s%s\n",
                    error.empty() ? "PASS"
                    : skipped     ? "SKIP"
                                  : "FAIL",
                    tiled ? "tiled:" : "", name.c_str(), now_ms() - t0, error.empty() ? "" : ": ",
                    error.c_str());
        std::fflush(stdout);
        if (!error.empty() && !skipped) ++failures;
        if (api->stream_synchronize(ctx.stream()) == PLINTH_ERROR_DEVICE_LOST) {
          std::printf("FAIL device lost after %s\n", name.c_str());
          return 1;
        }
      }
      if (run_bench) {
        std::printf("--- benchmarks (%s matmul) ---\n", tiled ? "tiled" : "default");
        if (!tiled) {
          bench(ctx);
        } else {
          // Only the matmul numbers differ on the tiled path.
          const int64_t s = 2048;
          plinth_buffer_t a = ctx.alloc(s * s * 4), b = ctx.alloc(s * s * 4), c = ctx.alloc(s * s * 4);
          const auto ta = tensor(a, PLINTH_DTYPE_F32, {s, s});
          const auto tb = tensor(b, PLINTH_DTYPE_F32, {s, s});
          const auto tc = tensor(c, PLINTH_DTYPE_F32, {s, s});
          plinth_matmul_params_t p{};
          p.struct_size = sizeof p;
          p.alpha = 1.0f;
          const double ms = device_ms(ctx, 5, [&] { ctx.run(PLINTH_OP_MATMUL, {&ta, &tb}, {&tc}, &p); });
          std::printf("bench tiled matmul f32 2048^3: %.3f ms, %.1f TFLOP/s\n", ms, 2.0 * s * s * s / (ms * 1e9));
        }
      }
    }
    api->device_close(device);
  }
  unsetenv("PLINTH_CUDA_MATMUL");
  api->shutdown();
  std::printf("%s: %d check(s) failed\n", failures == 0 ? "OK" : "FAILED", failures);
  return failures == 0 ? 0 : 1;
}
