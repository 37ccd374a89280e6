#include "plinth/models/models_lock.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "built_in_lock.hpp"

namespace plinth::models {
namespace {

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t pos = 0;
  while (true) {
    pos = line.find_first_not_of(" \t\r", pos);
    if (pos == std::string_view::npos) break;
    const std::size_t end = std::min(line.find_first_of(" \t\r", pos), line.size());
    fields.push_back(line.substr(pos, end - pos));
    pos = end;
  }
  return fields;
}

bool is_sha256(std::string_view text) {
  if (text.size() != 64) return false;
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

ModelsLock ModelsLock::parse(std::string_view text, std::string origin) {
  std::vector<PinnedFile> files;
  std::size_t line_number = 0;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    ++line_number;
    const std::vector<std::string_view> fields = split_fields(line);
    if (fields.empty() || fields[0].starts_with('#')) continue;
    const auto fail = [&](const std::string& problem) {
      throw std::runtime_error(origin + ":" + std::to_string(line_number) + ": " + problem);
    };
    // Both kinds have four fields: kind, model, what (a pip requirement or a path in the wheel), sha256.
    if (fields[0] != "wheel" && fields[0] != "file")
      fail("unknown line kind '" + std::string(fields[0]) + "'");
    if (fields.size() != 4) fail("expected 4 fields, found " + std::to_string(fields.size()));
    if (!is_sha256(fields[3]))
      fail("'" + std::string(fields[3]) + "' is not a sha256 (64 lowercase hex digits)");
    if (fields[0] == "wheel") continue;  // only the setup script needs to know where a file comes from

    const std::string_view path = fields[2];
    const std::string_view base = path.substr(path.find_last_of('/') + 1);  // npos + 1 == 0
    if (base.empty() || base == "." || base == "..") fail("'" + std::string(path) + "' names no file");
    for (const PinnedFile& pinned : files) {
      if (pinned.model == fields[1] && pinned.file == base) {
        fail("file " + std::string(fields[1]) + "/" + std::string(base) + " is pinned twice");
      }
    }
    files.push_back({std::string(fields[1]), std::string(base), std::string(fields[3])});
  }
  return ModelsLock(std::move(files), std::move(origin));
}

ModelsLock ModelsLock::read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();  // an empty file sets failbit on `text`, which is no error here
  if (!in.is_open() || in.bad()) throw std::runtime_error("cannot read the models lock " + path.string());
  return parse(text.str(), path.string());
}

ModelsLock ModelsLock::built_in() { return parse(detail::built_in_models_lock_text(), "tools/models.lock"); }

ModelsLock ModelsLock::from_environment() {
  const char* path = std::getenv("PLINTH_MODELS_LOCK");
  if (path == nullptr || *path == '\0') return built_in();
  return read(path);
}

std::vector<PinnedFile> ModelsLock::files_of(std::string_view model) const {
  std::vector<PinnedFile> result;
  for (const PinnedFile& pinned : files_) {
    if (pinned.model == model) result.push_back(pinned);
  }
  return result;
}

}  // namespace plinth::models
