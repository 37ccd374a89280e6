#include "error_text.hpp"

#include <plinth/formats/format_error.hpp>

namespace plinth::formats::detail {

namespace {
constexpr std::size_t kMaxQuotedBytes = 96;
constexpr char kHex[] = "0123456789abcdef";
}  // namespace

std::string range_text(std::uint64_t begin, std::uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
}

std::string quoted(std::string_view text) {
  std::string out = "'";
  const std::size_t shown = text.size() > kMaxQuotedBytes ? kMaxQuotedBytes : text.size();
  for (std::size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7f || c == '\'' || c == '\\') {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (shown < text.size()) out += "...";
  out += "'";
  return out;
}

void fail(std::string_view file, std::string_view problem) {
  std::string message;
  message.reserve(file.size() + problem.size() + 2);
  message.append(file).append(": ").append(problem);
  throw FormatError(message);
}

}  // namespace plinth::formats::detail
