// ServerMetrics read back through its rendered text: the text is parsed as a scraper would (labels
// unescaped, values as numbers), so every assertion is about what Prometheus would store.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <plinth/server/metrics.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace plinth::server {
namespace {

using scheduler::EmbeddingStats;
using scheduler::EncoderReplicaHealth;
using scheduler::ReplicaHealth;
using scheduler::SchedulerStats;
using scheduler::TenantStats;
using LabelSet = std::map<std::string, std::string>;

// ---- A small parser of the text format 0.0.4 ----

struct Sample {
  std::string name;
  LabelSet labels;
  double value = 0;
};

struct Scrape {
  std::vector<Sample> samples;
  std::map<std::string, std::string> types;  // family name -> counter, gauge, histogram

  // The value of the sample with exactly these labels; nullopt when there is none.
  std::optional<double> value(std::string_view name, const LabelSet& labels = {}) const {
    std::optional<double> found;
    for (const Sample& s : samples) {
      if (s.name != name || s.labels != labels) continue;
      EXPECT_FALSE(found.has_value()) << "duplicate sample " << name;
      found = s.value;
    }
    return found;
  }
  double at(std::string_view name, const LabelSet& labels = {}) const {
    std::optional<double> v = value(name, labels);
    if (!v) ADD_FAILURE() << "no sample " << name << describe(labels);
    return v.value_or(std::nan(""));
  }
  bool has_family(std::string_view name) const {
    for (const Sample& s : samples) {
      if (s.name == name) return true;
    }
    return false;
  }
  static std::string describe(const LabelSet& labels) {
    std::string out = "{";
    for (const auto& [k, v] : labels) out.append(k).append("=\"").append(v).append("\",");
    return out + "}";
  }
};

Scrape parse(const std::string& text) {
  Scrape scrape;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      const std::string rest = line.substr(7);
      const std::size_t space = rest.find(' ');
      scrape.types[rest.substr(0, space)] = rest.substr(space + 1);
      continue;
    }
    if (line[0] == '#') continue;
    Sample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') s.name += line[i++];
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::string key;
        while (i < line.size() && line[i] != '=') key += line[i++];
        if (line.compare(i, 2, "=\"") != 0) throw std::runtime_error("bad label in: " + line);
        i += 2;
        std::string value;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\' && i + 1 < line.size()) {
            const char c = line[++i];
            value += c == 'n' ? '\n' : c;
          } else {
            value += line[i];
          }
          ++i;
        }
        ++i;  // the closing quote
        s.labels[key] = value;
        if (i < line.size() && line[i] == ',') ++i;
      }
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') throw std::runtime_error("no value in: " + line);
    const std::string value = line.substr(i + 1);
    char* end = nullptr;
    s.value = std::strtod(value.c_str(), &end);
    if (end == value.c_str()) throw std::runtime_error("bad value in: " + line);
    scrape.samples.push_back(std::move(s));
  }
  return scrape;
}

Scrape scrape(const ServerMetrics& metrics) { return parse(metrics.render()); }

LabelSet with(LabelSet labels, const std::string& key, const std::string& value) {
  labels[key] = value;
  return labels;
}

// ---- Request events ----

TEST(ServerMetrics, RequestsAreCountedByTenantModelEndpointAndStatus) {
  ServerMetrics metrics;
  for (int i = 0; i < 3; ++i) metrics.request_finished("acme", "smollm2", "chat_completions", 200, 0.5);
  metrics.request_finished("acme", "smollm2", "chat_completions", 429, 0.001);
  metrics.request("globex", "minilm", "embeddings").finished(200, 0.05);
  metrics.request_finished("acme", "", "models", 200, 0.0002);

  const Scrape s = scrape(metrics);
  const LabelSet chat{{"tenant", "acme"}, {"model", "smollm2"}, {"endpoint", "chat_completions"}};
  EXPECT_EQ(s.at("plinth_requests_total", with(chat, "status", "200")), 3);
  EXPECT_EQ(s.at("plinth_requests_total", with(chat, "status", "429")), 1);
  EXPECT_EQ(s.at("plinth_requests_total",
                 {{"tenant", "globex"}, {"model", "minilm"}, {"endpoint", "embeddings"}, {"status", "200"}}),
            1);
  EXPECT_EQ(s.at("plinth_requests_total",
                 {{"tenant", "acme"}, {"model", ""}, {"endpoint", "models"}, {"status", "200"}}),
            1);
  EXPECT_FALSE(s.value("plinth_requests_total", with(chat, "status", "500")));
  EXPECT_EQ(s.types.at("plinth_requests_total"), "counter");
}

TEST(ServerMetrics, EndToEndLatencyIsObservedForSuccessfulRequestsOnly) {
  ServerMetrics metrics;
  RequestMetrics m = metrics.request("acme", "smollm2", "completions");
  m.finished(200, 0.4);
  m.finished(200, 3.0);
  m.finished(429, 0.001);  // counted, but not a latency sample
  m.finished(500, 9.0);

  const Scrape s = scrape(metrics);
  const LabelSet labels{{"tenant", "acme"}, {"model", "smollm2"}, {"endpoint", "completions"}};
  const std::string h = "plinth_e2e_request_latency_seconds";
  EXPECT_EQ(s.types.at(h), "histogram");
  EXPECT_EQ(s.at(h + "_count", labels), 2);
  EXPECT_DOUBLE_EQ(s.at(h + "_sum", labels), 3.4);
  EXPECT_EQ(s.at(h + "_bucket", with(labels, "le", "0.3")), 0);
  EXPECT_EQ(s.at(h + "_bucket", with(labels, "le", "0.5")), 1);
  EXPECT_EQ(s.at(h + "_bucket", with(labels, "le", "2.5")), 1);
  EXPECT_EQ(s.at(h + "_bucket", with(labels, "le", "5")), 2);
  EXPECT_EQ(s.at(h + "_bucket", with(labels, "le", "7680")), 2);
  EXPECT_EQ(s.at(h + "_bucket", with(labels, "le", "+Inf")), 2);
  EXPECT_EQ(s.at("plinth_requests_total", with(labels, "status", "500")), 1);
}

TEST(ServerMetrics, TimeToFirstTokenAndInterTokenHistograms) {
  ServerMetrics metrics;
  RequestMetrics m = metrics.request("acme", "smollm2", "chat_completions");
  m.first_token(0.05);
  metrics.first_token("acme", "smollm2", 0.3);  // the string-keyed form feeds the same series
  for (int i = 0; i < 10; ++i) m.inter_token(0.002);
  m.inter_token(0.02);
  metrics.inter_token("acme", "smollm2", 100.0);  // beyond the last bucket: only +Inf

  const Scrape s = scrape(metrics);
  const LabelSet labels{{"tenant", "acme"}, {"model", "smollm2"}};
  const std::string ttft = "plinth_time_to_first_token_seconds";
  EXPECT_EQ(s.types.at(ttft), "histogram");
  EXPECT_EQ(s.at(ttft + "_count", labels), 2);
  EXPECT_DOUBLE_EQ(s.at(ttft + "_sum", labels), 0.35);
  EXPECT_EQ(s.at(ttft + "_bucket", with(labels, "le", "0.04")), 0);
  EXPECT_EQ(s.at(ttft + "_bucket", with(labels, "le", "0.06")), 1);
  EXPECT_EQ(s.at(ttft + "_bucket", with(labels, "le", "0.25")), 1);
  EXPECT_EQ(s.at(ttft + "_bucket", with(labels, "le", "0.5")), 2);
  EXPECT_EQ(s.at(ttft + "_bucket", with(labels, "le", "2560")), 2);

  const std::string itl = "plinth_inter_token_latency_seconds";
  EXPECT_EQ(s.at(itl + "_count", labels), 12);
  EXPECT_NEAR(s.at(itl + "_sum", labels), 10 * 0.002 + 0.02 + 100.0, 1e-9);
  EXPECT_EQ(s.at(itl + "_bucket", with(labels, "le", "0.001")), 0);
  EXPECT_EQ(s.at(itl + "_bucket", with(labels, "le", "0.0025")), 10);
  EXPECT_EQ(s.at(itl + "_bucket", with(labels, "le", "0.025")), 11);
  EXPECT_EQ(s.at(itl + "_bucket", with(labels, "le", "80")), 11);
  EXPECT_EQ(s.at(itl + "_bucket", with(labels, "le", "+Inf")), 12);
  // Per (tenant, model): no endpoint label on the per-token histograms.
  EXPECT_FALSE(s.value(itl + "_count", with(labels, "endpoint", "chat_completions")));
}

TEST(ServerMetrics, BadDurationsAndEmptyHandlesRecordNothing) {
  ServerMetrics metrics;
  RequestMetrics m = metrics.request("acme", "smollm2", "chat_completions");
  m.first_token(-1.0);
  m.inter_token(std::nan(""));
  m.inter_token(INFINITY);
  m.finished(200, -0.5);  // counted, latency dropped
  RequestMetrics empty;
  EXPECT_FALSE(empty);
  EXPECT_TRUE(m);
  empty.first_token(1.0);
  empty.inter_token(1.0);
  empty.tokens(5, 5);
  empty.cached_prompt_tokens(5);
  empty.finished(200, 1.0);

  const Scrape s = scrape(metrics);
  EXPECT_FALSE(s.has_family("plinth_time_to_first_token_seconds_count"));
  EXPECT_FALSE(s.has_family("plinth_inter_token_latency_seconds_count"));
  EXPECT_FALSE(s.has_family("plinth_e2e_request_latency_seconds_count"));
  EXPECT_FALSE(s.has_family("plinth_prompt_tokens_total"));
  EXPECT_EQ(
      s.at("plinth_requests_total",
           {{"tenant", "acme"}, {"model", "smollm2"}, {"endpoint", "chat_completions"}, {"status", "200"}}),
      1);
}

TEST(ServerMetrics, TokensInOutAndCached) {
  ServerMetrics metrics;
  RequestMetrics chat = metrics.request("acme", "smollm2", "chat_completions");
  chat.tokens(100, 20);
  chat.cached_prompt_tokens(64);
  metrics.tokens("acme", "smollm2", 50, 5);
  metrics.cached_prompt_tokens("acme", "smollm2", 16);
  metrics.request("acme", "minilm", "embeddings").tokens(300, 0);

  const Scrape s = scrape(metrics);
  const LabelSet chat_labels{{"tenant", "acme"}, {"model", "smollm2"}};
  const LabelSet embed_labels{{"tenant", "acme"}, {"model", "minilm"}};
  EXPECT_EQ(s.at("plinth_prompt_tokens_total", chat_labels), 150);
  EXPECT_EQ(s.at("plinth_generation_tokens_total", chat_labels), 25);
  EXPECT_EQ(s.at("plinth_cached_prompt_tokens_total", chat_labels), 80);
  EXPECT_EQ(s.at("plinth_prompt_tokens_total", embed_labels), 300);
  EXPECT_FALSE(s.value("plinth_generation_tokens_total", embed_labels));  // embeddings generate nothing
  EXPECT_EQ(s.types.at("plinth_prompt_tokens_total"), "counter");
}

TEST(ServerMetrics, RejectionsByTenantAndReason) {
  ServerMetrics metrics;
  metrics.request_rejected("acme", "queue_full");
  metrics.request_rejected("acme", "queue_full");
  metrics.request_rejected("acme", "rate_limited");
  metrics.request_rejected("globex", "tenant_queue_full");

  const Scrape s = scrape(metrics);
  EXPECT_EQ(s.at("plinth_requests_rejected_total", {{"tenant", "acme"}, {"reason", "queue_full"}}), 2);
  EXPECT_EQ(s.at("plinth_requests_rejected_total", {{"tenant", "acme"}, {"reason", "rate_limited"}}), 1);
  EXPECT_EQ(s.at("plinth_requests_rejected_total", {{"tenant", "globex"}, {"reason", "tenant_queue_full"}}),
            1);
}

TEST(ServerMetrics, Connections) {
  ServerMetrics metrics;
  Scrape s = scrape(metrics);
  EXPECT_EQ(s.at("plinth_http_connections_open"), 0);
  EXPECT_EQ(s.at("plinth_http_connections_total"), 0);
  for (int i = 0; i < 5; ++i) metrics.connection_opened();
  metrics.connection_closed();
  metrics.connection_closed();
  metrics.connection_refused();
  s = scrape(metrics);
  EXPECT_EQ(s.at("plinth_http_connections_open"), 3);
  EXPECT_EQ(s.at("plinth_http_connections_total"), 5);
  EXPECT_EQ(s.at("plinth_http_connections_refused_total"), 1);
  EXPECT_EQ(s.types.at("plinth_http_connections_open"), "gauge");
}

TEST(ServerMetrics, AdmissionDecisionsByOutcome) {
  ServerMetrics metrics;
  metrics.admission_decided(true, 0.0002);
  metrics.admission_decided(false, 0.003);
  metrics.admission_decided(false, 0.02);
  metrics.admission_decided(false, -1);  // not a duration: ignored
  const Scrape s = scrape(metrics);
  EXPECT_EQ(s.at("plinth_admission_decision_seconds_count", {{"outcome", "admitted"}}), 1);
  EXPECT_EQ(s.at("plinth_admission_decision_seconds_count", {{"outcome", "rejected"}}), 2);
  EXPECT_EQ(s.at("plinth_admission_decision_seconds_bucket", {{"outcome", "rejected"}, {"le", "0.01"}}), 1);
  EXPECT_NEAR(s.at("plinth_admission_decision_seconds_sum", {{"outcome", "rejected"}}), 0.023, 1e-9);
}

TEST(ServerMetrics, LabelValuesAreEscaped) {
  ServerMetrics metrics;
  const std::string tenant = "we\"ird\\ten\nant";
  metrics.request_finished(tenant, "smollm2", "completions", 200, 1.0);
  const std::string text = metrics.render();
  EXPECT_NE(text.find(R"(tenant="we\"ird\\ten\nant")"), std::string::npos) << text;
  const Scrape s = parse(text);
  EXPECT_EQ(s.at("plinth_requests_total",
                 {{"tenant", tenant}, {"model", "smollm2"}, {"endpoint", "completions"}, {"status", "200"}}),
            1);
}

TEST(ServerMetrics, LabelSetsBeyondTheCapGoToOverflow) {
  ServerMetrics metrics({.max_series = 2});
  metrics.request_finished("a", "m", "completions", 200, 1.0);
  metrics.request_finished("b", "m", "completions", 200, 1.0);
  metrics.request_finished("c", "m", "completions", 200, 1.0);
  metrics.request_finished("d", "m", "completions", 200, 1.0);
  metrics.request_finished("a", "m", "completions", 200, 1.0);  // known sets stay themselves

  const Scrape s = scrape(metrics);
  const auto requests = [&](const std::string& tenant, const std::string& model,
                            const std::string& endpoint) {
    return s.at("plinth_requests_total",
                {{"tenant", tenant}, {"model", model}, {"endpoint", endpoint}, {"status", "200"}});
  };
  EXPECT_EQ(requests("a", "m", "completions"), 2);
  EXPECT_EQ(requests("b", "m", "completions"), 1);
  const std::string o(kOverflowLabel);
  EXPECT_EQ(requests(o, o, o), 2);
  EXPECT_FALSE(s.value("plinth_requests_total",
                       {{"tenant", "c"}, {"model", "m"}, {"endpoint", "completions"}, {"status", "200"}}));
  EXPECT_THROW(ServerMetrics({.max_series = 0}), std::invalid_argument);
}

// ---- Engine snapshots ----

SchedulerStats replica_stats(std::size_t queued, std::size_t resuming, std::size_t running,
                             std::uint32_t in_use, std::uint32_t total) {
  SchedulerStats s;
  s.queued = queued;
  s.resuming = resuming;
  s.running = running;
  s.kv.total_blocks = total;
  s.kv.in_use_blocks = in_use;
  s.kv.cached_blocks = 10;
  s.kv.free_blocks = total - in_use - 10;
  s.kv_usage = static_cast<double>(in_use) / total;
  return s;
}

ReplicaHealth replica_health(std::size_t index, bool healthy, std::uint64_t errors = 0) {
  ReplicaHealth h;
  h.index = index;
  h.healthy = healthy;
  h.errors = errors;
  return h;
}

EncoderReplicaHealth encoder_health(std::size_t index, bool healthy) {
  EncoderReplicaHealth h;
  h.index = index;
  h.healthy = healthy;
  return h;
}

EngineSnapshot two_replicas_and_an_embedder() {
  EngineSnapshot snap;
  EngineSnapshot::Generator g{.model = "smollm2", .block_size = 16};
  g.replicas = {replica_stats(3, 1, 8, 300, 1000), replica_stats(1, 0, 2, 100, 1000)};
  g.replicas[0].prefix_hit_tokens = 640;
  g.replicas[0].kv.prompt_tokens = 2000;
  g.replicas[0].kv.evictions = 7;
  g.replicas[0].preemptions = 4;
  g.replicas[0].steps = 500;
  g.replicas[0].prefill_tokens = 2100;
  g.replicas[0].generated_tokens = 900;
  g.replicas[0].tenants = {TenantStats{.tenant = "acme", .queued = 3, .running = 6},
                           TenantStats{.tenant = "globex", .queued = 0, .running = 2}};
  g.replicas[1].tenants = {TenantStats{.tenant = "acme", .queued = 1, .running = 2}};
  g.health = {replica_health(0, true), replica_health(1, true, 1)};
  snap.generators.push_back(g);
  EngineSnapshot::Embedder e{.model = "minilm"};
  e.stats = EmbeddingStats{.queued = 5,
                           .retrying = 1,
                           .queued_tokens = 700,
                           .running = 4,
                           .batches = 9,
                           .tokens_embedded = 5000,
                           .inputs_embedded = 60,
                           .tenants = {TenantStats{.tenant = "acme", .queued = 6, .running = 4}}};
  e.health = {encoder_health(0, true), encoder_health(1, false)};
  snap.embedders.push_back(e);
  snap.ready = true;
  snap.draining = false;
  return snap;
}

TEST(ServerMetrics, NoEngineSourceNoEngineMetrics) {
  ServerMetrics metrics;
  const Scrape s = scrape(metrics);
  EXPECT_FALSE(s.has_family("plinth_requests_waiting"));
  EXPECT_FALSE(s.has_family("vllm:num_requests_waiting"));
  EXPECT_EQ(s.at("plinth_engine_source_errors_total"), 0);
}

TEST(ServerMetrics, EngineSnapshotGauges) {
  ServerMetrics metrics;
  metrics.set_engine_source(two_replicas_and_an_embedder);
  const Scrape s = scrape(metrics);

  const LabelSet r0{{"model", "smollm2"}, {"replica", "0"}};
  const LabelSet r1{{"model", "smollm2"}, {"replica", "1"}};
  EXPECT_EQ(s.at("plinth_engine_requests_waiting", r0), 4);  // queued + resuming
  EXPECT_EQ(s.at("plinth_engine_requests_waiting", r1), 1);
  EXPECT_EQ(s.at("plinth_engine_requests_running", r0), 8);
  EXPECT_DOUBLE_EQ(s.at("plinth_engine_kv_cache_usage_ratio", r0), 0.3);
  EXPECT_EQ(s.at("plinth_engine_kv_cache_blocks", with(r0, "state", "in_use")), 300);
  EXPECT_EQ(s.at("plinth_engine_kv_cache_blocks", with(r0, "state", "cached")), 10);
  EXPECT_EQ(s.at("plinth_engine_kv_cache_blocks", with(r0, "state", "free")), 690);
  EXPECT_EQ(s.at("plinth_engine_prefix_cache_hit_tokens_total", r0), 640);
  EXPECT_EQ(s.at("plinth_engine_prefix_cache_query_tokens_total", r0), 2000);
  EXPECT_EQ(s.at("plinth_engine_kv_cache_evicted_blocks_total", r0), 7);
  EXPECT_EQ(s.at("plinth_engine_preemptions_total", r0), 4);
  EXPECT_EQ(s.at("plinth_engine_steps_total", r0), 500);
  EXPECT_EQ(s.at("plinth_engine_prefill_tokens_total", r0), 2100);
  EXPECT_EQ(s.at("plinth_engine_generated_tokens_total", r0), 900);
  EXPECT_EQ(s.types.at("plinth_engine_preemptions_total"), "counter");
  EXPECT_EQ(s.types.at("plinth_engine_requests_waiting"), "gauge");

  const LabelSet embed{{"model", "minilm"}};
  EXPECT_EQ(s.at("plinth_embedding_requests_waiting", embed), 6);  // queued + retrying
  EXPECT_EQ(s.at("plinth_embedding_requests_running", embed), 4);
  EXPECT_EQ(s.at("plinth_embedding_waiting_tokens", embed), 700);
  EXPECT_EQ(s.at("plinth_embedding_tokens_total", embed), 5000);
  EXPECT_EQ(s.at("plinth_embedding_inputs_total", embed), 60);
  EXPECT_EQ(s.at("plinth_embedding_batches_total", embed), 9);

  EXPECT_EQ(s.at("plinth_tenant_requests_waiting", {{"model", "smollm2"}, {"tenant", "acme"}}), 4);
  EXPECT_EQ(s.at("plinth_tenant_requests_running", {{"model", "smollm2"}, {"tenant", "acme"}}), 8);
  EXPECT_EQ(s.at("plinth_tenant_requests_running", {{"model", "smollm2"}, {"tenant", "globex"}}), 2);
  EXPECT_EQ(s.at("plinth_tenant_requests_waiting", {{"model", "minilm"}, {"tenant", "acme"}}), 6);

  EXPECT_EQ(s.at("plinth_replica_healthy", {{"kind", "generation"}, {"model", "smollm2"}, {"replica", "1"}}),
            1);
  EXPECT_EQ(
      s.at("plinth_replica_errors_total", {{"kind", "generation"}, {"model", "smollm2"}, {"replica", "1"}}),
      1);
  EXPECT_EQ(s.at("plinth_replica_healthy", {{"kind", "embedding"}, {"model", "minilm"}, {"replica", "0"}}),
            1);
  EXPECT_EQ(s.at("plinth_replica_healthy", {{"kind", "embedding"}, {"model", "minilm"}, {"replica", "1"}}),
            0);

  // Server totals: 4 + 1 generation + 6 embedding waiting; 8 + 2 + 4 running; 400 of 2000 blocks.
  EXPECT_EQ(s.at("plinth_requests_waiting"), 11);
  EXPECT_EQ(s.at("plinth_requests_running"), 14);
  EXPECT_DOUBLE_EQ(s.at("plinth_kv_cache_usage_ratio"), 0.2);
  EXPECT_EQ(s.at("plinth_server_ready"), 1);
  EXPECT_EQ(s.at("plinth_server_draining"), 0);

  // The GIE endpoint picker's default names: one series each, the same values.
  EXPECT_EQ(s.at("vllm:num_requests_waiting"), 11);
  EXPECT_EQ(s.at("vllm:num_requests_running"), 14);
  EXPECT_DOUBLE_EQ(s.at("vllm:kv_cache_usage_perc"), 0.2);
  EXPECT_DOUBLE_EQ(s.at("vllm:gpu_cache_usage_perc"), 0.2);
  EXPECT_EQ(s.at("vllm:cache_config_info", {{"block_size", "16"}, {"num_gpu_blocks", "2000"}}), 1);
  for (const char* alias :
       {"vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:kv_cache_usage_perc",
        "vllm:gpu_cache_usage_perc", "vllm:cache_config_info"}) {
    EXPECT_EQ(s.types.at(alias), "gauge") << alias;
  }
}

TEST(ServerMetrics, ReplicaMarkedDownLeavesTheTotals) {
  EngineSnapshot snap = two_replicas_and_an_embedder();
  snap.generators[0].health[1].healthy = false;
  snap.embedders.clear();
  snap.draining = true;
  snap.ready = false;
  ServerMetrics metrics;
  metrics.set_engine_source([snap] { return snap; });
  const Scrape s = scrape(metrics);
  EXPECT_EQ(s.at("plinth_replica_healthy", {{"kind", "generation"}, {"model", "smollm2"}, {"replica", "1"}}),
            0);
  EXPECT_EQ(s.at("plinth_engine_requests_waiting", {{"model", "smollm2"}, {"replica", "1"}}),
            1);  // still shown
  EXPECT_EQ(s.at("plinth_requests_waiting"), 4);
  EXPECT_EQ(s.at("plinth_requests_running"), 8);
  EXPECT_DOUBLE_EQ(s.at("plinth_kv_cache_usage_ratio"), 0.3);
  EXPECT_DOUBLE_EQ(s.at("vllm:kv_cache_usage_perc"), 0.3);
  EXPECT_EQ(s.at("plinth_server_ready"), 0);
  EXPECT_EQ(s.at("plinth_server_draining"), 1);
}

TEST(ServerMetrics, RepeatedModelNamesAndMixedBlockSizes) {
  EngineSnapshot snap = two_replicas_and_an_embedder();
  EngineSnapshot::Generator copy = snap.generators[0];
  copy.replicas[0].queued = 1000;  // ignored: the name is taken
  snap.generators.push_back(copy);
  EngineSnapshot::Generator other{.model = "llama", .block_size = 32};
  other.replicas = {replica_stats(0, 0, 0, 0, 500)};
  snap.generators.push_back(other);
  ServerMetrics metrics;
  metrics.set_engine_source([snap] { return snap; });
  const Scrape s = scrape(metrics);  // value() fails the test on a duplicate sample
  EXPECT_EQ(s.at("plinth_engine_requests_waiting", {{"model", "smollm2"}, {"replica", "0"}}), 4);
  EXPECT_EQ(s.at("plinth_engine_requests_waiting", {{"model", "llama"}, {"replica", "0"}}), 0);
  EXPECT_EQ(s.at("plinth_requests_waiting"), 11);
  EXPECT_DOUBLE_EQ(s.at("plinth_kv_cache_usage_ratio"), 400.0 / 2500.0);
  // No single block size: no cache_config_info (the picker then uses its own configuration).
  EXPECT_FALSE(s.has_family("vllm:cache_config_info"));
}

TEST(ServerMetrics, CountersFromCumulativeValuesNeverGoBackwards) {
  std::atomic<std::uint64_t> preemptions{5};
  ServerMetrics metrics;
  const auto source = [&] {
    EngineSnapshot snap;
    EngineSnapshot::Generator g{.model = "smollm2"};
    g.replicas = {replica_stats(0, 0, 0, 0, 100)};
    g.replicas[0].preemptions = preemptions.load();
    snap.generators.push_back(g);
    return snap;
  };
  metrics.set_engine_source(source);
  const LabelSet r0{{"model", "smollm2"}, {"replica", "0"}};
  const auto read = [&] { return scrape(metrics).at("plinth_engine_preemptions_total", r0); };

  EXPECT_EQ(read(), 5);
  preemptions = 9;
  EXPECT_EQ(read(), 9);
  EXPECT_EQ(read(), 9);
  preemptions = 2;  // the engine behind the source restarted: 2 new ones since
  EXPECT_EQ(read(), 11);
  preemptions = 3;
  EXPECT_EQ(read(), 12);
  metrics.set_engine_source(source);  // a new source carries on from the same counters
  preemptions = 0;
  EXPECT_EQ(read(), 12);
  preemptions = 1;
  EXPECT_EQ(read(), 13);
}

TEST(ServerMetrics, FailingEngineSourceIsCountedAndTheScrapeStillWorks) {
  ServerMetrics metrics;
  metrics.request_finished("acme", "smollm2", "completions", 200, 1.0);
  metrics.set_engine_source([]() -> EngineSnapshot { throw std::runtime_error("engine gone"); });
  Scrape s = scrape(metrics);
  EXPECT_EQ(s.at("plinth_engine_source_errors_total"), 1);
  EXPECT_FALSE(s.has_family("plinth_requests_waiting"));
  EXPECT_EQ(s.at("plinth_requests_total",
                 {{"tenant", "acme"}, {"model", "smollm2"}, {"endpoint", "completions"}, {"status", "200"}}),
            1);
  metrics.set_engine_source(two_replicas_and_an_embedder);
  s = scrape(metrics);
  EXPECT_EQ(s.at("plinth_engine_source_errors_total"), 1);
  EXPECT_EQ(s.at("plinth_requests_waiting"), 11);
  metrics.set_engine_source(nullptr);
  EXPECT_FALSE(scrape(metrics).has_family("plinth_requests_waiting"));
}

TEST(ServerMetrics, WithoutAliasesOnlyPlinthNames) {
  ServerMetrics metrics({.vllm_aliases = false});
  metrics.set_engine_source(two_replicas_and_an_embedder);
  metrics.request_finished("acme", "smollm2", "completions", 200, 1.0);
  const std::string text = metrics.render();
  EXPECT_EQ(text.find("vllm:"), std::string::npos);
  const Scrape s = parse(text);
  EXPECT_EQ(s.at("plinth_requests_waiting"), 11);
  for (const Sample& sample : s.samples) EXPECT_EQ(sample.name.rfind("plinth_", 0), 0u) << sample.name;
}

// ---- Concurrency ----

TEST(ServerMetrics, ConcurrentUpdatesAddUpExactly) {
  constexpr int kThreads = 8;
  constexpr int kRequests = 200;
  constexpr int kTokens = 50;
  ServerMetrics metrics;
  metrics.set_engine_source(two_replicas_and_an_embedder);
  std::atomic<bool> done{false};
  // Scrapes run while the counts change; each must parse.
  std::thread scraper([&] {
    while (!done.load()) {
      const Scrape s = scrape(metrics);
      EXPECT_EQ(s.at("plinth_requests_waiting"), 11);
    }
  });
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string tenant = t % 2 == 0 ? "even" : "odd";
      for (int r = 0; r < kRequests; ++r) {
        metrics.connection_opened();
        RequestMetrics m = metrics.request(tenant, "smollm2", "chat_completions");
        m.first_token(0.05);
        for (int k = 0; k < kTokens; ++k) m.inter_token(0.01);
        m.tokens(10, kTokens);
        metrics.cached_prompt_tokens(tenant, "smollm2", 2);
        m.finished(r % 10 == 0 ? 429 : 200, 1.0);
        if (r % 10 == 0) metrics.request_rejected(tenant, "queue_full");
        metrics.connection_closed();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  done = true;
  scraper.join();

  const Scrape s = scrape(metrics);
  constexpr int kPerTenant = kThreads / 2 * kRequests;
  for (const std::string tenant : {"even", "odd"}) {
    const LabelSet model{{"tenant", tenant}, {"model", "smollm2"}};
    const LabelSet request = with(model, "endpoint", "chat_completions");
    EXPECT_EQ(s.at("plinth_requests_total", with(request, "status", "200")), kPerTenant * 9 / 10);
    EXPECT_EQ(s.at("plinth_requests_total", with(request, "status", "429")), kPerTenant / 10);
    EXPECT_EQ(s.at("plinth_e2e_request_latency_seconds_count", request), kPerTenant * 9 / 10);
    EXPECT_EQ(s.at("plinth_time_to_first_token_seconds_count", model), kPerTenant);
    EXPECT_EQ(s.at("plinth_inter_token_latency_seconds_count", model), kPerTenant * kTokens);
    EXPECT_EQ(s.at("plinth_inter_token_latency_seconds_bucket", with(model, "le", "0.01")),
              kPerTenant * kTokens);
    EXPECT_EQ(s.at("plinth_prompt_tokens_total", model), kPerTenant * 10);
    EXPECT_EQ(s.at("plinth_generation_tokens_total", model), kPerTenant * kTokens);
    EXPECT_EQ(s.at("plinth_cached_prompt_tokens_total", model), kPerTenant * 2);
    EXPECT_EQ(s.at("plinth_requests_rejected_total", {{"tenant", tenant}, {"reason", "queue_full"}}),
              kPerTenant / 10);
  }
  EXPECT_EQ(s.at("plinth_http_connections_total"), kThreads * kRequests);
  EXPECT_EQ(s.at("plinth_http_connections_open"), 0);
}

}  // namespace
}  // namespace plinth::server
