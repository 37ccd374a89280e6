// run_cts: plans the tests of a level, applies the filter and the expectation list, and runs each
// suite in a forked child so a plugin that crashes or hangs costs one test, not the CTS.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "expectations.hpp"
#include "harness.hpp"

namespace plinth::cts {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

uint64_t test_seed(uint64_t seed, const std::string& id) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (char c : id) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

// Where a child's (or the in-process run's) events go.
struct Sink {
  std::function<void(std::size_t)> start;
  std::function<void(std::size_t, TestStatus, const std::string&, double)> result;
  std::function<void(const PerfMetric&)> metric;
  std::function<void(const std::string&, const std::string&)> info;
};

// Runs tests `indices` of `suite` in this process, reporting through `sink`.
void run_suite_here(const SuiteDef& suite, const std::vector<std::size_t>& indices, const CtsOptions& options,
                    const Sink& sink) {
  auto fail_all = [&](const std::string& message) {
    for (auto i : indices) {
      sink.start(i);
      sink.result(i, TestStatus::kFailed, message, 0.0);
    }
  };
  std::unique_ptr<PluginLibrary> library;
  try {
    library = std::make_unique<PluginLibrary>(options.plugin.string());
  } catch (const std::exception& e) {
    fail_all(e.what());
    return;
  }
  std::unique_ptr<Session> session;
  if (suite.needs_session) {
    try {
      session = std::make_unique<Session>(library->init(), options);
      const auto& api = session->api();
      sink.info("plugin_name", api.name ? api.name : "");
      sink.info("plugin_version", api.version ? api.version : "");
      sink.info("device_name", std::string(session->props().name, strnlen(session->props().name, PLINTH_NAME_MAX)));
      // Listed, never certified; a malformed list fails errors.extension_ops, so report none here.
      std::string extensions;
      try {
        for (const auto& op : list_extension_ops(*session)) extensions += describe_extension_op(op) + "\n";
      } catch (const std::exception&) {
        extensions.clear();
      }
      sink.info("extension_ops", extensions);
    } catch (const std::exception& e) {
      fail_all(std::string("suite setup failed: ") + e.what());
      return;
    }
  }
  for (auto i : indices) {
    const TestDef& test = suite.tests[i];
    TestEnv env;
    env.init = library->init();
    env.session = session.get();
    env.options = &options;
    env.rng.seed(test_seed(options.seed, test.id));
    env.metric = sink.metric;
    sink.start(i);
    const auto t0 = Clock::now();
    TestStatus status = TestStatus::kPassed;
    std::string message;
    try {
      test.run(env);
      message = env.note;
    } catch (const Failure& e) {
      status = TestStatus::kFailed;
      message = e.what();
    } catch (const Unsupported& e) {
      status = TestStatus::kUnsupported;
      message = e.what();
    } catch (const Skipped& e) {
      status = TestStatus::kSkipped;
      message = e.what();
    } catch (const std::exception& e) {
      status = TestStatus::kFailed;
      message = std::string("unexpected exception in the CTS: ") + e.what();
    }
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    sink.result(i, status, message, ms);
  }
}

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    done += static_cast<std::size_t>(n);
  }
}

std::string describe_wait_status(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = strsignal(sig);
    return "killed by signal " + std::to_string(sig) + " (" + (name ? name : "?") + ")";
  }
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "ended abnormally";
}

// What is checked once, before any suite, in a child of its own (the parent never loads a plugin):
// whether the file loads as a plugin at all, and whether --device names a device its probe lists.
// Either problem is one clear error instead of the same failure for every test.
struct Preflight {
  std::string load_error;   // the file is no loadable plugin
  std::string usage_error;  // the options do not fit this plugin (--device N not probed)
};

// In the child (or in process): load, and when a device index was given, probe for it. `loaded`
// is called once the load is settled, so that a crash while probing is not taken for a load error.
Preflight preflight_here(const CtsOptions& options, const std::function<void(const std::string&)>& loaded) {
  Preflight out;
  std::unique_ptr<PluginLibrary> library;
  try {
    library = std::make_unique<PluginLibrary>(options.plugin.string());
  } catch (const std::exception& e) {
    out.load_error = e.what();
  }
  loaded(out.load_error);
  if (!out.load_error.empty() || !options.device) return out;
  // A plugin that cannot even initialize or probe is left to the suites, which report it in detail.
  HostServices host(false, options.host_abi_minor);
  const plinth_plugin_api_t* api = nullptr;
  if (library->init()(&host.services, &api) != PLINTH_OK || api == nullptr || api->probe == nullptr)
    return out;
  uint32_t count = 0;
  std::vector<uint32_t> indices;
  if (api->probe(nullptr, 0, &count) == PLINTH_OK && count > 0 && count < 4096) {
    std::vector<plinth_probe_entry_t> entries(count, sized<plinth_probe_entry_t>());
    uint32_t filled = 0;
    if (api->probe(entries.data(), count, &filled) == PLINTH_OK) {
      entries.resize(std::min(count, filled));
      for (const auto& e : entries) {
        if (e.index != UINT32_MAX) indices.push_back(e.index);
      }
      if (std::find(indices.begin(), indices.end(), *options.device) == indices.end()) {
        std::string listed;
        for (std::size_t i = 0; i < indices.size(); ++i) {
          listed += (i == 0 ? "" : i + 1 == indices.size() ? " and " : ", ") + std::to_string(indices[i]);
        }
        out.usage_error = "--device " + std::to_string(*options.device) + ": the plugin's probe lists " +
                          (indices.empty() ? std::string("no device")
                                           : (indices.size() == 1 ? "only device " : "devices ") + listed) +
                          " (`plinth devices -v` shows them)";
      }
    }
  }
  if (api->shutdown != nullptr) api->shutdown();
  return out;
}

Preflight preflight(const CtsOptions& options) {
  if (!options.isolate) return preflight_here(options, [](const std::string&) {});
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("cannot create a pipe for the loader child");
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("cannot fork the loader child");
  if (pid == 0) {
    ::close(fds[0]);
    const Preflight p = preflight_here(options, [&](const std::string& load_error) {
      write_all(fds[1], dump(json{{"load_error", load_error}}) + "\n");
    });
    if (!p.usage_error.empty()) write_all(fds[1], dump(json{{"usage_error", p.usage_error}}) + "\n");
    ::close(fds[1]);
    _exit(0);
  }
  ::close(fds[1]);
  std::string message;
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.test_timeout_s));
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000))) <= 0) continue;
    char chunk[4096];
    const ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    message.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  const std::string path = options.plugin.string();
  Preflight out;
  if (timed_out) {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%g", options.test_timeout_s);
    out.load_error = "cannot load plugin " + path + ": loading it did not finish within " + secs + " s";
    return out;
  }
  bool loaded = false;
  std::istringstream lines(message);
  for (std::string line; std::getline(lines, line);) {
    const json j = json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    if (j.contains("load_error")) {
      loaded = true;
      out.load_error = j.value("load_error", "");
    }
    if (j.contains("usage_error")) out.usage_error = j.value("usage_error", "");
  }
  // A crash while loading is a load error; one while probing is left to the suites to report.
  if (!loaded)
    out.load_error =
        "cannot load plugin " + path + ": loading it ended the process: " + describe_wait_status(st);
  return out;
}

class Runner {
 public:
  Runner(const CtsOptions& options, const ProgressFn& progress, const RepetitionFn& repetition)
      : options_(options), progress_(progress), progress_repetition_(repetition) {}

  CtsReport run() {
    const auto t0 = Clock::now();
    report_.plugin_path = options_.plugin.string();
    report_.level = options_.level;
    report_.seed = options_.seed;
    load_expectations();
    check_report_paths();
    const Preflight checked = preflight(options_);
    if (!checked.usage_error.empty()) throw UsageError(checked.usage_error);
    report_.load_error = checked.load_error;
    if (!report_.load_error.empty()) {
      report_.passed = false;
      report_.duration_s = std::chrono::duration<double>(Clock::now() - t0).count();
      write_reports();
      return report_;
    }
    suites_ = build_suites(options_.level);
    // Plan: which tests run, which are declared unsupported, which are filtered out.
    for (std::size_t s = 0; s < suites_.size(); ++s) {
      for (std::size_t t = 0; t < suites_[s].tests.size(); ++t) {
        if (!glob_match(options_.filter, suites_[s].tests[t].id)) continue;
        planned_.push_back({s, t});
      }
    }
    if (planned_.empty()) {
      throw UsageError("--filter '" + options_.filter + "' matches no test at level " +
                       level_name(options_.level));
    }
    total_ = planned_.size();
    // --repeat: the whole plan again with seed, seed+1, ...; the first failing repetition is the one
    // reported (its seed reproduces its shapes and interleavings), else the last.
    const uint64_t first_seed = options_.seed;
    report_.repeat = std::max<uint32_t>(1, options_.repeat);
    for (uint32_t rep = 1; rep <= report_.repeat; ++rep) {
      options_.seed = first_seed + (rep - 1);
      report_.seed = options_.seed;
      report_.repetition = rep;
      if (report_.repeat > 1 && progress_repetition_)
        progress_repetition_(rep, report_.repeat, options_.seed);
      run_plan();
      if (!report_.passed) break;
    }
    options_.seed = first_seed;
    summarize_expectations();
    report_.duration_s = std::chrono::duration<double>(Clock::now() - t0).count();
    write_reports();
    return report_;
  }

 private:
  using Key = std::pair<std::size_t, std::size_t>;

  // One repetition of the plan: every planned test once, results in plan order in report_.tests.
  void run_plan() {
    results_.clear();
    extra_results_.clear();
    report_.tests.clear();
    report_.perf.clear();
    report_.stop_reason.clear();
    for (std::size_t s = 0; s < suites_.size(); ++s) {
      std::vector<std::size_t> to_run;
      for (auto [ps, pt] : planned_) {
        if (ps != s) continue;
        const auto& test = suites_[s].tests[pt];
        if (const auto* e = expectations_.find(Expectation::Kind::kUnsupported, test.id)) {
          record(s, pt, TestStatus::kUnsupported, "declared unsupported (" + report_.expect_path + ":" +
                                                      std::to_string(e->line) + "): " + e->reason, 0.0);
        } else if (!report_.stop_reason.empty()) {
          record(s, pt, TestStatus::kSkipped, "not run: " + report_.stop_reason, 0.0);
        } else {
          to_run.push_back(pt);
        }
      }
      if (to_run.empty()) continue;
      if (options_.isolate) {
        run_isolated(s, to_run);
      } else {
        run_in_process(s, to_run);
      }
    }
    // Results in plan order.
    for (auto key : planned_) {
      auto it = results_.find(key);
      if (it != results_.end()) report_.tests.push_back(it->second);
    }
    for (auto& extra : extra_results_) report_.tests.push_back(extra);
    report_.passed = !report_.tests.empty();
    for (const auto& r : report_.tests) {
      if (is_failure(r.status)) report_.passed = false;
    }
  }

  // Every entry of the list with the tests it matched, and the required ops it waives: a level
  // that passes only because the list declares required ops unsupported (or xfail) is not certified.
  void summarize_expectations() {
    report_.waived_required.clear();
    report_.expectations.clear();
    for (const auto& e : expectations_.entries()) {
      AppliedExpectation a;
      a.kind = e.kind == Expectation::Kind::kUnsupported ? "unsupported" : "xfail";
      a.glob = e.glob;
      a.reason = e.reason;
      a.line = e.line;
      report_.expectations.push_back(a);
    }
    for (const auto& t : report_.tests) {
      const bool declared =
          t.status == TestStatus::kUnsupported && t.message.rfind("declared unsupported", 0) == 0;
      const bool xfail =
          t.status == TestStatus::kExpectedFailure || t.status == TestStatus::kStaleExpectedFailure;
      if (!declared && !xfail) continue;
      const auto* e =
          expectations_.find(declared ? Expectation::Kind::kUnsupported : Expectation::Kind::kXfail, t.id);
      if (e == nullptr) continue;
      const auto index = static_cast<std::size_t>(e - expectations_.entries().data());
      report_.expectations[index].tests.push_back(t.id);
      if (t.required && t.status != TestStatus::kStaleExpectedFailure)
        report_.waived_required.push_back(t.id);
    }
  }

  void load_expectations() {
    std::filesystem::path path = options_.expect_path;
    if (path.empty()) {
      // Default: lists/<name>.txt, the name taken from libplinth-backend-<name>.so.
      std::string stem = options_.plugin.filename().string();
      const std::string prefix = "libplinth-backend-";
      if (stem.rfind(prefix, 0) == 0) stem = stem.substr(prefix.size());
      if (const auto dot = stem.find('.'); dot != std::string::npos) stem.resize(dot);
      for (const auto& dir : options_.list_dirs) {
        const auto candidate = dir / (stem + ".txt");
        std::error_code ec;
        if (std::filesystem::is_regular_file(candidate, ec)) {
          path = candidate;
          break;
        }
      }
    }
    if (path.empty()) return;
    try {
      expectations_ = ExpectationList::load(path);
    } catch (const std::runtime_error& e) {
      throw UsageError(e.what());
    }
    report_.expect_path = path.string();
  }

  // A report that cannot be written is a usage error found before the run, not after it.
  void check_report_paths() const {
    for (const auto& path : {options_.json_path, options_.junit_path}) {
      if (path.empty()) continue;
      std::ofstream out(path, std::ios::binary | std::ios::app);
      if (!out) throw UsageError("cannot write report " + path.string() + ": " + std::strerror(errno));
    }
  }

  void record(std::size_t s, std::size_t t, TestStatus status, std::string message, double ms) {
    const TestDef& test = suites_[s].tests[t];
    TestResult r;
    r.id = test.id;
    r.suite = suites_[s].name;
    r.group = test.group.empty() ? suites_[s].name : test.group;
    r.required = test.required;
    r.duration_ms = ms;
    r.status = status;
    r.message = std::move(message);
    if (const auto* e = expectations_.find(Expectation::Kind::kXfail, test.id)) {
      if (status == TestStatus::kFailed) {
        r.status = TestStatus::kExpectedFailure;
        r.message = "expected failure (" + e->reason + "): " + r.message;
      } else if (status == TestStatus::kPassed) {
        r.status = TestStatus::kStaleExpectedFailure;
        r.message = "stale expected failure: the test passes but " + report_.expect_path + ":" +
                    std::to_string(e->line) + " declares it xfail (" + e->reason + "); remove the entry";
      }
    }
    results_[{s, t}] = r;
    if (progress_) progress_(r, results_.size(), total_);
  }

  void on_info(const std::string& key, const std::string& value) {
    if (key == "plugin_name") report_.plugin_name = value;
    if (key == "plugin_version") report_.plugin_version = value;
    if (key == "device_name") report_.device_name = value;
    if (key == "extension_ops") {  // one line per op; every suite's session sends the same list
      report_.extension_ops.clear();
      std::istringstream lines(value);
      for (std::string line; std::getline(lines, line);) report_.extension_ops.push_back(line);
    }
  }

  void run_in_process(std::size_t s, const std::vector<std::size_t>& indices) {
    Sink sink;
    sink.start = [](std::size_t) {};
    sink.result = [&](std::size_t i, TestStatus st, const std::string& m, double ms) { record(s, i, st, m, ms); };
    sink.metric = [&](const PerfMetric& m) { report_.perf.push_back(m); };
    sink.info = [&](const std::string& k, const std::string& v) { on_info(k, v); };
    run_suite_here(suites_[s], indices, options_, sink);
  }

  void run_isolated(std::size_t s, std::vector<std::size_t> pending) {
    const auto& suite = suites_[s];
    while (!pending.empty() && report_.stop_reason.empty()) {
      int fds[2];
      if (pipe(fds) != 0) throw std::runtime_error("cannot create a pipe for the suite child");
      std::fflush(nullptr);
      const pid_t pid = fork();
      if (pid < 0) throw std::runtime_error("cannot fork the suite child");
      if (pid == 0) {
        ::close(fds[0]);
        signal(SIGPIPE, SIG_IGN);
        const int out = fds[1];
        Sink sink;
        sink.start = [&](std::size_t i) { write_all(out, dump(json{{"k", "start"}, {"i", i}}) + "\n"); };
        sink.result = [&](std::size_t i, TestStatus st, const std::string& m, double ms) {
          write_all(out, dump(json{{"k", "result"}, {"i", i}, {"s", static_cast<int>(st)}, {"m", m}, {"ms", ms}}) + "\n");
        };
        sink.metric = [&](const PerfMetric& m) {
          write_all(out, dump(json{{"k", "metric"}, {"n", m.name}, {"v", m.value}, {"u", m.unit}}) + "\n");
        };
        sink.info = [&](const std::string& k, const std::string& v) {
          write_all(out, dump(json{{"k", "info"}, {"key", k}, {"value", v}}) + "\n");
        };
        run_suite_here(suite, pending, options_, sink);
        ::close(out);
        _exit(0);
      }
      ::close(fds[1]);
      supervise(s, pid, fds[0], pending);
      ::close(fds[0]);
    }
  }

  // Reads the child's events until it ends; handles time-outs and crashes.
  void supervise(std::size_t s, pid_t pid, int fd, std::vector<std::size_t>& pending) {
    const SuiteDef& suite = suites_[s];
    const auto timeout = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.test_timeout_s));
    constexpr std::size_t kNone = SIZE_MAX;  // no test running
    std::size_t current = kNone;
    auto deadline = Clock::now() + timeout;  // suite setup gets one test's time too
    std::string buffer;
    bool eof = false;
    while (!eof) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        kill(pid, SIGKILL);
        int st = 0;
        waitpid(pid, &st, 0);
        char secs[32];
        std::snprintf(secs, sizeof secs, "%g", options_.test_timeout_s);
        if (current == kNone && pending.empty()) {
          // Every test reported; the plugin hangs in device_close or shutdown.
          TestResult r;
          r.id = suite.name + ".teardown";
          r.suite = r.group = suite.name;
          r.status = TestStatus::kFailed;
          r.message = std::string("timed out after ") + secs + " s while the suite was torn down (device_close/shutdown hangs)";
          extra_results_.push_back(r);
          if (progress_) progress_(r, results_.size(), total_);
          report_.stop_reason = "the run stopped after " + suite.name + " teardown timed out";
          return;
        }
        const std::size_t victim = current != kNone ? current : pending.front();
        const std::string what = suite.tests[victim].id;
        record(s, victim, TestStatus::kFailed,
               std::string(current != kNone ? "" : "suite setup: ") + "timed out after " + secs + " s (the plugin hangs)", 0.0);
        erase(pending, victim);
        report_.stop_reason = "the run stopped after " + what + " timed out";
        for (auto i : pending) record(s, i, TestStatus::kSkipped, "not run: " + report_.stop_reason, 0.0);
        pending.clear();
        return;
      }
      pollfd p{fd, POLLIN, 0};
      const int ready = poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
      if (ready <= 0) continue;
      char chunk[4096];
      const ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        eof = true;
        break;
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
      std::size_t nl;
      while ((nl = buffer.find('\n')) != std::string::npos) {
        const std::string line = buffer.substr(0, nl);
        buffer.erase(0, nl + 1);
        const json j = json::parse(line, nullptr, false);
        if (j.is_discarded()) continue;
        const std::string kind = j.value("k", "");
        if (kind == "start") {
          current = j.at("i").get<std::size_t>();
          deadline = Clock::now() + timeout;
        } else if (kind == "result") {
          const auto i = j.at("i").get<std::size_t>();
          record(s, i, static_cast<TestStatus>(j.at("s").get<int>()), j.value("m", ""), j.value("ms", 0.0));
          erase(pending, i);
          current = kNone;
          deadline = Clock::now() + timeout;
        } else if (kind == "metric") {
          report_.perf.push_back({j.value("n", ""), j.value("v", 0.0), j.value("u", "")});
        } else if (kind == "info") {
          on_info(j.value("key", ""), j.value("value", ""));
        }
      }
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    const bool clean = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (pending.empty()) {
      if (!clean) {
        TestResult r;
        r.id = suite.name + ".teardown";
        r.suite = r.group = suite.name;
        r.status = TestStatus::kFailed;
        r.message = "the plugin crashed while the suite was torn down (device_close/shutdown): " +
                    describe_wait_status(st);
        extra_results_.push_back(r);
        if (progress_) progress_(r, results_.size(), total_);
      }
      return;
    }
    if (current != kNone) {
      record(s, current, TestStatus::kFailed, "the test process crashed during this test: " + describe_wait_status(st), 0.0);
      erase(pending, current);
      return;  // the caller forks a fresh child for the rest
    }
    const std::string why = "the plugin crashed during suite setup: " + describe_wait_status(st);
    for (auto i : pending) record(s, i, TestStatus::kFailed, why, 0.0);
    pending.clear();
  }

  static void erase(std::vector<std::size_t>& v, std::size_t x) { std::erase(v, x); }

  void write_reports() {
    auto write = [](const std::filesystem::path& path, const std::string& text) {
      std::ofstream out(path, std::ios::binary);
      if (!out || !(out << text)) throw std::runtime_error("cannot write report " + path.string());
    };
    if (!options_.json_path.empty()) write(options_.json_path, report_json(report_));
    if (!options_.junit_path.empty()) write(options_.junit_path, report_junit(report_));
  }

  CtsOptions options_;  // a copy: each repetition runs with its own seed
  const ProgressFn& progress_;
  const RepetitionFn& progress_repetition_;
  CtsReport report_;
  ExpectationList expectations_;
  std::vector<SuiteDef> suites_;
  std::vector<Key> planned_;
  std::size_t total_ = 0;
  std::map<Key, TestResult> results_;
  std::vector<TestResult> extra_results_;
};

}  // namespace

CtsReport run_cts(const CtsOptions& options, const ProgressFn& progress, const RepetitionFn& repetition) {
  Runner runner(options, progress, repetition);
  return runner.run();
}

}  // namespace plinth::cts
