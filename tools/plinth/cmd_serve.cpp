// plinth serve: the OpenAI-compatible HTTP server (server/serve.hpp). This file only maps the command
// line onto ServeOptions; docs/server.md describes the server.
#include <iostream>
#include <memory>
#include <plinth/server/serve.hpp>
#include <string>

#include "cli_support.hpp"
#include "commands.hpp"

namespace plinth::cli {
namespace {

struct ServeArgs {
  server::ServeOptions options;
  std::string config;
  bool no_embeddings = false;
  double read_timeout_s = 10, idle_timeout_s = 30, write_timeout_s = 30, drain_timeout_s = 30;
  double max_queue_wait_s = 1;
};

std::chrono::milliseconds serve_millis(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000.0));
}

}  // namespace

void add_serve_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ServeArgs>();
  auto& o = args->options;
  o.devices.clear();  // --device fills it; cpu:0 when none is given
  auto* cmd = app.add_subcommand(
      "serve",
      "The OpenAI-compatible HTTP server: /v1/chat/completions, /v1/completions, /v1/embeddings,\n"
      "/v1/models, /health, /ready and /metrics, over the serving engine (one replica per --device).\n"
      "Listens first; /ready answers 200 once the models are loaded. SIGTERM drains: no new requests,\n"
      "streams in flight get --drain-timeout to finish, then the rest are cancelled and it exits 0");
  cmd->add_option("--host", o.http.host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", o.http.port, "Port to listen on (0: any free port; the log says which)")
      ->capture_default_str();
  cmd->add_option("--model", o.model, "Decoder: a default model's name or a GGUF path")->capture_default_str();
  add_verbatim_list_option(cmd, "--device", o.devices,
                           "Device for a replica of the decoder; repeat for more replicas (default cpu:0)");
  cmd->add_option("--embedding-model", o.embedding_model,
                  "Encoder for /v1/embeddings: a default model's name or a model directory")
      ->capture_default_str();
  cmd->add_flag("--no-embeddings", args->no_embeddings, "Serve no embedding model");
  cmd->add_option("--embedding-device", o.embedding_device, "Device of the encoder")->capture_default_str();
  add_plugin_option(cmd, o.plugins);
  cmd->add_option("--config", args->config,
                  "Tenants and API keys (TOML, docs/server-config.md); without it the server runs in open\n"
                  "mode: no keys, one tenant");
  cmd->add_option("--max-running", o.max_running, "Sequences decoding at once, per replica")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--max-queued", o.max_queued,
                  "Requests waiting per replica, all tenants; beyond it requests get 429 with Retry-After")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--max-queue-wait", args->max_queue_wait_s,
                  "Seconds a request may be expected to wait for a running slot; beyond it, 429 with\n"
                  "Retry-After at once (0: no bound but --max-queued)")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--max-batch-tokens", o.max_batch_tokens, "Tokens in one engine step")
      ->check(CLI::Range(16, 1 << 16))
      ->capture_default_str();
  cmd->add_option("--kv-blocks", o.kv_blocks, "KV-cache blocks of 16 tokens per replica (0: from free memory)")
      ->check(CLI::Range(0, 1 << 24))
      ->capture_default_str();
  cmd->add_option("--prefill-per-decode", o.prefill_per_decode,
                  "Prompt tokens a step may add per decoding sequence (0: no cap); bounds how much a long\n"
                  "prompt slows the streams already running")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  cmd->add_option("--http-threads", o.http.io_threads, "Threads serving the connections")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--max-connections", o.http.limits.max_connections,
                  "Open connections at once; more are answered 503 and closed")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--max-body-bytes", o.http.limits.max_body_bytes, "Request bodies beyond this get 413")
      ->check(CLI::Range(1024, 1 << 30))
      ->capture_default_str();
  cmd->add_option("--max-header-bytes", o.http.limits.max_header_bytes, "Request headers beyond this get 431")
      ->check(CLI::Range(1024, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--read-timeout", args->read_timeout_s,
                  "Seconds a request may take to arrive, header and body (slow senders are cut off)")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  cmd->add_option("--idle-timeout", args->idle_timeout_s, "Seconds a keep-alive connection may wait idle")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  cmd->add_option("--write-timeout", args->write_timeout_s,
                  "Seconds one write to a client may stall before the connection is closed")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  cmd->add_flag("--vllm-metric-names", o.vllm_metric_names,
                "Also export the vLLM-named gauges (vllm:num_requests_waiting, vllm:kv_cache_usage_perc, ...)\n"
                "that the Gateway API Inference Extension's endpoint picker reads by default\n"
                "(docs/server-metrics.md)");
  cmd->add_option("--drain-timeout", args->drain_timeout_s,
                  "Seconds streams in flight get to finish after SIGTERM")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->callback([args, &exit_code] {
    auto& opts = args->options;
    if (opts.devices.empty()) opts.devices = {"cpu:0"};
    if (args->no_embeddings) opts.embedding_model.clear();
    opts.config = args->config;
    opts.http.limits.read_timeout = serve_millis(args->read_timeout_s);
    opts.http.limits.idle_timeout = serve_millis(args->idle_timeout_s);
    opts.http.limits.write_timeout = serve_millis(args->write_timeout_s);
    opts.drain_timeout = serve_millis(args->drain_timeout_s);
    opts.max_queue_wait = serve_millis(args->max_queue_wait_s);
    exit_code = server::serve(opts, std::cerr);
  });
}

}  // namespace plinth::cli
