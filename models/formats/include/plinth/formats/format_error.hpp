#pragma once

#include <stdexcept>
#include <string>

namespace plinth::formats {

/// A model file that cannot be read: truncated, corrupt, hostile or of an unsupported kind.
/// what() is one line, "<file>: <problem>", safe to print (file-derived text is escaped).
class FormatError : public std::runtime_error {
 public:
  explicit FormatError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace plinth::formats
