// plinth models [--json]: what the models cache holds. Every default model (verified against its
// pins in tools/models.lock, corrupt or missing, with the command that installs or repairs it) and
// every other GGUF or safetensors file found there, each with its size and the architecture its
// metadata declares.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "plinth/formats/gguf_file.hpp"
#include "plinth/models/model_store.hpp"

namespace plinth::cli {
namespace {

namespace fs = std::filesystem;

struct ModelEntry {
  std::string name;
  std::string kind;  // encoder | decoder | unknown
  std::string status;  // verified | corrupt | missing (default models) | found (other files: no pin)
  fs::path path;
  uint64_t bytes = 0;
  std::string architecture;  // or the reason it could not be read
  std::vector<std::string> problems;  // a default model's files that are absent or differ
};

uint64_t size_of(const fs::path& path) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return fs::file_size(path, ec);
  uint64_t total = 0;
  for (const auto& entry : fs::recursive_directory_iterator(path, ec)) {
    if (entry.is_regular_file(ec)) total += entry.file_size(ec);
  }
  return total;
}

// "llama (gguf v3, 272 tensors)" or "bert (safetensors)"; errors become the description.
std::string describe(const fs::path& path) {
  try {
    if (path.extension() == ".gguf") {
      const auto file = formats::GgufFile::open(path);
      std::string arch = file.contains("general.architecture") ? std::string(file.get<std::string_view>("general.architecture"))
                                                               : std::string("unknown");
      return arch + " (gguf v" + std::to_string(file.version()) + ", " + std::to_string(file.tensors().size()) +
             " tensors)";
    }
    const fs::path config = (fs::is_directory(path) ? path : path.parent_path()) / "config.json";
    std::ifstream in(config);
    if (!in) return "unknown (no config.json)";
    const auto json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object()) return "unknown (config.json is not JSON)";
    return json.value("model_type", std::string("unknown")) + " (safetensors)";
  } catch (const std::exception& e) {
    return std::string("unreadable: ") + e.what();
  }
}

std::vector<ModelEntry> scan(models::ModelStore& store) {
  const fs::path& dir = store.dir();
  std::vector<ModelEntry> entries;
  for (const models::DefaultModel& model : models::default_models()) {
    models::ModelCheck check = store.check(model.name);
    ModelEntry entry{std::string(model.name), std::string(model.kind), "", check.path, 0, "", {}};
    entry.status = models::to_string(check.status);
    entry.problems = std::move(check.problems);
    if (check.status != models::ModelStatus::kMissing) {
      entry.bytes = size_of(dir / model.name);
      entry.architecture = describe(check.path);
    }
    entries.push_back(std::move(entry));
  }
  std::error_code ec;
  std::vector<fs::path> others;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path& p = it->path();
    if (!it->is_regular_file(ec) || (p.extension() != ".gguf" && p.extension() != ".safetensors")) continue;
    const fs::path top = *fs::relative(p, dir, ec).begin();
    if (models::find_default_model_info(top.string()) != nullptr) continue;
    others.push_back(p);
  }
  std::sort(others.begin(), others.end());
  for (const fs::path& p : others) {
    const std::string arch = describe(p);
    const std::string kind = arch.rfind("bert", 0) == 0 ? "encoder" : arch.rfind("llama", 0) == 0 ? "decoder" : "unknown";
    entries.push_back({fs::relative(p, dir, ec).string(), kind, "found", p, size_of(p), arch, {}});
  }
  return entries;
}

std::string mib(uint64_t bytes) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / (1024.0 * 1024.0) << " MiB";
  return out.str();
}

}  // namespace

void add_models_command(CLI::App& app, int& exit_code) {
  auto json = std::make_shared<bool>(false);  // outlives this function: CLI11 writes it at parse time
  auto* cmd = app.add_subcommand("models", "List the models in the models cache (PLINTH_MODELS_DIR, else "
                                           "~/.cache/plinth/models): default models, checked against their "
                                           "sha256 pins (verified, corrupt or missing), and any other "
                                           "GGUF or safetensors file, with sizes and architectures.");
  cmd->add_flag("--json", *json, "Print JSON instead of a table");
  cmd->callback([json, &exit_code] {
    models::ModelStore store = models::ModelStore::from_environment();
    const fs::path& dir = store.dir();
    const std::vector<ModelEntry> entries = scan(store);
    if (*json) {
      nlohmann::json out{{"models_dir", dir.string()}, {"models", nlohmann::json::array()}};
      for (const ModelEntry& e : entries) {
        out["models"].push_back({{"name", e.name}, {"kind", e.kind}, {"status", e.status},
                                 {"path", e.path.string()}, {"bytes", e.bytes},
                                 {"architecture", e.architecture}, {"problems", e.problems}});
      }
      std::cout << out.dump(2) << "\n";
    } else {
      std::cout << "models cache: " << dir.string() << "\n";
      std::cout << std::left << std::setw(26) << "NAME" << std::setw(9) << "KIND" << std::setw(11) << "STATUS"
                << std::setw(11) << "SIZE" << "ARCHITECTURE\n";
      bool missing = false;
      bool corrupt = false;
      for (const ModelEntry& e : entries) {
        std::cout << std::left << std::setw(26) << e.name << std::setw(9) << e.kind << std::setw(11) << e.status
                  << std::setw(11) << (e.status == "missing" ? "-" : mib(e.bytes)) << e.architecture << "\n";
        missing = missing || e.status == "missing";
        corrupt = corrupt || e.status == "corrupt";
      }
      for (const ModelEntry& e : entries) {
        // A model absent as a whole needs no list of its files; a partly installed one does.
        const bool partly = e.status == "missing" && e.problems.size() < store.lock().files_of(e.name).size();
        if (e.status == "corrupt" || partly) {
          for (const std::string& problem : e.problems) std::cout << e.status << ": " << problem << "\n";
        }
      }
      if (missing) std::cout << "install the missing default models with: tools/bootstrap.sh models\n";
      if (corrupt) {
        std::cout << "corrupt default models are refused; repair them with: tools/fetch_models.sh (or "
                     "tools/bootstrap.sh models)\n";
      }
    }
    exit_code = 0;
  });
}

}  // namespace plinth::cli
