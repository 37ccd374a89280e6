// The policy pieces on their own: TenantFairness and RequestQueue.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string_view>

#include "plinth/scheduler/request_queue.hpp"
#include "plinth/scheduler/tenant_fairness.hpp"

namespace plinth::scheduler {
namespace {

using namespace std::chrono_literals;

TEST(TenantFairness, ChargesByWeight) {
  TenantFairness f;
  f.set_weight("big", 4);
  f.charge("big", 400);
  f.charge("small", 100);
  EXPECT_DOUBLE_EQ(f.virtual_tokens("big"), 100);
  EXPECT_DOUBLE_EQ(f.virtual_tokens("small"), 100);
  EXPECT_EQ(f.served_tokens("big"), 400u);
  EXPECT_DOUBLE_EQ(f.weight("unknown"), 1);
  EXPECT_THROW(f.set_weight("x", 0), std::invalid_argument);
  EXPECT_THROW(f.set_weight("x", -1), std::invalid_argument);
}

TEST(TenantFairness, IdleTenantBanksNoCredit) {
  TenantFairness f;
  f.add_active("busy");
  f.charge("busy", 10000);
  // "late" was idle the whole time: it starts level with the least-served active tenant, not 10000
  // tokens behind, so it cannot monopolize the engine now.
  f.add_active("late");
  EXPECT_DOUBLE_EQ(f.virtual_tokens("late"), 10000);
  // A tenant already ahead keeps its lead over one coming back.
  f.add_active("ahead");
  f.charge("ahead", 50000);
  f.remove_active("ahead");
  f.add_active("ahead");
  EXPECT_DOUBLE_EQ(f.virtual_tokens("ahead"), 60000);
}

std::unique_ptr<ActiveRequest> waiting(RequestId id, std::string tenant, int priority, TimePoint arrival) {
  Request r;
  r.prompt = {1, 2, 3};
  r.tenant = std::move(tenant);
  r.priority = priority;
  return std::make_unique<ActiveRequest>(id, std::move(r), arrival, nullptr);
}

TEST(RequestQueue, PriorityWithAging) {
  const TimePoint t0{std::chrono::hours(1)};
  RequestQueue q(100ms);
  TenantFairness f;
  auto any = [](std::string_view) { return true; };
  q.push(waiting(1, "t", 3, t0));
  q.push(waiting(2, "t", 0, t0 + 50ms));
  q.push(waiting(3, "t", 0, t0 + 350ms));
  // At t0 + 60 ms the class-0 request that arrived later goes first...
  EXPECT_EQ(q.peek(t0 + 60ms, f, any)->id(), 2u);
  q.pop(*q.peek(t0 + 60ms, f, any));
  // ...but one arriving after t0 + 3 x 100 ms does not.
  EXPECT_EQ(q.peek(t0 + 400ms, f, any)->id(), 1u);
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.size("t"), 2u);
}

TEST(RequestQueue, ClassFirstThenLeastServedTenant) {
  const TimePoint t0{std::chrono::hours(1)};
  RequestQueue q(1s);
  TenantFairness f;
  f.charge("a", 100);
  auto any = [](std::string_view) { return true; };
  q.push(waiting(1, "a", 0, t0));
  q.push(waiting(2, "b", 0, t0 + 500ms));
  q.push(waiting(3, "c", 2, t0));
  EXPECT_EQ(q.peek(t0 + 600ms, f, any)->id(), 2u);  // b: class 0, fewer tokens than a
  EXPECT_EQ(q.peek(t0 + 600ms, f, [](std::string_view t) { return t != "b"; })->id(), 1u);
  EXPECT_EQ(q.peek(t0 + 600ms, f, [](std::string_view t) { return t == "c"; })->id(), 3u);
  EXPECT_EQ(q.peek(t0 + 600ms, f, [](std::string_view) { return false; }), nullptr);
}

TEST(RequestQueue, DeadlinesAndRemoval) {
  const TimePoint t0{std::chrono::hours(1)};
  RequestQueue q(1s);
  auto a = waiting(1, "t", 0, t0);
  auto b = waiting(2, "u", 0, t0);
  EXPECT_FALSE(q.next_deadline());
  q.push(std::move(a));
  q.push(std::move(b));
  auto removed = q.remove_if([](const ActiveRequest& r) { return r.tenant() == "u"; });
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0]->id(), 2u);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.size("u"), 0u);
  EXPECT_THROW(RequestQueue(0s), std::invalid_argument);
}

}  // namespace
}  // namespace plinth::scheduler
