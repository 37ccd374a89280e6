#include "result_table.hpp"

#include <cmath>
#include <cstdio>
#include <ostream>

namespace plinth::bench {
namespace {

constexpr int kNameWidth = 34;
constexpr int kTimeWidth = 11;
constexpr int kRateWidth = 15;
constexpr int kBaselineWidth = 18;
constexpr double kUnstableSpread = 2.0;

std::string format_rate(const Side& side) {
  char buf[64];
  const double r = side.rate();
  if (side.unit == "us/op") {
    std::snprintf(buf, sizeof buf, "%.3f us/op", r);
  } else {
    std::snprintf(buf, sizeof buf, r >= 100.0 ? "%.1f %s" : "%.2f %s", r, side.unit.c_str());
  }
  return buf;
}

// Right-aligned columns always keep one space before them, so wide values never run together.
std::string pad(const std::string& s, int width, bool right = false) {
  const auto w = static_cast<std::size_t>(width);
  if (s.size() >= w) return right ? " " + s : s;
  return right ? std::string(w - s.size(), ' ') + s : s + std::string(w - s.size(), ' ');
}

}  // namespace

double Side::rate() const noexcept {
  if (timing.median_s <= 0.0 || work <= 0.0) return 0.0;
  if (unit == "us/op") return timing.median_s * 1e6 / work;
  return work / timing.median_s;
}

std::optional<double> Row::ratio() const noexcept {
  if (!plinth || !baseline || plinth->timing.median_s <= 0.0) return std::nullopt;
  return baseline->timing.median_s / plinth->timing.median_s;
}

std::string format_seconds(double seconds) {
  char buf[32];
  if (seconds >= 1.0) {
    std::snprintf(buf, sizeof buf, "%.3f s", seconds);
  } else if (seconds >= 1e-3) {
    std::snprintf(buf, sizeof buf, "%.3f ms", seconds * 1e3);
  } else if (seconds >= 1e-6) {
    std::snprintf(buf, sizeof buf, "%.3f us", seconds * 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f ns", seconds * 1e9);
  }
  return buf;
}

void ResultTable::print_header() {
  out_ << pad("benchmark", kNameWidth) << pad("median", kTimeWidth, true) << pad("min", kTimeWidth, true)
       << pad("rate", kRateWidth, true) << " | " << pad("baseline", kBaselineWidth)
       << pad("median", kTimeWidth, true) << pad("rate", kRateWidth, true) << " | " << pad("ratio", 6, true)
       << "  note\n";
}

void ResultTable::section(const std::string& title) { out_ << "-- " << title << '\n'; }

void ResultTable::add(Row row) {
  // A median far above the minimum means other work kept taking the CPU (or the device) away during
  // the measurement; the row is still printed, flagged, since the ratio may then mislead.
  for (const std::optional<Side>* side : {&row.plinth, &row.baseline}) {
    if (!*side || (*side)->timing.min_s <= 0.0) continue;
    const double spread = (*side)->timing.median_s / (*side)->timing.min_s;
    if (spread > kUnstableSpread) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "UNSTABLE: %s median %.1fx its min (machine busy?)", (*side)->name.c_str(),
                    spread);
      row.note += (row.note.empty() ? "" : "; ") + std::string(buf);
      row.metrics["unstable"] = 1.0;
      break;
    }
  }
  const std::string name = row.section + " " + row.name;
  out_ << pad(name, kNameWidth);
  if (row.status != "ok" || !row.plinth) {
    out_ << ' ' << row.status << ": " << row.reason << '\n';
  } else {
    const Side& p = *row.plinth;
    out_ << pad(format_seconds(p.timing.median_s), kTimeWidth, true)
         << pad(format_seconds(p.timing.min_s), kTimeWidth, true) << pad(format_rate(p), kRateWidth, true) << " | ";
    if (row.baseline) {
      const Side& b = *row.baseline;
      char ratio[32];
      std::snprintf(ratio, sizeof ratio, "%.2fx", *row.ratio());
      out_ << pad(b.name, kBaselineWidth) << pad(format_seconds(b.timing.median_s), kTimeWidth, true)
           << pad(format_rate(b), kRateWidth, true) << " | " << pad(ratio, 6, true);
    } else {
      out_ << pad("(none)", kBaselineWidth) << pad("", kTimeWidth + kRateWidth) << " | " << pad("-", 6, true);
    }
    if (!row.note.empty()) out_ << "  " << row.note;
    out_ << '\n';
  }
  out_.flush();
  rows_.push_back(std::move(row));
}

}  // namespace plinth::bench
