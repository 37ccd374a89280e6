#include "plinth/server/api_service.hpp"

#include <chrono>
#include <cmath>
#include <ctime>

#include "plinth/server/openai_protocol.hpp"

namespace plinth::server {
namespace {

namespace sch = plinth::scheduler;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

double seconds_since(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

HttpResponse json_response(int status, const json& body, HttpHeaders headers = {}) {
  return {.status = status, .content_type = "application/json",
          .body = body.dump(-1, ' ', false, json::error_handler_t::replace), .headers = std::move(headers)};
}

HttpResponse api_error_response(const ApiError& e) {
  HttpHeaders headers;
  if (e.status() == 401) headers.emplace_back("WWW-Authenticate", "Bearer");
  if (e.retry_after()) headers.emplace_back("Retry-After", std::to_string(*e.retry_after()));
  return json_response(e.status(), e.to_json(), std::move(headers));
}

long long retry_after_seconds(sch::Duration d) {
  const double s = std::chrono::duration<double>(d).count();
  return std::max<long long>(1, static_cast<long long>(std::ceil(s)));
}

// The HTTP answer to a request the engine would not take.
ApiError rejection_error(const sch::SubmitResult& r) {
  switch (r.reason) {
    case sch::RejectReason::queue_full:
    case sch::RejectReason::tenant_queue_full:
      return ApiError(429, r.message, "rate_limit_error", {}, std::string(sch::to_string(r.reason)))
          .set_retry_after(retry_after_seconds(r.retry_after));
    case sch::RejectReason::unavailable:
      return ApiError(503, r.message, "service_unavailable", {}, "unavailable").set_retry_after(retry_after_seconds(r.retry_after));
    case sch::RejectReason::too_large:
      return ApiError(400, r.message, "invalid_request_error", "messages", "context_length_exceeded");
    default:
      return ApiError(400, r.message, "invalid_request_error");
  }
}

std::string_view finish_reason_text(sch::FinishReason reason) {
  switch (reason) {
    case sch::FinishReason::stop: return "stop";
    default: return "length";  // length and a deadline both cut the answer
  }
}

std::optional<sch::TimePoint> after(sch::NowFn& now, std::optional<double> seconds) {
  if (!seconds) return std::nullopt;
  return now() + std::chrono::duration_cast<sch::Duration>(std::chrono::duration<double>(*seconds));
}

std::string random_id(std::string_view prefix, std::uint64_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(prefix);
  for (int i = 0; i < 16; ++i) out += kHex[(n >> (60 - 4 * i)) & 15];
  return out;
}

}  // namespace

// The requests in flight, so a drain can wait for them and cancel the rest.
class ApiService::Tracker {
 public:
  std::uint64_t add(std::shared_ptr<sch::CancelToken> cancel) {
    std::lock_guard lock(mutex_);
    const std::uint64_t id = next_++;
    active_.emplace(id, std::move(cancel));
    return id;
  }
  void remove(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    active_.erase(id);
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return active_.size();
  }
  void cancel_all() {
    std::lock_guard lock(mutex_);
    for (auto& [id, cancel] : active_) cancel->cancel();
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::shared_ptr<sch::CancelToken>> active_;
  std::uint64_t next_ = 1;
};

namespace {

// A stream's output, held back until the engine has accepted the request: the 200 head may go out
// only then (a refusal must still be a 429 with Retry-After), while the engine's thread may deliver
// the first pieces, or even the finish, before the handler thread gets there.
class GatedStream {
 public:
  explicit GatedStream(std::shared_ptr<HttpResponder> responder) : responder_(std::move(responder)) {}

  void write(std::string data) {
    std::lock_guard lock(mutex_);
    if (open_) return responder_->write(std::move(data));
    held_.push_back(std::move(data));
  }
  void end() {
    std::lock_guard lock(mutex_);
    if (open_) return responder_->end();
    ended_ = true;
  }
  // The head and the first chunk, then what was held back, in order.
  void open(std::string first_chunk) {
    std::lock_guard lock(mutex_);
    responder_->begin_stream(200, "text/event-stream");
    responder_->write(std::move(first_chunk));
    for (auto& piece : held_) responder_->write(std::move(piece));
    held_.clear();
    if (ended_) responder_->end();
    open_ = true;
  }

 private:
  std::shared_ptr<HttpResponder> responder_;
  std::mutex mutex_;
  std::vector<std::string> held_;
  bool open_ = false;
  bool ended_ = false;
};

}  // namespace

// What a request's sink needs after the handler returned.
struct ApiService::Context {
  std::shared_ptr<GatedStream> stream;  // streamed responses only
  std::shared_ptr<HttpResponder> responder;
  std::shared_ptr<Tracker> tracker;
  std::uint64_t tracker_id = 0;
  RequestMetrics metrics;  // this request's series: per-token updates without lookups
  RateLimiter* limiter = nullptr;
  std::string tenant;
  std::string model;
  SteadyClock::time_point started = SteadyClock::now();
};

namespace {

// A generation's stream on the engine thread: SSE chunks as text arrives, or the whole body at the end.
class GenerationSink final : public sch::StreamSink {
 public:
  GenerationSink(std::shared_ptr<ApiService::Context> context, Endpoint endpoint, ResponseHeader header, bool stream,
                 bool include_usage)
      : ctx_(std::move(context)), endpoint_(endpoint), header_(std::move(header)),
        stream_(stream), include_usage_(include_usage) {}

  void on_delta(const sch::TokenDelta& delta) override {
    if (delta.token != sch::kNoToken) {
      const auto now = SteadyClock::now();
      if (!first_token_) {
        ctx_->metrics.first_token(std::chrono::duration<double>(now - ctx_->started).count());
      } else {
        ctx_->metrics.inter_token(std::chrono::duration<double>(now - *first_token_).count());
      }
      first_token_ = now;
    }
    if (delta.text.empty()) return;
    if (stream_) {
      ctx_->stream->write(sse_event(chunk_json(endpoint_, header_, delta.text, std::nullopt, false)));
    } else {
      text_ += delta.text;
    }
  }

  void on_finish(const sch::FinishInfo& finish) override {
    const TokenUsage usage{.prompt_tokens = finish.usage.prompt_tokens,
                           .completion_tokens = finish.usage.generated_tokens,
                           .cached_tokens = finish.usage.cached_prompt_tokens};
    ctx_->limiter->charge_tokens(ctx_->tenant, usage.completion_tokens);
    ctx_->metrics.tokens(usage.prompt_tokens, usage.completion_tokens);
    ctx_->metrics.cached_prompt_tokens(usage.cached_tokens);
    int status = 200;
    const bool failed = finish.reason == sch::FinishReason::error ||
                        (finish.reason == sch::FinishReason::deadline && usage.completion_tokens == 0);
    if (finish.reason == sch::FinishReason::cancelled) {
      status = 499;  // the client went away (or the drain's grace ended): nobody reads an answer
      if (stream_) ctx_->stream->end();
    } else if (failed) {
      const bool deadline = finish.reason == sch::FinishReason::deadline;
      status = deadline ? 504 : 500;
      const json error = error_json(status, finish.message.empty() ? std::string(sch::to_string(finish.reason)) : finish.message,
                                    {}, {}, deadline ? "deadline_exceeded" : "engine_error");
      if (stream_) {
        ctx_->stream->write(sse_event(error));
        ctx_->stream->write(std::string(kSseDone));
        ctx_->stream->end();
      } else {
        ctx_->responder->send(json_response(status, error));
      }
    } else if (stream_) {
      ctx_->stream->write(sse_event(chunk_json(endpoint_, header_, "", finish_reason_text(finish.reason), false)));
      if (include_usage_) ctx_->stream->write(sse_event(usage_chunk_json(endpoint_, header_, usage)));
      ctx_->stream->write(std::string(kSseDone));
      ctx_->stream->end();
    } else {
      ctx_->responder->send(json_response(200, completion_json(endpoint_, header_, text_, finish_reason_text(finish.reason), usage)));
    }
    ctx_->metrics.finished(status, seconds_since(ctx_->started));
    ctx_->tracker->remove(ctx_->tracker_id);
  }

 private:
  std::shared_ptr<ApiService::Context> ctx_;
  Endpoint endpoint_;
  ResponseHeader header_;
  bool stream_;
  bool include_usage_;
  std::string text_;
  std::optional<SteadyClock::time_point> first_token_;
};

class EmbeddingsSink final : public sch::EmbeddingSink {
 public:
  EmbeddingsSink(std::shared_ptr<ApiService::Context> ctx, bool base64) : ctx_(std::move(ctx)), base64_(base64) {}
  void on_finish(const sch::EmbeddingResult& result) override {
    int status = 200;
    if (result.reason == sch::FinishReason::stop) {
      ctx_->responder->send(
          json_response(200, embeddings_json(ctx_->model, result.embeddings, result.dim, base64_, result.usage.prompt_tokens)));
      ctx_->metrics.tokens(result.usage.prompt_tokens, 0);
    } else if (result.reason == sch::FinishReason::cancelled) {
      status = 499;
    } else {
      const bool deadline = result.reason == sch::FinishReason::deadline;
      status = deadline ? 504 : 500;
      ctx_->responder->send(json_response(
          status, error_json(status, result.message.empty() ? std::string(sch::to_string(result.reason)) : result.message,
                             {}, {}, deadline ? "deadline_exceeded" : "engine_error")));
    }
    ctx_->metrics.finished(status, seconds_since(ctx_->started));
    ctx_->tracker->remove(ctx_->tracker_id);
  }

 private:
  std::shared_ptr<ApiService::Context> ctx_;
  bool base64_;
};

}  // namespace

ApiService::ApiService(AccessConfig access, ServerMetrics& metrics, scheduler::NowFn now)
    : access_(std::move(access)),
      keys_(access_.keys),
      limiter_(access_, now),
      metrics_(metrics),
      now_(std::move(now)),
      tracker_(std::make_shared<Tracker>()),
      created_(static_cast<std::int64_t>(std::time(nullptr))),
      seeds_(std::random_device{}()) {}

ApiService::~ApiService() = default;

void ApiService::add_generator(GeneratorEntry entry) { generators_.push_back(std::move(entry)); }
void ApiService::add_embedder(EmbedderEntry entry) { embedders_.push_back(std::move(entry)); }
void ApiService::set_ready(bool ready) { ready_.store(ready, std::memory_order_release); }
void ApiService::begin_drain() { draining_.store(true, std::memory_order_release); }
std::size_t ApiService::in_flight() const { return tracker_->size(); }
void ApiService::cancel_all() { tracker_->cancel_all(); }

HttpResponse ApiService::error_response(int status, std::string_view message, std::string_view param,
                                        std::string_view code) {
  return json_response(status, error_json(status, message, {}, param, code));
}

void ApiService::require_serving() const {
  if (draining_.load(std::memory_order_acquire)) {
    throw ApiError(503, "the server is shutting down", "service_unavailable", {}, "draining");
  }
  if (!ready_.load(std::memory_order_acquire)) {
    throw ApiError(503, "the models are still loading; retry shortly", "service_unavailable", {}, "loading");
  }
}

std::string ApiService::authenticate(const HttpRequest& request) const {
  if (access_.open_mode()) return access_.default_tenant.name;
  const std::string_view header = request.header("Authorization");
  if (header.empty()) throw ApiError(401, "missing API key: send 'Authorization: Bearer <key>'", "authentication_error");
  const auto token = KeyStore::bearer_token(header);
  if (!token) throw ApiError(401, "malformed Authorization header: expected 'Bearer <key>'", "authentication_error");
  auto tenant = keys_.tenant_for(*token);
  if (!tenant) throw ApiError(401, "invalid API key", "authentication_error", {}, "invalid_api_key");
  return std::move(*tenant);
}

namespace {
const TenantSettings& tenant_settings(const AccessConfig& access, const std::string& tenant) {
  const TenantSettings* settings = access.find_tenant(tenant);
  return settings ? *settings : access.default_tenant;
}
}  // namespace

const GeneratorEntry& ApiService::generator(const std::string& model, const std::string& tenant) const {
  for (const auto& g : generators_) {
    if (g.id == model && tenant_settings(access_, tenant).allows_model(model)) return g;
  }
  throw ApiError(404, "the model '" + model + "' does not exist or you do not have access to it",
                 "invalid_request_error", "model", "model_not_found");
}

const EmbedderEntry& ApiService::embedder(const std::string& model, const std::string& tenant) const {
  for (const auto& e : embedders_) {
    if (e.id == model && tenant_settings(access_, tenant).allows_model(model)) return e;
  }
  throw ApiError(404, "the embedding model '" + model + "' does not exist or you do not have access to it",
                 "invalid_request_error", "model", "model_not_found");
}

void ApiService::handle(HttpRequest request, std::shared_ptr<HttpResponder> responder) {
  RequestLabels labels;
  int status = 0;
  try {
    route(request, labels, responder);
  } catch (const ApiError& e) {
    status = e.status();
    responder->send(api_error_response(e));
  } catch (const std::exception& e) {
    status = 500;
    responder->send(error_response(500, std::string("internal error: ") + e.what()));
  }
  // Refusals before a request reached an engine; the engine's answers are counted by their sinks.
  if (status != 0 && !labels.endpoint.empty()) {
    metrics_.request_finished(labels.tenant.empty() ? "unauthenticated" : labels.tenant, labels.model, labels.endpoint,
                              status, 0);
  }
}

void ApiService::route(HttpRequest& request, RequestLabels& labels, const std::shared_ptr<HttpResponder>& responder) {
  const std::string_view path = request.path();
  const bool get = request.method == "GET" || request.method == "HEAD";
  const bool post = request.method == "POST";
  const auto method_not_allowed = [&](std::string_view allowed) {
    throw ApiError(405, "method " + request.method + " is not allowed on " + std::string(path) + " (use " +
                            std::string(allowed) + ")");
  };

  if (path == "/health") {
    if (!get) method_not_allowed("GET");
    return responder->send({.status = 200, .content_type = "application/json", .body = R"({"status":"ok"})"});
  }
  if (path == "/ready") {
    if (!get) method_not_allowed("GET");
    const bool draining = draining_.load(), ready = ready_.load();
    const char* state = draining ? "draining" : ready ? "ready" : "loading";
    return responder->send({.status = ready && !draining ? 200 : 503, .content_type = "application/json",
                            .body = std::string(R"({"status":")") + state + "\"}"});
  }
  if (path == "/metrics") {
    if (!get) method_not_allowed("GET");
    return responder->send({.status = 200, .content_type = "text/plain; version=0.0.4; charset=utf-8",
                            .body = metrics_.render()});
  }
  const bool v1 = path.starts_with("/v1/");
  if (!v1) throw ApiError(404, "no route for " + std::string(path), "invalid_request_error", {}, "unknown_url");

  const bool chat_path = path == "/v1/chat/completions";
  const bool completion_path = path == "/v1/completions";
  const bool embeddings_path = path == "/v1/embeddings";
  labels.endpoint = chat_path ? "chat_completions" : completion_path ? "completions" : embeddings_path ? "embeddings" : "models";
  const std::string tenant = authenticate(request);
  labels.tenant = tenant;
  if (path == "/v1/models" || path.starts_with("/v1/models/")) {
    if (!get) method_not_allowed("GET");
    return models(request, tenant, responder);
  }
  if (!chat_path && !completion_path && !embeddings_path) {
    labels.endpoint = {};
    throw ApiError(404, "no route for " + std::string(path), "invalid_request_error", {}, "unknown_url");
  }
  if (!post) method_not_allowed("POST");
  require_serving();
  if (chat_path) return chat(request, labels, responder);
  if (completion_path) return completion(request, labels, responder);
  return embeddings(request, labels, responder);
}

void ApiService::models(const HttpRequest& request, const std::string& tenant,
                        const std::shared_ptr<HttpResponder>& responder) {
  std::vector<std::string> ids;
  const TenantSettings& settings = tenant_settings(access_, tenant);
  if (ready_.load(std::memory_order_acquire)) {
    for (const auto& g : generators_) {
      if (settings.allows_model(g.id)) ids.push_back(g.id);
    }
    for (const auto& e : embedders_) {
      if (settings.allows_model(e.id)) ids.push_back(e.id);
    }
  }
  const std::string_view path = request.path();
  if (path == "/v1/models") return responder->send(json_response(200, models_json(ids, created_)));
  const std::string id(path.substr(std::string_view("/v1/models/").size()));
  for (const auto& known : ids) {
    if (known == id) return responder->send(json_response(200, model_json(id, created_)));
  }
  throw ApiError(404, "the model '" + id + "' does not exist or you do not have access to it", "invalid_request_error",
                 "model", "model_not_found");
}

std::shared_ptr<ApiService::Context> ApiService::make_context(const std::shared_ptr<HttpResponder>& responder,
                                                             const std::string& tenant, const std::string& model,
                                                             std::string_view endpoint,
                                                             const std::shared_ptr<sch::CancelToken>& cancel) {
  auto ctx = std::make_shared<Context>();
  ctx->responder = responder;
  ctx->tracker = tracker_;
  ctx->tracker_id = tracker_->add(cancel);
  ctx->metrics = metrics_.request(tenant, model, endpoint);
  ctx->limiter = &limiter_;
  ctx->tenant = tenant;
  ctx->model = model;
  // A hang-up cancels the request; its KV blocks are freed at the next step.
  responder->on_disconnect([cancel] { cancel->cancel(); });
  return ctx;
}

void ApiService::chat(const HttpRequest& request, RequestLabels& labels,
                      const std::shared_ptr<HttpResponder>& responder) {
  const std::string& tenant = labels.tenant;
  ChatCompletionRequest r = parse_chat_completion(parse_json_object(request.body));
  const GeneratorEntry& g = generator(r.params.model, tenant);
  labels.model = g.id;
  std::vector<std::int32_t> prompt = g.tokenizer->encode(g.chat_template.apply(r.messages, true));
  generate(std::move(r.params), std::move(prompt), Endpoint::chat, g, tenant, request.received, responder);
}

void ApiService::completion(const HttpRequest& request, RequestLabels& labels,
                            const std::shared_ptr<HttpResponder>& responder) {
  const std::string& tenant = labels.tenant;
  CompletionRequest r = parse_completion(parse_json_object(request.body));
  const GeneratorEntry& g = generator(r.params.model, tenant);
  labels.model = g.id;
  std::vector<std::int32_t> prompt = r.prompt_tokens ? std::move(*r.prompt_tokens) : g.tokenizer->encode(r.prompt);
  for (const std::int32_t id : prompt) {
    if (id >= g.tokenizer->vocab_size()) {
      throw ApiError(400, "prompt: token id " + std::to_string(id) + " is outside the vocabulary of " +
                              std::to_string(g.tokenizer->vocab_size()), "invalid_request_error", "prompt");
    }
  }
  generate(std::move(r.params), std::move(prompt), Endpoint::completion, g, tenant, request.received, responder);
}

void ApiService::generate(GenerationParams params, std::vector<std::int32_t> prompt, Endpoint endpoint,
                          const GeneratorEntry& g, const std::string& tenant, SteadyClock::time_point received,
                          const std::shared_ptr<HttpResponder>& responder) {
  const std::string_view endpoint_name = endpoint == Endpoint::chat ? "chat_completions" : "completions";
  const std::size_t prompt_tokens = prompt.size();
  const std::string_view prompt_param = endpoint == Endpoint::chat ? "messages" : "prompt";
  if (prompt_tokens == 0) {
    throw ApiError(400, "the prompt is empty after tokenization", "invalid_request_error", std::string(prompt_param));
  }
  if (prompt_tokens >= g.context_length) {
    throw ApiError(400,
                   "the prompt has " + std::to_string(prompt_tokens) + " tokens; the model's context is " +
                       std::to_string(g.context_length),
                   "invalid_request_error", std::string(prompt_param), "context_length_exceeded");
  }
  const std::size_t room = g.context_length - prompt_tokens;
  const std::size_t max_tokens = params.max_tokens.value_or(room);
  if (max_tokens > room) {
    throw ApiError(400,
                   "the prompt (" + std::to_string(prompt_tokens) + " tokens) plus max_tokens (" +
                       std::to_string(max_tokens) + ") exceeds the model's context of " +
                       std::to_string(g.context_length) + " tokens",
                   "invalid_request_error", "max_tokens", "context_length_exceeded");
  }
  if (const RateDecision d = limiter_.admit(tenant, prompt_tokens); !d.allowed) {
    metrics_.admission_decided(false, seconds_since(received));
    metrics_.request_rejected(tenant, "rate_limited");
    throw ApiError(429, d.reason, "rate_limit_error", {}, "rate_limited").set_retry_after(retry_after_seconds(d.retry_after));
  }

  sch::Request request;
  request.prompt = std::move(prompt);
  request.sampling = params.sampling;
  if (params.seed) {
    request.sampling.seed = *params.seed;
  } else {
    std::lock_guard lock(seed_mutex_);
    request.sampling.seed = seeds_();
  }
  request.max_tokens = max_tokens;
  request.stop.stop_strings = std::move(params.stop);
  if (!params.ignore_eos) {
    request.stop.end_tokens = g.end.end_tokens;
    request.stop.stop_strings.insert(request.stop.stop_strings.end(), g.end.stop.begin(), g.end.stop.end());
  }
  request.tenant = tenant;
  request.priority = params.priority;
  request.queue_deadline = after(now_, params.queue_timeout_s);
  request.deadline = after(now_, params.timeout_s);
  request.cancel = std::make_shared<sch::CancelToken>();

  auto ctx = make_context(responder, tenant, g.id, endpoint_name, request.cancel);
  ResponseHeader header;
  {
    std::lock_guard lock(seed_mutex_);
    header.id = random_id(endpoint == Endpoint::chat ? "chatcmpl-" : "cmpl-", seeds_());
  }
  header.created = static_cast<std::int64_t>(std::time(nullptr));
  header.model = g.id;
  // The stream's head and role chunk go out when the engine accepts; the sink may run before this
  // thread continues, so the head is queued first (the responder keeps the order of calls).
  const bool stream = params.stream;
  if (stream) ctx->stream = std::make_shared<GatedStream>(responder);
  request.sink = std::make_shared<GenerationSink>(ctx, endpoint, header, stream, params.include_usage);

  const sch::SubmitResult result = g.engine->submit(std::move(request));
  metrics_.admission_decided(static_cast<bool>(result), seconds_since(received));
  if (result) {
    if (stream) ctx->stream->open(sse_event(chunk_json(endpoint, header, "", std::nullopt, true)));
    return;
  }
  tracker_->remove(ctx->tracker_id);
  const ApiError e = rejection_error(result);
  if (e.status() == 429) metrics_.request_rejected(tenant, sch::to_string(result.reason));
  ctx->metrics.finished(e.status(), seconds_since(ctx->started));
  responder->send(api_error_response(e));
}

void ApiService::embeddings(const HttpRequest& http, RequestLabels& labels,
                            const std::shared_ptr<HttpResponder>& responder) {
  const std::string& tenant = labels.tenant;
  EmbeddingsRequest r = parse_embeddings(parse_json_object(http.body));
  const EmbedderEntry& e = embedder(r.model, tenant);
  labels.model = e.id;
  if (r.dimensions && *r.dimensions != e.engine->dim()) {
    throw ApiError(400, "dimensions: this model returns " + std::to_string(e.engine->dim()) +
                            " dimensions and cannot shorten them", "invalid_request_error", "dimensions",
                   "unsupported_value");
  }
  sch::EmbeddingRequest job;
  std::size_t tokens = 0;
  for (const auto& text : r.texts) job.inputs.push_back(e.tokenizer->encode(text));
  for (auto& ids : r.token_inputs) {
    for (const std::int32_t id : ids) {
      if (id >= e.tokenizer->vocab_size()) {
        throw ApiError(400, "input: token id " + std::to_string(id) + " is outside the vocabulary of " +
                                std::to_string(e.tokenizer->vocab_size()), "invalid_request_error", "input");
      }
    }
    job.inputs.push_back(std::move(ids));
  }
  for (const auto& ids : job.inputs) tokens += std::min(ids.size(), e.engine->max_input_tokens());
  if (const RateDecision d = limiter_.admit(tenant, tokens); !d.allowed) {
    metrics_.admission_decided(false, seconds_since(http.received));
    metrics_.request_rejected(tenant, "rate_limited");
    throw ApiError(429, d.reason, "rate_limit_error", {}, "rate_limited").set_retry_after(retry_after_seconds(d.retry_after));
  }
  job.tenant = tenant;
  job.priority = r.priority;
  job.deadline = after(now_, r.timeout_s);
  job.cancel = std::make_shared<sch::CancelToken>();
  auto ctx = make_context(responder, tenant, e.id, "embeddings", job.cancel);
  job.sink = std::make_shared<EmbeddingsSink>(ctx, r.base64);
  const sch::SubmitResult result = e.engine->submit(std::move(job));
  metrics_.admission_decided(static_cast<bool>(result), seconds_since(http.received));
  if (result) return;
  tracker_->remove(ctx->tracker_id);
  const ApiError error = rejection_error(result);
  if (error.status() == 429) metrics_.request_rejected(tenant, sch::to_string(result.reason));
  ctx->metrics.finished(error.status(), seconds_since(ctx->started));
  responder->send(api_error_response(error));
}

EngineSnapshot ApiService::snapshot() const {
  EngineSnapshot s;
  s.ready = ready_.load();
  s.draining = draining_.load();
  if (!s.ready) return s;
  for (const auto& g : generators_) {
    s.generators.push_back(
        {.model = g.id, .block_size = g.kv_block_size, .replicas = g.engine->stats(), .health = g.engine->health()});
  }
  for (const auto& e : embedders_) {
    s.embedders.push_back({.model = e.id, .stats = e.engine->stats(), .health = e.engine->health()});
  }
  return s;
}

}  // namespace plinth::server
