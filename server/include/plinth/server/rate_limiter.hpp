// RateLimiter: per-tenant request and token rates, enforced with token buckets before a request
// reaches the engine. It answers "not now, retry after N s" (HTTP 429 + Retry-After); the engine's
// own bounds (max_queued, max_running) answer "too busy" separately.
//
// Each tenant has two buckets, both full at start:
// - requests: capacity effective_request_burst(), refilled at requests_per_minute / 60 per second;
//   every admitted request takes 1.
// - tokens: capacity tokens_per_minute, refilled at tokens_per_minute / 60 per second; an admitted
//   request takes its prompt tokens, and its generated tokens are charged afterwards
//   (charge_tokens), which may leave the bucket negative: that debt delays the tenant's next request,
//   so over time the tenant's rate is what it was given however long its answers are.
// A rate of 0 is unlimited: that bucket always allows and is never charged.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "plinth/scheduler/clock.hpp"
#include "plinth/server/access_config.hpp"

namespace plinth::server {

struct RateDecision {
  bool allowed = true;
  // When not allowed: how long until the same request would be allowed, if nothing else is charged
  // meanwhile, in whole seconds rounded up (>= 1 s): what Retry-After says. Zero when allowed.
  scheduler::Duration retry_after{};
  // When not allowed: the limits that refused it, e.g. "tenant acme: 600 requests per minute".
  std::string reason;
};

class RateLimiter {
 public:
  // Copies the settings it needs from `config`. `now` is the clock (a fake one in tests).
  explicit RateLimiter(const AccessConfig& config, scheduler::NowFn now = scheduler::steady_now);

  // Admits one request of `prompt_tokens` from `tenant`: takes 1 from its request bucket and
  // prompt_tokens from its token bucket, or takes nothing and says when to retry. A prompt larger than
  // the whole token bucket is admitted once the bucket is full (leaving it in debt): refusing it
  // forever would make retry_after a lie, and the debt keeps the long-run rate. A tenant that is not
  // in the configuration is the default tenant: its settings and its buckets, so a made-up name never
  // earns a fresh bucket. Thread-safe.
  RateDecision admit(std::string_view tenant, std::size_t prompt_tokens);

  // Charges `tokens` generated tokens to `tenant`'s token bucket after the fact; the bucket may go
  // negative. Thread-safe.
  void charge_tokens(std::string_view tenant, std::size_t tokens);

 private:
  struct Bucket {
    double capacity = 0;
    double per_second = 0;  // 0: unlimited
    double level = 0;
    bool unlimited() const { return per_second <= 0; }
  };
  struct Tenant {
    std::string name;
    double requests_per_minute = 0;
    double tokens_per_minute = 0;
    Bucket requests;
    Bucket tokens;
    scheduler::TimePoint refilled_at{};
  };

  static Tenant make_tenant(const TenantSettings& settings, scheduler::TimePoint now);
  Tenant& tenant_for(std::string_view name);  // needs mutex_
  static void refill(Tenant& tenant, scheduler::TimePoint now);

  scheduler::NowFn now_;
  std::mutex mutex_;
  std::map<std::string, Tenant, std::less<>> tenants_;  // the declared tenants; fixed after construction
  Tenant default_;
};

}  // namespace plinth::server
