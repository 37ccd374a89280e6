// plinth_decoder_bench: prefill and decode speed of the decoder on one device, in the same terms as
// tests/reference/decoder/bench_llama_cpp.py prints for llama.cpp, so the two can be set side by side.
//
//   plinth_decoder_bench [--model PATH] [--device cpu:0] [--prefill 512 (0: skip)] [--prompt 32] [--decode 128]
//                        [--repeat 3] [--profile]
//
// Token ids are synthetic (the same formula as the python script), so no tokenizer is involved.
// Each figure is the best of --repeat runs. --profile adds a per-op-kind breakdown (synchronizing
// after every launch, which on an asynchronous device slows the run it measures).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <plinth/models/llama_model.hpp>
#include <plinth/models/llama_session.hpp>
#include <plinth/models/model_store.hpp>
#include <plinth/runtime.hpp>

namespace {

using Clock = std::chrono::steady_clock;

std::vector<int32_t> synthetic_tokens(int n) {
  std::vector<int32_t> t(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) t[static_cast<std::size_t>(i)] = 1000 + (i * 7919) % 40000;
  return t;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

int32_t argmax(std::span<const float> v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

void print_profile(const char* what, const plinth::models::LlamaSession& s, int tokens) {
  double total = 0;
  for (const auto& e : s.profile()) total += e.seconds;
  std::printf("profile %s (%d tokens, %.1f ms in ops):\n", what, tokens, total * 1e3);
  for (const auto& e : s.profile()) {
    if (e.launches == 0) continue;
    std::printf("  %-15s %8.2f ms  %5.1f%%  %6llu launches  %7.2f us/launch\n", e.name.c_str(), e.seconds * 1e3,
                100.0 * e.seconds / total, static_cast<unsigned long long>(e.launches), 1e6 * e.seconds / e.launches);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_arg, device_id = "cpu:0";
  int prefill_n = 512, prompt_n = 32, decode_n = 128, repeat = 3;
  bool profile = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--model") model_arg = next();
    else if (a == "--device") device_id = next();
    else if (a == "--prefill") prefill_n = std::stoi(next());
    else if (a == "--prompt") prompt_n = std::stoi(next());
    else if (a == "--decode") decode_n = std::stoi(next());
    else if (a == "--repeat") repeat = std::max(1, std::stoi(next()));
    else if (a == "--profile") profile = true;
    else {
      std::fprintf(stderr, "usage: %s [--model PATH] [--device ID] [--prefill N] [--prompt N] [--decode N] "
                           "[--repeat N] [--profile]\n", argv[0]);
      return 2;
    }
  }
  if (prefill_n < 0 || prompt_n < 1 || decode_n < 0 || repeat < 1) {
    std::fprintf(stderr, "plinth_decoder_bench: need --prefill >= 0 (0 skips it), --prompt >= 1, --decode >= 0, "
                         "--repeat >= 1\n");
    return 2;
  }
  try {
    const auto path = plinth::models::resolve_model(model_arg.empty() ? "SmolLM2-135M-Instruct" : model_arg);
    plinth::Runtime runtime(plinth::RuntimeOptions{.devices = {device_id}});
    plinth::Device& device = runtime.device(device_id);
    auto t0 = Clock::now();
    const auto model = plinth::models::LlamaModel::load(device, path);
    std::printf("model: %s (%.1f MB on device, loaded in %.2f s)\n", path.filename().c_str(),
                model.weight_bytes() / 1e6, seconds_since(t0));
    const char* threads = std::getenv("OMP_NUM_THREADS");
    std::printf("device: %s (%s), OMP_NUM_THREADS=%s\n", device.id().c_str(), device.properties().name.c_str(),
                threads ? threads : "unset");

    const int ctx = std::max(prefill_n, prompt_n + decode_n);
    plinth::models::LlamaSession session(model, ctx);
    const auto long_prompt = synthetic_tokens(prefill_n);
    const auto prompt = synthetic_tokens(prompt_n);
    session.prefill(prompt);  // warm-up: first-touch of scratch and kernel caches
    session.reset();

    double best_prefill = 1e30, best_ttft = 1e30, best_decode = 1e30;
    for (int r = 0; r < repeat; ++r) {
      if (prefill_n > 0) {
        session.reset();
        t0 = Clock::now();
        session.prefill(long_prompt);
        best_prefill = std::min(best_prefill, seconds_since(t0));
      }

      session.reset();
      t0 = Clock::now();
      int32_t tok = argmax(session.prefill(prompt));
      best_ttft = std::min(best_ttft, seconds_since(t0));
      t0 = Clock::now();
      for (int i = 0; i < decode_n; ++i) tok = argmax(session.decode(tok));
      best_decode = std::min(best_decode, seconds_since(t0));
    }
    if (prefill_n > 0) {
      std::printf("prefill: %d tokens in %.1f ms = %.1f tok/s\n", prefill_n, best_prefill * 1e3,
                  prefill_n / best_prefill);
    }
    std::printf("decode: %d tokens after a %d-token prompt in %.1f ms = %.1f tok/s\n", decode_n, prompt_n,
                best_decode * 1e3, decode_n / best_decode);
    std::printf("time to first token: %.1f ms (%d-token prompt)\n", best_ttft * 1e3, prompt_n);

    if (profile) {
      plinth::models::LlamaSession p(model, ctx, {.profile = true});
      if (prefill_n > 0) {
        p.prefill(long_prompt);
        print_profile("prefill", p, prefill_n);
      }
      p.reset();
      int32_t tok = argmax(p.prefill(prompt));
      p.clear_profile();
      for (int i = 0; i < decode_n; ++i) tok = argmax(p.decode(tok));
      print_profile("decode", p, decode_n);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plinth_decoder_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
