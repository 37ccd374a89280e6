#include "plinth/models/bert_batch_encoder.hpp"

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>

namespace plinth::models {

BertBatchEncoder::BertBatchEncoder(BertEncoder& encoder, int max_batch_tokens)
    : encoder_(encoder), max_batch_tokens_(max_batch_tokens) {
  if (max_batch_tokens_ < encoder_.max_tokens())
    throw std::invalid_argument("BertBatchEncoder: max_batch_tokens " + std::to_string(max_batch_tokens_) +
                                " cannot hold one input of " + std::to_string(encoder_.max_tokens()) +
                                " tokens");
}

std::vector<float> BertBatchEncoder::embed(std::span<const std::vector<int32_t>> inputs) {
  // BertEncoder reports an unknown id as a runtime error and embeds an empty input as a zero row; the
  // interface calls both malformed, so that the engine can tell a bad request from a failing device.
  if (inputs.empty()) throw std::invalid_argument("BertBatchEncoder: no input");
  const auto limit = static_cast<std::size_t>(encoder_.max_tokens());
  const int32_t vocab = encoder_.config().vocab_size;
  std::size_t total = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].empty()) throw std::invalid_argument("input " + std::to_string(i) + " is empty");
    const std::size_t used = std::min(inputs[i].size(), limit);
    for (std::size_t p = 0; p < used; ++p) {
      if (inputs[i][p] < 0 || inputs[i][p] >= vocab)
        throw std::invalid_argument("token id " + std::to_string(inputs[i][p]) + " at position " +
                                    std::to_string(p) + " of input " + std::to_string(i) +
                                    " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
    }
    total += used;
  }
  if (total > static_cast<std::size_t>(max_batch_tokens_))
    throw std::invalid_argument("the batch has " + std::to_string(total) + " tokens; one call takes at most " +
                                std::to_string(max_batch_tokens_));
  return encoder_.embed_tokens(inputs);
}

}  // namespace plinth::models
