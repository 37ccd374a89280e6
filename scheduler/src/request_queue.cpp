#include "plinth/scheduler/request_queue.hpp"

#include <algorithm>
#include <stdexcept>
#include <tuple>

namespace plinth::scheduler {

namespace {
// Classes beyond this are treated alike; keeps virtual arrivals far from overflowing.
constexpr int kMaxPriority = 1000;
}  // namespace

RequestQueue::RequestQueue(Duration aging_step) : aging_step_(aging_step) {
  if (aging_step_ <= Duration::zero()) throw std::invalid_argument("RequestQueue: aging_step must be > 0");
}

RequestQueue::Key RequestQueue::key_of(const ActiveRequest& r) const {
  const int p = std::clamp(r.priority(), 0, kMaxPriority);
  return {r.arrival() + aging_step_ * p, r.id()};
}

long long RequestQueue::effective_class(TimePoint virtual_arrival, TimePoint now) const {
  // ceil((virtual arrival - now) / aging_step), at least 0: the class left after aging. Every request
  // aged to class 0 is alike, so between tenants fairness decides, not who waited longest.
  const auto d = (virtual_arrival - now).count();
  if (d <= 0) return 0;
  const auto a = aging_step_.count();
  return (d + a - 1) / a;
}

void RequestQueue::push(std::unique_ptr<ActiveRequest> request) {
  const Key key = key_of(*request);
  auto it = tenants_.find(request->tenant());
  if (it == tenants_.end()) it = tenants_.emplace(request->tenant(), TenantQueue{}).first;
  it->second.emplace(key, std::move(request));
  ++size_;
}

std::size_t RequestQueue::size(std::string_view tenant) const {
  const auto it = tenants_.find(tenant);
  return it == tenants_.end() ? 0 : it->second.size();
}

const ActiveRequest* RequestQueue::peek(TimePoint now, const TenantFairness& fairness,
                                        const std::function<bool(std::string_view)>& eligible) const {
  const ActiveRequest* best = nullptr;
  std::tuple<long long, double, Key> best_rank;
  for (const auto& [tenant, queue] : tenants_) {
    if (queue.empty() || !eligible(tenant)) continue;
    const auto& [key, request] = *queue.begin();
    const std::tuple<long long, double, Key> rank{effective_class(key.first, now),
                                                  fairness.virtual_tokens(tenant), key};
    if (!best || rank < best_rank) {
      best = request.get();
      best_rank = rank;
    }
  }
  return best;
}

std::unique_ptr<ActiveRequest> RequestQueue::pop(const ActiveRequest& request) {
  const auto t = tenants_.find(request.tenant());
  if (t == tenants_.end()) throw std::logic_error("RequestQueue::pop: unknown tenant");
  const auto it = t->second.find(key_of(request));
  if (it == t->second.end()) throw std::logic_error("RequestQueue::pop: request not queued");
  std::unique_ptr<ActiveRequest> out = std::move(it->second);
  t->second.erase(it);
  if (t->second.empty()) tenants_.erase(t);
  --size_;
  return out;
}

std::vector<std::unique_ptr<ActiveRequest>> RequestQueue::remove_if(
    const std::function<bool(const ActiveRequest&)>& pred) {
  std::vector<std::unique_ptr<ActiveRequest>> out;
  for (auto t = tenants_.begin(); t != tenants_.end();) {
    for (auto it = t->second.begin(); it != t->second.end();) {
      if (pred(*it->second)) {
        out.push_back(std::move(it->second));
        it = t->second.erase(it);
        --size_;
      } else {
        ++it;
      }
    }
    t = t->second.empty() ? tenants_.erase(t) : std::next(t);
  }
  return out;
}

std::optional<TimePoint> RequestQueue::next_deadline() const {
  std::optional<TimePoint> next;
  auto consider = [&](const std::optional<TimePoint>& t) {
    if (t && (!next || *t < *next)) next = t;
  };
  for (const auto& [tenant, queue] : tenants_) {
    for (const auto& [key, r] : queue) {
      consider(r->request().queue_deadline);
      consider(r->request().deadline);
    }
  }
  return next;
}

}  // namespace plinth::scheduler
