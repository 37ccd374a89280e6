// EmbeddingJob: one accepted embedding request inside EmbeddingEngine: its inputs (already truncated),
// their token count (what its tenant is charged), its timing, and the rule that the sink gets exactly
// one result. It satisfies Queueable, so it waits in the same BasicRequestQueue as generation.
#pragma once

#include <algorithm>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "plinth/scheduler/clock.hpp"
#include "plinth/scheduler/embedding_request.hpp"

namespace plinth::scheduler {

class EmbeddingJob {
 public:
  // `request` is valid and its inputs truncated; `tokens` is their total length.
  EmbeddingJob(RequestId id, EmbeddingRequest request, TimePoint arrival, std::size_t tokens,
               std::size_t truncated_inputs);

  RequestId id() const noexcept { return id_; }
  const std::string& tenant() const noexcept { return request_.tenant; }
  int priority() const noexcept { return request_.priority; }
  TimePoint arrival() const noexcept { return arrival_; }
  const std::optional<TimePoint>& queue_deadline() const noexcept { return request_.queue_deadline; }
  const std::optional<TimePoint>& deadline() const noexcept { return request_.deadline; }
  std::span<const std::vector<Token>> inputs() const noexcept { return request_.inputs; }
  std::size_t tokens() const noexcept { return usage_.prompt_tokens; }
  bool cancelled() const noexcept { return request_.cancel && request_.cancel->cancelled(); }

  // Started: taken into a batch at least once (its queue deadline no longer applies; it is charged).
  bool started() const noexcept { return usage_.attempts > 0; }
  // Records a failed batch on `replica` (any identity of it); returns on how many distinct replicas
  // it has failed.
  bool has_failed_on(const void* replica) const {
    return std::find(failed_on_.begin(), failed_on_.end(), replica) != failed_on_.end();
  }
  std::size_t failed_on(const void* replica) {
    if (std::find(failed_on_.begin(), failed_on_.end(), replica) == failed_on_.end()) failed_on_.push_back(replica);
    return failed_on_.size();
  }
  void start(TimePoint now);

  // Delivers the one result; later calls do nothing. `embeddings` only with FinishReason::stop.
  void finish(FinishReason reason, std::string message, std::vector<float> embeddings, int dim,
              TimePoint now);
  bool finished() const noexcept { return finished_; }

 private:
  RequestId id_;
  EmbeddingRequest request_;
  TimePoint arrival_;
  EmbeddingUsage usage_;
  bool finished_ = false;
  std::vector<const void*> failed_on_;  // the replicas where a batch with it failed
};

}  // namespace plinth::scheduler
