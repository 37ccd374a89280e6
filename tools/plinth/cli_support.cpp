#include "cli_support.hpp"

#include <charconv>
#include <stdexcept>

namespace plinth::cli {

CLI::Option* add_verbatim_list_option(CLI::App* cmd, const std::string& name, std::vector<std::string>& out,
                                      const std::string& help) {
  return cmd->add_option(name, out, help)->allow_extra_args(false);
}

CLI::Option* add_plugin_option(CLI::App* cmd, std::vector<std::string>& plugins) {
  return add_verbatim_list_option(cmd, "--plugin", plugins,
                                  "Backend plugin file or directory to load first (repeatable); one that "
                                  "cannot be loaded is an error");
}

void add_decoder_options(CLI::App* cmd, DecoderArgs& args, const DecoderOptionsHelp& help) {
  cmd->add_option("--model", args.model, "GGUF file, or the name of a default model")->capture_default_str();
  cmd->add_option("--device", args.device, "Device to run on (see `plinth devices`)")->capture_default_str();
  cmd->add_option("--ctx-size", args.context, "Tokens the context holds (at most the model's)")
      ->capture_default_str();
  cmd->add_option("--max-tokens,-n", args.max_tokens, help.max_tokens)->capture_default_str();
  cmd->add_option("--temperature", args.sampling.temperature, "0 = greedy")->capture_default_str();
  cmd->add_option("--top-k", args.sampling.top_k, "0 = off")->capture_default_str();
  cmd->add_option("--top-p", args.sampling.top_p, "1 = off")->capture_default_str();
  cmd->add_option("--min-p", args.sampling.min_p, "0 = off")->capture_default_str();
  cmd->add_option("--repeat-penalty", args.sampling.repetition_penalty, "1 = off")->capture_default_str();
  cmd->add_option("--repeat-last-n", args.sampling.repeat_last_n, "Tokens the repeat penalty looks back over")
      ->capture_default_str();
  add_plugin_option(cmd, args.plugins);
  add_seed_option(cmd, args.seed, help.seed);
  add_verbatim_list_option(cmd, "--stop", args.stop, help.stop);
}

void allow_verbatim_positionals(CLI::App* cmd) {
  // Extras stay with this command instead of falling through to `plinth` itself, which takes none.
  cmd->allow_extras()->fallthrough(false);
}

std::vector<std::string> verbatim_positionals(const CLI::App& cmd) {
  std::vector<std::string> texts = cmd.remaining();
  for (const std::string& text : texts) {
    if (text.size() > 1 && text[0] == '-') {
      throw std::invalid_argument(cmd.get_name() + ": unknown option '" + text +
                                  "' (a text that starts with '-' can be given with --file)");
    }
  }
  return texts;
}

std::string check_unsigned(const std::string& text, unsigned long long max) {
  unsigned long long value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value > max) {
    return "'" + text + "' is not an integer from 0 to " + std::to_string(max);
  }
  return {};
}

OpenedDevice::OpenedDevice(const std::string& id, const std::vector<std::string>& plugins) {
  RuntimeOptions options;
  for (const auto& p : plugins) options.plugin_paths.emplace_back(p);
  options.devices = {id};  // opening only the device asked for keeps start-up short
  runtime_ = std::make_unique<Runtime>(options);
  device_ = runtime_->find_device(id);
  if (device_ == nullptr) runtime_->device(id);  // throws, naming the devices there are
}

}  // namespace plinth::cli
