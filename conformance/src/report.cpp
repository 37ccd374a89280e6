// Console summary, JSON and JUnit renderings of a CtsReport, and the small public helpers.
#include <cstdlib>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness.hpp"

namespace plinth::cts {

std::optional<Level> parse_level(std::string_view text) {
  if (text == "core") return Level::kCore;
  if (text == "inference-1" || text == "inference1") return Level::kInference1;
  if (text == "inference-2" || text == "inference2") return Level::kInference2;
  return std::nullopt;
}

const char* level_name(Level level) noexcept {
  switch (level) {
    case Level::kCore: return "core";
    case Level::kInference1: return "inference-1";
    case Level::kInference2: return "inference-2";
  }
  return "?";
}

const char* status_name(TestStatus status) noexcept {
  switch (status) {
    case TestStatus::kPassed: return "passed";
    case TestStatus::kFailed: return "failed";
    case TestStatus::kUnsupported: return "unsupported";
    case TestStatus::kExpectedFailure: return "xfail";
    case TestStatus::kStaleExpectedFailure: return "stale-xfail";
    case TestStatus::kSkipped: return "skipped";
  }
  return "?";
}

bool is_failure(TestStatus status) noexcept {
  return status == TestStatus::kFailed || status == TestStatus::kStaleExpectedFailure;
}

std::size_t CtsReport::count(TestStatus status) const noexcept {
  std::size_t n = 0;
  for (const auto& t : tests) n += t.status == status ? 1 : 0;
  return n;
}

std::string CtsReport::verdict() const {
  if (!passed) return "FAILED";
  if (waived_required.empty()) return "PASSED";
  return "PASSED with " + std::to_string(waived_required.size()) + " required op" +
         (waived_required.size() == 1 ? "" : "s") + " waived (not certified)";
}

namespace {

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

struct Counts {
  std::size_t passed = 0, failed = 0, unsupported = 0, xfail = 0, skipped = 0;
  void add(TestStatus s) {
    switch (s) {
      case TestStatus::kPassed: ++passed; break;
      case TestStatus::kFailed:
      case TestStatus::kStaleExpectedFailure: ++failed; break;
      case TestStatus::kUnsupported: ++unsupported; break;
      case TestStatus::kExpectedFailure: ++xfail; break;
      case TestStatus::kSkipped: ++skipped; break;
    }
  }
};

void print_counts(std::ostream& out, const std::string& name, const Counts& c) {
  out << "  " << std::left << std::setw(22) << name << std::right << " passed " << std::setw(3) << c.passed
      << "  failed " << std::setw(3) << c.failed << "  unsupported " << std::setw(3) << c.unsupported
      << "  xfail " << std::setw(2) << c.xfail;
  if (c.skipped) out << "  skipped " << c.skipped;
  out << '\n';
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (c < 0x20 && c != '\n' && c != '\t') {
          out += ' ';  // XML 1.0 forbids most control characters
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

}  // namespace

void print_summary(const CtsReport& report, std::ostream& out, bool verbose) {
  out << "Plinth CTS, level " << level_name(report.level) << "\n";
  out << "  plugin: " << report.plugin_path;
  if (!report.plugin_name.empty()) out << " (" << report.plugin_name << " " << report.plugin_version << ")";
  out << "\n";
  if (!report.device_name.empty()) out << "  device: " << report.device_name << "\n";
  if (!report.expect_path.empty()) out << "  expectations: " << report.expect_path << "\n";
  out << "  seed: " << report.seed;
  if (report.repeat > 1) {
    out << " (repetition " << report.repetition << " of " << report.repeat
        << (report.passed ? ", every repetition passed" : ", the first that failed") << ")";
  }
  out << "\n";
  // Every entry is shown, not only in verbose mode: whoever evaluates the hardware reads what the
  // vendor declared (docs/plugin-guide.md promises it).
  if (!report.expectations.empty()) {
    out << "\nExpectation list entries (" << report.expect_path << "):\n";
    for (const auto& e : report.expectations) {
      out << "  line " << e.line << ": " << e.kind << " " << e.glob << " (" << e.tests.size() << " test"
          << (e.tests.size() == 1 ? "" : "s") << "): " << e.reason << "\n";
    }
  }
  if (!report.extension_ops.empty()) {
    out << "\nVendor extension ops (the vendor's semantics; listed, not certified):\n";
    for (const auto& op : report.extension_ops) out << "  " << op << "\n";
  }
  out << "\nPer suite:\n";
  std::map<std::string, Counts> suites;
  std::vector<std::string> suite_order;
  std::map<std::string, Counts> ops;
  for (const auto& t : report.tests) {
    if (!suites.count(t.suite)) suite_order.push_back(t.suite);
    suites[t.suite].add(t.status);
    if (t.suite == "ops") ops[t.group].add(t.status);
  }
  for (const auto& s : suite_order) print_counts(out, s, suites[s]);
  if (!ops.empty()) {
    out << "\nPer op:\n";
    for (const auto& [op, c] : ops) print_counts(out, op, c);
  }
  if (!report.perf.empty()) {
    out << "\nPerformance (informational):\n";
    for (const auto& m : report.perf) {
      out << "  " << std::left << std::setw(28) << m.name << std::right << std::fixed << std::setprecision(2)
          << std::setw(12) << m.value << " " << m.unit << "\n";
    }
    out.unsetf(std::ios::fixed);
  }
  bool header = false;
  for (const auto& t : report.tests) {
    const bool show = is_failure(t.status) ||
                      (verbose && (t.status == TestStatus::kUnsupported || t.status == TestStatus::kExpectedFailure ||
                                   t.status == TestStatus::kSkipped));
    if (!show) continue;
    if (!header) {
      out << (verbose ? "\nFailures and notes:\n" : "\nFailures:\n");
      header = true;
    }
    out << "  [" << status_name(t.status) << "] " << t.id << ": " << t.message << "\n";
  }
  const Counts total = [&] {
    Counts c;
    for (const auto& t : report.tests) c.add(t.status);
    return c;
  }();
  out << "\n";
  if (!report.load_error.empty()) out << "Nothing ran: " << report.load_error << "\n";
  if (!report.stop_reason.empty()) out << "Run stopped: " << report.stop_reason << "\n";
  if (report.passed && !report.waived_required.empty()) {
    out << "Required ops waived by the expectation list: " << join(report.waived_required, ", ") << "\n";
  }
  if (report.repeat > 1 && !report.passed && report.load_error.empty()) {
    out << "Failed in repetition " << report.repetition << " of " << report.repeat << " (seed " << report.seed
        << "; earlier repetitions passed)\n";
  }
  out << "Result: level " << level_name(report.level) << " " << report.verdict() << " (" << total.passed
      << " passed, " << total.failed << " failed, " << total.unsupported << " unsupported, " << total.xfail
      << " expected failures, " << total.skipped << " skipped) in " << std::fixed << std::setprecision(1)
      << report.duration_s << " s\n";
  out.unsetf(std::ios::fixed);
}

std::string report_json(const CtsReport& report) {
  using nlohmann::json;
  json j;
  j["plugin"] = {{"path", report.plugin_path}, {"name", report.plugin_name}, {"version", report.plugin_version}};
  j["device"] = report.device_name;
  j["level"] = level_name(report.level);
  j["seed"] = report.seed;
  j["expectations"] = report.expect_path;
  j["passed"] = report.passed;
  j["certified"] = report.certified();
  j["verdict"] = report.verdict();
  j["waived_required"] = report.waived_required;
  j["extension_ops"] = report.extension_ops;
  j["repeat"] = report.repeat;
  j["repetition"] = report.repetition;
  j["expectation_entries"] = json::array();
  for (const auto& e : report.expectations) {
    j["expectation_entries"].push_back(
        {{"line", e.line}, {"kind", e.kind}, {"glob", e.glob}, {"reason", e.reason}, {"tests", e.tests}});
  }
  j["stop_reason"] = report.stop_reason;
  j["load_error"] = report.load_error;
  j["duration_s"] = report.duration_s;
  j["summary"] = {{"passed", report.count(TestStatus::kPassed)},
                  {"failed", report.count(TestStatus::kFailed)},
                  {"unsupported", report.count(TestStatus::kUnsupported)},
                  {"xfail", report.count(TestStatus::kExpectedFailure)},
                  {"stale_xfail", report.count(TestStatus::kStaleExpectedFailure)},
                  {"skipped", report.count(TestStatus::kSkipped)}};
  j["tests"] = json::array();
  for (const auto& t : report.tests) {
    j["tests"].push_back({{"id", t.id},
                          {"suite", t.suite},
                          {"group", t.group},
                          {"status", status_name(t.status)},
                          {"message", t.message},
                          {"duration_ms", t.duration_ms},
                          {"required", t.required}});
  }
  j["perf"] = json::array();
  for (const auto& m : report.perf) j["perf"].push_back({{"name", m.name}, {"value", m.value}, {"unit", m.unit}});
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string report_junit(const CtsReport& report) {
  std::map<std::string, std::vector<const TestResult*>> suites;
  std::vector<std::string> order;
  for (const auto& t : report.tests) {
    if (!suites.count(t.suite)) order.push_back(t.suite);
    suites[t.suite].push_back(&t);
  }
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  if (!report.load_error.empty()) {
    // Nothing ran: one failed test case says why, so that CI shows the reason.
    out << "<testsuites name=\"plinth-cts " << level_name(report.level) << "\" tests=\"1\" failures=\"1\" time=\""
        << report.duration_s << "\">\n"
        << "  <testsuite name=\"plugin\" tests=\"1\" failures=\"1\" skipped=\"0\" time=\"0\">\n"
        << "    <testcase classname=\"cts.plugin\" name=\"plugin.load\" time=\"0\">\n"
        << "      <failure message=\"" << xml_escape(report.load_error) << "\" type=\"failed\"/>\n"
        << "    </testcase>\n  </testsuite>\n</testsuites>\n";
    return out.str();
  }
  out << "<testsuites name=\"plinth-cts " << level_name(report.level) << "\" tests=\""
      << report.tests.size() + 1 << "\" failures=\""
      << (report.count(TestStatus::kFailed) + report.count(TestStatus::kStaleExpectedFailure) +
          (report.passed ? 0 : 1))
      << "\" time=\"" << report.duration_s << "\">\n";
  // The verdict as a test case of its own: passed when certified, skipped (with the waived ops) when
  // the level passes only thanks to waivers of required ops, failed otherwise.
  {
    const std::string level = level_name(report.level);
    const bool waived = report.passed && !report.certified();
    out << "  <testsuite name=\"certification\" tests=\"1\" failures=\"" << (report.passed ? 0 : 1)
        << "\" skipped=\"" << (waived ? 1 : 0) << "\" time=\"0\">\n"
        << "    <properties>\n      <property name=\"verdict\" value=\"" << xml_escape(report.verdict())
        << "\"/>\n"
        << "      <property name=\"certified\" value=\"" << (report.certified() ? "true" : "false")
        << "\"/>\n"
        << "      <property name=\"seed\" value=\"" << report.seed << "\"/>\n"
        << "      <property name=\"repetition\" value=\"" << report.repetition << " of " << report.repeat
        << "\"/>\n"
        << "    </properties>\n"
        << "    <testcase classname=\"cts.certification\" name=\"certification." << xml_escape(level)
        << "\" time=\"0\"";
    if (report.certified()) {
      out << "/>\n";
    } else if (waived) {
      out << ">\n      <skipped message=\""
          << xml_escape(report.verdict() + ": " + join(report.waived_required, ", "))
          << "\"/>\n    </testcase>\n";
    } else {
      out << ">\n      <failure message=\"level " << xml_escape(level)
          << " FAILED\" type=\"failed\"/>\n    </testcase>\n";
    }
    out << "  </testsuite>\n";
  }
  for (const auto& name : order) {
    std::size_t failures = 0, skipped = 0;
    double time = 0;
    for (const auto* t : suites[name]) {
      failures += is_failure(t->status) ? 1 : 0;
      skipped += (t->status == TestStatus::kUnsupported || t->status == TestStatus::kSkipped ||
                  t->status == TestStatus::kExpectedFailure) ? 1 : 0;
      time += t->duration_ms / 1000.0;
    }
    out << "  <testsuite name=\"" << xml_escape(name) << "\" tests=\"" << suites[name].size() << "\" failures=\""
        << failures << "\" skipped=\"" << skipped << "\" time=\"" << time << "\">\n";
    for (const auto* t : suites[name]) {
      out << "    <testcase classname=\"cts." << xml_escape(t->suite) << "\" name=\"" << xml_escape(t->id)
          << "\" time=\"" << t->duration_ms / 1000.0 << "\"";
      if (t->status == TestStatus::kPassed) {
        out << "/>\n";
        continue;
      }
      out << ">\n";
      if (is_failure(t->status)) {
        out << "      <failure message=\"" << xml_escape(t->message) << "\" type=\"" << status_name(t->status)
            << "\"/>\n";
      } else {
        out << "      <skipped message=\"" << status_name(t->status) << ": " << xml_escape(t->message) << "\"/>\n";
      }
      out << "    </testcase>\n";
    }
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
  return out.str();
}

std::optional<std::filesystem::path> resolve_plugin(std::string_view name_or_path,
                                                    const std::vector<std::filesystem::path>& search_dirs) {
  std::error_code ec;
  const std::filesystem::path direct(name_or_path);
  if (name_or_path.find('/') != std::string_view::npos || std::filesystem::is_regular_file(direct, ec)) {
    if (std::filesystem::is_regular_file(direct, ec)) return direct;
    return std::nullopt;
  }
  const std::string file = "libplinth-backend-" + std::string(name_or_path) + ".so";
  std::vector<std::filesystem::path> dirs;
  if (const char* env = std::getenv("PLINTH_PLUGIN_PATH")) {
    std::string_view rest(env);
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const auto part = rest.substr(0, colon);
      if (!part.empty()) dirs.emplace_back(part);
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  dirs.insert(dirs.end(), search_dirs.begin(), search_dirs.end());
  for (const auto& dir : dirs) {
    const auto candidate = dir / file;
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
  }
  return std::nullopt;
}

}  // namespace plinth::cts
