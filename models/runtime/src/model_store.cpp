#include "plinth/models/model_store.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "sha256_file.hpp"
#include "verification_stamp.hpp"

namespace plinth::models {
namespace {

namespace fs = std::filesystem;

// The lock (tools/models.lock) pins the files of these models; ModelStore refuses a lock that does
// not pin each one's main file.
constexpr std::array kDefaultModels = {
    DefaultModel{"all-MiniLM-L6-v2", "encoder", "model.safetensors", "dir"},
    DefaultModel{"SmolLM2-135M-Instruct", "decoder", "SmolLM2-135M-Instruct.Q4_1.gguf", "file"},
};

// Beside the model's files; fetch_models.sh and `plinth models` ignore it.
constexpr std::string_view kStampName = ".verified.json";

// File timestamps come from a clock that ticks in steps of up to 10 ms (the kernel's coarse clock):
// a write in the same tick as the one before it leaves mtime and ctime unchanged. A file changed
// this recently when it is hashed is therefore not stamped (it is hashed again next time), the way
// git treats "racily clean" index entries.
constexpr std::chrono::nanoseconds kTimestampSlack = std::chrono::milliseconds(50);

constexpr std::string_view kInstallHint = "tools/bootstrap.sh models or tools/fetch_models.sh";

std::optional<fs::path> env_path(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return fs::path(value);
}

fs::path loadable_path(const fs::path& dir, const DefaultModel& model) {
  const fs::path model_dir = dir / model.name;
  return model.loads_as == "dir" ? model_dir : model_dir / model.main_file;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += (out.empty() ? "" : "; ") + line;
  return out;
}

std::string default_model_names() {
  std::string names;
  for (const DefaultModel& model : kDefaultModels)
    names += (names.empty() ? "" : ", ") + std::string(model.name);
  return names;
}

}  // namespace

fs::path models_dir() {
  if (auto dir = env_path("PLINTH_MODELS_DIR")) return *dir;
  if (auto cache = env_path("XDG_CACHE_HOME")) return *cache / "plinth" / "models";
  if (auto home = env_path("HOME")) return *home / ".cache" / "plinth" / "models";
  return fs::path("plinth-models");
}

std::span<const DefaultModel> default_models() noexcept { return kDefaultModels; }

const DefaultModel* find_default_model_info(std::string_view name) noexcept {
  for (const DefaultModel& model : kDefaultModels) {
    if (model.name == name) return &model;
  }
  return nullptr;
}

std::optional<fs::path> find_default_model(std::string_view name) {
  const DefaultModel* model = find_default_model_info(name);
  if (model == nullptr) return std::nullopt;
  std::error_code ec;
  if (!fs::is_regular_file(models_dir() / model->name / model->main_file, ec)) return std::nullopt;
  return loadable_path(models_dir(), *model);
}

std::string_view to_string(ModelStatus status) noexcept {
  switch (status) {
    case ModelStatus::kVerified: return "verified";
    case ModelStatus::kCorrupt: return "corrupt";
    case ModelStatus::kMissing: return "missing";
  }
  return "unknown";
}

ModelStore::ModelStore(fs::path dir, ModelsLock lock, WarningSink warn)
    : dir_(std::move(dir)), lock_(std::move(lock)), warn_(std::move(warn)) {
  for (const DefaultModel& model : kDefaultModels) {
    bool pinned = false;
    for (const PinnedFile& file : lock_.files_of(model.name)) pinned = pinned || file.file == model.main_file;
    if (!pinned) {
      throw std::runtime_error(lock_.origin() + " pins no file " + std::string(model.name) + "/" +
                               std::string(model.main_file) +
                               ": a default model is only used when it is pinned");
    }
  }
}

ModelStore ModelStore::from_environment() { return ModelStore(models_dir(), ModelsLock::from_environment()); }

void ModelStore::warn_once(std::string_view message) {
  if (warned_) return;
  warned_ = true;
  if (warn_) {
    warn_(message);
  } else {
    std::fprintf(stderr, "plinth: warning: %.*s\n", static_cast<int>(message.size()), message.data());
  }
}

ModelCheck ModelStore::check(std::string_view name) {
  const DefaultModel* model = find_default_model_info(name);
  if (model == nullptr) {
    throw std::invalid_argument("'" + std::string(name) + "' is not a default model (" +
                                default_model_names() + ")");
  }
  const fs::path model_dir = dir_ / model->name;
  const fs::path stamp_path = model_dir / kStampName;
  const detail::VerificationStamp old_stamp = detail::VerificationStamp::read(stamp_path);
  detail::VerificationStamp new_stamp;  // only the files present now, so stale entries drop out

  ModelCheck result{ModelStatus::kVerified, loadable_path(dir_, *model), {}};
  bool missing = false;
  bool corrupt = false;
  for (const PinnedFile& pin : lock_.files_of(model->name)) {
    const fs::path path = model_dir / pin.file;
    const std::optional<detail::FileIdentity> identity = detail::identify(path);
    if (!identity) {
      result.problems.push_back(path.string() + " is missing");
      missing = true;
      continue;
    }
    std::string sha256;
    if (const std::string* known = old_stamp.known_sha256(pin.file, *identity)) {
      sha256 = *known;
      new_stamp.record(pin.file, *identity, sha256);
    } else {
      const int64_t started_ns = now_ns();
      try {
        sha256 = detail::sha256_file(path);
      } catch (const std::runtime_error& e) {
        result.problems.push_back(e.what());
        corrupt = true;
        continue;
      }
      ++files_hashed_;
      // Stamp only what was hashed: the file must not have changed while it was read, nor so
      // recently before that its timestamps could hide a later write.
      if (detail::identify(path) == identity && identity->ctime_ns < started_ns - kTimestampSlack.count()) {
        new_stamp.record(pin.file, *identity, sha256);
      }
    }
    if (sha256 != pin.sha256) {
      result.problems.push_back(path.string() + " has sha256 " + sha256 + ", expected " + pin.sha256 + " (" +
                                lock_.origin() + ")");
      corrupt = true;
    }
  }
  result.status = missing ? ModelStatus::kMissing : corrupt ? ModelStatus::kCorrupt : ModelStatus::kVerified;

  std::error_code ec;
  if (!(new_stamp == old_stamp) && fs::is_directory(model_dir, ec)) {
    if (auto error = new_stamp.write(stamp_path)) {
      warn_once("cannot record which default model files are verified (" + *error +
                "); they will be hashed again on every load (`plinth models` run once by the cache's owner "
                "records them)");
    }
  }
  return result;
}

fs::path ModelStore::require(std::string_view name) {
  ModelCheck check = this->check(name);
  switch (check.status) {
    case ModelStatus::kVerified: return std::move(check.path);
    case ModelStatus::kMissing: {
      // Without its main file the model is simply not installed; otherwise name what is absent.
      const DefaultModel& model = *find_default_model_info(name);
      const bool installed = detail::identify(dir_ / model.name / model.main_file).has_value();
      throw std::runtime_error("default model '" + std::string(name) + "' is not installed in " +
                               dir_.string() + (installed ? ": " + join(check.problems) : std::string()) +
                               " (install it with " + std::string(kInstallHint) + ")");
    }
    case ModelStatus::kCorrupt: break;
  }
  throw std::runtime_error("default model '" + std::string(name) + "' is corrupt: " + join(check.problems) +
                           "; repair it with " + std::string(kInstallHint));
}

fs::path ModelStore::resolve(std::string_view name_or_path) {
  const fs::path as_path(name_or_path);
  std::error_code ec;
  if (fs::exists(as_path, ec)) {
    // The cache's own copy of a default model, named by path, is checked like the name would be.
    for (const DefaultModel& model : kDefaultModels) {
      const fs::path model_dir = dir_ / model.name;
      bool is_default = fs::equivalent(as_path, model_dir, ec);
      for (const PinnedFile& pin : lock_.files_of(model.name)) {
        is_default = is_default || fs::equivalent(as_path, model_dir / pin.file, ec);
      }
      if (is_default) (void)require(model.name);
    }
    return as_path;
  }
  if (find_default_model_info(name_or_path) != nullptr) return require(name_or_path);
  throw std::runtime_error("model '" + std::string(name_or_path) +
                           "' is neither an existing file or directory nor a default model (" +
                           default_model_names() + ")");
}

fs::path resolve_model(std::string_view name_or_path) {
  return ModelStore::from_environment().resolve(name_or_path);
}

bool models_required() {
  const char* value = std::getenv("PLINTH_REQUIRE_MODELS");
  return value != nullptr && std::string_view(value) == "1";
}

}  // namespace plinth::models
