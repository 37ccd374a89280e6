// RequestQueue: the requests waiting for their first admission, per tenant, ordered by priority class
// with aging. It owns them; bounds are checked by the scheduler before a push.
//
// Aging: a request of class p (0 highest) waiting since t has the effective class
// max(0, ceil(p - wait / aging_step)), and within its tenant it is ordered by its virtual arrival
// t + p * aging_step. So after p * aging_step it is class 0, and no request of its tenant arriving
// later goes before it. Bound on its wait: p * aging_step, plus the time its tenant, at its fair
// share, takes to admit what was already ahead of it in the tenant's queue (at most the tenant's
// queue bound). Between tenants: the best effective class first; within a class, the tenant with
// the fewest virtual tokens (TenantFairness); within a tenant, virtual arrival order.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plinth/scheduler/active_request.hpp"
#include "plinth/scheduler/clock.hpp"
#include "plinth/scheduler/tenant_fairness.hpp"

namespace plinth::scheduler {

class RequestQueue {
 public:
  // Throws std::invalid_argument for an aging_step <= 0.
  explicit RequestQueue(Duration aging_step);

  void push(std::unique_ptr<ActiveRequest> request);
  std::size_t size() const noexcept { return size_; }
  std::size_t size(std::string_view tenant) const;
  bool empty() const noexcept { return size_ == 0; }

  // The request to admit next among tenants for which `eligible` holds; nullptr when none.
  const ActiveRequest* peek(TimePoint now, const TenantFairness& fairness,
                            const std::function<bool(std::string_view tenant)>& eligible) const;
  // Removes and returns a request peek() returned.
  std::unique_ptr<ActiveRequest> pop(const ActiveRequest& request);
  // Removes and returns every request for which `pred` holds.
  std::vector<std::unique_ptr<ActiveRequest>> remove_if(
      const std::function<bool(const ActiveRequest&)>& pred);
  // The earliest queue or total deadline of a waiting request.
  std::optional<TimePoint> next_deadline() const;

 private:
  using Key = std::pair<TimePoint, RequestId>;  // virtual arrival, then submission order
  using TenantQueue = std::map<Key, std::unique_ptr<ActiveRequest>>;

  Key key_of(const ActiveRequest& r) const;
  long long effective_class(TimePoint virtual_arrival, TimePoint now) const;

  Duration aging_step_;
  std::map<std::string, TenantQueue, std::less<>> tenants_;
  std::size_t size_ = 0;
};

}  // namespace plinth::scheduler
