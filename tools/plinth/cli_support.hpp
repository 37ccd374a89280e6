// What the subcommands share: how free text, plugin paths and seeds are taken from the command line,
// the options of the decoder commands, and how a command opens the one device it runs on. Each rule
// is written here once, so every command behaves the same way.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "plinth/models/sampler.hpp"
#include "plinth/runtime.hpp"

namespace plinth::cli {

// A repeatable option whose values are free text (stop strings, device ids, paths): one value per
// occurrence, kept byte for byte. CLI11 would otherwise take several values after one flag, and read
// a value written "[a,b]" as a list of two.
CLI::Option* add_verbatim_list_option(CLI::App* cmd, const std::string& name, std::vector<std::string>& out,
                                      const std::string& help);

// --plugin PATH, repeatable. A path that cannot be loaded is an error (RuntimeOptions::require_plugin_paths).
CLI::Option* add_plugin_option(CLI::App* cmd, std::vector<std::string>& plugins);

// Positional free texts. CLI11 has no verbatim repeatable positional, so the command takes them as
// extras: call allow_verbatim_positionals() when defining it and verbatim_positionals() in its
// callback, which throws on anything that looks like an unknown option.
void allow_verbatim_positionals(CLI::App* cmd);
std::vector<std::string> verbatim_positionals(const CLI::App& cmd);

// "" when `text` is a decimal integer in [0, max], else why not. CLI11 converts "-1" to an unsigned
// type by wrapping and clamps values out of range without a word.
std::string check_unsigned(const std::string& text, unsigned long long max);

template <class T>
struct Unoptional {
  using type = T;
};
template <class T>
struct Unoptional<std::optional<T>> {
  using type = T;
};

// --seed into an unsigned integer or an optional one.
template <class T>
CLI::Option* add_seed_option(CLI::App* cmd, T& seed, const std::string& help) {
  using Value = typename Unoptional<T>::type;
  static_assert(std::is_unsigned_v<Value>);
  return cmd->add_option("--seed", seed, help)
      ->check(CLI::Validator(
          [](std::string& text) { return check_unsigned(text, std::numeric_limits<Value>::max()); }, "UINT",
          "seed"));
}

// What `plinth generate` and `plinth chat` take from the command line about the model, the device and
// sampling. The defaults here are the options' defaults (a command may set another before adding them).
struct DecoderArgs {
  std::string model = "SmolLM2-135M-Instruct";
  std::string device = "cpu:0";
  std::vector<std::string> plugins{};
  int context = 2048;
  int max_tokens = 128;
  models::SamplingOptions sampling{};  // its seed is set from `seed` when the command runs
  std::optional<uint64_t> seed{};
  std::vector<std::string> stop{};
};

// The help texts that differ between the commands.
struct DecoderOptionsHelp {
  std::string max_tokens;
  std::string seed;
  std::string stop;
};

// --model, --device, --ctx-size, --max-tokens/-n, --temperature, --top-k, --top-p, --min-p,
// --repeat-penalty, --repeat-last-n, --plugin, --seed and --stop, in that order, into `args`.
void add_decoder_options(CLI::App* cmd, DecoderArgs& args, const DecoderOptionsHelp& help);

// The one device a model command runs on, with the runtime that owns it. Only that device is opened
// (and only the plugins needed to find it are loaded), besides every plugin named with --plugin.
class OpenedDevice {
 public:
  OpenedDevice(const std::string& id, const std::vector<std::string>& plugins);
  Device& device() const { return *device_; }

 private:
  std::unique_ptr<Runtime> runtime_;
  Device* device_ = nullptr;
};

}  // namespace plinth::cli
