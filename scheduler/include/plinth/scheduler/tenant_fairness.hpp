// TenantFairness: weighted fair sharing of tokens between tenants. Each tenant has a virtual token
// counter: the tokens served to it (prompt + generated) divided by its weight. The engine admits next
// from the tenant with the smallest counter, so over time each busy tenant gets a share of tokens
// proportional to its weight, however much it sends. A tenant that becomes active again starts at the
// smallest counter among the active tenants: being idle banks no credit to burst with later.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>

namespace plinth::scheduler {

// Per-tenant policy. Unknown tenants get the engine options' default_tenant.
struct TenantPolicy {
  double weight = 1.0;  // > 0: share of tokens relative to other busy tenants
  std::size_t max_queued = std::numeric_limits<std::size_t>::max();   // waiting requests
  std::size_t max_running = std::numeric_limits<std::size_t>::max();  // admitted, not finished
};

// One tenant's counters as an engine reports them (Scheduler::stats, EmbeddingEngine::stats).
struct TenantStats {
  std::string tenant;
  double weight = 1;
  std::size_t queued = 0;
  std::size_t running = 0;
  std::uint64_t served_tokens = 0;  // tokens charged: prompt + generated, or embedded
  double virtual_tokens = 0;
  std::uint64_t admitted = 0;
  std::uint64_t rejected = 0;
  std::uint64_t finished = 0;
};

class TenantFairness {
 public:
  // Throws std::invalid_argument for a weight that is not > 0 and finite.
  void set_weight(std::string_view tenant, double weight);
  double weight(std::string_view tenant) const;
  void set_default_weight(double weight);

  // Active = has queued or running requests. The 0 -> 1 transition lifts the counter to the minimum of
  // the other active tenants.
  void add_active(std::string_view tenant);
  void remove_active(std::string_view tenant);

  // Tokens served (prompt tokens at admission, each generated token).
  void charge(std::string_view tenant, std::size_t tokens);

  double virtual_tokens(std::string_view tenant) const;
  std::uint64_t served_tokens(std::string_view tenant) const;

 private:
  struct State {
    double weight = 0;  // 0: the default
    double virtual_tokens = 0;
    std::uint64_t served = 0;
    std::size_t active = 0;
  };
  State& at(std::string_view tenant);
  const State* find(std::string_view tenant) const;
  double weight_of(const State& s) const noexcept { return s.weight > 0 ? s.weight : default_weight_; }

  std::map<std::string, State, std::less<>> tenants_;
  double default_weight_ = 1.0;
};

}  // namespace plinth::scheduler
