// ApiService: the OpenAI-compatible endpoints over the engines. It stays thin: parse, authenticate,
// admit, stream. Each request is checked (key → tenant, the tenant's models and rate limits), turned
// into an engine request (chat template, tokenizer, end conditions), submitted, and answered by a
// sink on the engine's thread: SSE chunks as tokens arrive, or one JSON body at the finish. A client
// that hangs up cancels its request. The engine decides who runs; a rejection becomes a 429 with
// Retry-After (queue bounds), a 503 (no healthy replica) or a 400.
//
// Routes: POST /v1/chat/completions, /v1/completions, /v1/embeddings; GET /v1/models[/ID], /health
// (liveness), /ready (models loaded, not draining), /metrics (Prometheus text).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <plinth/models/chat_template.hpp>
#include <plinth/models/generate.hpp>
#include <plinth/models/tokenizer.hpp>
#include <plinth/scheduler/clock.hpp>
#include <plinth/scheduler/embedding_engine.hpp>
#include <plinth/scheduler/engine.hpp>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "plinth/server/access_config.hpp"
#include "plinth/server/api_keys.hpp"
#include "plinth/server/http_server.hpp"
#include "plinth/server/metrics.hpp"
#include "plinth/server/openai_protocol.hpp"
#include "plinth/server/rate_limiter.hpp"

namespace plinth::server {

// A decoder served under `id`. The engine and tokenizer must outlive the service.
struct GeneratorEntry {
  std::string id;
  scheduler::Engine* engine = nullptr;
  std::shared_ptr<const models::Tokenizer> tokenizer;
  models::ChatTemplate chat_template;
  models::EndConditions end;       // the template's end markers: as tokens, or as stop strings
  std::size_t context_length = 0;  // prompt + generated tokens at most
  std::uint32_t kv_block_size = 0;  // tokens per KV block (for the metrics)
};

// An encoder served under `id`.
struct EmbedderEntry {
  std::string id;
  scheduler::EmbeddingEngine* engine = nullptr;
  std::shared_ptr<const models::Tokenizer> tokenizer;
};

class ApiService {
 public:
  ApiService(AccessConfig access, ServerMetrics& metrics, scheduler::NowFn now = scheduler::steady_now);
  ~ApiService();
  ApiService(const ApiService&) = delete;
  ApiService& operator=(const ApiService&) = delete;

  // Before set_ready(true); the entries' engines must outlive the service.
  void add_generator(GeneratorEntry entry);
  void add_embedder(EmbedderEntry entry);
  // /ready answers 200 and the /v1 endpoints serve only while ready and not draining; before that
  // they answer 503 (loading).
  void set_ready(bool ready);
  void begin_drain();  // new /v1 requests get 503; /ready turns 503

  // The HttpServer's handler.
  void handle(HttpRequest request, std::shared_ptr<HttpResponder> responder);
  // The HttpServer's error formatter: OpenAI error objects for the transport's own errors.
  static HttpResponse error_response(int status, std::string_view message, std::string_view param = {},
                                     std::string_view code = {});

  // Generations and embeddings accepted and not finished.
  std::size_t in_flight() const;
  // Cancels every request in flight (the end of a drain's grace period).
  void cancel_all();

  // The gauges /metrics reads from the engines.
  EngineSnapshot snapshot() const;

 public:
  struct Context;  // a request's state shared with its sink

 private:
  class Tracker;

  // What a request's metrics are labelled with, as far as it got (an unknown model is not a label).
  struct RequestLabels {
    std::string tenant;
    std::string model;
    std::string_view endpoint;  // empty: not an API request (health, metrics, unknown path)
  };

  void route(HttpRequest& request, RequestLabels& labels, const std::shared_ptr<HttpResponder>& responder);
  std::string authenticate(const HttpRequest& request) const;  // the tenant; ApiError 401
  void chat(const HttpRequest& request, RequestLabels& labels, const std::shared_ptr<HttpResponder>& responder);
  void completion(const HttpRequest& request, RequestLabels& labels, const std::shared_ptr<HttpResponder>& responder);
  // Both of them, once the prompt is tokens: checks, the engine request, its sink, the submit.
  void generate(GenerationParams params, std::vector<std::int32_t> prompt, Endpoint endpoint,
                const GeneratorEntry& g, const std::string& tenant, std::chrono::steady_clock::time_point received,
                const std::shared_ptr<HttpResponder>& responder);
  void embeddings(const HttpRequest& request, RequestLabels& labels, const std::shared_ptr<HttpResponder>& responder);
  void models(const HttpRequest& request, const std::string& tenant, const std::shared_ptr<HttpResponder>& responder);
  // A request's context for its sink: tracked (for the drain), its metrics series, cancelled by a
  // hang-up.
  std::shared_ptr<Context> make_context(const std::shared_ptr<HttpResponder>& responder, const std::string& tenant,
                                        const std::string& model, std::string_view endpoint,
                                        const std::shared_ptr<scheduler::CancelToken>& cancel);
  const GeneratorEntry& generator(const std::string& model, const std::string& tenant) const;
  const EmbedderEntry& embedder(const std::string& model, const std::string& tenant) const;
  void require_serving() const;  // ApiError 503 while loading or draining

  AccessConfig access_;
  KeyStore keys_;
  RateLimiter limiter_;
  ServerMetrics& metrics_;
  scheduler::NowFn now_;
  std::vector<GeneratorEntry> generators_;
  std::vector<EmbedderEntry> embedders_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> draining_{false};
  std::shared_ptr<Tracker> tracker_;
  std::int64_t created_ = 0;  // the models' "created" time: when the service started
  mutable std::mutex seed_mutex_;
  mutable std::mt19937_64 seeds_;  // a request without a seed gets a fresh one
};

}  // namespace plinth::server
