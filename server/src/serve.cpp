#include "plinth/server/serve.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <optional>
#include <plinth/models/bert_batch_encoder.hpp>
#include <plinth/models/bert_encoder.hpp>
#include <plinth/models/llama_model.hpp>
#include <plinth/models/model_store.hpp>
#include <plinth/models/paged_llama.hpp>
#include <plinth/runtime.hpp>
#include <set>
#include <stdexcept>
#include <thread>

#include "plinth/server/api_service.hpp"

namespace plinth::server {
namespace {

namespace sch = plinth::scheduler;
using SteadyClock = std::chrono::steady_clock;

// The id a model is served under: a default model's name, or a file's name without .gguf.
std::string served_id(const std::string& name_or_path) {
  std::filesystem::path p(name_or_path);
  std::string id = p.filename().string();
  if (id.empty()) id = p.parent_path().filename().string();
  if (p.extension() == ".gguf") id = p.stem().string();
  return id;
}

// Waits until `done` or `timeout`.
template <class F>
bool wait_until(F done, std::chrono::milliseconds timeout) {
  const auto give_up = SteadyClock::now() + timeout;
  while (!done()) {
    if (SteadyClock::now() >= give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

void apply_tenants(const AccessConfig& access, sch::TenantPolicy& default_policy,
                   std::map<std::string, sch::TenantPolicy, std::less<>>& tenants) {
  default_policy = access.default_tenant.policy();
  for (const auto& t : access.tenants) tenants[t.name] = t.policy();
}

}  // namespace

int serve(const ServeOptions& options, std::ostream& log) {
  if (options.devices.empty()) throw std::invalid_argument("serve: no device for the model");
  // SIGTERM and SIGINT are taken by this thread with sigwait, so every thread started from here on
  // (I/O, engines, the plugins' pools) inherits the blocked mask and none is interrupted.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A connection is a descriptor: the usual soft limit of 1024 would cap the server far below its
  // connection limit, so take what the hard limit allows.
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  AccessConfig access = options.config.empty() ? AccessConfig{} : load_access_config(options.config);
  if (access.open_mode()) {
    log << "plinth serve: OPEN MODE: no API keys are configured"
        << (options.config.empty() ? "" : " in " + options.config.string())
        << "; every request is served as tenant '" << access.default_tenant.name << "'\n";
  } else {
    log << "plinth serve: " << access.keys.size() << " API keys for " << access.tenants.size() << " tenants from "
        << options.config.string() << "\n";
  }

  ServerMetrics metrics({.vllm_aliases = options.vllm_metric_names});
  ApiService service(access, metrics);
  metrics.set_engine_source([&service] { return service.snapshot(); });
  HttpServerOptions http_options = options.http;
  http_options.on_connection = [&metrics](ConnectionEvent event) {
    switch (event) {
      case ConnectionEvent::opened: return metrics.connection_opened();
      case ConnectionEvent::closed: return metrics.connection_closed();
      case ConnectionEvent::refused: return metrics.connection_refused();
    }
  };
  HttpServer http(
      http_options, [&service](HttpRequest request, std::shared_ptr<HttpResponder> out) { service.handle(std::move(request), std::move(out)); },
      [](int status, std::string_view message) { return ApiService::error_response(status, message); });
  http.start();
  log << "plinth serve: listening on http://" << options.http.host << ":" << http.port() << std::endl;

  // The models and engines; filled below. The guard, declared after them, stops the HTTP server
  // before any of them goes away, whichever way this function leaves.
  std::optional<Runtime> runtime;
  std::vector<models::LlamaModel> models;
  std::vector<std::unique_ptr<models::PagedLlama>> batches;
  std::shared_ptr<const models::Tokenizer> tokenizer;
  std::optional<sch::Engine> engine;
  std::optional<models::BertEncoder> encoder;
  std::optional<models::BertBatchEncoder> batch_encoder;
  std::optional<sch::EmbeddingEngine> embedding_engine;
  struct StopFirst {
    HttpServer& http;
    ~StopFirst() { http.stop(); }
  } stop_first{http};

  RuntimeOptions runtime_options;
  runtime_options.plugin_paths.assign(options.plugins.begin(), options.plugins.end());
  std::set<std::string> wanted(options.devices.begin(), options.devices.end());
  if (!options.embedding_model.empty()) wanted.insert(options.embedding_device);
  runtime_options.devices.assign(wanted.begin(), wanted.end());
  runtime.emplace(runtime_options);

  const auto model_path = models::resolve_model(options.model);
  const auto t0 = SteadyClock::now();
  models.reserve(options.devices.size());
  for (const auto& id : options.devices) {
    models.push_back(models::LlamaModel::load(runtime->device(id), model_path));
  }
  for (auto& m : models) {
    models::PagedLlamaOptions paged;
    paged.num_blocks = options.kv_blocks;
    paged.max_batch_tokens = static_cast<int>(options.max_batch_tokens);
    paged.max_seqs = static_cast<int>(options.max_running);
    batches.push_back(std::make_unique<models::PagedLlama>(m, paged));
  }
  tokenizer = models::load_gguf_tokenizer(models.front().file());
  sch::EngineOptions engine_options;
  engine_options.scheduler.max_batch_tokens = options.max_batch_tokens;
  engine_options.scheduler.max_running = options.max_running;
  engine_options.scheduler.max_queued = options.max_queued;
  engine_options.scheduler.prefill_per_decode = options.prefill_per_decode;
  engine_options.max_queue_wait = options.max_queue_wait;
  engine_options.scheduler.detokenizer = std::make_shared<const sch::Detokenizer>(
      [tokenizer](sch::Token t) { return tokenizer->is_special(t) ? std::string() : tokenizer->token_to_piece(t); });
  apply_tenants(access, engine_options.scheduler.default_tenant, engine_options.scheduler.tenants);
  std::vector<std::reference_wrapper<models::BatchModel>> replicas;
  for (auto& b : batches) replicas.emplace_back(*b);
  engine.emplace(std::move(replicas), engine_options);

  GeneratorEntry generator;
  generator.id = served_id(options.model);
  generator.engine = &*engine;
  generator.tokenizer = tokenizer;
  generator.chat_template = models::ChatTemplate::from_gguf(models.front().file());
  generator.end = models::end_conditions(*tokenizer, generator.chat_template.stop_strings());
  generator.context_length = static_cast<std::size_t>(
      std::min(models.front().config().context_length, batches.front()->max_blocks_per_seq() * batches.front()->block_size()));
  generator.kv_block_size = static_cast<std::uint32_t>(batches.front()->block_size());
  log << "plinth serve: model " << generator.id << " on " << options.devices.size() << " replica(s), "
      << batches.front()->num_blocks() << " KV blocks of " << batches.front()->block_size() << " tokens each, context "
      << generator.context_length << std::endl;
  service.add_generator(std::move(generator));

  if (!options.embedding_model.empty()) {
    auto path = models::resolve_model(options.embedding_model);
    encoder.emplace(models::BertEncoder::load(runtime->device(options.embedding_device), path));
    batch_encoder.emplace(*encoder);
    sch::EmbeddingEngineOptions embedding_options;
    apply_tenants(access, embedding_options.default_tenant, embedding_options.tenants);
    embedding_engine.emplace(std::vector<std::reference_wrapper<models::BatchEncoder>>{*batch_encoder}, embedding_options);
    const auto dir = std::filesystem::is_directory(path) ? path : path.parent_path();
    service.add_embedder({.id = served_id(options.embedding_model),
                          .engine = &*embedding_engine,
                          .tokenizer = std::shared_ptr<const models::Tokenizer>(models::load_wordpiece(dir))});
    log << "plinth serve: embedding model " << served_id(options.embedding_model) << " on "
        << options.embedding_device << std::endl;
  }
  service.set_ready(true);
  log << "plinth serve: ready (loaded in "
      << std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - t0).count() << " ms)" << std::endl;

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  log << "plinth serve: " << (signal_number == SIGTERM ? "SIGTERM" : "SIGINT") << ": draining, "
      << service.in_flight() << " request(s) in flight, grace " << options.drain_timeout.count() << " ms" << std::endl;
  service.begin_drain();
  http.begin_drain();
  if (!wait_until([&] { return service.in_flight() == 0; }, options.drain_timeout)) {
    log << "plinth serve: grace period over: cancelling " << service.in_flight() << " request(s)" << std::endl;
    service.cancel_all();
    wait_until([&] { return service.in_flight() == 0; }, std::chrono::seconds(5));
  }
  // The last responses are queued on their connections; let them reach the clients.
  wait_until([&] { return http.open_connections() == 0; }, std::chrono::seconds(2));
  http.stop();
  if (embedding_engine) embedding_engine->stop();
  engine->stop();
  log << "plinth serve: stopped" << std::endl;
  return 0;
}

}  // namespace plinth::server
