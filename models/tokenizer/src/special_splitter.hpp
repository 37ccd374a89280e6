// Cuts raw text at special-token strings before any normalization, so "<|im_start|>" or "[SEP]" in
// user text always becomes the special token.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plinth::models {

struct TextFragment {
  std::string_view text;  // raw text when id < 0
  std::int32_t id = -1;   // the special token's id
};

class SpecialSplitter {
 public:
  enum class Order {
    /// Leftmost match, longest among those starting there (HF tokenizers' added tokens).
    kLeftmostLongest,
    /// Each special in turn, longest string first, cuts every remaining raw fragment (llama.cpp).
    kLongestTokenFirst,
  };

  SpecialSplitter() = default;
  SpecialSplitter(std::vector<std::pair<std::string, std::int32_t>> specials, Order order);

  [[nodiscard]] std::vector<TextFragment> split(std::string_view text) const;
  [[nodiscard]] bool empty() const noexcept { return specials_.empty(); }

 private:
  std::vector<std::pair<std::string, std::int32_t>> specials_;  // longest first
  Order order_ = Order::kLeftmostLongest;
};

}  // namespace plinth::models
