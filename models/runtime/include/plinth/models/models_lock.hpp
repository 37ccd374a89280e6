// The pins of the default models: tools/models.lock, parsed. The same file drives the setup script
// (tools/fetch_models.sh) and, embedded into this library when CMake configures the build, the check
// that refuses a default model whose files differ from their pins.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace plinth::models {

// One file of a default model, as the lock pins it.
struct PinnedFile {
  std::string model;   // the model's directory in the models cache
  std::string file;    // its name there (the basename of its path inside the wheel)
  std::string sha256;  // 64 lowercase hex digits
};

class ModelsLock {
 public:
  // Parses the text of a lock file. `origin` names it in error messages and in the messages of the
  // model check ("tools/models.lock"). Throws std::runtime_error "<origin>:<line>: <problem>" for an
  // unknown line kind, a wrong field count, a malformed sha256 or a file pinned twice.
  static ModelsLock parse(std::string_view text, std::string origin);

  // Reads and parses a lock file; throws std::runtime_error naming the path when it cannot be read.
  static ModelsLock read(const std::filesystem::path& path);

  // The tools/models.lock this library was built with: its text is embedded at configure time, so
  // an installed binary verifies without the source tree.
  static ModelsLock built_in();

  // PLINTH_MODELS_LOCK when set and not empty (tools/fetch_models.sh reads the same variable, so
  // both agree on the pins), else built_in().
  static ModelsLock from_environment();

  [[nodiscard]] std::span<const PinnedFile> files() const noexcept { return files_; }
  // The pinned files of one model, in the lock's order; empty for a model the lock does not name.
  [[nodiscard]] std::vector<PinnedFile> files_of(std::string_view model) const;
  [[nodiscard]] const std::string& origin() const noexcept { return origin_; }

 private:
  ModelsLock(std::vector<PinnedFile> files, std::string origin)
      : files_(std::move(files)), origin_(std::move(origin)) {}

  std::vector<PinnedFile> files_;
  std::string origin_;
};

}  // namespace plinth::models
