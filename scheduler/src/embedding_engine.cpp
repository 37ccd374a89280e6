#include "plinth/scheduler/embedding_engine.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>

#include "embedding_job.hpp"
#include "plinth/scheduler/request_queue.hpp"

namespace plinth::scheduler {

namespace {

using JobPtr = std::unique_ptr<EmbeddingJob>;

bool reached(const std::optional<TimePoint>& deadline, TimePoint now) { return deadline && *deadline <= now; }

// Why a job that is not running must finish now, if it must.
std::optional<std::pair<FinishReason, std::string>> expiry(const EmbeddingJob& job, TimePoint now) {
  if (job.cancelled()) return std::pair(FinishReason::cancelled, std::string());
  if (reached(job.deadline(), now)) return std::pair(FinishReason::deadline, std::string("deadline reached"));
  if (!job.started() && reached(job.queue_deadline(), now))
    return std::pair(FinishReason::deadline, std::string("not started by its queue deadline"));
  return std::nullopt;
}

// The outcome of one batch on one replica, computed without the engine's lock.
struct Attempt {
  enum class Kind { ok, malformed, device_error } kind = Kind::ok;
  std::vector<float> rows;  // ok: [all inputs of the batch, dim]
  std::string message;
};

}  // namespace

class EmbeddingEngine::Impl {
 public:
  Impl(std::vector<std::reference_wrapper<models::BatchEncoder>> replicas, EmbeddingEngineOptions options,
       NowFn now);
  ~Impl() { stop(); }

  SubmitResult submit(EmbeddingRequest request);
  void stop();
  std::vector<EncoderReplicaHealth> health() const;
  EmbeddingStats stats() const;
  std::size_t in_flight() const;

  const int dim_;
  const std::size_t max_input_tokens_;

 private:
  struct Replica {
    Replica(models::BatchEncoder& e, std::size_t b) : encoder(e), budget(b) {}
    models::BatchEncoder& encoder;  // only its thread calls it
    const std::size_t budget;       // tokens per call
    // Guarded by Impl::mutex_.
    bool healthy = true;
    bool busy = false;
    int consecutive_errors = 0;
    std::uint64_t errors = 0;
    std::string last_error;
    std::uint64_t batches = 0;
    std::uint64_t tokens = 0;
    double tokens_per_second = 0;
    std::thread thread;
  };
  struct TenantCounters {
    std::size_t queued_tokens = 0;
    std::size_t running = 0;
    std::uint64_t admitted = 0, rejected = 0, finished = 0;
  };
  // A job leaving the engine, delivered outside the lock (a sink may submit again).
  struct Finished {
    JobPtr job;
    FinishReason reason = FinishReason::stop;
    std::string message;
    std::vector<float> rows;
  };
  using Done = std::vector<Finished>;

  // All below: caller holds mutex_.
  const TenantPolicy& policy(std::string_view tenant) const;
  TenantCounters& counters(std::string_view tenant);
  std::optional<SubmitResult> validate(const EmbeddingRequest& request) const;
  SubmitResult reject(std::string_view tenant, RejectReason reason, std::string message,
                      std::size_t tokens_ahead, double share);
  std::size_t waiting() const noexcept { return queue_.size() + retry_.size(); }
  void leave_queue(const EmbeddingJob& job);
  void retire(JobPtr job, FinishReason reason, std::string message, std::vector<float> rows, Done& done);
  void reap(TimePoint now, Done& done);
  std::vector<JobPtr> take_batch(const Replica& rep, TimePoint now);
  void requeue(std::vector<JobPtr> jobs, Done& done);
  void fail_waiting(const std::string& why, Done& done);
  std::string down_message() const;
  std::optional<TimePoint> next_deadline() const;

  // Without the lock.
  void run(Replica& rep);
  void watch();
  void process(Replica& rep, std::vector<JobPtr> jobs);
  Attempt attempt(Replica& rep, const std::vector<JobPtr>& jobs) const;
  void deliver(Done done);

  const EmbeddingEngineOptions options_;
  const NowFn now_;
  std::vector<std::unique_ptr<Replica>> replicas_;

  mutable std::mutex mutex_;
  std::condition_variable work_;   // replicas: work arrived, or a running cap freed
  std::condition_variable watch_;  // watchdog: an earlier deadline arrived, or stopping
  BasicRequestQueue<EmbeddingJob> queue_;
  std::deque<JobPtr> retry_;  // started, their batch failed: first in line, in their order
  TenantFairness fairness_;
  std::map<std::string, TenantCounters, std::less<>> tenants_;
  std::size_t queued_tokens_ = 0;
  std::size_t running_ = 0;
  std::size_t in_flight_ = 0;
  std::uint64_t admitted_ = 0, rejected_ = 0, finished_ = 0, inputs_embedded_ = 0;
  RequestId next_id_ = 1;
  bool stopping_ = false;
  std::thread watchdog_;
};

namespace {

std::size_t checked_truncation(const std::vector<std::reference_wrapper<models::BatchEncoder>>& replicas) {
  int least = std::numeric_limits<int>::max();
  for (const auto& r : replicas) least = std::min(least, r.get().max_input_tokens());
  if (least < 1) throw std::invalid_argument("EmbeddingEngine: an encoder's max_input_tokens is < 1");
  return static_cast<std::size_t>(least);
}

int checked_dim(const std::vector<std::reference_wrapper<models::BatchEncoder>>& replicas) {
  if (replicas.empty()) throw std::invalid_argument("EmbeddingEngine: no replica");
  const int dim = replicas.front().get().dim();
  if (dim < 1) throw std::invalid_argument("EmbeddingEngine: an encoder's dim is < 1");
  for (const auto& r : replicas)
    if (r.get().dim() != dim) throw std::invalid_argument("EmbeddingEngine: the replicas' dims differ");
  return dim;
}

}  // namespace

EmbeddingEngine::Impl::Impl(std::vector<std::reference_wrapper<models::BatchEncoder>> replicas,
                            EmbeddingEngineOptions options, NowFn now)
    : dim_(checked_dim(replicas)),
      max_input_tokens_(checked_truncation(replicas)),
      options_(std::move(options)),
      now_(now ? std::move(now) : NowFn(steady_now)),
      queue_(options_.aging_step) {
  if (options_.max_consecutive_errors < 1)
    throw std::invalid_argument("EmbeddingEngine: max_consecutive_errors < 1");
  if (options_.max_attempts < 1) throw std::invalid_argument("EmbeddingEngine: max_attempts < 1");
  if (options_.max_idle_wait <= Duration::zero())
    throw std::invalid_argument("EmbeddingEngine: max_idle_wait must be > 0");
  fairness_.set_default_weight(options_.default_tenant.weight);
  for (const auto& [name, p] : options_.tenants) fairness_.set_weight(name, p.weight);
  for (auto& r : replicas) {
    const std::size_t budget = std::min(options_.max_batch_tokens,
                                        static_cast<std::size_t>(std::max(0, r.get().max_batch_tokens())));
    // An input is never split, so every call must be able to hold one of the truncation length.
    if (budget < max_input_tokens_)
      throw std::invalid_argument("EmbeddingEngine: a batch budget of " + std::to_string(budget) +
                                  " tokens cannot hold one input of " + std::to_string(max_input_tokens_));
    replicas_.push_back(std::make_unique<Replica>(r.get(), budget));
  }
  for (auto& r : replicas_) r->thread = std::thread([this, rep = r.get()] { run(*rep); });
  watchdog_ = std::thread([this] { watch(); });
}

const TenantPolicy& EmbeddingEngine::Impl::policy(std::string_view tenant) const {
  const auto it = options_.tenants.find(tenant);
  return it == options_.tenants.end() ? options_.default_tenant : it->second;
}

EmbeddingEngine::Impl::TenantCounters& EmbeddingEngine::Impl::counters(std::string_view tenant) {
  auto it = tenants_.find(tenant);
  if (it == tenants_.end()) it = tenants_.emplace(std::string(tenant), TenantCounters{}).first;
  return it->second;
}

std::optional<SubmitResult> EmbeddingEngine::Impl::validate(const EmbeddingRequest& request) const {
  auto bad = [](RejectReason reason, std::string message) {
    SubmitResult r;
    r.reason = reason;
    r.message = std::move(message);
    return r;
  };
  if (request.inputs.empty()) return bad(RejectReason::invalid, "no inputs");
  if (request.inputs.size() > options_.max_inputs)
    return bad(RejectReason::too_large, std::to_string(request.inputs.size()) + " inputs; at most " +
                                            std::to_string(options_.max_inputs) + " per request");
  for (std::size_t i = 0; i < request.inputs.size(); ++i) {
    if (request.inputs[i].empty()) return bad(RejectReason::invalid, "input " + std::to_string(i) + " is empty");
    for (std::size_t p = 0; p < request.inputs[i].size(); ++p)
      if (request.inputs[i][p] < 0)
        return bad(RejectReason::invalid, "token id " + std::to_string(request.inputs[i][p]) + " at position " +
                                              std::to_string(p) + " of input " + std::to_string(i) +
                                              " is negative");
  }
  return std::nullopt;
}

SubmitResult EmbeddingEngine::Impl::reject(std::string_view tenant, RejectReason reason, std::string message,
                                           std::size_t tokens_ahead, double share) {
  ++rejected_;
  ++counters(tenant).rejected;
  SubmitResult r;
  r.reason = reason;
  r.message = std::move(message);
  // When what is waiting ahead would be embedded at the measured rate (the tenant's share of it for a
  // tenant bound): a retry before then would most likely be refused again.
  double rate = 0;
  for (const auto& rep : replicas_)
    if (rep->healthy) rate += rep->tokens_per_second;
  Duration wait = options_.default_retry_after;
  if (rate > 0 && share > 0)
    wait = std::chrono::duration_cast<Duration>(
        std::chrono::duration<double>(static_cast<double>(tokens_ahead) / (rate * share)));
  r.retry_after = std::clamp(wait, Duration(std::chrono::milliseconds(10)), Duration(std::chrono::minutes(10)));
  return r;
}

SubmitResult EmbeddingEngine::Impl::submit(EmbeddingRequest request) {
  std::optional<SubmitResult> bad = validate(request);  // reads only constants: outside the lock
  // Truncate here, not in the encoder, so the tenant is charged for what is embedded and every
  // replica sees the same inputs.
  std::size_t tokens = 0, truncated = 0;
  if (!bad) {
    for (auto& input : request.inputs) {
      if (input.size() > max_input_tokens_) {
        input.resize(max_input_tokens_);
        ++truncated;
      }
      tokens += input.size();
    }
  }
  std::unique_lock lock(mutex_);
  if (bad) {
    ++rejected_;
    ++counters(request.tenant).rejected;
    return *bad;
  }
  if (stopping_) {
    ++rejected_;
    return SubmitResult{.reason = RejectReason::unavailable, .message = "the engine is stopping"};
  }
  if (std::ranges::none_of(replicas_, [](const auto& r) { return r->healthy; })) {
    ++rejected_;
    return SubmitResult{.reason = RejectReason::unavailable, .message = down_message()};
  }
  if (waiting() >= options_.max_queued)
    return reject(request.tenant, RejectReason::queue_full,
                  "the queue is full (" + std::to_string(waiting()) + " requests waiting)", queued_tokens_, 1.0);
  const std::size_t mine = queue_.size(request.tenant);
  if (mine >= policy(request.tenant).max_queued) {
    // Its share among the tenants with work, itself included.
    double weights = fairness_.weight(request.tenant);
    for (const auto& [name, c] : tenants_)
      if (name != request.tenant && (c.queued_tokens > 0 || c.running > 0)) weights += fairness_.weight(name);
    return reject(request.tenant, RejectReason::tenant_queue_full,
                  "tenant '" + request.tenant + "' has " + std::to_string(mine) + " requests waiting, its limit",
                  counters(request.tenant).queued_tokens, fairness_.weight(request.tenant) / weights);
  }
  SubmitResult r;
  r.accepted = true;
  r.id = next_id_++;
  const bool has_deadline = request.queue_deadline || request.deadline;
  const std::string tenant = request.tenant;
  fairness_.add_active(tenant);
  TenantCounters& c = counters(tenant);
  c.queued_tokens += tokens;
  ++c.admitted;
  queued_tokens_ += tokens;
  ++admitted_;
  ++in_flight_;
  queue_.push(std::make_unique<EmbeddingJob>(r.id, std::move(request), now_(), tokens, truncated));
  lock.unlock();
  work_.notify_one();
  if (has_deadline) watch_.notify_one();  // it may be the next deadline: the watchdog re-plans its sleep
  return r;
}

void EmbeddingEngine::Impl::leave_queue(const EmbeddingJob& job) {
  counters(job.tenant()).queued_tokens -= job.tokens();
  queued_tokens_ -= job.tokens();
}

void EmbeddingEngine::Impl::retire(JobPtr job, FinishReason reason, std::string message,
                                   std::vector<float> rows, Done& done) {
  // Counted before the sink runs, so a client that submits again from on_finish is not refused for
  // the request just finished.
  fairness_.remove_active(job->tenant());
  ++counters(job->tenant()).finished;
  ++finished_;
  --in_flight_;
  done.push_back({std::move(job), reason, std::move(message), std::move(rows)});
}

void EmbeddingEngine::Impl::reap(TimePoint now, Done& done) {
  for (auto& job : queue_.remove_if([&](const EmbeddingJob& j) { return expiry(j, now).has_value(); })) {
    auto [reason, message] = *expiry(*job, now);
    leave_queue(*job);
    retire(std::move(job), reason, std::move(message), {}, done);
  }
  for (auto it = retry_.begin(); it != retry_.end();) {
    if (auto why = expiry(**it, now)) {
      leave_queue(**it);
      retire(std::move(*it), why->first, std::move(why->second), {}, done);
      it = retry_.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<JobPtr> EmbeddingEngine::Impl::take_batch(const Replica& rep, TimePoint now) {
  std::vector<JobPtr> batch;
  std::size_t tokens = 0;
  auto eligible = [&](std::string_view tenant) {
    const auto it = tenants_.find(tenant);
    return it == tenants_.end() || it->second.running < policy(tenant).max_running;
  };
  // Fits, or is the first: a request bigger than the budget runs alone (split over calls).
  auto fits = [&](const EmbeddingJob& job) { return batch.empty() || tokens + job.tokens() <= rep.budget; };
  auto take = [&](JobPtr job) {
    leave_queue(*job);
    ++counters(job->tenant()).running;
    ++running_;
    tokens += job->tokens();
    job->start(now);
    batch.push_back(std::move(job));
  };
  // A failed request is retried on another replica than the ones it failed on, while a healthy one
  // is left: if its inputs are what fails, no replica goes down for it.
  auto elsewhere = [&](const EmbeddingJob& job) {
    return job.has_failed_on(&rep) && std::ranges::any_of(replicas_, [&](const auto& r) {
             return r->healthy && r.get() != &rep && !job.has_failed_on(r.get());
           });
  };
  // Requests whose batch failed go first: they were admitted before anything still queued.
  for (auto it = retry_.begin(); it != retry_.end() && tokens < rep.budget;) {
    if (!eligible((*it)->tenant()) || elsewhere(**it)) {
      ++it;
      continue;
    }
    if (!fits(**it)) return batch;
    take(std::move(*it));
    it = retry_.erase(it);
  }
  while (tokens < rep.budget) {
    const EmbeddingJob* next = queue_.peek(now, fairness_, eligible);
    if (!next || !fits(*next)) break;
    JobPtr job = queue_.pop(*next);
    // Charged when taken, so the next peek already sees this tenant's new share.
    fairness_.charge(job->tenant(), job->tokens());
    take(std::move(job));
  }
  return batch;
}

Attempt EmbeddingEngine::Impl::attempt(Replica& rep, const std::vector<JobPtr>& jobs) const {
  Attempt a;
  try {
    // Inputs of all jobs in order, cut into calls of at most `budget` tokens (one call unless a single
    // request was bigger than the budget).
    std::vector<std::vector<Token>> call;
    std::size_t call_tokens = 0;
    auto flush = [&] {
      if (call.empty()) return;
      std::vector<float> rows = rep.encoder.embed(call);
      if (rows.size() != call.size() * static_cast<std::size_t>(dim_))
        throw std::runtime_error("the encoder returned " + std::to_string(rows.size()) + " floats for " +
                                 std::to_string(call.size()) + " inputs of dim " + std::to_string(dim_));
      a.rows.insert(a.rows.end(), rows.begin(), rows.end());
      call.clear();
      call_tokens = 0;
    };
    for (const auto& job : jobs) {
      for (const auto& input : job->inputs()) {
        if (call_tokens + input.size() > rep.budget) flush();
        call.push_back(input);
        call_tokens += input.size();
      }
    }
    flush();
  } catch (const std::invalid_argument& e) {
    a.kind = Attempt::Kind::malformed;
    a.message = e.what();
  } catch (const std::exception& e) {
    a.kind = Attempt::Kind::device_error;
    a.message = e.what();
  }
  return a;
}

void EmbeddingEngine::Impl::requeue(std::vector<JobPtr> jobs, Done& done) {
  const TimePoint now = now_();
  for (auto it = jobs.rbegin(); it != jobs.rend(); ++it) {  // to the front, keeping their order
    if (auto why = expiry(**it, now)) {
      retire(std::move(*it), why->first, std::move(why->second), {}, done);
      continue;
    }
    counters((*it)->tenant()).queued_tokens += (*it)->tokens();
    queued_tokens_ += (*it)->tokens();
    retry_.push_front(std::move(*it));
  }
}

void EmbeddingEngine::Impl::fail_waiting(const std::string& why, Done& done) {
  for (auto& job : queue_.remove_if([](const EmbeddingJob&) { return true; })) {
    leave_queue(*job);
    retire(std::move(job), FinishReason::error, why, {}, done);
  }
  for (auto& job : retry_) {
    leave_queue(*job);
    retire(std::move(job), FinishReason::error, why, {}, done);
  }
  retry_.clear();
}

std::string EmbeddingEngine::Impl::down_message() const {
  std::string m = "no healthy encoder replica:";
  for (std::size_t i = 0; i < replicas_.size(); ++i)
    m += " replica " + std::to_string(i) + " is down (" + std::to_string(replicas_[i]->consecutive_errors) +
         " failed batches in a row, last: " + replicas_[i]->last_error + ")" +
         (i + 1 < replicas_.size() ? ";" : "");
  return m;
}

void EmbeddingEngine::Impl::process(Replica& rep, std::vector<JobPtr> jobs) {
  const TimePoint started = now_();
  Attempt a = attempt(rep, jobs);
  if (a.kind == Attempt::Kind::malformed && jobs.size() > 1) {
    // One request is bad (say, an id the model does not know): find it by running each alone, so the
    // others do not fail with it.
    for (auto& job : jobs) {
      std::vector<JobPtr> one;
      one.push_back(std::move(job));
      bool healthy = true;
      {
        std::lock_guard lock(mutex_);
        healthy = rep.healthy;
      }
      if (healthy) {
        process(rep, std::move(one));
        continue;
      }
      Done done;
      {
        std::lock_guard lock(mutex_);
        --counters(one.front()->tenant()).running;
        --running_;
        if (std::ranges::any_of(replicas_, [](const auto& r) { return r->healthy; }))
          requeue(std::move(one), done);
        else
          retire(std::move(one.front()), FinishReason::error, down_message(), {}, done);
      }
      deliver(std::move(done));
    }
    return;
  }
  const TimePoint now = now_();
  Done done;
  {
    std::lock_guard lock(mutex_);
    for (const auto& job : jobs) --counters(job->tenant()).running;
    running_ -= jobs.size();
    switch (a.kind) {
      case Attempt::Kind::ok: {
        rep.consecutive_errors = 0;
        ++rep.batches;
        std::size_t tokens = 0;
        for (const auto& job : jobs) tokens += job->tokens();
        rep.tokens += tokens;
        const double seconds = std::chrono::duration<double>(now - started).count();
        if (seconds > 0) {
          const double rate = static_cast<double>(tokens) / seconds;
          rep.tokens_per_second = rep.tokens_per_second > 0 ? rep.tokens_per_second + (rate - rep.tokens_per_second) / 8
                                                            : rate;
        }
        const auto d = static_cast<std::size_t>(dim_);
        std::size_t row = 0;
        for (auto& job : jobs) {
          const std::size_t n = job->inputs().size();
          if (job->cancelled()) {
            retire(std::move(job), FinishReason::cancelled, {}, {}, done);
          } else if (reached(job->deadline(), now)) {
            retire(std::move(job), FinishReason::deadline, "deadline reached", {}, done);
          } else {
            inputs_embedded_ += n;
            const auto first = a.rows.begin() + static_cast<std::ptrdiff_t>(row * d);
            retire(std::move(job), FinishReason::stop, {},
                   std::vector<float>(first, first + static_cast<std::ptrdiff_t>(n * d)), done);
          }
          row += n;
        }
        break;
      }
      case Attempt::Kind::malformed:
        retire(std::move(jobs.front()), FinishReason::error, "malformed input: " + a.message, {}, done);
        break;
      case Attempt::Kind::device_error: {
        ++rep.errors;
        rep.last_error = a.message;
        if (++rep.consecutive_errors >= options_.max_consecutive_errors) rep.healthy = false;
        if (std::ranges::any_of(replicas_, [](const auto& r) { return r->healthy; })) {
          // A request whose inputs fail every device would otherwise take each replica down in turn:
          // once batches with it failed on max_attempts distinct replicas, it fails alone. (A replica
          // that fails everything fails a request on itself only, however often: it goes down instead.)
          std::vector<JobPtr> again;
          for (auto& job : jobs) {
            const std::size_t on = job->failed_on(&rep);
            if (on >= static_cast<std::size_t>(options_.max_attempts)) {
              std::string why = "failed on " + std::to_string(on) + " replicas; the last error: " + a.message;
              retire(std::move(job), FinishReason::error, std::move(why), {}, done);
            } else {
              again.push_back(std::move(job));
            }
          }
          requeue(std::move(again), done);
        } else {
          const std::string why = down_message();
          for (auto& job : jobs) retire(std::move(job), FinishReason::error, why, {}, done);
          fail_waiting(why, done);
        }
        break;
      }
    }
  }
  work_.notify_all();  // running caps freed, or requests back in line
  deliver(std::move(done));
}

void EmbeddingEngine::Impl::deliver(Done done) {
  const TimePoint now = now_();
  for (auto& f : done) f.job->finish(f.reason, std::move(f.message), std::move(f.rows), dim_, now);
}

void EmbeddingEngine::Impl::run(Replica& rep) {
  std::unique_lock lock(mutex_);
  while (!stopping_ && rep.healthy) {
    const TimePoint now = now_();
    Done done;
    reap(now, done);  // never start a request that is already over
    std::vector<JobPtr> batch = take_batch(rep, now);
    if (batch.empty() && done.empty()) {
      // Woken by submit(), a finished batch or stop(); the bound is only a safety net.
      work_.wait_for(lock, options_.max_idle_wait);
      continue;
    }
    rep.busy = !batch.empty();
    lock.unlock();
    deliver(std::move(done));
    if (!batch.empty()) process(rep, std::move(batch));
    lock.lock();
    rep.busy = false;
  }
}

std::optional<TimePoint> EmbeddingEngine::Impl::next_deadline() const {
  std::optional<TimePoint> next = queue_.next_deadline();
  for (const auto& job : retry_)
    if (job->deadline() && (!next || *job->deadline() < *next)) next = job->deadline();
  return next;
}

void EmbeddingEngine::Impl::watch() {
  // The replicas may all be inside long batches: deadlines and cancellations of waiting requests must
  // not wait for them.
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    Done done;
    reap(now_(), done);
    if (!done.empty()) {
      lock.unlock();
      deliver(std::move(done));
      lock.lock();
      continue;
    }
    Duration wait = options_.max_idle_wait;
    if (const auto d = next_deadline()) wait = std::clamp(*d - now_(), Duration::zero(), wait);
    watch_.wait_for(lock, wait);
  }
}

void EmbeddingEngine::Impl::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_.notify_all();
  watch_.notify_all();
  for (auto& r : replicas_)
    if (r->thread.joinable()) r->thread.join();
  if (watchdog_.joinable()) watchdog_.join();
  Done done;
  {
    std::lock_guard lock(mutex_);
    fail_waiting("engine stopped", done);
  }
  deliver(std::move(done));
}

std::vector<EncoderReplicaHealth> EmbeddingEngine::Impl::health() const {
  std::lock_guard lock(mutex_);
  std::vector<EncoderReplicaHealth> out;
  for (std::size_t i = 0; i < replicas_.size(); ++i) {
    const Replica& r = *replicas_[i];
    out.push_back({i, r.healthy, r.busy, r.consecutive_errors, r.errors, r.last_error, r.batches, r.tokens,
                   r.tokens_per_second, r.budget});
  }
  return out;
}

EmbeddingStats EmbeddingEngine::Impl::stats() const {
  std::lock_guard lock(mutex_);
  EmbeddingStats s;
  s.queued = queue_.size();
  s.retrying = retry_.size();
  s.queued_tokens = queued_tokens_;
  s.running = running_;
  s.admitted = admitted_;
  s.rejected = rejected_;
  s.finished = finished_;
  s.inputs_embedded = inputs_embedded_;
  for (const auto& r : replicas_) {
    s.batches += r->batches;
    s.tokens_embedded += r->tokens;
    if (r->healthy) s.tokens_per_second += r->tokens_per_second;
  }
  for (const auto& [name, c] : tenants_) {
    std::size_t queued = queue_.size(name);
    for (const auto& job : retry_) queued += job->tenant() == name ? 1 : 0;
    s.tenants.push_back(TenantStats{name, fairness_.weight(name), queued, c.running, fairness_.served_tokens(name),
                                    fairness_.virtual_tokens(name), c.admitted, c.rejected, c.finished});
  }
  return s;
}

std::size_t EmbeddingEngine::Impl::in_flight() const {
  std::lock_guard lock(mutex_);
  return in_flight_;
}

EmbeddingEngine::EmbeddingEngine(std::vector<std::reference_wrapper<models::BatchEncoder>> replicas,
                                 EmbeddingEngineOptions options, NowFn now)
    : impl_(std::make_unique<Impl>(std::move(replicas), std::move(options), std::move(now))) {}
EmbeddingEngine::~EmbeddingEngine() = default;
SubmitResult EmbeddingEngine::submit(EmbeddingRequest request) { return impl_->submit(std::move(request)); }
int EmbeddingEngine::dim() const noexcept { return impl_->dim_; }
std::size_t EmbeddingEngine::max_input_tokens() const noexcept { return impl_->max_input_tokens_; }
std::vector<EncoderReplicaHealth> EmbeddingEngine::health() const { return impl_->health(); }
EmbeddingStats EmbeddingEngine::stats() const { return impl_->stats(); }
std::size_t EmbeddingEngine::in_flight() const { return impl_->in_flight(); }
void EmbeddingEngine::stop() { impl_->stop(); }

}  // namespace plinth::scheduler
