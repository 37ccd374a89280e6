#include "plinth/scheduler/engine.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <utility>

namespace plinth::scheduler {

namespace {

std::size_t saturating_add(std::size_t a, std::size_t b) {
  return a > std::numeric_limits<std::size_t>::max() - b ? std::numeric_limits<std::size_t>::max() : a + b;
}

}  // namespace

struct Engine::Replica {
  Replica(models::BatchModel& model, const SchedulerOptions& options, NowFn now)
      : scheduler(model, options, std::move(now)),
        total_blocks(scheduler.block_manager().pool().size()),
        free_blocks(total_blocks) {}

  Scheduler scheduler;  // only its thread touches it (validate/make_request: any thread)
  const std::uint32_t total_blocks;
  // Guarded by Engine::mutex_.
  std::condition_variable wake;
  std::vector<std::unique_ptr<ActiveRequest>> inbox;
  bool healthy = true;
  int consecutive_errors = 0;
  std::uint64_t errors = 0;
  std::uint64_t steps = 0;
  std::string last_error;
  std::size_t load = 0;
  std::uint32_t free_blocks;
  SchedulerStats stats;
  std::thread thread;
};

// What is in flight (accepted, not finished), per tenant, and how long requests take: the sinks
// report finishes here from engine threads, so it has its own lock (never held while calling out).
struct Engine::Admission {
  std::mutex mutex;
  std::size_t total = 0;
  std::map<std::string, std::size_t, std::less<>> per_tenant;
  std::optional<Duration> latency;  // moving average of submit-to-finish
  std::optional<Duration> service;  // moving average of first-token-to-finish: how long a slot is held
  std::size_t pending_prompt_tokens = 0;  // of accepted requests without a first token yet
  std::optional<Duration> step_time;      // moving average of a step that ran (any replica)

  void started(std::size_t prompt_tokens) {
    std::lock_guard lock(mutex);
    pending_prompt_tokens -= std::min(pending_prompt_tokens, prompt_tokens);
  }
  void stepped(bool ran, Duration step) {
    if (!ran || step <= Duration::zero()) return;
    std::lock_guard lock(mutex);
    step_time = step_time ? *step_time + (step - *step_time) / 8 : step;
  }

  void finished(const std::string& tenant, Duration latency_now, const FinishInfo& info) {
    std::lock_guard lock(mutex);
    --total;
    if (--per_tenant[tenant] == 0) per_tenant.erase(tenant);
    latency = latency ? *latency + (latency_now - *latency) / 8 : latency_now;
    if (info.usage.time_to_first_token) {
      const Duration held = latency_now - *info.usage.time_to_first_token;
      service = service ? *service + (held - *service) / 8 : held;
    }
  }
};

namespace {

// Forwards a stream and reports its finish to the engine's admission count first, so a client that
// submits again from on_finish is not refused for its own finished request.
class CountingSink final : public StreamSink {
 public:
  // on_start: once, at the first token (or at the finish of a request that never had one).
  CountingSink(std::shared_ptr<StreamSink> inner, std::function<void()> on_start,
               std::function<void(const FinishInfo&)> on_done)
      : inner_(std::move(inner)), on_start_(std::move(on_start)), on_done_(std::move(on_done)) {}
  void on_delta(const TokenDelta& d) override {
    if (d.token != kNoToken && on_start_) std::exchange(on_start_, nullptr)();
    if (inner_) inner_->on_delta(d);
  }
  void on_finish(const FinishInfo& f) override {
    if (on_start_) std::exchange(on_start_, nullptr)();
    on_done_(f);
    if (inner_) inner_->on_finish(f);
  }

 private:
  std::shared_ptr<StreamSink> inner_;
  std::function<void()> on_start_;
  std::function<void(const FinishInfo&)> on_done_;
};

}  // namespace

Engine::Engine(std::vector<std::reference_wrapper<models::BatchModel>> replicas, EngineOptions options,
               NowFn now)
    : options_(std::move(options)),
      now_(now ? std::move(now) : NowFn(steady_now)),
      admission_(std::make_shared<Admission>()),
      affinity_(replicas.empty()
                    ? 1u
                    : static_cast<std::uint32_t>(std::max(1, replicas.front().get().block_size()))) {
  if (replicas.empty()) throw std::invalid_argument("Engine: no replica");
  if (options_.max_consecutive_errors < 1) throw std::invalid_argument("Engine: max_consecutive_errors < 1");
  for (auto& m : replicas) replicas_.push_back(std::make_unique<Replica>(m.get(), options_.scheduler, now_));
  for (std::size_t i = 0; i < replicas_.size(); ++i)
    replicas_[i]->thread = std::thread([this, i] { run(i); });
}

Engine::~Engine() { stop(); }

void Engine::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& r : replicas_) r->wake.notify_all();
  }
  for (auto& r : replicas_)
    if (r->thread.joinable()) r->thread.join();
}

std::string Engine::down_message() const {
  std::string m = "no healthy replica:";
  for (std::size_t i = 0; i < replicas_.size(); ++i)
    m += " replica " + std::to_string(i) + " is down (" + std::to_string(replicas_[i]->consecutive_errors) +
         " step errors in a row, last: " + replicas_[i]->last_error + ")" +
         (i + 1 < replicas_.size() ? ";" : "");
  return m;
}

std::optional<std::size_t> Engine::route(std::span<const Token> tokens, bool use_affinity) {
  std::optional<std::size_t> least;
  auto load = [&](std::size_t i) { return replicas_[i]->load + replicas_[i]->inbox.size(); };
  for (std::size_t i = 0; i < replicas_.size(); ++i) {
    if (!replicas_[i]->healthy) continue;
    if (!least || load(i) < load(*least) ||
        (load(i) == load(*least) && replicas_[i]->free_blocks > replicas_[*least]->free_blocks))
      least = i;
  }
  if (!least) return std::nullopt;
  std::size_t chosen = *least;
  if (use_affinity) {
    if (const auto hit = affinity_.match(tokens);
        hit && replicas_[hit->replica]->healthy &&
        load(hit->replica) <= load(*least) + options_.affinity_slack)
      chosen = hit->replica;
    affinity_.record(tokens, chosen);
  }
  return chosen;
}

SubmitResult Engine::submit(Request request) {
  SubmitResult r;
  std::unique_lock lock(mutex_);
  if (stopping_) {
    r.reason = RejectReason::unavailable;
    r.message = "the engine is stopping";
    return r;
  }
  const auto target = route(request.prompt, true);
  if (!target) {
    r.reason = RejectReason::unavailable;
    r.message = down_message();
    return r;
  }
  // Replicas may differ (KV pool size): validate against the one that will run it.
  if (auto bad = replicas_[*target]->scheduler.validate(request)) return *bad;

  const SchedulerOptions& so = options_.scheduler;
  const auto it = so.tenants.find(request.tenant);
  const TenantPolicy& policy = it == so.tenants.end() ? so.default_tenant : it->second;
  const std::size_t healthy = static_cast<std::size_t>(
      std::ranges::count_if(replicas_, [](const auto& rep) { return rep->healthy; }));
  const std::size_t total_cap = saturating_add(so.max_queued, so.max_running) * healthy;
  const std::size_t tenant_cap = saturating_add(policy.max_queued, policy.max_running);
  {
    std::lock_guard admission(admission_->mutex);
    const auto mine = admission_->per_tenant.find(request.tenant);
    const std::size_t tenant_now = mine == admission_->per_tenant.end() ? 0 : mine->second;
    const bool all_full = admission_->total >= total_cap;
    if (all_full || tenant_now >= tenant_cap) {
      r.reason = all_full ? RejectReason::queue_full : RejectReason::tenant_queue_full;
      r.message = all_full
                      ? "the engine is full (" + std::to_string(admission_->total) + " requests in flight)"
                      : "tenant '" + request.tenant + "' has " + std::to_string(tenant_now) +
                            " requests in flight, its limit";
      // What is ahead, served max_running per healthy replica at a time, each taking the average.
      const std::size_t ahead = all_full ? admission_->total : tenant_now;
      const std::size_t per_wave = std::max<std::size_t>(1, so.max_running * healthy);
      const Duration each = admission_->latency.value_or(so.default_retry_after);
      r.retry_after = std::clamp(each * static_cast<Duration::rep>(ahead / per_wave + 1),
                                 Duration(std::chrono::milliseconds(10)), Duration(std::chrono::minutes(10)));
      return r;
    }
    if (options_.max_queue_wait > Duration::zero()) {
      // Its expected wait for a first token: for a slot (the requests ahead beyond the slots, served
      // `slots` at a time, each holding its slot for the recent average), then for the prompts not
      // yet computed ahead of it and its own, at the measured prefill rate (once there is one).
      const std::size_t slots = std::max<std::size_t>(1, so.max_running * healthy);
      const std::size_t waiting_ahead = admission_->total >= slots ? admission_->total - slots + 1 : 0;
      const Duration held = admission_->service.value_or(so.default_retry_after);
      Duration expected = held * static_cast<Duration::rep>(waiting_ahead) / static_cast<Duration::rep>(slots);
      if (admission_->step_time) {
        // Then its prompt, by the scheduler's own policy: each step runs the decoding sequences and
        // at most p prompt tokens (the prefill cap, or what the budget leaves), so the prompt tokens
        // not yet computed ahead of it, and its own, take ceil(P / p) steps of the recent average.
        const std::size_t decoding = std::min(admission_->total, slots) / healthy;
        const std::size_t budget = so.max_batch_tokens;
        std::size_t per_step = so.prefill_per_decode > 0
                                   ? std::max(so.min_prefill_chunk, static_cast<std::size_t>(so.prefill_per_decode *
                                                                                           static_cast<double>(decoding)))
                                   : (budget > decoding ? budget - decoding : 1);
        per_step = std::clamp<std::size_t>(per_step, 1, budget);
        const std::size_t prompt = (admission_->pending_prompt_tokens + request.prompt.size() + healthy - 1) / healthy;
        const auto steps = static_cast<Duration::rep>((prompt + per_step - 1) / per_step);
        expected += *admission_->step_time * steps;
      }
      if (expected > options_.max_queue_wait) {
        r.reason = RejectReason::queue_full;
        r.message = "the expected wait to start (" +
                    std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(expected).count()) +
                    " ms) exceeds the bound of " +
                    std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(options_.max_queue_wait).count()) +
                    " ms";
        r.retry_after = std::clamp(expected - options_.max_queue_wait, Duration(std::chrono::milliseconds(10)),
                                   Duration(std::chrono::minutes(10)));
        return r;
      }
    }
    ++admission_->total;
    ++admission_->per_tenant[request.tenant];
    admission_->pending_prompt_tokens += request.prompt.size();
  }
  const std::size_t chosen = *target;
  const TimePoint submitted = now_();
  request.sink = std::make_shared<CountingSink>(
      std::move(request.sink), [admission = admission_, n = request.prompt.size()] { admission->started(n); },
      [admission = admission_, tenant = request.tenant, submitted, now = now_](const FinishInfo& f) {
        admission->finished(tenant, now() - submitted, f);
      });
  r.accepted = true;
  r.id = next_id_++;
  Replica& rep = *replicas_[chosen];
  rep.inbox.push_back(rep.scheduler.make_request(r.id, std::move(request)));
  rep.wake.notify_one();
  return r;
}

void Engine::run(std::size_t index) {
  Replica& rep = *replicas_[index];
  bool busy = false;
  for (;;) {
    std::vector<std::unique_ptr<ActiveRequest>> incoming;
    {
      std::unique_lock lock(mutex_);
      if (!busy && rep.inbox.empty() && !stopping_) {
        Duration wait = options_.max_idle_wait;
        if (const auto d = rep.scheduler.next_deadline())
          wait = std::clamp(*d - now_(), Duration::zero(), wait);
        rep.wake.wait_for(lock, wait, [&] { return stopping_ || !rep.inbox.empty(); });
      }
      incoming.swap(rep.inbox);
      if (stopping_) {
        lock.unlock();
        for (auto& r : incoming) r->finish(FinishReason::error, "engine stopped");
        rep.scheduler.fail_all("engine stopped");
        return;
      }
    }
    for (auto& r : incoming) rep.scheduler.adopt(std::move(r));
    try {
      const TimePoint started = now_();
      const StepResult result = rep.scheduler.step();
      admission_->stepped(result.ran(), now_() - started);
      busy = result.ran();
      SchedulerStats s = rep.scheduler.stats();
      std::lock_guard lock(mutex_);
      ++rep.steps;
      if (result.ran()) rep.consecutive_errors = 0;
      rep.load = s.queued + s.resuming + s.running;
      rep.free_blocks = s.kv.free_blocks + s.kv.cached_blocks;
      rep.stats = std::move(s);
    } catch (const std::exception& e) {
      bool down = false;
      {
        std::lock_guard lock(mutex_);
        ++rep.errors;
        rep.last_error = e.what();
        down = ++rep.consecutive_errors >= options_.max_consecutive_errors;
        if (down) rep.healthy = false;
      }
      if (down) {
        fail_over(index);
        return;  // quarantined: this replica's thread is done
      }
      busy = true;  // the lost sequences are recomputed by the next step
    }
  }
}

void Engine::fail_over(std::size_t index) {
  Replica& rep = *replicas_[index];
  std::vector<std::unique_ptr<ActiveRequest>> moved = rep.scheduler.drain();
  std::vector<std::unique_ptr<ActiveRequest>> orphans;
  std::string why;
  {
    std::lock_guard lock(mutex_);
    for (auto& r : rep.inbox) moved.push_back(std::move(r));
    rep.inbox.clear();
    rep.load = 0;
    affinity_.forget(index);
    for (auto& r : moved) {
      if (const auto to = route({}, false)) {
        replicas_[*to]->inbox.push_back(std::move(r));
        replicas_[*to]->wake.notify_one();
      } else {
        orphans.push_back(std::move(r));
      }
    }
    if (!orphans.empty()) why = down_message();
  }
  // Sinks run outside the lock: a client may submit again from on_finish.
  for (auto& r : orphans) r->finish(FinishReason::error, why);
}

std::vector<ReplicaHealth> Engine::health() const {
  std::lock_guard lock(mutex_);
  std::vector<ReplicaHealth> out;
  for (std::size_t i = 0; i < replicas_.size(); ++i) {
    const Replica& r = *replicas_[i];
    out.push_back(ReplicaHealth{i, r.healthy, r.consecutive_errors, r.errors, r.last_error,
                                r.load + r.inbox.size(), r.free_blocks, r.total_blocks, r.steps});
  }
  return out;
}

std::vector<SchedulerStats> Engine::stats() const {
  std::lock_guard lock(mutex_);
  std::vector<SchedulerStats> out;
  for (const auto& r : replicas_) out.push_back(r->stats);
  return out;
}

std::size_t Engine::in_flight() const {
  std::lock_guard lock(admission_->mutex);
  return admission_->total;
}

}  // namespace plinth::scheduler
