// Helpers shared by the CTS tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "plinth/cts/cts.hpp"

namespace plinth::cts::test {

// A scratch directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("plinth-cts-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::filesystem::path file(const std::string& name, const std::string& text = "") const {
    const auto p = path_ / name;
    if (!text.empty()) std::ofstream(p) << text;
    return p;
  }

 private:
  std::filesystem::path path_;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline const TestResult* find_result(const CtsReport& report, const std::string& id) {
  for (const auto& t : report.tests) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

inline CtsOptions options_for(const char* plugin, Level level, const std::string& filter) {
  CtsOptions o;
  o.plugin = plugin;
  o.level = level;
  o.filter = filter;
  o.expect_path = PLINTH_TEMPLATE_LIST;
  o.test_timeout_s = 20;
  return o;
}

inline std::string failures(const CtsReport& report) {
  std::string out;
  for (const auto& t : report.tests) {
    if (is_failure(t.status)) out += "  " + t.id + ": " + t.message + "\n";
  }
  return out;
}

}  // namespace plinth::cts::test
