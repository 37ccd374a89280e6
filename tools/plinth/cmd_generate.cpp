// plinth generate [--model PATH|NAME] [--device ID] [sampling options] [--stop STR]... [--chat] PROMPT:
// streams the decoder's continuation of PROMPT to stdout as it is generated, then prints to stderr
// the prompt and generated token counts, prefill and decode speed, and the time to the first token.
// With --chat the prompt is sent as one user message through the model's chat template. PROMPT "-"
// reads the prompt from stdin.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cli_support.hpp"
#include "commands.hpp"
#include "plinth/models/chat_template.hpp"
#include "plinth/models/generate.hpp"
#include "plinth/models/llama_model.hpp"
#include "plinth/models/llama_session.hpp"
#include "plinth/models/model_store.hpp"
#include "plinth/models/tokenizer.hpp"
#include "plinth/plinth.hpp"

namespace plinth::cli {
namespace {

struct GenerateArgs {
  DecoderArgs decoder{};
  bool chat = false;
  std::optional<std::string> system;
  std::string prompt;
};

void print_stats(const models::GenerateStats& s, uint64_t seed) {
  std::fprintf(stderr,
               "prompt: %d tokens, %.1f tok/s | generated: %d tokens, %.1f tok/s | time to first token: "
               "%.3f s | stop: %s | seed: %llu\n",
               s.prompt_tokens, s.prefill_tokens_per_s(), s.generated_tokens, s.decode_tokens_per_s(),
               s.time_to_first_token_s, s.stop_reason.c_str(), static_cast<unsigned long long>(seed));
}

int run_generate(GenerateArgs& args) {
  DecoderArgs& decoder = args.decoder;
  decoder.sampling.seed = decoder.seed ? *decoder.seed : std::random_device{}();
  models::validate(decoder.sampling);  // before the model loads: a typo should not cost a load
  if (decoder.max_tokens < 0) throw std::invalid_argument("--max-tokens must be >= 0");
  const auto path = models::resolve_model(decoder.model);

  const OpenedDevice opened(decoder.device, decoder.plugins);
  const auto model = models::LlamaModel::load(opened.device(), path);
  const auto tokenizer = models::load_gguf_tokenizer(model.file());
  const int context = std::min(decoder.context, model.config().context_length);
  models::LlamaSession session(model, context);

  models::GenerateOptions options{
      .max_tokens = decoder.max_tokens, .sampling = decoder.sampling, .stop = decoder.stop};
  std::string text = args.prompt;
  if (text == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (text.ends_with('\n')) text.pop_back();  // the newline that ends a piped line is not part of it
    if (text.ends_with('\r')) text.pop_back();
  }
  std::vector<std::string> end_strings;
  if (args.chat) {
    const auto chat_template = models::ChatTemplate::from_gguf(model.file());
    std::vector<models::ChatMessage> messages;
    if (args.system) messages.push_back({"system", *args.system});
    messages.push_back({"user", text});
    text = chat_template.apply(messages, /*add_generation_prompt=*/true);
    end_strings = chat_template.stop_strings();
  }
  models::end_conditions(*tokenizer, end_strings).apply(options);
  const auto prompt = tokenizer->encode(text, /*add_special=*/true);
  if (prompt.empty()) throw std::invalid_argument("the prompt encodes to no tokens");
  if (static_cast<int>(prompt.size()) >= context) {
    throw std::invalid_argument("the prompt has " + std::to_string(prompt.size()) +
                                " tokens; the context holds " + std::to_string(context) +
                                " (see --ctx-size)");
  }

  bool ends_with_newline = true;
  const auto stats = models::generate(session, *tokenizer, prompt, options, [&](std::string_view piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    ends_with_newline = piece.back() == '\n';
    return true;
  });
  if (!ends_with_newline) std::fputs("\n", stdout);
  std::fflush(stdout);
  print_stats(stats, decoder.sampling.seed);
  return 0;
}

}  // namespace

void add_generate_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<GenerateArgs>();
  auto* cmd =
      app.add_subcommand("generate", "Generate text from a prompt with a decoder model, streamed to stdout");
  add_decoder_options(cmd, args->decoder,
                      {.max_tokens = "Tokens to generate at most",
                       .seed = "Random seed (default: a random one, printed at the end)",
                       .stop = "Stop string: generation ends before it (repeatable)"});
  cmd->add_flag("--chat", args->chat,
                "Send the prompt as one user message through the model's chat template");
  cmd->add_option("--system", args->system,
                  "With --chat: a system message (default: the template's, if any)");
  cmd->add_option("prompt", args->prompt, "The prompt; - reads it from stdin")->required();
  cmd->callback([args, &exit_code] { exit_code = run_generate(*args); });
}

}  // namespace plinth::cli
