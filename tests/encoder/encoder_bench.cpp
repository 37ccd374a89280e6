// plinth_encoder_bench [--device ID] [--plugin PATH] [--model DIR] [--sentences N] [--tokens T]
//                      [--batch B] [--weights f32|f16|bf16] [--repeat R]
// Embeds N synthetic sentences of T tokens each ([CLS] + ids + [SEP]) with the default encoder on one
// device and prints sentences/s and the achieved GFLOP/s (BertEncoder::flops / time), best of R runs
// after one warm-up. Not a test: a measuring tool, built on request (EXCLUDE_FROM_ALL).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <plinth/models/bert_encoder.hpp>
#include <plinth/models/model_store.hpp>
#include <plinth/runtime.hpp>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct Args {
  std::string device = "cpu:0";
  std::vector<std::string> plugins;
  std::string model = "all-MiniLM-L6-v2";
  int sentences = 256;
  int tokens = 64;
  int batch = 32;
  int repeat = 3;
  std::string weights = "f32";
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument("missing value after " + key);
    const std::string value = argv[++i];
    if (key == "--device")
      a.device = value;
    else if (key == "--plugin")
      a.plugins.push_back(value);
    else if (key == "--model")
      a.model = value;
    else if (key == "--sentences")
      a.sentences = std::stoi(value);
    else if (key == "--tokens")
      a.tokens = std::stoi(value);
    else if (key == "--batch")
      a.batch = std::stoi(value);
    else if (key == "--repeat")
      a.repeat = std::stoi(value);
    else if (key == "--weights")
      a.weights = value;
    else
      throw std::invalid_argument("unknown option " + key);
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args args = parse(argc, argv);
    plinth::RuntimeOptions options;
    for (const auto& p : args.plugins) options.plugin_paths.emplace_back(p);
    options.devices = {args.device};
    plinth::Runtime runtime(options);
    plinth::Device& device = runtime.device(args.device);
    std::optional<plinth::DType> weights;
    if (args.weights == "f16") weights = plinth::DType::f16;
    if (args.weights == "bf16") weights = plinth::DType::bf16;
    auto encoder = plinth::models::BertEncoder::load(device, plinth::models::resolve_model(args.model),
                                                     {.batch_size = args.batch, .weight_dtype = weights});

    // Word-piece ids drawn from the ordinary-word range of a BERT-uncased vocabulary.
    std::mt19937 rng(1234);
    const int vocab = encoder.config().vocab_size;
    std::uniform_int_distribution<int32_t> word(std::min(2000, vocab - 1), vocab - 1);
    std::vector<std::vector<int32_t>> seqs(static_cast<std::size_t>(args.sentences));
    for (auto& s : seqs) {
      s.push_back(std::min(101, vocab - 1));
      for (int t = 2; t < args.tokens; ++t) s.push_back(word(rng));
      s.push_back(std::min(102, vocab - 1));
    }
    encoder.embed_tokens(seqs);  // warm-up: allocation, kernel selection, first-touch
    double best = 1e30;
    for (int r = 0; r < std::max(1, args.repeat); ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto rows = encoder.embed_tokens(seqs);
      const auto t1 = std::chrono::steady_clock::now();
      best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
      if (rows.size() != seqs.size() * static_cast<std::size_t>(encoder.hidden_size())) return 1;
    }
    const double flops = encoder.flops(seqs);
    const char* threads = std::getenv("OMP_NUM_THREADS");
    std::printf(
        "encoder bench: %s on %s (%s weights), %d sentences x %d tokens, batch %d, OMP_NUM_THREADS=%s\n",
        args.model.c_str(), device.id().c_str(),
        std::string(plinth::dtype_name(encoder.weight_dtype())).c_str(), args.sentences, args.tokens,
        args.batch, threads != nullptr ? threads : "(unset)");
    std::printf("best of %d: %.1f ms  %.1f sentences/s  %.2f GFLOP/s (%.2f GFLOP per run)\n", args.repeat,
                best * 1e3, args.sentences / best, flops / best * 1e-9, flops * 1e-9);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plinth_encoder_bench: %s\n", e.what());
    return 1;
  }
}
