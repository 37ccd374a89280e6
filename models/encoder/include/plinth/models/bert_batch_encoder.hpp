// BertBatchEncoder: a BertEncoder seen through the BatchEncoder interface, so the embedding engine can
// drive it. An adapter rather than a base class of BertEncoder: the encoder stays a movable value
// type, and what the interface adds (a per-call token budget, malformed input reported as
// std::invalid_argument naming the input) lives here, checked before any device work.
//
//   auto bert = plinth::models::BertEncoder::load(device, "all-MiniLM-L6-v2/");
//   plinth::models::BertBatchEncoder replica(bert);
//   plinth::scheduler::EmbeddingEngine engine({replica});
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "plinth/models/batch_encoder.hpp"
#include "plinth/models/bert_encoder.hpp"

namespace plinth::models {

class BertBatchEncoder final : public BatchEncoder {
 public:
  static constexpr int kDefaultMaxBatchTokens = 8192;

  // `encoder` must outlive the adapter, and nothing else may call it while embed() runs. The budget
  // bounds the host and device memory of one call; it must hold one input of the encoder's truncation
  // length (std::invalid_argument otherwise).
  explicit BertBatchEncoder(BertEncoder& encoder, int max_batch_tokens = kDefaultMaxBatchTokens);

  int dim() const override { return encoder_.hidden_size(); }
  int max_batch_tokens() const override { return max_batch_tokens_; }
  int max_input_tokens() const override { return encoder_.max_tokens(); }
  std::vector<float> embed(std::span<const std::vector<int32_t>> inputs) override;

 private:
  BertEncoder& encoder_;
  int max_batch_tokens_;
};

}  // namespace plinth::models
