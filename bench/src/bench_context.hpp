// What every benchmark section gets: the device and a stream on it, the sampler, the size mode and
// the table rows go to. Sections: matmul_bench.cpp, copy_bench.cpp, launch_bench.cpp.
#pragma once

#include "plinth/bench/ops_bench.hpp"
#include "plinth/device.hpp"
#include "plinth/stream.hpp"
#include "result_table.hpp"
#include "timing.hpp"

namespace plinth::bench {

struct BenchContext {
  Device& device;
  Stream& stream;
  const Sampler& sampler;
  BenchSize size;
  ResultTable& table;
};

void run_matmul_bench(BenchContext& ctx);
void run_copy_bench(BenchContext& ctx);
void run_launch_bench(BenchContext& ctx);

}  // namespace plinth::bench
