#include "plinth/models/utf8_assembler.hpp"

namespace plinth::models {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

struct Lead {
  int length = 0;             // 0: not a valid lead byte
  unsigned char low = 0x80;   // allowed range of the second byte (excludes overlongs, surrogates,
  unsigned char high = 0xBF;  // and code points above U+10FFFF)
};

Lead lead_of(unsigned char b) {
  if (b < 0x80) return {1, 0, 0};
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b >= 0xE1 && b <= 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {};
}

}  // namespace

std::string Utf8Assembler::push(std::string_view bytes) {
  pending_.append(bytes);
  std::string out;
  out.reserve(pending_.size());
  std::size_t i = 0;
  const std::size_t n = pending_.size();
  while (i < n) {
    const auto b = static_cast<unsigned char>(pending_[i]);
    const Lead lead = lead_of(b);
    if (lead.length == 1) {
      out.push_back(static_cast<char>(b));
      ++i;
      continue;
    }
    if (lead.length == 0) {  // stray continuation byte, C0/C1, F5..FF
      out.append(kReplacement);
      ++i;
      continue;
    }
    // Count how many of the bytes after the lead are valid for this character.
    std::size_t valid = 1;
    bool broken = false;
    while (valid < static_cast<std::size_t>(lead.length) && i + valid < n) {
      const auto c = static_cast<unsigned char>(pending_[i + valid]);
      const unsigned char low = valid == 1 ? lead.low : 0x80;
      const unsigned char high = valid == 1 ? lead.high : 0xBF;
      if (c < low || c > high) {
        broken = true;
        break;
      }
      ++valid;
    }
    if (valid == static_cast<std::size_t>(lead.length)) {
      out.append(pending_, i, valid);
    } else if (broken) {
      out.append(kReplacement);  // the valid prefix is one maximal subpart; resume at the bad byte
    } else {
      break;  // ran out of bytes: keep the partial character for the next push
    }
    i += valid;
  }
  pending_.erase(0, i);
  return out;
}

std::string Utf8Assembler::flush() {
  std::string out = push({});
  if (!pending_.empty()) {
    out.append(kReplacement);
    pending_.clear();
  }
  return out;
}

}  // namespace plinth::models
