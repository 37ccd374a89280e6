// Error messages are one line: text that came from a file (token strings, names) is escaped.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace plinth::models {

inline std::string one_line(std::string_view text, std::size_t max_size = 200) {
  std::string out;
  for (char c : text.substr(0, max_size)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  if (text.size() > max_size) out += "...";
  return out;
}

}  // namespace plinth::models
