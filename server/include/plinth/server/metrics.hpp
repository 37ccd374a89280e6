// ServerMetrics: the Prometheus metrics of `plinth serve`, one instance per server. docs/server-metrics.md
// lists every metric, its labels and meaning, and how an InferencePool's endpoint picker reads them.
//
// Two kinds of values:
//   - Events the HTTP layer reports as they happen: requests by tenant, model, endpoint and status,
//     end-to-end latency, time to first token, inter-token latency, tokens in and out, cached prompt
//     tokens, 429 rejections by reason, connections.
//   - The engines' state, read at scrape time from an EngineSnapshotFn (set_engine_source): queue
//     depth, running requests, KV-cache usage and blocks, prefix-cache hits, preemptions, replica
//     health, readiness. The engines never push; a scrape shows them as of their last step, and a
//     cumulative engine count becomes a counter that never goes backwards, even when the engine
//     behind the source restarts from zero.
// render() is the body of GET /metrics in the Prometheus text format 0.0.4 (kMetricsContentType).
//
// The hot path: request() resolves a request's labels once and returns a RequestMetrics handle that
// holds the resolved series, so per-token calls (inter_token) look nothing up and allocate nothing.
// The string-keyed methods resolve the labels on each call (a shared-lock hash lookup, no allocation
// once the label set exists): fine for once-per-request events.
//
// Label values must come from the server's configuration (tenant names, served model names,
// endpoint names), never from raw client input: each distinct label set is a time series kept for the
// server's life. As a safeguard against a caller that forgets, at most `max_series` label sets are
// kept per kind (requests, tenant x model, rejections); further ones are counted under the value
// kOverflowLabel in every label instead of growing without bound.
//
// GIE (Gateway API Inference Extension) compatibility: with `vllm_aliases` (the default) the text also
// carries vllm:num_requests_waiting, vllm:num_requests_running, vllm:kv_cache_usage_perc (and its
// older name vllm:gpu_cache_usage_perc) and vllm:cache_config_info: single series with vLLM's
// semantics, so an endpoint picker (llm-d, KServe) or a KEDA trigger with vLLM's default metric names
// routes and scales Plinth with no flag and no adapter.
//
// Thread safety: every method may be called from any thread at any time.
//
//   ServerMetrics metrics;
//   metrics.set_engine_source([&] { return snapshot_of(engine, embedder); });
//   RequestMetrics m = metrics.request(tenant, "smollm2-135m", "chat_completions");
//   m.first_token(ttft);  m.inter_token(gap);  ...  m.tokens(usage.prompt_tokens, usage.generated_tokens);
//   m.finished(200, e2e);
//   reply(200, kMetricsContentType, metrics.render());  // GET /metrics
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <plinth/scheduler/embedding_engine.hpp>
#include <plinth/scheduler/engine.hpp>
#include <plinth/scheduler/scheduler.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace plinth::server {

// The Content-Type of render()'s text.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
// The label value that stands for every label set beyond ServerMetricsOptions::max_series.
inline constexpr std::string_view kOverflowLabel = "_overflow_";

// The engines' state at one scrape, as their stats() and health() report it.
struct EngineSnapshot {
  // A generation model: its Engine's replicas.
  struct Generator {
    std::string model{};                                // the served name (the `model` label)
    std::uint32_t block_size = 0;                       // tokens per KV block; 0: unknown
    std::vector<scheduler::SchedulerStats> replicas{};  // Engine::stats(), by replica index
    std::vector<scheduler::ReplicaHealth> health{};     // Engine::health(); a replica missing: healthy
  };
  // An embedding model: its EmbeddingEngine (one shared queue over its replicas).
  struct Embedder {
    std::string model{};
    scheduler::EmbeddingStats stats{};                      // EmbeddingEngine::stats()
    std::vector<scheduler::EncoderReplicaHealth> health{};  // EmbeddingEngine::health()
  };
  // Model names are unique within generators and within embedders; a repeated one is ignored.
  std::vector<Generator> generators{};
  std::vector<Embedder> embedders{};
  bool ready = false;     // GET /ready would answer 200
  bool draining = false;  // SIGTERM received: finishing what runs, accepting nothing new
};

// Called by render() on the scraping thread, one scrape at a time (so two snapshots are never applied
// out of order). Must be safe to call while the engines run (their stats() and health() are) and must
// not call render(). An exception is counted (plinth_engine_source_errors_total) and that scrape has no
// engine metrics.
using EngineSnapshotFn = std::function<EngineSnapshot()>;

struct ServerMetricsOptions {
  // Also export the vLLM-named gauges the GIE endpoint picker reads by default (see above). Off: only
  // plinth_* names, and the picker needs its metric flags (docs/server-metrics.md).
  bool vllm_aliases = true;
  // Label sets kept per kind before new ones go to kOverflowLabel; >= 1.
  std::size_t max_series = 1000;
};

namespace detail {
struct RequestSeries;  // the resolved series of one (tenant, model, endpoint); defined in metrics.cpp
}

// One request's resolved series: what the HTTP handler keeps for the request's life. Cheap to copy
// (one pointer). Valid while the ServerMetrics that made it lives. A default-constructed handle
// records nothing. Every method is thread-safe and never throws for a valid handle.
class RequestMetrics {
 public:
  RequestMetrics() = default;

  // Time to first token: from the request's arrival to its first streamed token, in seconds.
  void first_token(double seconds) const;
  // The gap between two consecutive tokens of one stream, in seconds. Called per token: no lookup,
  // no allocation.
  void inter_token(double seconds) const;
  // Prompt tokens (embedding input tokens, after truncation) and generated tokens, from the request's
  // usage. Embeddings pass generated = 0 and get no generation series.
  void tokens(std::size_t prompt, std::size_t generated) const;
  // Prompt tokens served from the prefix cache (Usage::cached_prompt_tokens).
  void cached_prompt_tokens(std::size_t tokens) const;
  // The response: counts the request under its HTTP status and, for a 2xx, observes its end-to-end
  // latency (arrival to last byte) in seconds. Call once per request, 429s and errors included.
  void finished(int http_status, double e2e_seconds) const;

  explicit operator bool() const noexcept { return series_ != nullptr; }

 private:
  friend class ServerMetrics;
  explicit RequestMetrics(detail::RequestSeries* series) noexcept : series_(series) {}

  detail::RequestSeries* series_ = nullptr;
};

class ServerMetrics {
 public:
  // Throws std::invalid_argument for max_series 0.
  explicit ServerMetrics(ServerMetricsOptions options = {});
  ~ServerMetrics();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  // The series of one request: `endpoint` is the API it came through ("chat_completions",
  // "completions", "embeddings", "models"); `model` is the served name ("" where none applies).
  RequestMetrics request(std::string_view tenant, std::string_view model, std::string_view endpoint);

  // The same events by label values, for callers without a handle: each resolves its labels.
  void request_finished(std::string_view tenant, std::string_view model, std::string_view endpoint,
                        int http_status, double e2e_seconds);
  void first_token(std::string_view tenant, std::string_view model, double ttft_seconds);
  void inter_token(std::string_view tenant, std::string_view model, double seconds);
  void tokens(std::string_view tenant, std::string_view model, std::size_t prompt, std::size_t generated);
  void cached_prompt_tokens(std::string_view tenant, std::string_view model, std::size_t tokens);

  // A request answered 429, and why: "queue_full", "tenant_queue_full", "rate_limited" (also counted
  // by request_finished under status 429: this says which limit).
  void request_rejected(std::string_view tenant, std::string_view reason);
  // How long the engine's admit-or-429 answer took, from the request's arrival (read whole).
  void admission_decided(bool admitted, double seconds) noexcept;

  // Client connections: accepted (and now open), closed, refused at the connection cap.
  void connection_opened() noexcept;
  void connection_closed() noexcept;
  void connection_refused() noexcept;

  // Where scrapes read the engines' state; replaces the previous source (an empty one: no engine
  // metrics). Counters derived from cumulative values carry on from where they were.
  void set_engine_source(EngineSnapshotFn source);

  // Every metric in the Prometheus text exposition format 0.0.4. Calls the engine source.
  std::string render() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace plinth::server
