// The models cache: where tools/bootstrap.sh unpacks the default models and where `plinth models`,
// `plinth embed` and `plinth generate` look for them when no path is given. A default model is used
// only when its files match their sha256 pins in tools/models.lock.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "plinth/models/models_lock.hpp"

namespace plinth::models {

// One model the setup script installs, with the file that identifies it.
struct DefaultModel {
  std::string_view name;       // directory under models_dir(), and what --model accepts
  std::string_view kind;       // "encoder" or "decoder"
  std::string_view main_file;  // relative to the model's directory
  std::string_view loads_as;   // what to pass to the loader: "dir" or "file"
};

// PLINTH_MODELS_DIR when set and not empty; else $XDG_CACHE_HOME/plinth/models; else
// $HOME/.cache/plinth/models; else ./plinth-models.
std::filesystem::path models_dir();

std::span<const DefaultModel> default_models() noexcept;
const DefaultModel* find_default_model_info(std::string_view name) noexcept;

// The loadable path of a default model in models_dir() (its directory or its main file), or nullopt
// when the name is unknown or its main file is not there. Only looks: nothing is verified (use
// ModelStore::require or resolve_model for a path that is safe to load).
std::optional<std::filesystem::path> find_default_model(std::string_view name);

// What the cache holds of a default model, against the pins.
enum class ModelStatus {
  kVerified,  // every pinned file is present and has its pinned sha256
  kCorrupt,   // every pinned file is present, and at least one differs from its pin or cannot be read
  kMissing,   // at least one pinned file is absent
};
std::string_view to_string(ModelStatus status) noexcept;  // "verified", "corrupt", "missing"

struct ModelCheck {
  ModelStatus status = ModelStatus::kMissing;
  std::filesystem::path path;         // what the loader takes (the directory or the main file)
  std::vector<std::string> problems;  // one line per file that is absent or differs, naming it
};

// The default models of one cache directory, checked against one lock. Each file's hash is computed
// once and recorded in a stamp (<model>/.verified.json: size, inode, device, mtime and ctime per
// file); later checks hash only a file whose identity changed. A cache that cannot be written is
// verified on every check instead, with one warning per store. Not thread-safe: one per thread.
class ModelStore {
 public:
  using WarningSink = std::function<void(std::string_view)>;

  // Throws std::runtime_error when the lock pins no main file for one of default_models().
  // `warn` receives the warning about an unwritable cache; empty means stderr.
  ModelStore(std::filesystem::path dir, ModelsLock lock, WarningSink warn = {});

  // models_dir() and ModelsLock::from_environment().
  static ModelStore from_environment();

  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }
  [[nodiscard]] const ModelsLock& lock() const noexcept { return lock_; }

  // Checks a default model's files against their pins, hashing those whose stamp is stale.
  // Throws std::invalid_argument for a name that is not a default model.
  ModelCheck check(std::string_view name);

  // The loadable path of a verified default model. Throws std::runtime_error otherwise, naming each
  // file that is absent or differs and the command that installs or repairs it.
  std::filesystem::path require(std::string_view name);

  // What a user passed to --model: an existing path is taken as it is, and verified only when it is
  // a default model's directory or one of its pinned files in this cache (any other file has no
  // pin); otherwise the name of a default model, which must verify. Throws std::runtime_error
  // naming the default models and the cache directory for anything else.
  std::filesystem::path resolve(std::string_view name_or_path);

  // How many files this store has hashed (tests use it to see the stamp at work).
  [[nodiscard]] std::size_t files_hashed() const noexcept { return files_hashed_; }

 private:
  void warn_once(std::string_view message);

  std::filesystem::path dir_;
  ModelsLock lock_;
  WarningSink warn_;
  bool warned_ = false;
  std::size_t files_hashed_ = 0;
};

// ModelStore::from_environment().resolve(name_or_path): what the commands call.
std::filesystem::path resolve_model(std::string_view name_or_path);

// PLINTH_REQUIRE_MODELS=1: tests fail instead of skipping when a default model is missing (CI).
bool models_required();

}  // namespace plinth::models
