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
  DecoderArgs decoder{.max_tokens = 512};
  std::optional<std::string> system;
  bool verbose = false;
};

int run_chat(ChatArgs& args) {
  DecoderArgs& decoder = args.decoder;
  decoder.sampling.seed = decoder.seed ? *decoder.seed : std::random_device{}();
  models::validate(decoder.sampling);
  if (decoder.max_tokens < 1) throw std::invalid_argument("--max-tokens must be >= 1");
  const auto path = models::resolve_model(decoder.model);

  const OpenedDevice opened(decoder.device, decoder.plugins);
  const auto model = models::LlamaModel::load(opened.device(), path);
  const auto tokenizer = models::load_gguf_tokenizer(model.file());
  const auto chat_template = models::ChatTemplate::from_gguf(model.file());
  models::LlamaSession session(model, std::min(decoder.context, model.config().context_length));
  models::Conversation conversation(session, *tokenizer, chat_template, args.system);

  models::GenerateOptions options{
      .max_tokens = decoder.max_tokens, .sampling = decoder.sampling, .stop = decoder.stop};
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

    options.sampling.seed = decoder.sampling.seed + turn;  // each answer draws afresh, yet replays exactly
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
  add_decoder_options(cmd, args->decoder,
                      {.max_tokens = "Tokens per answer at most",
                       .seed = "Random seed (default: a random one)",
                       .stop = "Stop string: the answer ends before it (repeatable)"});
  cmd->add_option("--system", args->system, "System message (default: the chat template's, if any)");
  cmd->add_flag("--verbose,-v", args->verbose, "Print token counts and speeds to stderr after each answer");
  cmd->callback([args, &exit_code] { exit_code = run_chat(*args); });
}

}  // namespace plinth::cli
