// `plinth bench engine`: Plinth's serving engine under the engine issue's loads. Every request is
// greedy, has no end token and generates exactly its token budget, so runs are comparable with
// llama.cpp's batched bench (which does the same). Times are taken in the stream sinks, on the
// engine thread, as the tokens are delivered.
#include "plinth/bench/engine_bench.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "plinth/models/llama_model.hpp"
#include "plinth/models/model_store.hpp"
#include "plinth/models/paged_llama.hpp"
#include "plinth/runtime.hpp"
#include "plinth/scheduler/engine.hpp"

namespace plinth::bench {
namespace {

namespace sch = plinth::scheduler;
using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;
using nlohmann::json;

constexpr auto kLoadTimeout = std::chrono::minutes(10);

double seconds(Clock::duration d) { return Seconds(d).count(); }

// The q-th percentile (0..100) by linear interpolation; 0 for no samples.
double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = q / 100.0 * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(pos);
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

// Counts finished requests; the bench thread waits on it.
class Completion {
 public:
  void expect_one() {
    std::lock_guard lock(mutex_);
    ++pending_;
  }
  void finished() {
    {
      std::lock_guard lock(mutex_);
      --pending_;
    }
    cv_.notify_all();
  }
  bool wait(Clock::duration timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return pending_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::size_t pending_ = 0;
};

// One request's stream as the sink saw it. `times` and `finish` are read only after the request
// finished (Completion orders them); `count` may be polled while it runs.
struct Trace {
  Clock::time_point submitted;
  std::vector<Clock::time_point> times;
  std::atomic<std::size_t> count{0};
  sch::FinishInfo finish;
  std::shared_ptr<sch::CancelToken> cancel = std::make_shared<sch::CancelToken>();

  double ttft() const { return times.empty() ? 0 : seconds(times.front() - submitted); }
  // Gaps between consecutive tokens whose later token lies in [from, to).
  void gaps(Clock::time_point from, Clock::time_point to, std::vector<double>& out) const {
    for (std::size_t i = 1; i < times.size(); ++i) {
      if (times[i] >= from && times[i] < to) out.push_back(seconds(times[i] - times[i - 1]));
    }
  }
};

class RecordingSink : public sch::StreamSink {
 public:
  RecordingSink(Trace& trace, Completion& completion) : trace_(trace), completion_(completion) {}
  void on_delta(const sch::TokenDelta& delta) override {
    if (delta.token == sch::kNoToken) return;
    trace_.times.push_back(Clock::now());
    trace_.count.fetch_add(1, std::memory_order_release);
  }
  void on_finish(const sch::FinishInfo& finish) override {
    trace_.finish = finish;
    completion_.finished();
  }

 private:
  Trace& trace_;
  Completion& completion_;
};

// An Engine over one model with recording sinks. The engine is declared last so its threads stop
// before the traces they write to go away.
class Harness {
 public:
  Harness(models::BatchModel& model, const sch::EngineOptions& options) : engine_({model}, options) {}

  Trace& submit(std::vector<int32_t> prompt, int max_tokens) {
    Trace& trace = traces_.emplace_back();
    sch::Request request;
    request.prompt = std::move(prompt);
    request.sampling.temperature = 0.0f;
    request.max_tokens = static_cast<std::size_t>(max_tokens);
    request.cancel = trace.cancel;
    request.sink = std::make_shared<RecordingSink>(trace, completion_);
    completion_.expect_one();
    trace.submitted = Clock::now();
    const sch::SubmitResult result = engine_.submit(std::move(request));
    if (!result) {
      completion_.finished();
      throw std::runtime_error("bench engine: a request was rejected (" + std::string(sch::to_string(result.reason)) +
                               "): " + result.message);
    }
    return trace;
  }
  void wait_all() {
    if (!completion_.wait(kLoadTimeout)) throw std::runtime_error("bench engine: requests still running after 10 minutes");
    for (const Trace& t : traces_) {
      if (t.finish.reason == sch::FinishReason::error) {
        throw std::runtime_error("bench engine: a request failed: " + t.finish.message);
      }
    }
  }
  sch::SchedulerStats stats() const { return engine_.stats().at(0); }
  std::deque<Trace>& traces() { return traces_; }

 private:
  Completion completion_;
  std::deque<Trace> traces_;
  sch::Engine engine_;
};

// Token ids away from the special tokens at both ends of the vocabulary, reproducible per seed.
std::vector<int32_t> synthetic_prompt(int n, uint64_t seed, int vocab) {
  std::mt19937_64 rng(seed);
  const int lo = std::min(256, vocab / 4);
  std::uniform_int_distribution<int32_t> pick(lo, std::max(lo, vocab - lo - 1));
  std::vector<int32_t> out(static_cast<std::size_t>(n));
  for (auto& t : out) t = pick(rng);
  return out;
}

sch::EngineOptions engine_options(const EngineBenchOptions& o, std::size_t max_running, bool prefix_caching,
                                  double prefill_per_decode = 0) {
  sch::EngineOptions e;
  e.scheduler.max_batch_tokens = static_cast<std::size_t>(o.max_batch_tokens);
  e.scheduler.prefill_per_decode = prefill_per_decode;
  e.scheduler.min_prefill_chunk = static_cast<std::size_t>(o.min_prefill_chunk);
  e.scheduler.max_running = max_running;
  e.scheduler.prefix_caching = prefix_caching;
  return e;
}

// Waits until every trace in [first, last) has at least n tokens (or finished).
void wait_tokens(std::deque<Trace>& traces, std::size_t first, std::size_t last, std::size_t n) {
  const auto give_up = Clock::now() + kLoadTimeout;
  for (std::size_t i = first; i < last; ++i) {
    while (traces[i].count.load(std::memory_order_acquire) < n) {
      if (Clock::now() > give_up) throw std::runtime_error("bench engine: decoders stalled");
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
}

struct Context {
  const EngineBenchOptions& options;
  models::PagedLlama& model;
  int vocab;
  std::ostream& out;
  json& results;
};

// Concurrent streams: c requests submitted at once. Reported like llama.cpp's batched bench: the
// prompt phase ends with the last first token; S_TG is the generation rate after it.
void throughput(Context& ctx) {
  const auto& o = ctx.options;
  ctx.out << "\n== throughput: prompt " << o.prompt_tokens << ", generation " << o.gen_tokens
          << " per sequence, greedy ==\n"
          << "   B |  wall s | gen tok/s | S_TG tok/s | S tok/s | TTFT p50/p99 ms | ITL p50/p99 ms | KV pool use\n";
  json rows = json::array();
  for (int c : o.concurrency) {
    std::cerr << "bench engine: throughput at " << c << " sequences\n";
    Harness h(ctx.model, engine_options(o, static_cast<std::size_t>(std::max(c, 1)), true));
    const auto t0 = Clock::now();
    for (int i = 0; i < c; ++i) h.submit(synthetic_prompt(o.prompt_tokens, 1000 + static_cast<uint64_t>(i), ctx.vocab), o.gen_tokens);
    // KV use in the middle of generation: blocks held vs tokens they hold.
    wait_tokens(h.traces(), 0, static_cast<std::size_t>(c), static_cast<std::size_t>(o.gen_tokens / 2));
    const sch::SchedulerStats mid = h.stats();
    h.wait_all();
    const auto t1 = Clock::now();
    std::vector<double> ttft, itl;
    Clock::time_point last_first = t0;
    for (const Trace& t : h.traces()) {
      ttft.push_back(t.ttft());
      t.gaps(t0, t1, itl);
      if (!t.times.empty()) last_first = std::max(last_first, t.times.front());
    }
    const double wall = seconds(t1 - t0);
    const double gen = static_cast<double>(c) * o.gen_tokens;
    const double tg_time = seconds(t1 - last_first);
    const double s_tg = tg_time > 0 ? static_cast<double>(c) * (o.gen_tokens - 1) / tg_time : 0;
    const double s_all = static_cast<double>(c) * (o.prompt_tokens + o.gen_tokens) / wall;
    const double pool_use = mid.kv.total_blocks ? static_cast<double>(mid.kv.in_use_blocks) / mid.kv.total_blocks : 0;
    ctx.out << std::setw(4) << c << " | " << std::setw(7) << std::fixed << std::setprecision(2) << wall << " | "
            << std::setw(9) << std::setprecision(1) << gen / wall << " | " << std::setw(10) << s_tg << " | "
            << std::setw(7) << s_all << " | " << std::setw(6) << percentile(ttft, 50) * 1e3 << " / " << std::setw(6)
            << percentile(ttft, 99) * 1e3 << " | " << std::setw(5) << percentile(itl, 50) * 1e3 << " / "
            << std::setw(6) << percentile(itl, 99) * 1e3 << " | " << std::setprecision(3) << pool_use << "\n";
    rows.push_back({{"sequences", c},
                    {"wall_s", wall},
                    {"generated_tok_per_s", gen / wall},
                    {"s_tg_tok_per_s", s_tg},
                    {"s_tok_per_s", s_all},
                    {"ttft_p50_ms", percentile(ttft, 50) * 1e3},
                    {"ttft_p99_ms", percentile(ttft, 99) * 1e3},
                    {"itl_p50_ms", percentile(itl, 50) * 1e3},
                    {"itl_p99_ms", percentile(itl, 99) * 1e3},
                    {"kv_blocks_in_use_mid", mid.kv.in_use_blocks}});
  }
  ctx.results["throughput"] = rows;
}

// A long prompt arrives while 16 sequences decode: their inter-token latency before it arrives and
// while it is prefilled (until its first token), without the scheduler's prefill cap and with it.
void chunked_prefill(Context& ctx) {
  const auto& o = ctx.options;
  constexpr int kDecoders = 16;
  constexpr int kLongPrompt = 2048;
  ctx.out << "\n== chunked prefill: a " << kLongPrompt << "-token prompt arrives while " << kDecoders
          << " sequences decode (step budget " << o.max_batch_tokens << " tokens) ==\n"
          << " prefill cap            | decoders' ITL p50 / p99 before, ms | during the prefill, ms | p99 ratio (goal <= 2x) | long prompt TTFT ms\n";
  json rows = json::array();
  std::vector<double> caps = {0.0};
  if (o.prefill_per_decode > 0) caps.push_back(o.prefill_per_decode);
  for (const double cap : caps) {
    std::cerr << "bench engine: chunked prefill (" << kLongPrompt << "-token prompt among " << kDecoders
              << " decoders), prefill cap " << cap << "\n";
    Harness h(ctx.model, engine_options(o, kDecoders + 1, true, cap));
    for (int i = 0; i < kDecoders; ++i) {
      h.submit(synthetic_prompt(o.prompt_tokens, 2000 + static_cast<uint64_t>(i), ctx.vocab), 100000);
    }
    wait_tokens(h.traces(), 0, kDecoders, 8);
    const auto warm = Clock::now();
    wait_tokens(h.traces(), 0, kDecoders, 40);
    Trace& big = h.submit(synthetic_prompt(kLongPrompt, 7, ctx.vocab), 1);
    const auto arrived = big.submitted;
    while (big.count.load(std::memory_order_acquire) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    // A few more decode steps after the prefill, then stop the decoders.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (int i = 0; i < kDecoders; ++i) h.traces()[static_cast<std::size_t>(i)].cancel->cancel();
    h.wait_all();
    const auto first = big.times.front();
    std::vector<double> before, during;
    for (int i = 0; i < kDecoders; ++i) {
      const Trace& t = h.traces()[static_cast<std::size_t>(i)];
      t.gaps(warm, arrived, before);
      t.gaps(arrived, first, during);
    }
    const double p99_before = percentile(before, 99) * 1e3, p99_during = percentile(during, 99) * 1e3;
    std::ostringstream label;
    if (cap > 0) {
      label << "max(" << o.min_prefill_chunk << ", " << cap << " x decoders)";
    } else {
      label << "none";
    }
    ctx.out << std::left << std::setw(23) << label.str() << std::right << " | " << std::fixed << std::setprecision(1)
            << std::setw(15) << percentile(before, 50) * 1e3 << " / " << std::setw(16) << p99_before << " | "
            << std::setw(9) << percentile(during, 50) * 1e3 << " / " << std::setw(10) << p99_during << " | "
            << std::setw(21) << std::setprecision(2) << (p99_before > 0 ? p99_during / p99_before : 0) << "x | "
            << std::setw(19) << std::setprecision(0) << big.ttft() * 1e3 << "\n";
    rows.push_back({{"prefill_per_decode", cap},
                    {"min_prefill_chunk", cap > 0 ? o.min_prefill_chunk : 0},
                    {"decoders", kDecoders},
                    {"long_prompt_tokens", kLongPrompt},
                    {"itl_p50_before_ms", percentile(before, 50) * 1e3},
                    {"itl_p99_before_ms", p99_before},
                    {"itl_p50_during_ms", percentile(during, 50) * 1e3},
                    {"itl_p99_during_ms", p99_during},
                    {"long_prompt_ttft_ms", big.ttft() * 1e3}});
  }
  ctx.results["chunked_prefill"] = rows;
}

// Requests share a system prompt (64 x 512 tokens by default; each adds 16 tokens of its own), with
// and without the prefix cache.
void prefix_cache(Context& ctx) {
  const auto& o = ctx.options;
  const int requests = o.prefix_requests;
  const int shared_n = o.shared_prompt_tokens;
  constexpr int kOwn = 16, kGen = 16;
  ctx.out << "\n== prefix cache: " << requests << " requests share a " << shared_n << "-token system prompt (+"
          << kOwn << " own tokens, " << kGen << " generated) ==\n"
          << " cache | prefill tokens computed | prefix-hit tokens | TTFT p50/p99 ms | wall s\n";
  const std::vector<int32_t> shared = synthetic_prompt(shared_n, 5, ctx.vocab);
  json rows = json::array();
  for (bool caching : {false, true}) {
    std::cerr << "bench engine: prefix cache " << (caching ? "on" : "off") << "\n";
    Harness h(ctx.model, engine_options(o, static_cast<std::size_t>(requests), caching));
    const auto t0 = Clock::now();
    for (int i = 0; i < requests; ++i) {
      std::vector<int32_t> prompt = shared;
      const auto own = synthetic_prompt(kOwn, 3000 + static_cast<uint64_t>(i), ctx.vocab);
      prompt.insert(prompt.end(), own.begin(), own.end());
      h.submit(std::move(prompt), kGen);
    }
    h.wait_all();
    const double wall = seconds(Clock::now() - t0);
    const sch::SchedulerStats s = h.stats();
    std::vector<double> ttft;
    for (const Trace& t : h.traces()) ttft.push_back(t.ttft());
    ctx.out << std::setw(6) << (caching ? "on" : "off") << " | " << std::setw(23) << s.prefill_tokens << " | "
            << std::setw(17) << s.prefix_hit_tokens << " | " << std::fixed << std::setprecision(1) << std::setw(6)
            << percentile(ttft, 50) * 1e3 << " / " << std::setw(6) << percentile(ttft, 99) * 1e3 << " | "
            << std::setprecision(2) << wall << "\n";
    rows.push_back({{"prefix_caching", caching},
                    {"prefill_tokens", s.prefill_tokens},
                    {"prefix_hit_tokens", s.prefix_hit_tokens},
                    {"ttft_p50_ms", percentile(ttft, 50) * 1e3},
                    {"ttft_p99_ms", percentile(ttft, 99) * 1e3},
                    {"wall_s", wall}});
  }
  ctx.results["prefix_cache"] = rows;
}

void memory(Context& ctx) {
  const auto& o = ctx.options;
  const auto& m = ctx.model;
  const double per_block = static_cast<double>(m.cache_bytes()) / m.num_blocks();
  const double per_token = per_block / m.block_size();
  // A sequence wastes on average half a block (its last, partial one) and 4 bytes per block of
  // block table on the device.
  const double waste_per_seq = per_block * 0.5;
  const int tokens = o.prompt_tokens + o.gen_tokens;
  const double overhead = (waste_per_seq + 4.0 * ((tokens + m.block_size() - 1) / m.block_size())) /
                          (per_token * tokens);
  ctx.out << "\n== KV memory ==\n"
          << "cache dtype " << o.kv_dtype << ", block " << m.block_size() << " tokens: " << std::fixed
          << std::setprecision(0) << per_token << " bytes per token, " << per_block / 1024.0 << " KiB per block; pool "
          << m.num_blocks() << " blocks = " << std::setprecision(1)
          << per_block * m.num_blocks() / (1024.0 * 1024.0) << " MiB (" << m.num_blocks() * m.block_size()
          << " tokens); paging overhead for a " << tokens << "-token sequence: " << std::setprecision(1)
          << overhead * 100 << "% (half a block + block table)\n";
  ctx.results["memory"] = {{"kv_dtype", o.kv_dtype},
                           {"block_size", m.block_size()},
                           {"bytes_per_token", per_token},
                           {"pool_blocks", m.num_blocks()},
                           {"pool_bytes", per_block * m.num_blocks()},
                           {"paging_overhead", overhead}};
}

bool wanted(const EngineBenchOptions& o, const std::string& section) {
  return o.sections.empty() || std::find(o.sections.begin(), o.sections.end(), section) != o.sections.end();
}

}  // namespace

const std::vector<std::string>& engine_bench_sections() {
  static const std::vector<std::string> kSections = {"throughput", "chunked-prefill", "prefix-cache", "memory"};
  return kSections;
}

void run_engine_bench(const EngineBenchOptions& options, std::ostream& out) {
  if (options.prefix_requests < 1 || options.shared_prompt_tokens < 1) {
    throw std::invalid_argument("bench engine: --prefix-requests and --shared-prompt must be >= 1");
  }
  if (!(options.prefill_per_decode >= 0) || options.min_prefill_chunk < 1) {
    throw std::invalid_argument("bench engine: --prefill-per-decode must be >= 0 and --min-prefill-chunk >= 1");
  }
  if (options.kv_dtype != "f16" && options.kv_dtype != "f32") {
    throw std::invalid_argument("bench engine: --kv-dtype must be f16 or f32, not '" + options.kv_dtype + "'");
  }
  for (int c : options.concurrency) {
    if (c < 1) throw std::invalid_argument("bench engine: concurrency values must be >= 1");
  }
  RuntimeOptions runtime_options;
  runtime_options.plugin_paths = options.plugins;
  Runtime runtime(runtime_options);
  Device& device = runtime.device(options.device);
  const auto path = models::resolve_model(options.model);
  std::cerr << "bench engine: loading " << path.string() << " on " << device.id() << "\n";
  const auto model = models::LlamaModel::load(device, path);
  models::PagedLlamaOptions paged;
  paged.block_size = options.block_size;
  paged.kv_dtype = options.kv_dtype == "f16" ? DType::f16 : DType::f32;
  paged.max_batch_tokens = std::max(options.max_batch_tokens, 2048 + 64);
  paged.max_seqs = std::max(64, *std::max_element(options.concurrency.begin(), options.concurrency.end()));
  models::PagedLlama batch(model, paged);

  json results;
  results["device"] = device.id();
  results["model"] = path.filename().string();
  Context ctx{options, batch, model.config().vocab_size, out, results};
  out << "plinth bench engine: " << path.filename().string() << " on " << device.id() << " ("
      << device.properties().name << "), step budget " << options.max_batch_tokens << " tokens, KV "
      << options.kv_dtype << " in blocks of " << batch.block_size() << "\n";
  if (wanted(options, "throughput")) throughput(ctx);
  if (wanted(options, "chunked-prefill")) chunked_prefill(ctx);
  if (wanted(options, "prefix-cache")) prefix_cache(ctx);
  if (wanted(options, "memory")) memory(ctx);
  if (!options.json.empty()) {
    std::ofstream f(options.json);
    if (!f) throw std::runtime_error("bench engine: cannot write " + options.json.string());
    f << results.dump(2) << "\n";
  }
}

}  // namespace plinth::bench
