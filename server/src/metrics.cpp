#include "plinth/server/metrics.hpp"

#include <prometheus/client_metric.h>
#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/labels.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <atomic>
#include <cmath>
#include <iterator>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace plinth::server {
namespace {

// Histogram buckets, in seconds, are vLLM's (vllm/v1/metrics/buckets.py): dashboards, alerts and SLOs
// written against vLLM's histograms then read Plinth's with the same resolution.
// Time to first token: 1 ms (a cached short prompt) to about 40 minutes (a long queue under overload).
constexpr std::array kTtftBuckets{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,  0.25,  0.5,   0.75,
                                  1.0,   2.5,   5.0,  7.5,  10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};
// Inter-token latency: vLLM's buckets from 10 ms up, plus 1, 2.5 and 5 ms below them on the same
// 1-2.5-5 progression: Plinth's default decoder (SmolLM2-135M) decodes one sequence at about 3 ms a
// token even on a 2-core CPU (316 tok/s, bench/README.md), and with vLLM's first bucket at 10 ms nearly
// every one of its tokens would land in it.
constexpr std::array kItlBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1,  0.15, 0.2,  0.3,
                                 0.4,   0.5,    0.75,  1.0,  2.5,   5.0,  7.5,   10.0, 20.0, 40.0, 80.0};
// End-to-end request latency: 300 ms to about two hours (long generations and batch clients).
// Admission decisions take microseconds when the server keeps up; the goal is 10 ms at the 99th
// percentile, so the buckets are fine below it.
constexpr std::array kDecisionBuckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                      0.5,    1.0};
constexpr std::array kE2eBuckets{0.3,  0.5,  0.8,  1.0,  1.5,   2.0,   2.5,   5.0,   10.0,   15.0,  20.0,
                                 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};

// A duration worth observing: a clock read wrongly (negative, NaN, infinite) would poison the sum.
bool valid_seconds(double seconds) noexcept { return seconds >= 0 && std::isfinite(seconds); }

}  // namespace

// The pieces below are fields of RequestSeries and ServerMetrics::Impl, which have external linkage, so
// they live in a named namespace rather than an anonymous one.
namespace detail {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Labels;
using prometheus::MetricFamily;
using prometheus::MetricType;

// ---- Label sets as hash-map keys, looked up by views (no allocation on a hit) ----

struct KeyView {
  std::string_view a, b, c;
};

struct Key {
  explicit Key(KeyView v) : a(v.a), b(v.b), c(v.c) {}
  operator KeyView() const noexcept { return {a, b, c}; }  // implicit: maps hash and compare keys as views
  std::string a, b, c;
};

struct KeyHash {
  using is_transparent = void;
  std::size_t operator()(KeyView k) const noexcept {
    const std::hash<std::string_view> hash;
    std::size_t seed = hash(k.a);
    for (std::string_view part : {k.b, k.c})
      seed ^= hash(part) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
    return seed;
  }
};

struct KeyEqual {
  using is_transparent = void;
  bool operator()(KeyView x, KeyView y) const noexcept { return x.a == y.a && x.b == y.b && x.c == y.c; }
};

// Series of one kind by label set, at most `max` of them plus the overflow set. Series are never
// removed, so a reference handed out stays valid for the map's life.
template <typename T>
class SeriesMap {
 public:
  SeriesMap(std::size_t max, KeyView overflow) : max_(max), overflow_(overflow) {}

  // The series for `key`, made by make(key) the first time (make gets the overflow key instead when
  // the map is full).
  template <typename Make>
  T& get(KeyView key, Make&& make) {
    {
      std::shared_lock lock(mutex_);
      if (auto it = map_.find(key); it != map_.end()) return *it->second;
    }
    std::unique_lock lock(mutex_);
    if (auto it = map_.find(key); it != map_.end()) return *it->second;
    if (map_.size() >= max_) {
      key = overflow_;
      if (auto it = map_.find(key); it != map_.end()) return *it->second;
    }
    std::unique_ptr<T> series = make(key);
    T& result = *series;
    map_.emplace(Key(key), std::move(series));
    return result;
  }

 private:
  const std::size_t max_;
  const Key overflow_;
  std::shared_mutex mutex_;
  std::unordered_map<Key, std::unique_ptr<T>, KeyHash, KeyEqual> map_;
};

// A metric made on first use: a label set that never sees a value exports nothing (no empty TTFT
// histograms for an embeddings model). Family::Add returns the existing metric for labels it has, so
// two threads racing here store the same pointer.
template <typename T>
class Lazy {
 public:
  T& get(Family<T>& family, const Labels& labels) {
    T* metric = metric_.load(std::memory_order_acquire);
    if (metric == nullptr) {
      metric = &family.Add(labels);
      metric_.store(metric, std::memory_order_release);
    }
    return *metric;
  }
  template <std::size_t N>
  T& get(Family<T>& family, const Labels& labels, const std::array<double, N>& buckets) {
    T* metric = metric_.load(std::memory_order_acquire);
    if (metric == nullptr) {
      metric = &family.Add(labels, Histogram::BucketBoundaries(buckets.begin(), buckets.end()));
      metric_.store(metric, std::memory_order_release);
    }
    return *metric;
  }

 private:
  std::atomic<T*> metric_{nullptr};
};

// ---- The families the HTTP layer feeds ----

struct Families {
  explicit Families(prometheus::Registry& registry)
      : requests(prometheus::BuildCounter()
                     .Name("plinth_requests_total")
                     .Help("HTTP requests answered, by tenant, model, endpoint and HTTP status code.")
                     .Register(registry)),
        e2e(prometheus::BuildHistogram()
                .Name("plinth_e2e_request_latency_seconds")
                .Help("End-to-end latency of successful (2xx) requests, from arrival to the last byte.")
                .Register(registry)),
        ttft(prometheus::BuildHistogram()
                 .Name("plinth_time_to_first_token_seconds")
                 .Help("Time from a request's arrival to its first generated token.")
                 .Register(registry)),
        itl(prometheus::BuildHistogram()
                .Name("plinth_inter_token_latency_seconds")
                .Help("Time between consecutive generated tokens of one stream.")
                .Register(registry)),
        prompt_tokens(prometheus::BuildCounter()
                          .Name("plinth_prompt_tokens_total")
                          .Help("Prompt tokens of answered requests (embedding inputs after truncation).")
                          .Register(registry)),
        generation_tokens(prometheus::BuildCounter()
                              .Name("plinth_generation_tokens_total")
                              .Help("Tokens generated for answered requests.")
                              .Register(registry)),
        cached_prompt_tokens(prometheus::BuildCounter()
                                 .Name("plinth_cached_prompt_tokens_total")
                                 .Help("Prompt tokens served from the prefix cache.")
                                 .Register(registry)),
        rejected(prometheus::BuildCounter()
                     .Name("plinth_requests_rejected_total")
                     .Help("Requests answered 429, by tenant and the limit reached.")
                     .Register(registry)),
        connections_open(prometheus::BuildGauge()
                             .Name("plinth_http_connections_open")
                             .Help("Client connections open now.")
                             .Register(registry)
                             .Add({})),
        connections_accepted(prometheus::BuildCounter()
                                 .Name("plinth_http_connections_total")
                                 .Help("Client connections accepted.")
                                 .Register(registry)
                                 .Add({})),
        connections_refused(prometheus::BuildCounter()
                                .Name("plinth_http_connections_refused_total")
                                .Help("Client connections refused at the connection cap.")
                                .Register(registry)
                                .Add({})),
        decisions(prometheus::BuildHistogram()
                      .Name("plinth_admission_decision_seconds")
                      .Help("From a request's arrival (read whole) to the engine's answer: admitted, or "
                            "rejected with 429.")
                      .Register(registry)),
        decided_admitted(decisions.Add({{"outcome", "admitted"}},
                                       Histogram::BucketBoundaries(kDecisionBuckets.begin(), kDecisionBuckets.end()))),
        decided_rejected(decisions.Add({{"outcome", "rejected"}},
                                       Histogram::BucketBoundaries(kDecisionBuckets.begin(), kDecisionBuckets.end()))),
        engine_source_errors(prometheus::BuildCounter()
                                 .Name("plinth_engine_source_errors_total")
                                 .Help("Scrapes whose engine snapshot failed (they had no engine metrics).")
                                 .Register(registry)
                                 .Add({})) {}

  Family<Counter>& requests;
  Family<Histogram>& e2e;
  Family<Histogram>& ttft;
  Family<Histogram>& itl;
  Family<Counter>& prompt_tokens;
  Family<Counter>& generation_tokens;
  Family<Counter>& cached_prompt_tokens;
  Family<Counter>& rejected;
  Gauge& connections_open;
  Counter& connections_accepted;
  Counter& connections_refused;
  Family<Histogram>& decisions;
  Histogram& decided_admitted;
  Histogram& decided_rejected;
  Counter& engine_source_errors;
};

// The series of one (tenant, model): per-token latencies and token counts.
struct ModelSeries {
  ModelSeries(Families& f, KeyView key)
      : families(f), labels{{"tenant", std::string(key.a)}, {"model", std::string(key.b)}} {}

  void first_token(double seconds) {
    if (valid_seconds(seconds)) ttft.get(families.ttft, labels, kTtftBuckets).Observe(seconds);
  }
  void inter_token(double seconds) {
    if (valid_seconds(seconds)) itl.get(families.itl, labels, kItlBuckets).Observe(seconds);
  }
  void tokens(std::size_t prompt, std::size_t generated) {
    prompt_tokens.get(families.prompt_tokens, labels).Increment(static_cast<double>(prompt));
    if (generated > 0) {
      generation_tokens.get(families.generation_tokens, labels).Increment(static_cast<double>(generated));
    }
  }
  void cached(std::size_t tokens) {
    cached_prompt_tokens.get(families.cached_prompt_tokens, labels).Increment(static_cast<double>(tokens));
  }

  Families& families;
  const Labels labels;
  Lazy<Histogram> ttft, itl;
  Lazy<Counter> prompt_tokens, generation_tokens, cached_prompt_tokens;
};

// The series of one (tenant, model, endpoint): what RequestMetrics points at.
struct RequestSeries {
  RequestSeries(Families& f, ModelSeries& m, KeyView key)
      : families(f),
        model(m),
        labels{
            {"tenant", std::string(key.a)}, {"model", std::string(key.b)}, {"endpoint", std::string(key.c)}} {
  }

  Counter& status_counter(int http_status) {
    std::lock_guard lock(mutex);
    for (const auto& [status, counter] : by_status) {
      if (status == http_status) return *counter;
    }
    Labels with_status = labels;
    with_status.emplace("status", std::to_string(http_status));
    Counter& counter = families.requests.Add(with_status);
    by_status.emplace_back(http_status, &counter);
    return counter;
  }

  Families& families;
  ModelSeries& model;
  const Labels labels;
  Lazy<Histogram> e2e;
  std::mutex mutex;                                 // by_status
  std::vector<std::pair<int, Counter*>> by_status;  // a handful per series: a scan beats a map
};

// ---- The engines' state, read at scrape time ----

using Label = prometheus::ClientMetric::Label;

MetricFamily make_family(std::string name, std::string help, MetricType type) {
  MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  return family;
}

void add_sample(MetricFamily& family, std::vector<Label> labels, double value) {
  prometheus::ClientMetric sample;
  sample.label = std::move(labels);
  if (family.type == MetricType::Counter) {
    sample.counter.value = value;
  } else {
    sample.gauge.value = value;
  }
  family.metric.push_back(std::move(sample));
}

// A cumulative engine count as a Prometheus counter that never goes backwards: a value below the last
// one seen means the count restarted (a new engine behind the source), so it adds from zero.
class CumulativeCounters {
 public:
  double update(const std::string& key, std::uint64_t value) {
    State& s = states_[key];
    s.total += value >= s.last ? value - s.last : value;
    s.last = value;
    return static_cast<double>(s.total);
  }

 private:
  struct State {
    std::uint64_t last = 0;
    std::uint64_t total = 0;
  };
  std::unordered_map<std::string, State> states_;
};

class EngineCollector final : public prometheus::Collectable {
 public:
  EngineCollector(bool vllm_aliases, Counter& errors) : vllm_aliases_(vllm_aliases), errors_(errors) {}

  void set_source(EngineSnapshotFn source) {
    auto shared = source ? std::make_shared<const EngineSnapshotFn>(std::move(source)) : nullptr;
    std::lock_guard lock(source_mutex_);
    source_ = std::move(shared);
  }

  // prometheus::Collectable's name for "read the metrics now".
  std::vector<MetricFamily> Collect() const override {
    std::shared_ptr<const EngineSnapshotFn> source;
    {
      std::lock_guard lock(source_mutex_);
      source = source_;
    }
    if (!source) return {};
    // One scrape at a time: two snapshots applied out of order would look like a counter reset.
    std::lock_guard lock(scrape_mutex_);
    EngineSnapshot snapshot;
    try {
      snapshot = (*source)();
    } catch (...) {
      errors_.Increment();
      return {};
    }
    return families_of(snapshot);
  }

 private:
  std::vector<MetricFamily> families_of(const EngineSnapshot& snapshot) const;

  const bool vllm_aliases_;
  Counter& errors_;
  mutable std::mutex source_mutex_;
  std::shared_ptr<const EngineSnapshotFn> source_;
  mutable std::mutex scrape_mutex_;
  mutable CumulativeCounters cumulative_;  // guarded by scrape_mutex_
};

std::string counter_key(std::string_view kind, std::string_view model, std::size_t replica,
                        std::string_view name) {
  std::string key;
  key.reserve(kind.size() + model.size() + name.size() + 24);
  key.append(kind).append(1, '\x1f').append(model).append(1, '\x1f');
  key.append(std::to_string(replica)).append(1, '\x1f').append(name);
  return key;
}

std::vector<MetricFamily> EngineCollector::families_of(const EngineSnapshot& snapshot) const {
  const MetricType gauge = MetricType::Gauge;
  const MetricType counter = MetricType::Counter;

  MetricFamily waiting = make_family("plinth_requests_waiting",
                                     "Requests waiting for the engines (generation and embedding), "
                                     "preempted ones included.",
                                     gauge);
  MetricFamily running = make_family(
      "plinth_requests_running", "Requests the engines are running now (generation and embedding).", gauge);
  MetricFamily kv_ratio =
      make_family("plinth_kv_cache_usage_ratio",
                  "Fraction of the KV-cache blocks of healthy generation replicas in use.", gauge);

  MetricFamily r_waiting = make_family("plinth_engine_requests_waiting",
                                       "Requests waiting for admission to one generation replica (queued "
                                       "and preempted).",
                                       gauge);
  MetricFamily r_running =
      make_family("plinth_engine_requests_running", "Requests admitted to one generation replica.", gauge);
  MetricFamily r_kv_ratio = make_family("plinth_engine_kv_cache_usage_ratio",
                                        "Fraction of one replica's KV-cache blocks in use.", gauge);
  MetricFamily r_blocks = make_family("plinth_engine_kv_cache_blocks",
                                      "One replica's KV-cache blocks by state: in_use (held by sequences), "
                                      "cached (reusable prefix, evictable), free.",
                                      gauge);
  MetricFamily r_queries = make_family("plinth_engine_prefix_cache_query_tokens_total",
                                       "Prompt tokens looked up in the prefix cache.", counter);
  MetricFamily r_hits =
      make_family("plinth_engine_prefix_cache_hit_tokens_total",
                  "Prompt tokens found in the prefix cache (their KV not recomputed).", counter);
  MetricFamily r_evictions = make_family("plinth_engine_kv_cache_evicted_blocks_total",
                                         "Cached KV blocks evicted to make room.", counter);
  MetricFamily r_preemptions =
      make_family("plinth_engine_preemptions_total",
                  "Running sequences preempted (their KV freed, to be recomputed).", counter);
  MetricFamily r_steps = make_family("plinth_engine_steps_total", "Batched model steps run.", counter);
  MetricFamily r_prefill =
      make_family("plinth_engine_prefill_tokens_total",
                  "Prompt tokens computed, recomputation after preemption included.", counter);
  MetricFamily r_generated = make_family("plinth_engine_generated_tokens_total", "Tokens sampled.", counter);

  MetricFamily e_waiting = make_family("plinth_embedding_requests_waiting",
                                       "Embedding requests waiting for a batch (retries included).", gauge);
  MetricFamily e_running =
      make_family("plinth_embedding_requests_running", "Embedding requests in running batches.", gauge);
  MetricFamily e_waiting_tokens = make_family("plinth_embedding_waiting_tokens",
                                              "Input tokens of the waiting embedding requests.", gauge);
  MetricFamily e_tokens = make_family("plinth_embedding_tokens_total", "Input tokens embedded.", counter);
  MetricFamily e_inputs = make_family("plinth_embedding_inputs_total", "Inputs embedded.", counter);
  MetricFamily e_batches =
      make_family("plinth_embedding_batches_total", "Encoder batches that succeeded.", counter);

  MetricFamily t_waiting = make_family("plinth_tenant_requests_waiting",
                                       "A tenant's requests waiting in a model's engine.", gauge);
  MetricFamily t_running = make_family("plinth_tenant_requests_running",
                                       "A tenant's requests running in a model's engine.", gauge);

  MetricFamily healthy =
      make_family("plinth_replica_healthy",
                  "1 while a replica serves, 0 once it is marked down after repeated errors.", gauge);
  MetricFamily replica_errors =
      make_family("plinth_replica_errors_total", "Failed steps or batches of a replica.", counter);

  MetricFamily ready =
      make_family("plinth_server_ready", "1 when the server accepts requests (GET /ready).", gauge);
  MetricFamily draining =
      make_family("plinth_server_draining", "1 after SIGTERM, while the server finishes what runs.", gauge);

  std::size_t total_waiting = 0, total_running = 0;
  std::uint64_t blocks_in_use = 0, blocks_total = 0, all_blocks = 0;
  std::unordered_set<std::uint32_t> block_sizes;
  // (model, tenant) -> waiting, running: summed over a model's replicas.
  std::map<std::pair<std::string_view, std::string_view>, std::pair<std::size_t, std::size_t>> tenants;

  std::unordered_set<std::string_view> seen;
  for (const EngineSnapshot::Generator& g : snapshot.generators) {
    if (!seen.insert(g.model).second) continue;
    block_sizes.insert(g.block_size);
    std::vector<bool> serving(g.replicas.size(), true);
    for (const scheduler::ReplicaHealth& h : g.health) {
      if (h.index < serving.size()) serving[h.index] = h.healthy;
      const std::string replica = std::to_string(h.index);
      add_sample(healthy, {{"kind", "generation"}, {"model", g.model}, {"replica", replica}},
                 h.healthy ? 1 : 0);
      add_sample(replica_errors, {{"kind", "generation"}, {"model", g.model}, {"replica", replica}},
                 cumulative_.update(counter_key("generation", g.model, h.index, "errors"), h.errors));
    }
    for (std::size_t i = 0; i < g.replicas.size(); ++i) {
      const scheduler::SchedulerStats& s = g.replicas[i];
      const std::string replica = std::to_string(i);
      const std::vector<Label> labels{{"model", g.model}, {"replica", replica}};
      const auto cumulative = [&](std::string_view name, std::uint64_t value) {
        return cumulative_.update(counter_key("generation", g.model, i, name), value);
      };
      add_sample(r_waiting, labels, static_cast<double>(s.queued + s.resuming));
      add_sample(r_running, labels, static_cast<double>(s.running));
      add_sample(r_kv_ratio, labels, s.kv_usage);
      add_sample(r_blocks, {{"model", g.model}, {"replica", replica}, {"state", "in_use"}},
                 s.kv.in_use_blocks);
      add_sample(r_blocks, {{"model", g.model}, {"replica", replica}, {"state", "cached"}},
                 s.kv.cached_blocks);
      add_sample(r_blocks, {{"model", g.model}, {"replica", replica}, {"state", "free"}}, s.kv.free_blocks);
      add_sample(r_queries, labels, cumulative("prefix_queries", s.kv.prompt_tokens));
      add_sample(r_hits, labels, cumulative("prefix_hits", s.prefix_hit_tokens));
      add_sample(r_evictions, labels, cumulative("evictions", s.kv.evictions));
      add_sample(r_preemptions, labels, cumulative("preemptions", s.preemptions));
      add_sample(r_steps, labels, cumulative("steps", s.steps));
      add_sample(r_prefill, labels, cumulative("prefill_tokens", s.prefill_tokens));
      add_sample(r_generated, labels, cumulative("generated_tokens", s.generated_tokens));
      all_blocks += s.kv.total_blocks;
      for (const scheduler::TenantStats& t : s.tenants) {
        auto& [tenant_waiting, tenant_running] = tenants[{g.model, t.tenant}];
        tenant_waiting += t.queued;
        tenant_running += t.running;
      }
      // A replica marked down has handed its requests to the others: its last stats would count them
      // twice, and its blocks are no capacity.
      if (!serving[i]) continue;
      total_waiting += s.queued + s.resuming;
      total_running += s.running;
      blocks_in_use += s.kv.in_use_blocks;
      blocks_total += s.kv.total_blocks;
    }
  }

  seen.clear();
  for (const EngineSnapshot::Embedder& e : snapshot.embedders) {
    if (!seen.insert(e.model).second) continue;
    const scheduler::EmbeddingStats& s = e.stats;
    const std::vector<Label> labels{{"model", e.model}};
    add_sample(e_waiting, labels, static_cast<double>(s.queued + s.retrying));
    add_sample(e_running, labels, static_cast<double>(s.running));
    add_sample(e_waiting_tokens, labels, static_cast<double>(s.queued_tokens));
    add_sample(e_tokens, labels,
               cumulative_.update(counter_key("embedding", e.model, 0, "tokens"), s.tokens_embedded));
    add_sample(e_inputs, labels,
               cumulative_.update(counter_key("embedding", e.model, 0, "inputs"), s.inputs_embedded));
    add_sample(e_batches, labels,
               cumulative_.update(counter_key("embedding", e.model, 0, "batches"), s.batches));
    total_waiting += s.queued + s.retrying;
    total_running += s.running;
    for (const scheduler::TenantStats& t : s.tenants) {
      auto& [tenant_waiting, tenant_running] = tenants[{e.model, t.tenant}];
      tenant_waiting += t.queued;
      tenant_running += t.running;
    }
    for (const scheduler::EncoderReplicaHealth& h : e.health) {
      const std::string replica = std::to_string(h.index);
      add_sample(healthy, {{"kind", "embedding"}, {"model", e.model}, {"replica", replica}},
                 h.healthy ? 1 : 0);
      add_sample(replica_errors, {{"kind", "embedding"}, {"model", e.model}, {"replica", replica}},
                 cumulative_.update(counter_key("embedding", e.model, h.index, "errors"), h.errors));
    }
  }

  for (const auto& [key, counts] : tenants) {
    const std::vector<Label> labels{{"model", std::string(key.first)}, {"tenant", std::string(key.second)}};
    add_sample(t_waiting, labels, static_cast<double>(counts.first));
    add_sample(t_running, labels, static_cast<double>(counts.second));
  }

  const double usage =
      blocks_total > 0 ? static_cast<double>(blocks_in_use) / static_cast<double>(blocks_total) : 0;
  add_sample(waiting, {}, static_cast<double>(total_waiting));
  add_sample(running, {}, static_cast<double>(total_running));
  add_sample(kv_ratio, {}, usage);
  add_sample(ready, {}, snapshot.ready ? 1 : 0);
  add_sample(draining, {}, snapshot.draining ? 1 : 0);

  std::vector<MetricFamily> out;
  for (MetricFamily* f :
       {&waiting,   &running,   &kv_ratio,         &r_waiting,     &r_running, &r_kv_ratio, &r_blocks,
        &r_queries, &r_hits,    &r_evictions,      &r_preemptions, &r_steps,   &r_prefill,  &r_generated,
        &e_waiting, &e_running, &e_waiting_tokens, &e_tokens,      &e_inputs,  &e_batches,  &t_waiting,
        &t_running, &healthy,   &replica_errors,   &ready,         &draining}) {
    if (!f->metric.empty()) out.push_back(std::move(*f));
  }

  if (vllm_aliases_) {
    // The GIE model-server protocol's gauges under the names its endpoint picker reads by default: one
    // series each (the picker takes the first series of a family), for the whole server.
    MetricFamily v_waiting = make_family(
        "vllm:num_requests_waiting", "Alias of plinth_requests_waiting for the GIE endpoint picker.", gauge);
    MetricFamily v_running = make_family(
        "vllm:num_requests_running", "Alias of plinth_requests_running for the GIE endpoint picker.", gauge);
    MetricFamily v_kv =
        make_family("vllm:kv_cache_usage_perc",
                    "Alias of plinth_kv_cache_usage_ratio (0 to 1) for the GIE endpoint picker.", gauge);
    MetricFamily v_gpu_kv =
        make_family("vllm:gpu_cache_usage_perc",
                    "Alias of plinth_kv_cache_usage_ratio (0 to 1) under vLLM's older name.", gauge);
    add_sample(v_waiting, {}, static_cast<double>(total_waiting));
    add_sample(v_running, {}, static_cast<double>(total_running));
    add_sample(v_kv, {}, usage);
    add_sample(v_gpu_kv, {}, usage);
    out.push_back(std::move(v_waiting));
    out.push_back(std::move(v_running));
    out.push_back(std::move(v_kv));
    out.push_back(std::move(v_gpu_kv));
    // The prefix-cache scorer's block size and capacity, when the generators agree on a block size.
    if (!snapshot.generators.empty() && block_sizes.size() == 1 && *block_sizes.begin() > 0) {
      MetricFamily v_cache =
          make_family("vllm:cache_config_info",
                      "KV-cache block size (tokens) and blocks of all generation replicas, "
                      "for the GIE prefix-cache scorer.",
                      gauge);
      add_sample(v_cache,
                 {{"block_size", std::to_string(*block_sizes.begin())},
                  {"num_gpu_blocks", std::to_string(all_blocks)}},
                 1);
      out.push_back(std::move(v_cache));
    }
  }
  return out;
}

}  // namespace detail

using detail::KeyView;
using prometheus::Counter;
using prometheus::MetricFamily;

// ---- RequestMetrics ----

void RequestMetrics::first_token(double seconds) const {
  if (series_ != nullptr) series_->model.first_token(seconds);
}

void RequestMetrics::inter_token(double seconds) const {
  if (series_ != nullptr) series_->model.inter_token(seconds);
}

void RequestMetrics::tokens(std::size_t prompt, std::size_t generated) const {
  if (series_ != nullptr) series_->model.tokens(prompt, generated);
}

void RequestMetrics::cached_prompt_tokens(std::size_t tokens) const {
  if (series_ != nullptr) series_->model.cached(tokens);
}

void RequestMetrics::finished(int http_status, double e2e_seconds) const {
  if (series_ == nullptr) return;
  series_->status_counter(http_status).Increment();
  if (http_status >= 200 && http_status < 300 && valid_seconds(e2e_seconds)) {
    series_->e2e.get(series_->families.e2e, series_->labels, kE2eBuckets).Observe(e2e_seconds);
  }
}

// ---- ServerMetrics ----

namespace {
constexpr KeyView kOverflow2{kOverflowLabel, kOverflowLabel, {}};
constexpr KeyView kOverflow3{kOverflowLabel, kOverflowLabel, kOverflowLabel};

std::size_t checked_max_series(std::size_t max) {
  if (max == 0) throw std::invalid_argument("ServerMetricsOptions::max_series must be >= 1");
  return max;
}
}  // namespace

struct ServerMetrics::Impl {
  explicit Impl(ServerMetricsOptions o)
      : families(registry),
        models(checked_max_series(o.max_series), kOverflow2),
        requests(o.max_series, kOverflow3),
        rejections(o.max_series, kOverflow2),
        engine(o.vllm_aliases, families.engine_source_errors) {}

  detail::ModelSeries& model_series(std::string_view tenant, std::string_view model) {
    return models.get({tenant, model, {}},
                      [&](KeyView key) { return std::make_unique<detail::ModelSeries>(families, key); });
  }

  detail::RequestSeries& request_series(std::string_view tenant, std::string_view model,
                                        std::string_view endpoint) {
    return requests.get({tenant, model, endpoint}, [&](KeyView key) {
      return std::make_unique<detail::RequestSeries>(families, model_series(key.a, key.b), key);
    });
  }

  prometheus::Registry registry;
  detail::Families families;
  detail::SeriesMap<detail::ModelSeries> models;
  detail::SeriesMap<detail::RequestSeries> requests;
  detail::SeriesMap<Counter*> rejections;
  detail::EngineCollector engine;
};

ServerMetrics::ServerMetrics(ServerMetricsOptions options) : impl_(std::make_unique<Impl>(options)) {}
ServerMetrics::~ServerMetrics() = default;

RequestMetrics ServerMetrics::request(std::string_view tenant, std::string_view model,
                                      std::string_view endpoint) {
  return RequestMetrics(&impl_->request_series(tenant, model, endpoint));
}

void ServerMetrics::request_finished(std::string_view tenant, std::string_view model,
                                     std::string_view endpoint, int http_status, double e2e_seconds) {
  request(tenant, model, endpoint).finished(http_status, e2e_seconds);
}

void ServerMetrics::first_token(std::string_view tenant, std::string_view model, double ttft_seconds) {
  impl_->model_series(tenant, model).first_token(ttft_seconds);
}

void ServerMetrics::inter_token(std::string_view tenant, std::string_view model, double seconds) {
  impl_->model_series(tenant, model).inter_token(seconds);
}

void ServerMetrics::tokens(std::string_view tenant, std::string_view model, std::size_t prompt,
                           std::size_t generated) {
  impl_->model_series(tenant, model).tokens(prompt, generated);
}

void ServerMetrics::cached_prompt_tokens(std::string_view tenant, std::string_view model,
                                         std::size_t tokens) {
  impl_->model_series(tenant, model).cached(tokens);
}

void ServerMetrics::request_rejected(std::string_view tenant, std::string_view reason) {
  Counter* counter = impl_->rejections.get({tenant, reason, {}}, [&](KeyView key) {
    Counter& c =
        impl_->families.rejected.Add({{"tenant", std::string(key.a)}, {"reason", std::string(key.b)}});
    return std::make_unique<Counter*>(&c);
  });
  counter->Increment();
}

void ServerMetrics::admission_decided(bool admitted, double seconds) noexcept {
  if (!valid_seconds(seconds)) return;
  (admitted ? impl_->families.decided_admitted : impl_->families.decided_rejected).Observe(seconds);
}

void ServerMetrics::connection_opened() noexcept {
  impl_->families.connections_open.Increment();
  impl_->families.connections_accepted.Increment();
}

void ServerMetrics::connection_closed() noexcept { impl_->families.connections_open.Decrement(); }

void ServerMetrics::connection_refused() noexcept { impl_->families.connections_refused.Increment(); }

void ServerMetrics::set_engine_source(EngineSnapshotFn source) {
  impl_->engine.set_source(std::move(source));
}

std::string ServerMetrics::render() const {
  // The engine first: a failed snapshot then shows in this scrape's plinth_engine_source_errors_total.
  std::vector<MetricFamily> families = impl_->engine.Collect();
  std::vector<MetricFamily> events = impl_->registry.Collect();
  families.insert(families.end(), std::make_move_iterator(events.begin()),
                  std::make_move_iterator(events.end()));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace plinth::server
