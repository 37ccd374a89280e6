// The record that lets a verified model file skip hashing on later loads: for each file, what it
// looked like (size, inode, device, mtime, ctime) when its sha256 was computed. A file that still
// looks the same still has that hash; any write, replacement or `touch` changes ctime at least.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace plinth::models::detail {

struct FileIdentity {
  uint64_t size = 0;
  uint64_t inode = 0;
  uint64_t device = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;  // unlike mtime, no utime() call can set it back
  bool operator==(const FileIdentity&) const = default;
};

// The identity of a regular file (symbolic links followed), or nullopt when there is none.
std::optional<FileIdentity> identify(const std::filesystem::path& path);

class VerificationStamp {
 public:
  // The stamp stored at `path`; empty when it is absent or unreadable (it is only a cache, and a
  // damaged one costs one more hash).
  static VerificationStamp read(const std::filesystem::path& path);

  // The sha256 recorded for `file` when it had exactly this identity, else nullptr.
  [[nodiscard]] const std::string* known_sha256(std::string_view file, const FileIdentity& identity) const;
  void record(std::string_view file, const FileIdentity& identity, std::string_view sha256);

  // Writes the stamp to a temporary file beside `path` and renames it over `path`, so readers see
  // the old stamp or the new one, never a part. Returns the reason when it cannot (read-only cache).
  [[nodiscard]] std::optional<std::string> write(const std::filesystem::path& path) const;

  bool operator==(const VerificationStamp&) const = default;

 private:
  struct Entry {
    FileIdentity identity;
    std::string sha256;
    bool operator==(const Entry&) const = default;
  };
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace plinth::models::detail
