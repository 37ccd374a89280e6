// Per-plugin expectation lists: `unsupported <glob> <reason>` and `xfail <glob> <reason>` lines.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace plinth::cts {

struct Expectation {
  enum class Kind { kUnsupported, kXfail };
  Kind kind = Kind::kUnsupported;
  std::string glob;
  std::string reason;
  int line = 0;
};

class ExpectationList {
 public:
  // Throws std::runtime_error naming the file and line of a malformed entry.
  static ExpectationList load(const std::filesystem::path& path);
  static ExpectationList parse(const std::string& text, const std::string& origin);

  // The first entry of `kind` whose glob matches `test_id`, or null.
  const Expectation* find(Expectation::Kind kind, const std::string& test_id) const;
  bool empty() const noexcept { return entries_.empty(); }
  const std::vector<Expectation>& entries() const noexcept { return entries_; }

 private:
  std::vector<Expectation> entries_;
};

bool glob_match(const std::string& glob, const std::string& text);

}  // namespace plinth::cts
