#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace plinth::formats::detail {

/// Text from a file, quoted for a one-line message: control and non-ASCII bytes escaped as \xNN,
/// long text shortened, so a hostile name can neither break the line nor flood the log.
[[nodiscard]] std::string quoted(std::string_view text);

/// "[begin, end)", a byte range in a message.
[[nodiscard]] std::string range_text(std::uint64_t begin, std::uint64_t end);

/// "<file>: <problem>" as a FormatError.
[[noreturn]] void fail(std::string_view file, std::string_view problem);

/// Checked arithmetic: false on overflow.
[[nodiscard]] inline bool checked_add(std::uint64_t a, std::uint64_t b, std::uint64_t& out) noexcept {
  return !__builtin_add_overflow(a, b, &out);
}
[[nodiscard]] inline bool checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t& out) noexcept {
  return !__builtin_mul_overflow(a, b, &out);
}

}  // namespace plinth::formats::detail
