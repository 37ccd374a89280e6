#include <plinth/models/tokenizer.hpp>

namespace plinth::models {

std::vector<std::int32_t> truncate_ids(const Tokenizer& tokenizer, std::vector<std::int32_t> ids,
                                       std::size_t max_length) {
  if (ids.size() <= max_length) return ids;
  if (max_length == 0) return {};
  const std::int32_t last = ids.back();
  ids.resize(max_length);
  if (tokenizer.is_special(last)) ids.back() = last;
  return ids;
}

}  // namespace plinth::models
