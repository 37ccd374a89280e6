// RequestQueue: the requests waiting for their first admission, per tenant, ordered by priority class
// with aging. It owns them; bounds are checked by the caller before a push. The policy is written once
// (BasicRequestQueue, a template over what is queued) and serves both paths of the engine: generation
// (RequestQueue = BasicRequestQueue<ActiveRequest>) and embeddings (EmbeddingEngine's jobs).
//
// Aging: a request of class p (0 highest) waiting since t has the effective class
// max(0, ceil(p - wait / aging_step)), and within its tenant it is ordered by its virtual arrival
// t + p * aging_step. So after p * aging_step it is class 0, and no request of its tenant arriving
// later goes before it. Bound on its wait: p * aging_step, plus the time its tenant, at its fair
// share, takes to admit what was already ahead of it in the tenant's queue (at most the tenant's
// queue bound). Between tenants: the best effective class first; within a class, the tenant with
// the fewest virtual tokens (TenantFairness); within a tenant, virtual arrival order.
#pragma once

#include <concepts>
#include <cstddef>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "plinth/scheduler/active_request.hpp"
#include "plinth/scheduler/clock.hpp"
#include "plinth/scheduler/tenant_fairness.hpp"

namespace plinth::scheduler {

// What the queue needs to know of an item: who sent it, how urgent it is, when it arrived (with a
// unique id to break ties) and its deadlines. The id and arrival must not change while it is queued.
template <class T>
concept Queueable = requires(const T& t) {
  { t.id() } -> std::convertible_to<RequestId>;
  { t.tenant() } -> std::convertible_to<std::string_view>;
  { t.priority() } -> std::convertible_to<int>;
  { t.arrival() } -> std::convertible_to<TimePoint>;
  { t.queue_deadline() } -> std::convertible_to<std::optional<TimePoint>>;
  { t.deadline() } -> std::convertible_to<std::optional<TimePoint>>;
};

// The ordering arithmetic of priority aging, apart from the containers so it is compiled once.
class PriorityAging {
 public:
  using Key = std::pair<TimePoint, RequestId>;  // virtual arrival, then submission order

  // Throws std::invalid_argument for an aging_step <= 0.
  explicit PriorityAging(Duration aging_step);
  Key key(int priority, TimePoint arrival, RequestId id) const;
  // The class left after aging at `now` for an item of virtual arrival `virtual_arrival`.
  long long effective_class(TimePoint virtual_arrival, TimePoint now) const;

 private:
  Duration aging_step_;
};

template <Queueable T>
class BasicRequestQueue {
 public:
  // Throws std::invalid_argument for an aging_step <= 0.
  explicit BasicRequestQueue(Duration aging_step) : aging_(aging_step) {}

  void push(std::unique_ptr<T> item) {
    const Key key = key_of(*item);
    auto it = tenants_.find(std::string_view(item->tenant()));
    if (it == tenants_.end()) it = tenants_.emplace(std::string(item->tenant()), TenantQueue{}).first;
    it->second.emplace(key, std::move(item));
    ++size_;
  }
  std::size_t size() const noexcept { return size_; }
  std::size_t size(std::string_view tenant) const {
    const auto it = tenants_.find(tenant);
    return it == tenants_.end() ? 0 : it->second.size();
  }
  bool empty() const noexcept { return size_ == 0; }

  // The item to admit next among tenants for which `eligible` holds; nullptr when none.
  const T* peek(TimePoint now, const TenantFairness& fairness,
                const std::function<bool(std::string_view tenant)>& eligible) const {
    const T* best = nullptr;
    std::tuple<long long, double, Key> best_rank;
    for (const auto& [tenant, queue] : tenants_) {
      if (queue.empty() || !eligible(tenant)) continue;
      const auto& [key, item] = *queue.begin();
      // Every item aged to class 0 is alike, so between tenants fairness decides, not who waited longest.
      const std::tuple<long long, double, Key> rank{aging_.effective_class(key.first, now),
                                                    fairness.virtual_tokens(tenant), key};
      if (!best || rank < best_rank) {
        best = item.get();
        best_rank = rank;
      }
    }
    return best;
  }

  // Removes and returns an item peek() returned.
  std::unique_ptr<T> pop(const T& item) {
    const auto t = tenants_.find(std::string_view(item.tenant()));
    if (t == tenants_.end()) throw std::logic_error("RequestQueue::pop: unknown tenant");
    const auto it = t->second.find(key_of(item));
    if (it == t->second.end()) throw std::logic_error("RequestQueue::pop: request not queued");
    std::unique_ptr<T> out = std::move(it->second);
    t->second.erase(it);
    if (t->second.empty()) tenants_.erase(t);
    --size_;
    return out;
  }

  // Removes and returns every item for which `pred` holds.
  std::vector<std::unique_ptr<T>> remove_if(const std::function<bool(const T&)>& pred) {
    std::vector<std::unique_ptr<T>> out;
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

  // The earliest queue or total deadline of a waiting item.
  std::optional<TimePoint> next_deadline() const {
    std::optional<TimePoint> next;
    auto consider = [&](const std::optional<TimePoint>& t) {
      if (t && (!next || *t < *next)) next = t;
    };
    for (const auto& [tenant, queue] : tenants_) {
      for (const auto& [key, item] : queue) {
        consider(item->queue_deadline());
        consider(item->deadline());
      }
    }
    return next;
  }

 private:
  using Key = PriorityAging::Key;
  using TenantQueue = std::map<Key, std::unique_ptr<T>>;

  Key key_of(const T& item) const { return aging_.key(item.priority(), item.arrival(), item.id()); }

  PriorityAging aging_;
  std::map<std::string, TenantQueue, std::less<>> tenants_;
  std::size_t size_ = 0;
};

using RequestQueue = BasicRequestQueue<ActiveRequest>;
extern template class BasicRequestQueue<ActiveRequest>;

}  // namespace plinth::scheduler
