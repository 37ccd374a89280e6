// `plinth bench engine`: the serving engine (plinth::scheduler over the batched paged decoder) on one
// device, under the loads of the engine issue: concurrent streams, a long prompt arriving among
// decoders, and many requests sharing a system prompt. The baseline (llama.cpp's batched bench and
// server on the same GGUF) runs beside it from bench/engine-bench.sh; this library measures Plinth.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace plinth::bench {

struct EngineBenchOptions {
  std::string model = "SmolLM2-135M-Instruct";  // a name from the model store, or a GGUF path
  std::string device = "cpu:0";
  std::vector<std::filesystem::path> plugins;  // searched before the default plugin locations
  std::vector<int> concurrency = {1, 8, 32, 64};
  int prompt_tokens = 128;
  int gen_tokens = 128;
  std::string kv_dtype = "f16";  // f16 or f32
  int block_size = 16;
  int max_batch_tokens = 512;  // the step's token budget
  // The scheduler's prefill cap while sequences decode (SchedulerOptions::prefill_per_decode and
  // min_prefill_chunk): the chunked-prefill section runs without it and with these values
  // (prefill_per_decode 0: without only).
  double prefill_per_decode = 0.5;
  int min_prefill_chunk = 8;
  int prefix_requests = 64;        // prefix-cache section: requests sharing a system prompt
  int shared_prompt_tokens = 512;  // ... of this many tokens
  std::vector<std::string> sections;  // subset of engine_bench_sections(); empty: all
  std::filesystem::path json;         // also write the results here (empty: no file)
};

// Section names: "throughput", "chunked-prefill", "prefix-cache", "memory".
const std::vector<std::string>& engine_bench_sections();

// Runs the sections and prints their tables to `out` (progress goes to std::cerr). Throws on failure
// with a one-line message.
void run_engine_bench(const EngineBenchOptions& options, std::ostream& out);

}  // namespace plinth::bench
