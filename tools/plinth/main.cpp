// plinth: the command-line front end. Subcommands live in cmd_*.cpp.
#include <cstdio>
#include <exception>

#include "commands.hpp"

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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plinth: error: %s\n", e.what());
    return 1;
  }
  return exit_code;
}
