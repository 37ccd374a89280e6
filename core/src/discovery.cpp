#include <algorithm>
#include <set>

#include <boost/dll/runtime_symbol_info.hpp>

#include "plinth/plugin.hpp"

#ifndef PLINTH_PLUGIN_DIR_FROM_LIBDIR
#error "PLINTH_PLUGIN_DIR_FROM_LIBDIR must be defined by the build"
#endif

namespace plinth {
namespace fs = std::filesystem;
namespace {

bool is_plugin_file_name(const std::string& name) {
  constexpr std::string_view kPrefix = "libplinth-backend-";
  constexpr std::string_view kSuffix = ".so";
  return name.size() > kPrefix.size() + kSuffix.size() && name.starts_with(kPrefix) && name.ends_with(kSuffix);
}

class Collector {
 public:
  explicit Collector(std::vector<PluginCandidate>& out) : out_(out) {}

  // A path the user named: a directory is scanned; an existing file, or a missing one that looks like
  // a shared library, is a candidate (so loading reports "file not found"); a missing path that
  // does not is taken for an absent directory and skipped.
  void add_named(const fs::path& path, PluginSource source) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      add_directory(path, source);
    } else if (fs::exists(path, ec) || path.filename().string().find(".so") != std::string::npos) {
      add_file(path, source);
    }
  }

  void add_directory(const fs::path& dir, PluginSource source) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return;
    std::vector<fs::path> files;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const auto name = it->path().filename().string();
      if (is_plugin_file_name(name) && !it->is_directory(ec)) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) add_file(f, source);
  }

 private:
  void add_file(const fs::path& path, PluginSource source) {
    std::error_code ec;
    fs::path key = fs::exists(path, ec) ? fs::canonical(path, ec) : fs::absolute(path, ec);
    if (ec) key = path;
    if (!seen_.insert(key).second) return;
    out_.push_back({key, source});
  }

  std::vector<PluginCandidate>& out_;
  std::set<fs::path> seen_;
};

}  // namespace

const char* to_string(PluginSource source) noexcept {
  switch (source) {
    case PluginSource::explicit_path: return "explicit";
    case PluginSource::env_path: return "PLINTH_PLUGIN_PATH";
    case PluginSource::install_dir: return "install dir";
    case PluginSource::exe_dir: return "executable dir";
  }
  return "?";
}

// Found from where libplinth itself was loaded, not from the configured prefix, so that an install
// moved elsewhere (cmake --install --prefix DIR, a relocated package) still finds its plugins for every
// program linked against it, not only for `plinth`.
fs::path install_plugin_dir() {
  std::error_code ec;
  const fs::path lib_dir = boost::dll::this_line_location(ec).parent_path();
  if (ec || lib_dir.empty()) return {};
  return (lib_dir / PLINTH_PLUGIN_DIR_FROM_LIBDIR).lexically_normal();
}

std::vector<PluginCandidate> discover_plugins(const DiscoveryOptions& options) {
  std::vector<PluginCandidate> out;
  Collector collect(out);
  for (const auto& p : options.explicit_paths) collect.add_named(p, PluginSource::explicit_path);

  std::string env;
  if (options.env_path) {
    env = *options.env_path;
  } else if (const char* e = std::getenv("PLINTH_PLUGIN_PATH")) {
    env = e;
  }
  std::string_view rest = env;
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const auto item = rest.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    if (!item.empty()) collect.add_named(fs::path(item), PluginSource::env_path);
  }

  if (options.search_install_dir) {
    collect.add_directory(options.install_dir ? *options.install_dir : install_plugin_dir(), PluginSource::install_dir);
  }
  if (options.search_exe_dir) {
    fs::path exe_dir;
    if (options.exe_dir) {
      exe_dir = *options.exe_dir;
    } else {
      std::error_code ec;
      exe_dir = boost::dll::program_location(ec).parent_path();
    }
    if (!exe_dir.empty()) {
      collect.add_directory(exe_dir / ".." / "lib" / "plinth" / "plugins", PluginSource::exe_dir);
      collect.add_directory(exe_dir, PluginSource::exe_dir);
    }
  }
  return out;
}

}  // namespace plinth
