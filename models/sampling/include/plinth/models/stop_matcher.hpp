// StopMatcher: finds stop strings in text that arrives a piece at a time. Text that might be the
// start of a stop string is held back until the next piece decides, so no byte of a stop string is
// ever passed on, even when the stop string is split over several tokens.
//
//   StopMatcher stops({"\n\n", "User:"});
//   for (piece : pieces) { emit(stops.push(piece)); if (stops.stopped()) break; }
//   if (!stops.stopped()) emit(stops.flush());
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plinth::models {

class StopMatcher {
 public:
  // Empty stop strings are ignored (they would match everywhere).
  explicit StopMatcher(std::vector<std::string> stops = {});

  // Adds `text` and returns what is now safe to pass on: everything before the earliest stop string,
  // or everything except a tail that could still grow into one. Once stopped, returns "".
  std::string push(std::string_view text);
  // At the end of the stream: the held-back tail (it turned out not to be a stop). "" once stopped.
  std::string flush();

  bool stopped() const noexcept { return matched_.has_value(); }
  // The stop string that matched: the one starting earliest (the first listed when several do).
  const std::optional<std::string>& matched() const noexcept { return matched_; }
  const std::vector<std::string>& stops() const noexcept { return stops_; }
  // Forgets the held-back text and any match, for the next generation.
  void reset();

 private:
  std::vector<std::string> stops_;
  std::string pending_;  // held back: a suffix that is a proper prefix of some stop string
  std::optional<std::string> matched_;
};

}  // namespace plinth::models
