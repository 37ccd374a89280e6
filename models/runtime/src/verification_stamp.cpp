#include "verification_stamp.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace plinth::models::detail {
namespace {

constexpr int kStampFormat = 1;

int64_t nanoseconds(const timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; }

std::string errno_text() { return std::strerror(errno); }

}  // namespace

std::optional<FileIdentity> identify(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return FileIdentity{static_cast<uint64_t>(st.st_size), static_cast<uint64_t>(st.st_ino),
                      static_cast<uint64_t>(st.st_dev), nanoseconds(st.st_mtim), nanoseconds(st.st_ctim)};
}

VerificationStamp VerificationStamp::read(const std::filesystem::path& path) {
  VerificationStamp stamp;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return stamp;
  try {
    std::ifstream in(path, std::ios::binary);
    const nlohmann::json doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object() || doc.value("format", 0) != kStampFormat) return stamp;
    for (const auto& [file, entry] : doc.at("files").items()) {
      stamp.entries_[file] =
          Entry{FileIdentity{entry.at("size").get<uint64_t>(), entry.at("inode").get<uint64_t>(),
                             entry.at("device").get<uint64_t>(), entry.at("mtime_ns").get<int64_t>(),
                             entry.at("ctime_ns").get<int64_t>()},
                entry.at("sha256").get<std::string>()};
    }
  } catch (const std::exception&) {
    return VerificationStamp{};  // a damaged or unreadable stamp only costs a hash
  }
  return stamp;
}

const std::string* VerificationStamp::known_sha256(std::string_view file,
                                                   const FileIdentity& identity) const {
  const auto it = entries_.find(file);
  return it != entries_.end() && it->second.identity == identity ? &it->second.sha256 : nullptr;
}

void VerificationStamp::record(std::string_view file, const FileIdentity& identity, std::string_view sha256) {
  entries_.insert_or_assign(std::string(file), Entry{identity, std::string(sha256)});
}

std::optional<std::string> VerificationStamp::write(const std::filesystem::path& path) const {
  nlohmann::json files = nlohmann::json::object();
  for (const auto& [file, entry] : entries_) {
    files[file] = {{"size", entry.identity.size},         {"inode", entry.identity.inode},
                   {"device", entry.identity.device},     {"mtime_ns", entry.identity.mtime_ns},
                   {"ctime_ns", entry.identity.ctime_ns}, {"sha256", entry.sha256}};
  }
  const std::string text = nlohmann::json{{"format", kStampFormat}, {"files", files}}.dump(2) + "\n";

  // A unique temporary name: two processes verifying the same model at once must not write into
  // one file. The last rename wins, and either stamp is right.
  std::string temporary = path.string() + ".XXXXXX";
  const int fd = ::mkstemp(temporary.data());
  if (fd < 0) return "cannot create " + temporary + ": " + errno_text();
  std::optional<std::string> error;
  (void)::fchmod(fd, 0644);  // mkstemp makes it private; the stamp is as public as the models
  for (std::size_t done = 0; done < text.size() && !error;) {
    const ssize_t wrote = ::write(fd, text.data() + done, text.size() - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote < 0) error = "cannot write " + temporary + ": " + errno_text();
    if (wrote > 0) done += static_cast<std::size_t>(wrote);
  }
  if (::close(fd) != 0 && !error) error = "cannot write " + temporary + ": " + errno_text();
  if (!error && std::rename(temporary.c_str(), path.c_str()) != 0) {
    error = "cannot rename " + temporary + " to " + path.string() + ": " + errno_text();
  }
  if (error) ::unlink(temporary.c_str());
  return error;
}

}  // namespace plinth::models::detail
