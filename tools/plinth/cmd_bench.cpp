// plinth bench ops: op-level benchmarks of one device beside baselines measured in the same run.
// The measuring lives in bench/ (library plinth_bench); this file only maps the command line onto it.
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands.hpp"

#if PLINTH_HAVE_BENCH
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
}

}  // namespace plinth::cli
