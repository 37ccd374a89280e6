#include "plinth/models/model_store.hpp"

#include <array>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace plinth::models {
namespace {

// Keep in step with tools/models.lock, which pins the files the setup script installs.
constexpr std::array kDefaultModels = {
    DefaultModel{"all-MiniLM-L6-v2", "encoder", "model.safetensors", "dir"},
    DefaultModel{"SmolLM2-135M-Instruct", "decoder", "SmolLM2-135M-Instruct.Q4_1.gguf", "file"},
};

std::optional<std::filesystem::path> env_path(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::filesystem::path(value);
}

}  // namespace

std::filesystem::path models_dir() {
  if (auto dir = env_path("PLINTH_MODELS_DIR")) return *dir;
  if (auto cache = env_path("XDG_CACHE_HOME")) return *cache / "plinth" / "models";
  if (auto home = env_path("HOME")) return *home / ".cache" / "plinth" / "models";
  return std::filesystem::path("plinth-models");
}

std::span<const DefaultModel> default_models() noexcept { return kDefaultModels; }

const DefaultModel* find_default_model_info(std::string_view name) noexcept {
  for (const DefaultModel& model : kDefaultModels) {
    if (model.name == name) return &model;
  }
  return nullptr;
}

std::optional<std::filesystem::path> find_default_model(std::string_view name) {
  const DefaultModel* model = find_default_model_info(name);
  if (model == nullptr) return std::nullopt;
  const std::filesystem::path dir = models_dir() / model->name;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(dir / model->main_file, ec)) return std::nullopt;
  return model->loads_as == "dir" ? dir : dir / model->main_file;
}

std::filesystem::path resolve_model(std::string_view name_or_path) {
  const std::filesystem::path as_path(name_or_path);
  std::error_code ec;
  if (std::filesystem::exists(as_path, ec)) return as_path;
  if (auto found = find_default_model(name_or_path)) return *found;
  std::string names;
  for (const DefaultModel& model : kDefaultModels) {
    names += names.empty() ? "" : ", ";
    names += model.name;
  }
  if (find_default_model_info(name_or_path) != nullptr) {
    throw std::runtime_error("default model '" + std::string(name_or_path) + "' is not installed in " +
                             models_dir().string() + " (run tools/bootstrap.sh models)");
  }
  throw std::runtime_error("model '" + std::string(name_or_path) +
                           "' is neither an existing file or directory nor a default model (" + names +
                           ")");
}

bool models_required() {
  const char* value = std::getenv("PLINTH_REQUIRE_MODELS");
  return value != nullptr && std::string_view(value) == "1";
}

}  // namespace plinth::models
