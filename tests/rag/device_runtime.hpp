// A runtime that loads exactly one plugin (no environment, no default directories), for the rag tests
// that run on real devices.
#pragma once

#include <memory>
#include <string>

#include "plinth/runtime.hpp"

namespace plinth::rag::test {

inline std::unique_ptr<Runtime> runtime_with(const std::string& plugin_path) {
  RuntimeOptions options;
  options.plugin_paths = {plugin_path};
  options.use_env_plugin_path = false;
  options.use_default_plugin_dirs = false;
  return std::make_unique<Runtime>(options);
}

}  // namespace plinth::rag::test
