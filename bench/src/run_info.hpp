// What the header of a run says: the machine, the device and the thread counts, and how it was run.
#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "result_table.hpp"

namespace plinth::bench {

struct RunInfo {
  std::string cpu_model;  // /proc/cpuinfo "model name" (or "unknown")
  unsigned logical_cpus = 0;
  int host_threads = 1;  // OpenMP threads the host baselines (oneDNN) use
  std::string omp_num_threads;  // the environment's OMP_NUM_THREADS, or "" when unset
  std::string device_id;
  std::string device_name;
  std::string device_type;
  std::string plugin_version;
  uint32_t compute_units = 0;
  std::string size;  // "full", "quick", "tiny"
  int repeat = 0;    // 0: automatic
  double target_s = 0.0;
};

// Fills the machine part (CPU model, logical CPUs, host threads, OMP_NUM_THREADS).
void describe_host(RunInfo& info);

void print_run_info(const RunInfo& info, std::ostream& out);

void write_json_report(const std::filesystem::path& path, const RunInfo& info, const std::vector<Row>& rows);

}  // namespace plinth::bench
