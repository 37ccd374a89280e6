// plinth chat [--model PATH|NAME] [--device ID] [sampling options] [--system TEXT]: a conversation
// with a chat model. Reads one user message per line from stdin (showing "> " on stderr when stdin is
// a terminal), streams each answer to stdout followed by a newline, and ends at EOF or "/exit";
// "/reset" starts the conversation over. Each turn prefills only what the KV cache does not hold yet
// (models::Conversation).
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cli_support.hpp"
#include "commands.hpp"
#include "plinth/models/chat_template.hpp"
#include "plinth/models/conversation.hpp"
#include "plinth/models/generate.hpp"
#include "plinth/models/llama_model.hpp"
#include "plinth/models/llama_session.hpp"
#include "plinth/models/model_store.hpp"
#include "plinth/models/tokenizer.hpp"
#include "plinth/plinth.hpp"

namespace plinth::cli {
namespace {

struct ChatArgs {
  std::string model = "SmolLM2-135M-Instruct";
  std::string device = "cpu:0";
  std::vector<std::string> plugins;
  int context = 2048;
  int max_tokens = 512;
  models::SamplingOptions sampling{};
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  std::optional<std::string> system;
  bool verbose = false;
};

int run_chat(ChatArgs& args) {
  args.sampling.seed = args.seed ? *args.seed : std::random_device{}();
  models::validate(args.sampling);
  if (args.max_tokens < 1) throw std::invalid_argument("--max-tokens must be >= 1");
  const auto path = models::resolve_model(args.model);

  const OpenedDevice opened(args.device, args.plugins);
  const auto model = models::LlamaModel::load(opened.device(), path);
  const auto tokenizer = models::load_gguf_tokenizer(model.file());
  const auto chat_template = models::ChatTemplate::from_gguf(model.file());
  models::LlamaSession session(model, std::min(args.context, model.config().context_length));
  models::Conversation conversation(session, *tokenizer, chat_template, args.system);

  models::GenerateOptions options{
      .max_tokens = args.max_tokens, .sampling = args.sampling, .stop = args.stop};
  models::end_conditions(*tokenizer, chat_template.stop_strings()).apply(options);

  const bool interactive = isatty(STDIN_FILENO) != 0;
  uint64_t turn = 0;
  std::string line;
  for (;;) {
    if (interactive) std::fputs("> ", stderr);
    if (!std::getline(std::cin, line)) break;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line == "/exit") break;
    if (line == "/reset") {
      conversation.reset();
      if (interactive) std::fputs("(conversation cleared)\n", stderr);
      continue;
    }
    if (line.empty()) continue;

    options.sampling.seed = args.sampling.seed + turn;  // each answer draws afresh, yet replays exactly
    const auto stats = conversation.turn(line, options, [](std::string_view piece) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      return true;
    });
    if (!stats) {
      std::fputs("plinth chat: the conversation no longer fits in the context; /reset to start over\n",
                 stderr);
      continue;
    }
    ++turn;
    std::fputs("\n", stdout);
    std::fflush(stdout);
    if (args.verbose) {
      std::fprintf(
          stderr,
          "[prefill: %d tokens, %.1f tok/s | generated: %d tokens, %.1f tok/s | time to first token: "
          "%.3f s | stop: %s | context: %d/%d]\n",
          stats->prompt_tokens, stats->prefill_tokens_per_s(), stats->generated_tokens,
          stats->decode_tokens_per_s(), stats->time_to_first_token_s, stats->stop_reason.c_str(),
          session.position(), session.max_context());
    }
  }
  if (interactive) std::fputs("\n", stderr);
  return 0;
}

}  // namespace

void add_chat_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ChatArgs>();
  auto* cmd = app.add_subcommand("chat",
                                 "Chat with a decoder model: one user message per line on stdin; "
                                 "/reset clears the conversation, /exit or EOF ends it");
  cmd->add_option("--model", args->model, "GGUF file, or the name of a default model")->capture_default_str();
  cmd->add_option("--device", args->device, "Device to run on (see `plinth devices`)")->capture_default_str();
  cmd->add_option("--ctx-size", args->context, "Tokens the context holds (at most the model's)")
      ->capture_default_str();
  cmd->add_option("--max-tokens,-n", args->max_tokens, "Tokens per answer at most")->capture_default_str();
  cmd->add_option("--temperature", args->sampling.temperature, "0 = greedy")->capture_default_str();
  cmd->add_option("--top-k", args->sampling.top_k, "0 = off")->capture_default_str();
  cmd->add_option("--top-p", args->sampling.top_p, "1 = off")->capture_default_str();
  cmd->add_option("--min-p", args->sampling.min_p, "0 = off")->capture_default_str();
  cmd->add_option("--repeat-penalty", args->sampling.repetition_penalty, "1 = off")->capture_default_str();
  cmd->add_option("--repeat-last-n", args->sampling.repeat_last_n,
                  "Tokens the repeat penalty looks back over")
      ->capture_default_str();
  add_plugin_option(cmd, args->plugins);
  add_seed_option(cmd, args->seed, "Random seed (default: a random one)");
  add_verbatim_list_option(cmd, "--stop", args->stop, "Stop string: the answer ends before it (repeatable)");
  cmd->add_option("--system", args->system, "System message (default: the chat template's, if any)");
  cmd->add_flag("--verbose,-v", args->verbose, "Print token counts and speeds to stderr after each answer");
  cmd->callback([args, &exit_code] { exit_code = run_chat(*args); });
}

}  // namespace plinth::cli
