// An application of the installed package, run from outside any build tree: with only the default
// search (no PLINTH_PLUGIN_PATH), it must find the installed plugins through where libplinth was
// loaded from. Prints one line per loaded plugin ("plugin NAME PATH") and per device ("device ID").
#include <iostream>

#include "plinth/plinth.hpp"

int main() {
  plinth::RuntimeOptions options;
  options.use_env_plugin_path = false;
  plinth::Runtime runtime(options);
  for (const auto& plugin : runtime.plugins())
    std::cout << "plugin " << plugin.name << " " << plugin.path.string() << "\n";
  for (const auto& rejected : runtime.rejected_plugins()) {
    std::cout << "rejected " << rejected.path.string() << ": " << rejected.reason << "\n";
  }
  for (const auto* device : runtime.devices()) std::cout << "device " << device->id() << "\n";
  return runtime.plugins().empty() ? 1 : 0;
}
