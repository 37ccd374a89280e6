// Subcommand registration for the plinth CLI. Each add_*_command attaches a CLI11 subcommand whose
// callback does the work and stores the process exit code in `exit_code`. Failures are thrown as
// exceptions; main() prints them as one line ("plinth: error: ...") and exits non-zero.
#pragma once

#include <CLI/CLI.hpp>

namespace plinth::cli {

void add_devices_command(CLI::App& app, int& exit_code);  // plinth devices [-v] [--json]
void add_run_command(CLI::App& app, int& exit_code);      // plinth run: the portable demo workload
void add_cts_command(CLI::App& app, int& exit_code);      // plinth cts ...
void add_bench_command(CLI::App& app, int& exit_code);    // plinth bench ops ...
void add_models_command(CLI::App& app, int& exit_code);   // plinth models [--json]
void add_embed_command(CLI::App& app, int& exit_code);    // plinth embed TEXT... | --file F
void add_generate_command(CLI::App& app, int& exit_code); // plinth generate PROMPT
void add_chat_command(CLI::App& app, int& exit_code);     // plinth chat (interactive)
void add_keys_command(CLI::App& app, int& exit_code);     // plinth keys new|hash|check
void add_serve_command(CLI::App& app, int& exit_code);    // plinth serve: the OpenAI-compatible server
void add_ingest_command(CLI::App& app, int& exit_code);   // plinth ingest: files into a RAG collection
void add_search_command(CLI::App& app, int& exit_code);   // plinth search: hybrid retrieval
void add_ask_command(CLI::App& app, int& exit_code);      // plinth ask: a cited answer from collections

}  // namespace plinth::cli
