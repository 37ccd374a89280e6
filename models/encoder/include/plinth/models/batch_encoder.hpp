// BatchEncoder: one call embeds a batch of token-id sequences into one vector each. The interface the
// embedding engine (plinth::scheduler's EmbeddingEngine) drives, so the scheduler needs this header
// only, not the encoder library: a replica is a real encoder (BertBatchEncoder) or a test fake.
//
//   std::vector<std::vector<int32_t>> inputs = {{101, 7592, 102}, {101, 2088, 2003, 102}};
//   std::vector<float> rows = encoder.embed(inputs);  // [2, encoder.dim()] row-major
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace plinth::models {

class BatchEncoder {
 public:
  virtual ~BatchEncoder() = default;

  virtual int dim() const = 0;               // floats per embedding
  virtual int max_batch_tokens() const = 0;  // most tokens (all inputs together) one embed() takes
  virtual int max_input_tokens() const = 0;  // truncation length: tokens of an input past it are ignored

  // One embedding per input, in input order: [inputs.size(), dim()] row-major. Each input holds >= 1
  // token id (special tokens included, as the tokenizer produces them); an input longer than
  // max_input_tokens() is truncated. Throws std::invalid_argument for a malformed batch (no input, an
  // empty input, an id the model does not know, more than max_batch_tokens() tokens after
  // truncation): nothing is wrong with the device. Throws plinth::Error when the device fails. One call
  // at a time per encoder.
  virtual std::vector<float> embed(std::span<const std::vector<int32_t>> inputs) = 0;
};

}  // namespace plinth::models
