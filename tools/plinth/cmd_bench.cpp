// plinth bench ops|engine: benchmarks of one device beside baselines measured in the same run.
// The measuring lives in bench/ (libraries plinth_bench and plinth_engine_bench); this file only maps
// the command line onto it.
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands.hpp"

#if PLINTH_HAVE_BENCH
#include "plinth/bench/engine_bench.hpp"
#include "plinth/bench/ops_bench.hpp"
#endif

namespace plinth::cli {
namespace {

struct BenchArgs {
  std::string device;
  std::vector<std::string> plugins;
  int repeat = 0;
  std::string json;
  bool quick = false;
  bool tiny = false;
  std::vector<std::string> only;
};

void run_bench_ops(const BenchArgs& args, int& exit_code) {
#if PLINTH_HAVE_BENCH
  bench::OpsBenchOptions options;
  options.device = args.device;
  options.plugins.assign(args.plugins.begin(), args.plugins.end());
  options.repeat = args.repeat;
  options.json = args.json;
  options.size = args.tiny ? bench::BenchSize::tiny : args.quick ? bench::BenchSize::quick : bench::BenchSize::full;
  options.sections = args.only;
  bench::run_ops_bench(options, std::cout);
  exit_code = 0;
#else
  (void)args;
  exit_code = 1;
  throw std::runtime_error("this plinth was built without its benchmarks (bench/ needs the core library)");
#endif
}

}  // namespace

void add_bench_command(CLI::App& app, int& exit_code) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks, each beside a named baseline measured in the same run");
  bench->require_subcommand(1);

  auto args = std::make_shared<BenchArgs>();
  CLI::App* ops = bench->add_subcommand(
      "ops",
      "Op-level benchmarks of one device: matmul (GFLOP/s, or GB/s of weights for quantized weights) beside\n"
      "oneDNN called directly or memcpy; buffer copies beside memcpy; per-launch overhead beside a direct\n"
      "C++ call, and graph replay beside eager launches. Prints median (and min) times, rates and the\n"
      "ratio baseline time / plinth time (above 1: plinth faster). Set OMP_NUM_THREADS to fix the\n"
      "thread count of both the CPU backend and the baselines.");
  ops->add_option("--device", args->device, "Device id to measure (default: cpu:0 when present, else the first)");
  ops->add_option("--plugin", args->plugins,
                  "Backend plugin file or directory, searched before the default locations (repeatable);\n"
                  "without --device, the first device of such a plugin is measured")
      ->allow_extra_args(false);  // one path per --plugin, taken verbatim (see cli_support.hpp)
  ops->add_option("--repeat", args->repeat, "Timed repetitions per measurement (default: enough for ~0.3 s)")
      ->check(CLI::Range(1, 1000000));
  ops->add_option("--json", args->json, "Also write the results as JSON to this file");
  ops->add_flag("--quick", args->quick,
                "Smaller run: drops 4096^3 matmuls, copies 32 MiB instead of 256 MiB, ~0.1 s per measurement");
  ops->add_flag("--tiny", args->tiny,
                "Smoke run: tiny sizes and 2 repetitions; shows every row works, its numbers mean nothing")
      ->excludes("--quick");
  ops->add_option("--only", args->only, "Run only these sections: matmul, copy, launch (repeatable)")
      ->check(CLI::IsMember({"matmul", "copy", "launch"}));
  ops->callback([args, &exit_code] { run_bench_ops(*args, exit_code); });

#if PLINTH_HAVE_BENCH
  auto engine_args = std::make_shared<bench::EngineBenchOptions>();
  CLI::App* engine = bench->add_subcommand(
      "engine",
      "The serving engine (continuous batching over the paged KV cache) on one device: aggregate\n"
      "generated tok/s, TTFT and inter-token latency at several concurrencies; decoders' latency while a\n"
      "2048-token prompt is prefilled; a shared 512-token system prompt with and without the prefix\n"
      "cache; KV memory per token. bench/engine-bench.sh runs llama.cpp's batched bench beside it.");
  engine->add_option("--model", engine_args->model, "Model name from the store, or a GGUF path")
      ->capture_default_str();
  engine->add_option("--device", engine_args->device, "Device id")->capture_default_str();
  engine->add_option("--plugin", engine_args->plugins, "Backend plugin file or directory (repeatable)")
      ->allow_extra_args(false);
  engine->add_option("--concurrency", engine_args->concurrency, "Concurrent sequences (repeatable)")
      ->allow_extra_args(false)
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  engine->add_option("--prompt", engine_args->prompt_tokens, "Prompt tokens per sequence")
      ->check(CLI::Range(1, 8192))
      ->capture_default_str();
  engine->add_option("--gen", engine_args->gen_tokens, "Generated tokens per sequence")
      ->check(CLI::Range(2, 8192))
      ->capture_default_str();
  engine->add_option("--kv-dtype", engine_args->kv_dtype, "KV cache dtype")
      ->check(CLI::IsMember({"f16", "f32"}))
      ->capture_default_str();
  engine->add_option("--block-size", engine_args->block_size, "Tokens per KV block")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  engine->add_option("--max-batch-tokens", engine_args->max_batch_tokens, "Token budget of one engine step")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  engine->add_option("--prefill-per-decode", engine_args->prefill_per_decode,
                     "Prefill cap while sequences decode, in prompt tokens per decoding sequence (the\n"
                     "chunked-prefill section runs without the cap and with this value; 0: without only)")
      ->check(CLI::Range(0.0, 1024.0))
      ->capture_default_str();
  engine->add_option("--min-prefill-chunk", engine_args->min_prefill_chunk,
                     "Prompt tokens a capped step may always add, however few sequences decode")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  engine->add_option("--prefix-requests", engine_args->prefix_requests,
                     "Prefix-cache section: requests sharing one system prompt")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  engine->add_option("--shared-prompt", engine_args->shared_prompt_tokens,
                     "Prefix-cache section: tokens of the shared system prompt")
      ->check(CLI::Range(1, 8192))
      ->capture_default_str();
  engine->add_option("--only", engine_args->sections, "Run only these sections (repeatable)")
      ->check(CLI::IsMember(bench::engine_bench_sections()));
  engine->add_option("--json", engine_args->json, "Also write the results as JSON to this file");
  engine->callback([engine_args, &exit_code] {
    bench::run_engine_bench(*engine_args, std::cout);
    exit_code = 0;
  });
#endif
}

}  // namespace plinth::cli
