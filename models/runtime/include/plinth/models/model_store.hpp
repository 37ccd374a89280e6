// The models cache: where tools/bootstrap.sh unpacks the default models and where `plinth models`,
// `plinth embed` and `plinth generate` look for them when no path is given.
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string_view>

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
// when the name is unknown or its main file is not there.
std::optional<std::filesystem::path> find_default_model(std::string_view name);

// Resolves what a user passed to --model: an existing path is taken as is; otherwise a default
// model's name. Throws std::runtime_error naming the default models and the cache directory.
std::filesystem::path resolve_model(std::string_view name_or_path);

// PLINTH_REQUIRE_MODELS=1: tests fail instead of skipping when a default model is missing (CI).
bool models_required();

}  // namespace plinth::models
