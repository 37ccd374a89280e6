#include "byte_level.hpp"

#include "unicode_text.hpp"

namespace plinth::models {
namespace {

bool maps_to_itself(unsigned b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE); }

}  // namespace

ByteLevelMap::ByteLevelMap() {
  char32_t next = 0x100;
  for (unsigned b = 0; b < 256; ++b) {
    if (maps_to_itself(b)) {
      byte_to_char_[b] = static_cast<char32_t>(b);
    } else {
      remapped_bytes_[next - 0x100] = static_cast<std::uint8_t>(b);
      byte_to_char_[b] = next++;
    }
    unicode::append_utf8(byte_to_utf8_[b], byte_to_char_[b]);
  }
}

std::optional<std::uint8_t> ByteLevelMap::to_byte(char32_t cp) const {
  if (cp < 0x100 && maps_to_itself(static_cast<unsigned>(cp))) return static_cast<std::uint8_t>(cp);
  if (cp >= 0x100 && cp < 0x100 + 68) {
    return remapped_bytes_[cp - 0x100];
  }
  return std::nullopt;
}

std::string ByteLevelMap::encode(std::string_view raw) const {
  std::string out;
  out.reserve(raw.size() * 2);
  for (char c : raw) out += byte_to_utf8_[static_cast<std::uint8_t>(c)];
  return out;
}

std::string ByteLevelMap::decode(std::string_view mapped) const {
  std::string out;
  out.reserve(mapped.size());
  for (char32_t cp : unicode::decode_utf8(mapped)) {
    if (auto b = to_byte(cp)) {
      out.push_back(static_cast<char>(*b));
    } else {
      unicode::append_utf8(out, cp);
    }
  }
  return out;
}

}  // namespace plinth::models
