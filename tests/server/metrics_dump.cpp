// plinth_metrics_dump: prints the text of a ServerMetrics filled with sample values of every kind (all
// request events, rejections, connections, and an engine snapshot with two generation replicas, one of
// them down, and an embedding model), for promtool to lint. `--no-vllm-aliases`: only plinth_* names.
#include <cstdio>
#include <cstring>
#include <plinth/server/metrics.hpp>

namespace {

using plinth::scheduler::EmbeddingStats;
using plinth::scheduler::EncoderReplicaHealth;
using plinth::scheduler::ReplicaHealth;
using plinth::scheduler::SchedulerStats;
using plinth::scheduler::TenantStats;
using plinth::server::EngineSnapshot;

SchedulerStats replica(std::size_t queued, std::size_t running, std::uint32_t in_use) {
  SchedulerStats s;
  s.queued = queued;
  s.resuming = 1;
  s.running = running;
  s.kv.total_blocks = 1024;
  s.kv.in_use_blocks = in_use;
  s.kv.cached_blocks = 100;
  s.kv.free_blocks = 1024 - 100 - in_use;
  s.kv.prompt_tokens = 50000;
  s.kv.evictions = 12;
  s.kv_usage = static_cast<double>(in_use) / 1024.0;
  s.prefix_hit_tokens = 20000;
  s.preemptions = 3;
  s.steps = 9000;
  s.prefill_tokens = 52000;
  s.generated_tokens = 30000;
  s.tenants = {TenantStats{.tenant = "acme", .queued = queued, .running = running},
               TenantStats{.tenant = "globex", .queued = 0, .running = 1}};
  return s;
}

EngineSnapshot snapshot() {
  EngineSnapshot s;
  EngineSnapshot::Generator g;
  g.model = "smollm2-135m";
  g.block_size = 16;
  g.replicas = {replica(4, 10, 700), replica(0, 0, 0)};
  g.health = {
      ReplicaHealth{.index = 0, .healthy = true, .last_error = {}},
      ReplicaHealth{
          .index = 1, .healthy = false, .consecutive_errors = 3, .errors = 3, .last_error = "device lost"}};
  s.generators.push_back(g);
  EngineSnapshot::Embedder e;
  e.model = "all-minilm-l6-v2";
  e.stats = EmbeddingStats{.queued = 2,
                           .retrying = 0,
                           .queued_tokens = 300,
                           .running = 5,
                           .batches = 40,
                           .tokens_embedded = 12000,
                           .inputs_embedded = 400,
                           .tenants = {TenantStats{.tenant = "acme", .queued = 2, .running = 5}}};
  e.health = {EncoderReplicaHealth{.index = 0, .healthy = true, .busy = true, .last_error = {}}};
  s.embedders.push_back(e);
  s.ready = true;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  plinth::server::ServerMetricsOptions options;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--no-vllm-aliases") == 0) {
      options.vllm_aliases = false;
    } else if (std::strcmp(argv[i], "--vllm-aliases") == 0) {
      options.vllm_aliases = true;
    } else {
      std::fprintf(stderr, "usage: %s [--vllm-aliases | --no-vllm-aliases]\n", argv[0]);
      return 2;
    }
  }

  plinth::server::ServerMetrics metrics(options);
  metrics.set_engine_source(snapshot);
  // A tenant name with the characters the text format escapes.
  for (const char* tenant : {"acme", "globex", "quote\"back\\slash\nnewline"}) {
    plinth::server::RequestMetrics chat = metrics.request(tenant, "smollm2-135m", "chat_completions");
    chat.first_token(0.045);
    for (int i = 0; i < 20; ++i) chat.inter_token(0.004 + 0.001 * i);
    chat.tokens(120, 20);
    chat.cached_prompt_tokens(64);
    chat.finished(200, 0.9);
    metrics.request_finished(tenant, "smollm2-135m", "completions", 429, 0.001);
    metrics.request_rejected(tenant, "tenant_queue_full");
    plinth::server::RequestMetrics embed = metrics.request(tenant, "all-minilm-l6-v2", "embeddings");
    embed.tokens(300, 0);
    embed.finished(200, 0.05);
    metrics.request_finished(tenant, "", "models", 200, 0.0004);
  }
  metrics.request_finished("acme", "smollm2-135m", "chat_completions", 500, 2.0);
  metrics.request_rejected("acme", "rate_limited");
  metrics.connection_opened();
  metrics.connection_opened();
  metrics.connection_closed();
  metrics.connection_refused();

  const std::string text = metrics.render();
  std::fwrite(text.data(), 1, text.size(), stdout);
  return std::ferror(stdout) ? 1 : 0;
}
