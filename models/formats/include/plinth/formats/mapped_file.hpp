#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>

namespace plinth::formats {

/// A whole file mapped read-only into memory. Move-only; unmaps on destruction. The mapped address
/// does not change when the object moves, so views into bytes() stay valid across moves.
class MappedFile {
 public:
  /// Throws FormatError ("<path>: cannot open: <reason>") if the file cannot be opened or mapped.
  static MappedFile open(const std::filesystem::path& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

 private:
  MappedFile(const std::byte* data, std::size_t size, std::string name) noexcept
      : data_(data), size_(size), name_(std::move(name)) {}
  void release() noexcept;

  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  std::string name_;
};

/// Tells the kernel that the pages wholly inside `bytes` (part of a MappedFile) are not needed for
/// now: they leave the process's resident memory and are read from the file again if touched. For a
/// loader that has copied the tensors to a device, this keeps the file from being resident twice.
void release_pages(std::span<const std::byte> bytes) noexcept;

}  // namespace plinth::formats
