#include "embedding_job.hpp"

#include <utility>

namespace plinth::scheduler {

EmbeddingJob::EmbeddingJob(RequestId id, EmbeddingRequest request, TimePoint arrival, std::size_t tokens,
                           std::size_t truncated_inputs)
    : id_(id), request_(std::move(request)), arrival_(arrival) {
  usage_.prompt_tokens = tokens;
  usage_.truncated_inputs = truncated_inputs;
}

void EmbeddingJob::start(TimePoint now) {
  ++usage_.attempts;
  usage_.queue_wait = now - arrival_;
}

void EmbeddingJob::finish(FinishReason reason, std::string message, std::vector<float> embeddings, int dim,
                          TimePoint now) {
  if (finished_) return;
  finished_ = true;
  usage_.time_to_result = now - arrival_;
  if (!request_.sink) return;
  EmbeddingResult result;
  result.reason = reason;
  result.message = std::move(message);
  if (reason == FinishReason::stop) result.embeddings = std::move(embeddings);
  result.dim = dim;
  result.usage = usage_;
  request_.sink->on_finish(result);
}

}  // namespace plinth::scheduler
