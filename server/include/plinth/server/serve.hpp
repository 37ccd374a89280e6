// serve(): `plinth serve` as a library call. It listens first (so /health answers and /ready says
// "loading" while the models load), loads the decoder on every listed device (one engine replica
// each) and the encoder, serves, and on SIGTERM or SIGINT drains: stop accepting, /ready turns 503,
// streams in flight get `drain_timeout` to finish, the rest are cancelled, and it returns 0.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "plinth/server/http_server.hpp"

namespace plinth::server {

struct ServeOptions {
  HttpServerOptions http{};
  std::string model = "SmolLM2-135M-Instruct";  // decoder: a default model's name or a GGUF path
  std::vector<std::string> devices{"cpu:0"};    // one engine replica per device
  std::string embedding_model = "all-MiniLM-L6-v2";  // "" serves no embeddings
  std::string embedding_device = "cpu:0";
  std::vector<std::string> plugins{};
  std::filesystem::path config{};  // tenants and keys (TOML); empty: open mode, one tenant
  std::size_t max_running = 64;    // sequences decoding at once, per replica
  std::size_t max_queued = 256;    // requests waiting, all tenants, per replica (then 429)
  std::size_t max_batch_tokens = 512;
  int kv_blocks = 0;                   // 0: from the device's free memory
  double prefill_per_decode = 0.5;     // the scheduler's prefill cap while sequences decode
  // A request expected to wait longer than this for a running slot gets a 429 at once (0: off), so
  // what is admitted starts soon (EngineOptions::max_queue_wait).
  std::chrono::milliseconds max_queue_wait{1000};
  std::chrono::milliseconds drain_timeout{30'000};
  // Also export the vLLM-named gauges the Gateway API Inference Extension's endpoint picker reads by
  // default (vllm:num_requests_waiting, ...). Off by default: promtool's lint rejects ':' in names.
  bool vllm_metric_names = false;
};

// Blocks until SIGTERM/SIGINT and the drain are done. Returns the process exit code. Throws on a
// configuration or loading error (after closing the listener). `log` gets one line per event.
int serve(const ServeOptions& options, std::ostream& log);

}  // namespace plinth::server
