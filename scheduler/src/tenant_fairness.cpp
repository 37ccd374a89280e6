#include "plinth/scheduler/tenant_fairness.hpp"

#include <cmath>
#include <stdexcept>

namespace plinth::scheduler {

namespace {
void check_weight(double weight) {
  if (!(weight > 0) || !std::isfinite(weight))
    throw std::invalid_argument("TenantFairness: a weight must be > 0 and finite");
}
}  // namespace

TenantFairness::State& TenantFairness::at(std::string_view tenant) {
  auto it = tenants_.find(tenant);
  if (it == tenants_.end()) it = tenants_.emplace(std::string(tenant), State{}).first;
  return it->second;
}

const TenantFairness::State* TenantFairness::find(std::string_view tenant) const {
  const auto it = tenants_.find(tenant);
  return it == tenants_.end() ? nullptr : &it->second;
}

void TenantFairness::set_weight(std::string_view tenant, double weight) {
  check_weight(weight);
  at(tenant).weight = weight;
}

void TenantFairness::set_default_weight(double weight) {
  check_weight(weight);
  default_weight_ = weight;
}

double TenantFairness::weight(std::string_view tenant) const {
  const State* s = find(tenant);
  return s ? weight_of(*s) : default_weight_;
}

void TenantFairness::add_active(std::string_view tenant) {
  State& s = at(tenant);
  if (s.active++ > 0) return;
  bool any = false;
  double least = 0;
  for (const auto& [name, other] : tenants_) {
    if (&other == &s || other.active == 0) continue;
    least = any ? std::min(least, other.virtual_tokens) : other.virtual_tokens;
    any = true;
  }
  if (any && s.virtual_tokens < least) s.virtual_tokens = least;
}

void TenantFairness::remove_active(std::string_view tenant) {
  State& s = at(tenant);
  if (s.active > 0) --s.active;
}

void TenantFairness::charge(std::string_view tenant, std::size_t tokens) {
  State& s = at(tenant);
  s.served += tokens;
  s.virtual_tokens += static_cast<double>(tokens) / weight_of(s);
}

double TenantFairness::virtual_tokens(std::string_view tenant) const {
  const State* s = find(tenant);
  return s ? s->virtual_tokens : 0.0;
}

std::uint64_t TenantFairness::served_tokens(std::string_view tenant) const {
  const State* s = find(tenant);
  return s ? s->served : 0;
}

}  // namespace plinth::scheduler
