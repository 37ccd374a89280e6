#include "text_util.hpp"

#include <utf8proc.h>

namespace plinth::rag::detail {

namespace {
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
}  // namespace

std::string sanitize_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  const auto* data = reinterpret_cast<const utf8proc_uint8_t*>(bytes.data());
  std::size_t i = 0;
  while (i < bytes.size()) {
    const unsigned char c = data[i];
    if (c >= 0x80) {
      utf8proc_int32_t cp = 0;
      const auto n = utf8proc_iterate(data + i, static_cast<utf8proc_ssize_t>(bytes.size() - i), &cp);
      if (n > 0) {
        out.append(bytes.substr(i, static_cast<std::size_t>(n)));
        i += static_cast<std::size_t>(n);
      } else {
        out.append(kReplacement);
        ++i;
      }
      continue;
    }
    if (c == '\r') {
      out.push_back('\n');
      if (i + 1 < bytes.size() && bytes[i + 1] == '\n') ++i;
    } else if (c == 0) {
      out.append(kReplacement);
    } else {
      out.push_back(static_cast<char>(c));
    }
    ++i;
  }
  return out;
}

void append_utf8(std::string& out, char32_t codepoint) {
  utf8proc_uint8_t buf[4];
  const auto cp = static_cast<utf8proc_int32_t>(codepoint);
  if (!utf8proc_codepoint_valid(cp)) {
    out.append(kReplacement);
    return;
  }
  const auto n = utf8proc_encode_char(cp, buf);
  out.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
}

std::size_t utf8_floor(std::string_view s, std::size_t pos) noexcept {
  while (pos > 0 && pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) --pos;
  return pos;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string fold_whitespace(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool space = false;
  for (const char c : trim(s)) {
    if (is_space(c)) {
      space = true;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string make_title(std::string_view s) {
  std::string title = fold_whitespace(s);
  if (title.size() <= kMaxTitleBytes) return title;
  std::size_t cut = utf8_floor(title, kMaxTitleBytes);
  // Prefer the end of a word when there is one in the second half.
  const auto space = title.rfind(' ', cut);
  if (space != std::string::npos && space > kMaxTitleBytes / 2) cut = space;
  title.resize(cut);
  return std::string(trim(title));
}

std::string first_line_title(std::string_view text) {
  while (!text.empty()) {
    const auto eol = text.find('\n');
    const auto line = trim(text.substr(0, eol));
    if (!line.empty()) return make_title(line);
    if (eol == std::string_view::npos) break;
    text.remove_prefix(eol + 1);
  }
  return {};
}

}  // namespace plinth::rag::detail
