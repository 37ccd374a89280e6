// Shared helpers for the core tests: a Runtime that loads only the coretest plugin and keeps its log
// lines in memory so tests can check what was reported.
#pragma once

#include <memory>
#include <mutex>
#include <sstream>
#include <string>

#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include "plinth/plinth.hpp"

namespace plinth::test {

struct CapturedLog {
  std::ostringstream stream;
  std::shared_ptr<spdlog::logger> logger;

  CapturedLog() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream);
    sink->set_pattern("%l %v");
    logger = std::make_shared<spdlog::logger>("test", sink);
    logger->set_level(spdlog::level::debug);
  }
  std::string text() {
    logger->flush();
    return stream.str();
  }
};

inline RuntimeOptions coretest_options(CapturedLog& log) {
  RuntimeOptions o;
  o.plugin_paths = {PLINTH_TEST_COREPLUGIN};
  o.use_env_plugin_path = false;
  o.use_default_plugin_dirs = false;
  o.validate = false;
  o.faults = "";
  o.logger = log.logger;
  return o;
}

inline std::vector<float> iota_floats(std::size_t n, float start = 0.0f) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = start + static_cast<float>(i);
  return v;
}

}  // namespace plinth::test
