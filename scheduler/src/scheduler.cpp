#include "plinth/scheduler/scheduler.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace plinth::scheduler {

namespace {

bool before(const ActiveRequest& a, const ActiveRequest& b) {
  return std::pair(a.priority(), a.arrival()) < std::pair(b.priority(), b.arrival());
}

bool reached(const std::optional<TimePoint>& deadline, TimePoint now) { return deadline && *deadline <= now; }

std::size_t checked_budget(const SchedulerOptions& o, const models::BatchModel& m) {
  const std::size_t budget =
      std::min(o.max_batch_tokens, static_cast<std::size_t>(std::max(0, m.max_batch_tokens())));
  if (budget == 0) throw std::invalid_argument("Scheduler: the token budget per step is 0");
  if (o.max_running == 0) throw std::invalid_argument("Scheduler: max_running is 0");
  if (!(o.prefill_per_decode >= 0) || !std::isfinite(o.prefill_per_decode)) {
    throw std::invalid_argument("Scheduler: prefill_per_decode must be finite and >= 0");
  }
  if (o.min_prefill_chunk == 0) throw std::invalid_argument("Scheduler: min_prefill_chunk is 0");
  return budget;
}

}  // namespace

Scheduler::Scheduler(models::BatchModel& model, SchedulerOptions options, NowFn now)
    : model_(model),
      options_(std::move(options)),
      now_(now ? std::move(now) : NowFn(steady_now)),
      vocab_(model.vocab_size()),
      budget_(checked_budget(options_, model)),
      blocks_(BlockManagerOptions{.num_blocks = static_cast<std::uint32_t>(std::max(0, model.num_blocks())),
                                  .block_size = static_cast<std::uint32_t>(std::max(1, model.block_size())),
                                  .prefix_caching = options_.prefix_caching,
                                  .hasher = {}}),
      total_blocks_(blocks_.pool().size()),
      queue_(options_.aging_step) {
  fairness_.set_default_weight(options_.default_tenant.weight);
  for (const auto& [name, p] : options_.tenants) fairness_.set_weight(name, p.weight);
}

const TenantPolicy& Scheduler::policy(std::string_view tenant) const {
  const auto it = options_.tenants.find(tenant);
  return it == options_.tenants.end() ? options_.default_tenant : it->second;
}

Scheduler::TenantCounters& Scheduler::counters(std::string_view tenant) {
  auto it = tenants_.find(tenant);
  if (it == tenants_.end()) it = tenants_.emplace(std::string(tenant), TenantCounters{}).first;
  return it->second;
}

Duration Scheduler::retry_after(std::size_t queued_ahead) const {
  // About when a slot frees up for this caller: what waits ahead of it, served max_running at a time,
  // each taking the recent average latency.
  const Duration per_request = latency_.value_or(options_.default_retry_after);
  const auto waves = static_cast<Duration::rep>((queued_ahead + options_.max_running) / options_.max_running);
  return std::clamp(per_request * waves, Duration(std::chrono::milliseconds(10)),
                    Duration(std::chrono::minutes(10)));
}

SubmitResult Scheduler::reject(std::string_view tenant, RejectReason reason, std::string message,
                               std::size_t queued_ahead) {
  ++rejected_;
  ++counters(tenant).rejected;
  SubmitResult r;
  r.reason = reason;
  r.message = std::move(message);
  if (reason == RejectReason::queue_full || reason == RejectReason::tenant_queue_full)
    r.retry_after = retry_after(queued_ahead);
  return r;
}

std::optional<SubmitResult> Scheduler::validate(const Request& request) const {
  auto bad = [](RejectReason reason, std::string message) {
    SubmitResult r;
    r.reason = reason;
    r.message = std::move(message);
    return std::optional<SubmitResult>(std::move(r));
  };
  if (request.prompt.empty()) return bad(RejectReason::invalid, "the prompt is empty");
  for (Token t : request.prompt)
    if (t < 0 || t >= vocab_)
      return bad(RejectReason::invalid, "prompt token " + std::to_string(t) +
                                            " is outside the vocabulary [0, " + std::to_string(vocab_) + ")");
  if (request.max_tokens == 0) return bad(RejectReason::invalid, "max_tokens must be at least 1");
  try {
    models::validate(request.sampling);
  } catch (const std::invalid_argument& e) {
    return bad(RejectReason::invalid, e.what());
  }
  if (!request.stop.stop_strings.empty() && !(options_.detokenizer && *options_.detokenizer))
    return bad(RejectReason::invalid, "stop strings need a detokenizer, and none is configured");
  // The prompt and the first generated token must fit in the whole pool, or it could never run.
  const std::uint32_t need = blocks_.blocks_for_tokens(request.prompt.size() + 1);
  if (need > total_blocks_)
    return bad(RejectReason::too_large,
               "the prompt of " + std::to_string(request.prompt.size()) + " tokens needs " +
                   std::to_string(need) + " KV blocks; the whole cache has " + std::to_string(total_blocks_));
  return std::nullopt;
}

std::unique_ptr<ActiveRequest> Scheduler::make_request(RequestId id, Request request) const {
  return std::make_unique<ActiveRequest>(id, std::move(request), now_(), options_.detokenizer);
}

SubmitResult Scheduler::submit(Request request) {
  if (auto bad = validate(request)) {
    ++rejected_;
    ++counters(request.tenant).rejected;
    return *bad;
  }
  if (queue_.size() >= options_.max_queued)
    return reject(request.tenant, RejectReason::queue_full,
                  "the queue is full (" + std::to_string(queue_.size()) + " waiting)", queue_.size());
  const std::size_t mine = queue_.size(request.tenant);
  if (mine >= policy(request.tenant).max_queued)
    return reject(
        request.tenant, RejectReason::tenant_queue_full,
        "tenant '" + request.tenant + "' has " + std::to_string(mine) + " requests waiting, its limit", mine);
  SubmitResult r;
  r.accepted = true;
  r.id = next_id_++;
  enqueue(make_request(r.id, std::move(request)));
  return r;
}

void Scheduler::adopt(std::unique_ptr<ActiveRequest> request) {
  if (blocks_.blocks_for_tokens(request->tokens().size() + 1) > total_blocks_) {
    request->finish(FinishReason::error, "the request no longer fits in this replica's KV cache");
    return;
  }
  if (request->started()) {
    fairness_.add_active(request->tenant());
    resume_later(std::move(request));
  } else {
    enqueue(std::move(request));
  }
}

void Scheduler::enqueue(std::unique_ptr<ActiveRequest> request) {
  fairness_.add_active(request->tenant());
  counters(request->tenant());
  queue_.push(std::move(request));
}

void Scheduler::resume_later(std::unique_ptr<ActiveRequest> request) {
  const auto at = std::ranges::upper_bound(resuming_, request,
                                           [](const auto& a, const auto& b) { return before(*a, *b); });
  resuming_.insert(at, std::move(request));
}

std::unique_ptr<ActiveRequest> Scheduler::release(std::size_t index) {
  Running& r = running_[index];
  blocks_.free(r.seq);
  --counters(r.request->tenant()).running;
  std::unique_ptr<ActiveRequest> out = std::move(r.request);
  running_.erase(running_.begin() + static_cast<std::ptrdiff_t>(index));
  return out;
}

void Scheduler::preempt(std::size_t index) {
  std::unique_ptr<ActiveRequest> r = release(index);
  r->count_preemption();
  ++preemptions_;
  resume_later(std::move(r));
}

void Scheduler::finish(std::unique_ptr<ActiveRequest> request, FinishReason reason, std::string message) {
  fairness_.remove_active(request->tenant());
  ++counters(request->tenant()).finished;
  ++finished_;
  if (request->started()) {
    // An exponential moving average (1/8) of submit-to-finish, for the retry-after estimate.
    const Duration latency = now_() - request->arrival();
    latency_ = latency_ ? *latency_ + (latency - *latency_) / 8 : latency;
  }
  request->finish(reason, std::move(message));
}

std::size_t Scheduler::reap(TimePoint now) {
  std::size_t n = 0;
  auto why = [&](const ActiveRequest& r) -> std::optional<std::pair<FinishReason, std::string>> {
    if (r.cancelled()) return std::pair(FinishReason::cancelled, std::string());
    if (reached(r.request().deadline, now))
      return std::pair(FinishReason::deadline, std::string("deadline reached"));
    if (!r.started() && reached(r.request().queue_deadline, now))
      return std::pair(FinishReason::deadline, std::string("not started by its queue deadline"));
    return std::nullopt;
  };
  for (auto& r : queue_.remove_if([&](const ActiveRequest& r) { return why(r).has_value(); })) {
    auto [reason, message] = *why(*r);
    finish(std::move(r), reason, std::move(message));
    ++n;
  }
  for (std::size_t i = resuming_.size(); i-- > 0;) {
    if (auto w = why(*resuming_[i])) {
      std::unique_ptr<ActiveRequest> r = std::move(resuming_[i]);
      resuming_.erase(resuming_.begin() + static_cast<std::ptrdiff_t>(i));
      finish(std::move(r), w->first, std::move(w->second));
      ++n;
    }
  }
  for (std::size_t i = running_.size(); i-- > 0;) {
    if (auto w = why(*running_[i].request)) {
      finish(release(i), w->first, std::move(w->second));
      ++n;
    }
  }
  return n;
}

void Scheduler::secure_slots() {
  // Most important first, so that when blocks run out the victims come from the back.
  std::ranges::stable_sort(running_, [](const Running& a, const Running& b) {
    return std::pair(a.request->priority(), a.admitted) < std::pair(b.request->priority(), b.admitted);
  });
  for (std::size_t i = 0; i < running_.size();) {
    Running& r = running_[i];
    const auto tokens = r.request->tokens();
    bool kept = true;
    while (blocks_.num_tokens(r.seq) < tokens.size()) {
      if (blocks_.append_token(r.seq, tokens[blocks_.num_tokens(r.seq)])) continue;
      if (i + 1 < running_.size()) {
        preempt(running_.size() - 1);
        continue;
      }
      kept = false;
      if (running_.size() == 1) {
        // Alone and still out of blocks: the whole cache holds this sequence; it cannot grow.
        finish(release(i), FinishReason::length, "the KV cache cannot hold another token of this request");
      } else {
        preempt(i);
      }
      break;
    }
    if (kept) ++i;
  }
}

void Scheduler::plan_running(std::vector<Planned>& plan, Budget& budget) {
  std::vector<std::size_t> order(running_.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  auto pending = [&](std::size_t i) { return running_[i].request->tokens().size() - running_[i].computed; };
  // Decodes first (a long prompt never delays them), then prefills, the least-served tenant first.
  std::ranges::stable_sort(order, [&](std::size_t a, std::size_t b) {
    const bool da = pending(a) == 1, db = pending(b) == 1;
    if (da != db) return da;
    if (da) return running_[a].admitted < running_[b].admitted;
    const double va = fairness_.virtual_tokens(running_[a].request->tenant());
    const double vb = fairness_.virtual_tokens(running_[b].request->tenant());
    return std::pair(va, running_[a].admitted) < std::pair(vb, running_[b].admitted);
  });
  // A decode samples from a generated token; a prompt's last token (pending 1 too) is prefill.
  auto decode = [&](std::size_t i) { return pending(i) == 1 && running_[i].request->generated() > 0; };
  const auto decoding = static_cast<std::size_t>(std::ranges::count_if(order, decode));
  if (decoding > 0 && options_.prefill_per_decode > 0) {
    const auto share = static_cast<std::size_t>(std::ceil(options_.prefill_per_decode * static_cast<double>(decoding)));
    budget.prefill = std::max(options_.min_prefill_chunk, share);
  }
  for (std::size_t i : order) {
    const bool d = decode(i);
    const std::size_t n = d ? std::min<std::size_t>(1, budget.tokens) : budget.prefill_take(pending(i));
    if (n == 0) {
      if (budget.tokens == 0) break;
      continue;
    }
    const Running& r = running_[i];
    plan.push_back({i, r.computed, n, r.computed + n == r.request->tokens().size()});
    budget.spend(n, d);
  }
}

void Scheduler::admit(TimePoint now, std::vector<Planned>& plan, Budget& budget) {
  auto eligible = [&](std::string_view tenant) {
    const auto it = tenants_.find(tenant);
    return it == tenants_.end() || it->second.running < policy(tenant).max_running;
  };
  // Every admission prefills at least its last prompt token.
  while (budget.prefill_take(1) > 0 && running_.size() < options_.max_running) {
    const bool resume = !resuming_.empty();
    const ActiveRequest* next = resume ? resuming_.front().get() : queue_.peek(now, fairness_, eligible);
    if (!next) break;
    const auto tokens = next->tokens();
    // Head of line waits for blocks rather than letting smaller requests pass it forever.
    if (!blocks_.plan_prompt(tokens).fits) break;
    const SequenceId seq = next_seq_++;
    const auto alloc = blocks_.allocate_prompt(seq, tokens);
    if (!alloc) break;
    std::unique_ptr<ActiveRequest> r;
    if (resume) {
      r = std::move(resuming_.front());
      resuming_.erase(resuming_.begin());
    } else {
      r = queue_.pop(*next);
    }
    TenantCounters& c = counters(r->tenant());
    ++c.running;
    if (!r->started()) {
      r->mark_started(alloc->cached_tokens);
      fairness_.charge(r->tenant(), r->request().prompt.size());
      ++c.admitted;
      ++admitted_;
    }
    // A full hit still runs the last token: its logits give the next token.
    const std::size_t computed = std::min(alloc->cached_tokens, tokens.size() - 1);
    const std::size_t n = budget.prefill_take(tokens.size() - computed);
    running_.push_back({std::move(r), seq, computed, next_admission_++});
    plan.push_back({running_.size() - 1, computed, n, computed + n == tokens.size()});
    budget.spend(n, false);
  }
}

StepResult Scheduler::step() {
  StepResult result;
  ++steps_;
  TimePoint now = now_();
  result.finished += reap(now);
  secure_slots();
  std::vector<Planned> plan;
  Budget budget{.tokens = budget_, .prefill = budget_};
  plan_running(plan, budget);
  admit(now, plan, budget);
  if (plan.empty()) return result;

  tables_.resize(plan.size());
  chunks_.clear();
  for (std::size_t k = 0; k < plan.size(); ++k) {
    const Planned& p = plan[k];
    const Running& r = running_[p.index];
    const auto table = blocks_.block_table(r.seq);
    tables_[k].assign(table.begin(), table.end());
    chunks_.push_back(models::BatchChunk{.tokens = r.request->tokens().subspan(p.start, p.length),
                                         .start_pos = static_cast<std::int32_t>(p.start),
                                         .block_table = tables_[k],
                                         .want_logits = p.logits});
  }
  std::span<const float> logits;
  try {
    logits = model_.step(chunks_);
  } catch (...) {
    // The pass may have written part of these sequences' KV: recompute them from their tokens.
    std::vector<std::size_t> lost;
    for (const Planned& p : plan) lost.push_back(p.index);
    std::ranges::sort(lost, std::greater<>());
    for (std::size_t i : lost) preempt(i);
    throw;
  }

  now = now_();
  const auto vocab = static_cast<std::size_t>(vocab_);
  std::size_t row = 0;
  std::vector<std::pair<std::size_t, std::pair<FinishReason, std::string>>> done;
  for (const Planned& p : plan) {
    Running& r = running_[p.index];
    r.computed += p.length;
    blocks_.mark_computed(r.seq, r.computed);
    const bool decode = p.length == 1 && r.request->generated() > 0 && p.logits;
    (decode ? result.decode_tokens : result.prefill_tokens) += p.length;
    if (!decode) prefilled_ += p.length;
    ++result.sequences;
    if (!p.logits) continue;
    const auto row_logits = logits.subspan(row++ * vocab, vocab);
    try {
      const Token t = r.request->sample(row_logits);
      fairness_.charge(r.request->tenant(), 1);
      ++generated_;
      if (const auto reason = r.request->accept(t, now)) done.push_back({p.index, {*reason, {}}});
    } catch (const std::exception& e) {
      done.push_back({p.index, {FinishReason::error, std::string("sampling failed: ") + e.what()}});
    }
  }
  std::ranges::sort(done, [](const auto& a, const auto& b) { return a.first > b.first; });
  for (auto& [index, why] : done) finish(release(index), why.first, std::move(why.second));
  result.finished += done.size();
  result.finished += reap(now);
  return result;
}

std::optional<TimePoint> Scheduler::next_deadline() const {
  std::optional<TimePoint> next = queue_.next_deadline();
  auto consider = [&](const std::optional<TimePoint>& t) {
    if (t && (!next || *t < *next)) next = t;
  };
  for (const auto& r : resuming_) consider(r->request().deadline);
  for (const auto& r : running_) consider(r.request->request().deadline);
  return next;
}

std::vector<std::unique_ptr<ActiveRequest>> Scheduler::drain() {
  std::vector<std::unique_ptr<ActiveRequest>> out;
  while (!running_.empty()) {
    std::unique_ptr<ActiveRequest> r = release(running_.size() - 1);
    r->count_preemption();
    out.push_back(std::move(r));
  }
  for (auto& r : resuming_) out.push_back(std::move(r));
  resuming_.clear();
  for (auto& r : queue_.remove_if([](const ActiveRequest&) { return true; })) out.push_back(std::move(r));
  for (const auto& r : out) fairness_.remove_active(r->tenant());
  // Admission order, so the replica that takes them over keeps the order they had.
  std::ranges::sort(out, [](const auto& a, const auto& b) { return a->id() < b->id(); });
  return out;
}

void Scheduler::fail_all(std::string_view message) {
  for (auto& r : drain()) {
    ++counters(r->tenant()).finished;
    ++finished_;
    r->finish(FinishReason::error, std::string(message));
  }
}

SchedulerStats Scheduler::stats() const {
  SchedulerStats s;
  s.queued = queue_.size();
  s.resuming = resuming_.size();
  s.running = running_.size();
  s.kv = blocks_.stats();
  s.kv_usage = s.kv.total_blocks ? static_cast<double>(s.kv.in_use_blocks) / s.kv.total_blocks : 0.0;
  s.prefix_hit_tokens = s.kv.prefix_hit_tokens;
  s.preemptions = preemptions_;
  s.steps = steps_;
  s.admitted = admitted_;
  s.rejected = rejected_;
  s.finished = finished_;
  s.generated_tokens = generated_;
  s.prefill_tokens = prefilled_;
  for (const auto& [name, c] : tenants_) {
    s.tenants.push_back(TenantStats{name, fairness_.weight(name), queue_.size(name), c.running,
                                    fairness_.served_tokens(name), fairness_.virtual_tokens(name), c.admitted,
                                    c.rejected, c.finished});
  }
  return s;
}

}  // namespace plinth::scheduler
