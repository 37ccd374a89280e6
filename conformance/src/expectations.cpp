#include "expectations.hpp"

#include <fnmatch.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace plinth::cts {

bool glob_match(const std::string& glob, const std::string& text) {
  return fnmatch(glob.c_str(), text.c_str(), 0) == 0;
}

ExpectationList ExpectationList::load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read expectation list " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path.string());
}

ExpectationList ExpectationList::parse(const std::string& text, const std::string& origin) {
  ExpectationList list;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::string kind, glob;
    if (!(words >> kind)) continue;
    Expectation e;
    e.line = number;
    if (kind == "unsupported") {
      e.kind = Expectation::Kind::kUnsupported;
    } else if (kind == "xfail") {
      e.kind = Expectation::Kind::kXfail;
    } else {
      throw std::runtime_error(origin + ":" + std::to_string(number) + ": unknown entry '" + kind +
                               "' (want 'unsupported' or 'xfail')");
    }
    if (!(words >> glob)) throw std::runtime_error(origin + ":" + std::to_string(number) + ": missing test-id glob");
    std::getline(words >> std::ws, e.reason);
    while (!e.reason.empty() && (e.reason.back() == ' ' || e.reason.back() == '\r')) e.reason.pop_back();
    if (e.reason.empty()) {
      throw std::runtime_error(origin + ":" + std::to_string(number) + ": '" + kind + " " + glob +
                               "' needs a reason");
    }
    e.glob = glob;
    list.entries_.push_back(std::move(e));
  }
  return list;
}

const Expectation* ExpectationList::find(Expectation::Kind kind, const std::string& test_id) const {
  for (const auto& e : entries_) {
    if (e.kind == kind && glob_match(e.glob, test_id)) return &e;
  }
  return nullptr;
}

}  // namespace plinth::cts
