#include "special_splitter.hpp"

#include <algorithm>

namespace plinth::models {

SpecialSplitter::SpecialSplitter(std::vector<std::pair<std::string, std::int32_t>> specials, Order order)
    : specials_(std::move(specials)), order_(order) {
  std::erase_if(specials_, [](const auto& s) { return s.first.empty(); });
  std::sort(specials_.begin(), specials_.end(), [](const auto& a, const auto& b) {
    if (a.first.size() != b.first.size()) return a.first.size() > b.first.size();
    return a.second < b.second;
  });
}

std::vector<TextFragment> SpecialSplitter::split(std::string_view text) const {
  std::vector<TextFragment> out;
  if (text.empty()) return out;
  if (specials_.empty()) {
    out.push_back({text, -1});
    return out;
  }
  if (order_ == Order::kLeftmostLongest) {
    std::size_t raw_begin = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
      const std::pair<std::string, std::int32_t>* hit = nullptr;
      for (const auto& s : specials_) {  // longest first, so the first hit is the longest
        if (text.compare(pos, s.first.size(), s.first) == 0) {
          hit = &s;
          break;
        }
      }
      if (hit == nullptr) {
        ++pos;
        continue;
      }
      if (pos > raw_begin) out.push_back({text.substr(raw_begin, pos - raw_begin), -1});
      out.push_back({std::string_view(hit->first), hit->second});
      pos += hit->first.size();
      raw_begin = pos;
    }
    if (raw_begin < text.size()) out.push_back({text.substr(raw_begin), -1});
    return out;
  }

  out.push_back({text, -1});
  std::vector<TextFragment> next;
  for (const auto& [str, id] : specials_) {
    next.clear();
    for (const TextFragment& f : out) {
      if (f.id >= 0) {
        next.push_back(f);
        continue;
      }
      std::string_view rest = f.text;
      std::size_t at = 0;
      while ((at = rest.find(str)) != std::string_view::npos) {
        if (at > 0) next.push_back({rest.substr(0, at), -1});
        next.push_back({std::string_view(str), id});
        rest.remove_prefix(at + str.size());
      }
      if (!rest.empty()) next.push_back({rest, -1});
    }
    out.swap(next);
  }
  return out;
}

}  // namespace plinth::models
