#include "plinth/sdk/device_loss.hpp"

#include <charconv>
#include <cstdlib>

#include "plinth/sdk/status.hpp"

namespace plinth::sdk {

std::optional<uint64_t> DeviceLoss::hook_from_environment() {
  const char* value = std::getenv("PLINTH_PLUGIN_FAULT");
  if (value == nullptr || *value == '\0') return std::nullopt;
  const std::string_view text(value);
  constexpr std::string_view kPrefix = "device_lost:";
  uint64_t n = 0;
  if (text.starts_with(kPrefix)) {
    const char* first = text.data() + kPrefix.size();
    const char* last = text.data() + text.size();
    const auto [end, ec] = std::from_chars(first, last, n);
    if (ec == std::errc() && end == last && first != last) return n;
  }
  fail(PLINTH_ERROR_INVALID_ARGUMENT, "PLINTH_PLUGIN_FAULT='" + std::string(text) +
                                          "' is not device_lost:N (N op launches before the loss)");
}

namespace {

std::string simulated(uint64_t n) {
  return "simulated by PLINTH_PLUGIN_FAULT=device_lost:" + std::to_string(n);
}

}  // namespace

DeviceLoss::DeviceLoss(std::optional<uint64_t> lose_after) : lose_after_(lose_after) {
  if (lose_after_ && *lose_after_ == 0) mark_lost(simulated(0));
}

void DeviceLoss::mark_lost(std::string_view why) {
  {
    std::lock_guard lock(mutex_);
    if (why_.empty()) why_ = why;
  }
  lost_.store(true, std::memory_order_release);
}

void DeviceLoss::check(std::string_view call) const {
  if (!lost()) return;
  std::string why;
  {
    std::lock_guard lock(mutex_);
    why = why_;
  }
  fail(PLINTH_ERROR_DEVICE_LOST,
       std::string(call) + ": the device was lost (" + why + "); only destroying its objects is possible");
}

void DeviceLoss::before_launch() {
  check("op_launch");
  if (lose_after_ && launches_.fetch_add(1) >= *lose_after_) {
    mark_lost(simulated(*lose_after_));
    check("op_launch");
  }
}

}  // namespace plinth::sdk
