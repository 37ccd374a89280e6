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
