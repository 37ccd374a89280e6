// plinth: the command-line front end. Subcommands live in cmd_*.cpp.
#include <cstdio>
#include <exception>
#include <string>

#include "commands.hpp"
#include "plinth/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"plinth: a device-agnostic inference runtime with run-time loaded backend plugins.\n"
               "Backends are found in PLINTH_PLUGIN_PATH, the install's plugin directory and next to\n"
               "this executable; PLINTH_LOG=trace|debug|info|warn|error sets the log level."};
  app.require_subcommand(1);
  app.fallthrough();
  int exit_code = 0;
  plinth::cli::add_devices_command(app, exit_code);
  plinth::cli::add_run_command(app, exit_code);
  plinth::cli::add_cts_command(app, exit_code);
  plinth::cli::add_bench_command(app, exit_code);
  plinth::cli::add_models_command(app, exit_code);
  plinth::cli::add_embed_command(app, exit_code);
  plinth::cli::add_generate_command(app, exit_code);
  plinth::cli::add_chat_command(app, exit_code);
  plinth::cli::add_keys_command(app, exit_code);
  plinth::cli::add_ingest_command(app, exit_code);
  plinth::cli::add_search_command(app, exit_code);
  plinth::cli::add_ask_command(app, exit_code);
  plinth::cli::add_serve_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const plinth::Error& e) {
    // The runtime's own refusals (a plugin path, a device id) are the user's input, said plainly;
    // a failed device call keeps its call, device and status.
    const bool user_input = e.call().rfind("Runtime", 0) == 0 && e.status() == PLINTH_ERROR_INVALID_ARGUMENT;
    std::string text = user_input ? e.message() : e.what();
    if (user_input && text.rfind("no device '", 0) == 0) {
      text += "; `plinth devices -v` lists every device and why any is unusable";
    }
    std::fprintf(stderr, "plinth: error: %s\n", text.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plinth: error: %s\n", e.what());
    return 1;
  }
  return exit_code;
}
