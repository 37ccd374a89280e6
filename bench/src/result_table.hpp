// One benchmark row (Plinth's measurement beside its baseline's) and the table/JSON that present
// them. Rows print as they complete, so a long run shows progress.
#pragma once

#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "timing.hpp"

namespace plinth::bench {

// A measured side of a row: its timing and the amount of work one repetition does, in `unit`s
// (GFLOP, GB, ops), so rate = work / median time.
struct Side {
  std::string name;  // the baseline's name ("onednn f32", "memcpy"); "plinth" for Plinth's side
  Timing timing;
  double work = 0.0;
  std::string unit;  // rate unit: "GFLOP/s", "GB/s", "us/op" (per-op time: work counts ops)

  double rate() const noexcept;  // work per second, or microseconds per op for "us/op"
};

struct Row {
  Row() = default;
  Row(std::string section_name, std::string row_name)
      : section(std::move(section_name)), name(std::move(row_name)) {}

  std::string section;  // "matmul", "copy", "launch"
  std::string name;     // "f32 1024x1024x1024"
  std::string status = "ok";  // "ok", "unsupported", "skipped"
  std::string reason;         // why not measured
  std::optional<Side> plinth;
  std::optional<Side> baseline;
  std::string note;                        // extra context shown after the ratio
  std::map<std::string, double> metrics;   // extra numbers for the JSON report

  // Baseline median / Plinth median: Plinth's speed relative to the baseline's for the same work
  // (1.00 is parity, higher is better). Empty when either side is missing.
  std::optional<double> ratio() const noexcept;
};

class ResultTable {
 public:
  explicit ResultTable(std::ostream& out) : out_(out) {}

  void print_header();
  void section(const std::string& title);  // a heading line before a group of rows
  void add(Row row);                       // prints the row and keeps it
  const std::vector<Row>& rows() const noexcept { return rows_; }

 private:
  std::ostream& out_;
  std::vector<Row> rows_;
};

std::string format_seconds(double seconds);  // "12.3 ms"

}  // namespace plinth::bench
