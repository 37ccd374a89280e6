// plinth_decoder_paged_bench: decode throughput of PagedLlama with 1 sequence per step vs many, and
// the KV cache's bytes per token.
//
//   plinth_decoder_paged_bench [--model PATH] [--device cpu:0] [--seqs 64] [--prompt 32] [--decode 32]
//                              [--kv f16|f32] [--invariant on|off|both] [--repeat 3]
//
// Each sequence gets a synthetic prompt (prefilled first, not timed), then --decode steps in which every
// sequence adds one token; tokens/s = seqs * decode / time. Runs with and without batch_invariant.
// Best of --repeat runs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <plinth/models/llama_model.hpp>
#include <plinth/models/model_store.hpp>
#include <plinth/models/paged_llama.hpp>
#include <plinth/runtime.hpp>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using plinth::models::BatchChunk;
using plinth::models::PagedLlama;

// Decode tokens/s of `seqs` sequences stepping together.
double decode_rate(PagedLlama& model, int seqs, int prompt_n, int decode_n) {
  const int per_seq = (prompt_n + decode_n + model.block_size() - 1) / model.block_size();
  std::vector<std::vector<int32_t>> tables(static_cast<std::size_t>(seqs));
  std::vector<std::vector<int32_t>> prompts(static_cast<std::size_t>(seqs));
  for (int s = 0; s < seqs; ++s) {
    for (int b = 0; b < per_seq; ++b) tables[static_cast<std::size_t>(s)].push_back(s * per_seq + b);
    for (int i = 0; i < prompt_n; ++i)
      prompts[static_cast<std::size_t>(s)].push_back(1000 + (i * 7919 + s * 131) % 40000);
  }
  // Prefill in steps of at most max_batch_tokens.
  std::vector<BatchChunk> chunks;
  int budget = model.max_batch_tokens();
  for (int s = 0; s < seqs; ++s) {
    if (prompt_n > budget) {
      model.step(chunks);
      chunks.clear();
      budget = model.max_batch_tokens();
    }
    chunks.push_back(
        {.tokens = prompts[static_cast<std::size_t>(s)], .block_table = tables[static_cast<std::size_t>(s)]});
    budget -= prompt_n;
  }
  model.step(chunks);
  std::vector<int32_t> next(static_cast<std::size_t>(seqs), 42);
  const auto t0 = Clock::now();
  for (int d = 0; d < decode_n; ++d) {
    chunks.clear();
    for (int s = 0; s < seqs; ++s) {
      chunks.push_back({.tokens = {&next[static_cast<std::size_t>(s)], 1},
                        .start_pos = prompt_n + d,
                        .block_table = tables[static_cast<std::size_t>(s)]});
    }
    const auto logits = model.step(chunks);
    const auto vocab = static_cast<std::size_t>(model.vocab_size());
    for (int s = 0; s < seqs; ++s) {
      const auto row = logits.subspan(static_cast<std::size_t>(s) * vocab, vocab);
      next[static_cast<std::size_t>(s)] =
          static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin());
    }
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  return seqs * decode_n / secs;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_arg, device_id = "cpu:0", kv = "f16";
  int seqs = 64, prompt_n = 32, decode_n = 32, repeat = 3;
  std::string invariant_arg = "both";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--model")
      model_arg = next();
    else if (a == "--device")
      device_id = next();
    else if (a == "--seqs")
      seqs = std::stoi(next());
    else if (a == "--prompt")
      prompt_n = std::stoi(next());
    else if (a == "--decode")
      decode_n = std::stoi(next());
    else if (a == "--kv")
      kv = next();
    else if (a == "--invariant")
      invariant_arg = next();
    else if (a == "--repeat")
      repeat = std::max(1, std::stoi(next()));
    else {
      std::fprintf(stderr,
                   "usage: %s [--model PATH] [--device ID] [--seqs N] [--prompt N] [--decode N] "
                   "[--kv f16|f32] [--invariant on|off|both] [--repeat N]\n",
                   argv[0]);
      return 2;
    }
  }
  if (seqs < 1 || prompt_n < 1 || decode_n < 1 || (kv != "f16" && kv != "f32") ||
      (invariant_arg != "on" && invariant_arg != "off" && invariant_arg != "both")) {
    std::fprintf(stderr,
                 "plinth_decoder_paged_bench: need --seqs, --prompt, --decode >= 1, --kv f16 or f32 and "
                 "--invariant on, off or both\n");
    return 2;
  }
  try {
    const auto path = plinth::models::resolve_model(model_arg.empty() ? "SmolLM2-135M-Instruct" : model_arg);
    plinth::Runtime runtime(plinth::RuntimeOptions{.devices = {device_id}});
    plinth::Device& device = runtime.device(device_id);
    const auto model = plinth::models::LlamaModel::load(device, path);
    const char* threads = std::getenv("OMP_NUM_THREADS");
    std::printf("model: %s; device: %s, OMP_NUM_THREADS=%s\n", path.filename().c_str(), device.id().c_str(),
                threads ? threads : "unset");
    const plinth::DType dtype = kv == "f16" ? plinth::DType::f16 : plinth::DType::f32;
    const int per_seq = (prompt_n + decode_n + 15) / 16;
    const uint64_t per_block = PagedLlama::bytes_per_block(model.config(), 16, dtype);
    std::printf("KV cache (%s, blocks of 16): %llu bytes per block = %llu bytes per token\n", kv.c_str(),
                static_cast<unsigned long long>(per_block), static_cast<unsigned long long>(per_block / 16));
    std::fflush(stdout);
    for (const bool invariant : {false, true}) {
      if (invariant_arg != "both" && invariant != (invariant_arg == "on")) continue;
      PagedLlama paged(model,
                       {.kv_dtype = dtype, .num_blocks = seqs * per_seq, .batch_invariant = invariant});
      double one = 0, many = 0;
      for (int r = 0; r < repeat; ++r) {
        one = std::max(one, decode_rate(paged, 1, prompt_n, decode_n));
        many = std::max(many, decode_rate(paged, seqs, prompt_n, decode_n));
      }
      std::printf("batch_invariant=%d: decode 1 seq/step %.1f tok/s; %d seqs/step %.1f tok/s (x%.1f)\n",
                  invariant ? 1 : 0, one, seqs, many, many / one);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plinth_decoder_paged_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
