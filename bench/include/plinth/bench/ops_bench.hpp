// `plinth bench ops`: op-level benchmarks of one device, each measured beside a named baseline in the
// same run (oneDNN called directly, host memcpy, a direct C++ call). The CLI parses the options and
// calls run_ops_bench; everything else lives in this library.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace plinth::bench {

// How big and how long: full (all shapes, ~0.3 s per measurement), quick (drops the largest shapes,
// ~0.1 s), tiny (smallest sizes and 2 repetitions: proves every row runs; its numbers mean nothing).
enum class BenchSize { full, quick, tiny };

struct OpsBenchOptions {
  std::string device;                          // empty: cpu:0 when present, else the first device
  std::vector<std::filesystem::path> plugins;  // searched before the default plugin locations
  int repeat = 0;                              // timed repetitions per measurement; 0: automatic
  std::filesystem::path json;                  // also write the results here (empty: no file)
  BenchSize size = BenchSize::full;
  std::vector<std::string> sections;  // subset of {"matmul", "copy", "launch"}; empty: all
};

// Section names accepted in OpsBenchOptions::sections.
const std::vector<std::string>& ops_bench_sections();

// Runs the benchmark and prints its table to `out`. Throws on failure (plinth::Error from the core,
// std::runtime_error otherwise); the message is one line.
void run_ops_bench(const OpsBenchOptions& options, std::ostream& out);

}  // namespace plinth::bench
