#include "plinth/validation.hpp"

#include <charconv>

#include <fmt/format.h>

#include "plinth/error.hpp"

namespace plinth {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

const char* kind_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::alloc: return "alloc";
    case FaultKind::launch: return "launch";
    case FaultKind::device_lost: return "device_lost";
  }
  return "?";
}

}  // namespace

std::vector<Fault> parse_faults(std::string_view spec) {
  std::vector<Fault> faults;
  auto bad = [](std::string_view item, const char* why) {
    return Error(PLINTH_ERROR_INVALID_ARGUMENT,
                 fmt::format("bad fault '{}': {} (expected alloc:N, launch:N or device_lost:N, optionally @DEVICE)",
                             item, why),
                 "PLINTH_FAULT");
  };
  while (!spec.empty()) {
    const auto comma = spec.find(',');
    const std::string_view item = trim(spec.substr(0, comma));
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    if (item.empty()) continue;
    Fault fault;
    std::string_view body = item;
    if (const auto at = item.find('@'); at != std::string_view::npos) {
      fault.device = std::string(trim(item.substr(at + 1)));
      body = trim(item.substr(0, at));
      if (fault.device.empty()) throw bad(item, "empty device after '@'");
    }
    const auto colon = body.find(':');
    if (colon == std::string_view::npos) throw bad(item, "missing ':N'");
    const auto kind = trim(body.substr(0, colon));
    const auto count = trim(body.substr(colon + 1));
    if (kind == "alloc") {
      fault.kind = FaultKind::alloc;
    } else if (kind == "launch") {
      fault.kind = FaultKind::launch;
    } else if (kind == "device_lost") {
      fault.kind = FaultKind::device_lost;
    } else {
      throw bad(item, "unknown kind");
    }
    const auto [ptr, ec] = std::from_chars(count.data(), count.data() + count.size(), fault.n);
    if (ec != std::errc() || ptr != count.data() + count.size()) throw bad(item, "N is not a number");
    if (fault.n == 0 && fault.kind != FaultKind::device_lost) throw bad(item, "N counts from 1");
    faults.push_back(std::move(fault));
  }
  return faults;
}

std::string to_string(const Fault& fault) {
  return fmt::format("{}:{}{}{}", kind_name(fault.kind), fault.n, fault.device.empty() ? "" : "@", fault.device);
}

}  // namespace plinth
