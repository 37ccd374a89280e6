#include "plinth/server/rate_limiter.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <utility>

namespace plinth::server {

namespace {

// Refills are floating-point sums of elapsed time times rate; a request that arrives exactly when its
// bucket should be full enough must not be refused for the last bit of rounding.
constexpr double kSlack = 1e-9;
// retry_after is capped well inside Duration's range (nanoseconds in int64: 292 years); a debt that
// large only comes from a tiny rate and an enormous charge.
constexpr double kMaxRetrySeconds = 1e9;

std::string rate_text(double per_minute) {
  std::ostringstream out;
  out.precision(15);
  out << per_minute;
  return out.str();
}

}  // namespace

RateLimiter::Tenant RateLimiter::make_tenant(const TenantSettings& settings, scheduler::TimePoint now) {
  Tenant t;
  t.name = settings.name;
  t.requests_per_minute = settings.requests_per_minute;
  t.tokens_per_minute = settings.tokens_per_minute;
  if (settings.requests_per_minute > 0) {
    t.requests.per_second = settings.requests_per_minute / 60.0;
    // A hand-made config (the parser refuses it) with a burst below 1 would never admit anything.
    t.requests.capacity = std::max(1.0, settings.effective_request_burst());
    t.requests.level = t.requests.capacity;
  }
  if (settings.tokens_per_minute > 0) {
    t.tokens.per_second = settings.tokens_per_minute / 60.0;
    t.tokens.capacity = settings.tokens_per_minute;
    t.tokens.level = t.tokens.capacity;
  }
  t.refilled_at = now;
  return t;
}

RateLimiter::RateLimiter(const AccessConfig& config, scheduler::NowFn now) : now_(std::move(now)) {
  const scheduler::TimePoint start = now_();
  for (const TenantSettings& settings : config.tenants)
    tenants_.emplace(settings.name, make_tenant(settings, start));
  default_ = make_tenant(config.default_tenant, start);
}

RateLimiter::Tenant& RateLimiter::tenant_for(std::string_view name) {
  const auto it = tenants_.find(name);
  return it == tenants_.end() ? default_ : it->second;
}

void RateLimiter::refill(Tenant& t, scheduler::TimePoint now) {
  if (now <= t.refilled_at) return;  // a clock that stood still (or an earlier reading) adds nothing
  const double seconds = std::chrono::duration<double>(now - t.refilled_at).count();
  for (Bucket* b : {&t.requests, &t.tokens}) {
    if (!b->unlimited()) b->level = std::min(b->capacity, b->level + seconds * b->per_second);
  }
  t.refilled_at = now;
}

RateDecision RateLimiter::admit(std::string_view tenant, std::size_t prompt_tokens) {
  std::lock_guard lock(mutex_);
  Tenant& t = tenant_for(tenant);
  refill(t, now_());

  // Seconds until each bucket holds what this request needs; 0 when it already does.
  const auto wait_for = [](const Bucket& b, double need) {
    if (b.unlimited() || b.level + kSlack >= need) return 0.0;
    return (need - b.level) / b.per_second;
  };
  const double token_need = std::min(static_cast<double>(prompt_tokens), t.tokens.capacity);
  const double request_wait = wait_for(t.requests, 1);
  const double token_wait = wait_for(t.tokens, token_need);

  RateDecision decision;
  if (request_wait == 0 && token_wait == 0) {
    if (!t.requests.unlimited()) t.requests.level -= 1;
    if (!t.tokens.unlimited()) t.tokens.level -= static_cast<double>(prompt_tokens);
    return decision;
  }
  decision.allowed = false;
  // Whole seconds, rounded up, so that a client waiting exactly that long is admitted.
  const double seconds =
      std::clamp(std::ceil(std::max(request_wait, token_wait) - kSlack), 1.0, kMaxRetrySeconds);
  decision.retry_after =
      std::chrono::duration_cast<scheduler::Duration>(std::chrono::seconds(static_cast<int64_t>(seconds)));
  decision.reason = "tenant " + t.name + ": ";
  if (request_wait > 0) decision.reason += rate_text(t.requests_per_minute) + " requests per minute";
  if (request_wait > 0 && token_wait > 0) decision.reason += " and ";
  if (token_wait > 0) decision.reason += rate_text(t.tokens_per_minute) + " tokens per minute";
  return decision;
}

void RateLimiter::charge_tokens(std::string_view tenant, std::size_t tokens) {
  std::lock_guard lock(mutex_);
  Tenant& t = tenant_for(tenant);
  if (t.tokens.unlimited()) return;
  refill(t, now_());
  t.tokens.level -= static_cast<double>(tokens);
}

}  // namespace plinth::server
