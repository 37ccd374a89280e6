#include "plinth/models/stop_matcher.hpp"

#include <algorithm>

namespace plinth::models {

StopMatcher::StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {
  std::erase_if(stops_, [](const std::string& s) { return s.empty(); });
}

void StopMatcher::reset() {
  pending_.clear();
  matched_.reset();
}

std::string StopMatcher::push(std::string_view text) {
  if (matched_) return {};
  pending_.append(text);

  // The earliest stop wins: text after it must never be shown.
  std::size_t stop_at = std::string::npos;
  const std::string* stop = nullptr;
  for (const auto& s : stops_) {
    const std::size_t at = pending_.find(s);
    if (at < stop_at) {
      stop_at = at;
      stop = &s;
    }
  }
  if (stop != nullptr) {
    matched_ = *stop;
    std::string out = pending_.substr(0, stop_at);
    pending_.clear();
    return out;
  }

  // Hold back the longest tail that some stop string starts with; any match still to come must
  // begin inside it, because everything before it was checked above.
  std::size_t hold = 0;
  for (const auto& s : stops_) {
    const std::size_t longest = std::min(s.size() - 1, pending_.size());
    for (std::size_t n = longest; n > hold; --n) {
      if (std::string_view(pending_).substr(pending_.size() - n) == std::string_view(s).substr(0, n)) {
        hold = n;
        break;
      }
    }
  }
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string StopMatcher::flush() {
  if (matched_) return {};
  std::string out = std::move(pending_);
  pending_.clear();
  return out;
}

}  // namespace plinth::models
