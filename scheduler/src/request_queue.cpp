#include "plinth/scheduler/request_queue.hpp"

#include <algorithm>
#include <stdexcept>

namespace plinth::scheduler {

namespace {
// Classes beyond this are treated alike; keeps virtual arrivals far from overflowing.
constexpr int kMaxPriority = 1000;
}  // namespace

PriorityAging::PriorityAging(Duration aging_step) : aging_step_(aging_step) {
  if (aging_step_ <= Duration::zero()) throw std::invalid_argument("RequestQueue: aging_step must be > 0");
}

PriorityAging::Key PriorityAging::key(int priority, TimePoint arrival, RequestId id) const {
  const int p = std::clamp(priority, 0, kMaxPriority);
  return {arrival + aging_step_ * p, id};
}

long long PriorityAging::effective_class(TimePoint virtual_arrival, TimePoint now) const {
  // ceil((virtual arrival - now) / aging_step), at least 0: the class left after aging.
  const auto d = (virtual_arrival - now).count();
  if (d <= 0) return 0;
  const auto a = aging_step_.count();
  return (d + a - 1) / a;
}

// The generation path's queue is compiled here once; other item types instantiate the header.
template class BasicRequestQueue<ActiveRequest>;

}  // namespace plinth::scheduler
