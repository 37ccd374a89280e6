// Helpers shared by the CTS tests.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "plinth/cts/cts.hpp"

namespace plinth::cts::test {

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
