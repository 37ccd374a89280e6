#include "run_info.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <ostream>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#if PLINTH_BENCH_HAVE_OPENMP
#include <omp.h>
#endif

namespace plinth::bench {
namespace {

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) break;
    const auto start = line.find_first_not_of(' ', colon + 1);
    return start == std::string::npos ? std::string("unknown") : line.substr(start);
  }
  return "unknown";
}

std::string format_target(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", seconds);
  return buf;
}

nlohmann::json side_json(const Side& s) {
  return {{"name", s.name},           {"median_s", s.timing.median_s}, {"min_s", s.timing.min_s},
          {"repetitions", s.timing.reps}, {"rate", s.rate()},          {"unit", s.unit}};
}

}  // namespace

void describe_host(RunInfo& info) {
  info.cpu_model = cpu_model_name();
  info.logical_cpus = std::thread::hardware_concurrency();
#if PLINTH_BENCH_HAVE_OPENMP
  info.host_threads = omp_get_max_threads();
#else
  info.host_threads = 1;
#endif
  const char* env = std::getenv("OMP_NUM_THREADS");
  info.omp_num_threads = env != nullptr ? env : "";
}

void print_run_info(const RunInfo& info, std::ostream& out) {
  out << "plinth bench ops (" << info.size << ")\n"
      << "machine:  " << info.cpu_model << ", " << info.logical_cpus << " logical CPUs\n"
      << "device:   " << info.device_id << " \"" << info.device_name << "\" (" << info.device_type << ", plugin "
      << info.plugin_version << "), " << info.compute_units << " compute units\n"
      << "threads:  host baselines " << info.host_threads << " (OMP_NUM_THREADS="
      << (info.omp_num_threads.empty() ? "unset" : info.omp_num_threads) << ")\n"
      << "timing:   median (and min) of "
      << (info.repeat > 0 ? std::to_string(info.repeat) + " repetitions"
                          : "repetitions filling ~" + format_target(info.target_s))
      << " after warm-up, stream synchronized in each; ratio = baseline time / plinth time (>1: plinth "
         "faster)\n";
}

void write_json_report(const std::filesystem::path& path, const RunInfo& info, const std::vector<Row>& rows) {
  nlohmann::json j;
  j["machine"] = {{"cpu_model", info.cpu_model},
                  {"logical_cpus", info.logical_cpus},
                  {"host_threads", info.host_threads},
                  {"omp_num_threads", info.omp_num_threads}};
  j["device"] = {{"id", info.device_id},
                 {"name", info.device_name},
                 {"type", info.device_type},
                 {"plugin_version", info.plugin_version},
                 {"compute_units", info.compute_units}};
  j["size"] = info.size;
  j["repeat"] = info.repeat;
  nlohmann::json out_rows = nlohmann::json::array();
  for (const Row& r : rows) {
    nlohmann::json row = {{"section", r.section}, {"name", r.name}, {"status", r.status}};
    if (!r.reason.empty()) row["reason"] = r.reason;
    if (r.plinth) row["plinth"] = side_json(*r.plinth);
    if (r.baseline) row["baseline"] = side_json(*r.baseline);
    if (auto ratio = r.ratio()) row["ratio"] = *ratio;
    if (!r.note.empty()) row["note"] = r.note;
    for (const auto& [key, value] : r.metrics) row["metrics"][key] = value;
    out_rows.push_back(std::move(row));
  }
  j["rows"] = std::move(out_rows);
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write JSON report " + path.string());
  out << j.dump(2) << '\n';
  if (!out) throw std::runtime_error("writing JSON report " + path.string() + " failed");
}

}  // namespace plinth::bench
