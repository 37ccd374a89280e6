// The engine's notion of time. Deadlines, waits and TTFT are time points of one steady clock; the
// clock is injected as a function so that policy tests run on a fake clock, deterministically and
// without sleeping.
#pragma once

#include <chrono>
#include <functional>

namespace plinth::scheduler {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;
using NowFn = std::function<TimePoint()>;

inline TimePoint steady_now() { return Clock::now(); }

}  // namespace plinth::scheduler
