#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <plinth/formats/dtype.hpp>
#include <plinth/formats/mapped_file.hpp>
#include <plinth/formats/tensor_view.hpp>

namespace plinth::formats {

/// A tensor's entry in the safetensors header. begin/end are absolute byte offsets in the file.
struct SafetensorsTensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

/// A safetensors file: an 8-byte little-endian header length, a JSON header, then the data section.
/// open() validates every entry: known dtype, non-negative shape, data_offsets inside the data
/// section, size equal to dtype size times element count, no two tensors overlapping.
class SafetensorsFile {
 public:
  /// Headers larger than this are refused: they are not real models and would cost a lot of memory.
  static constexpr std::uint64_t kMaxHeaderBytes = 100ull << 20;

  static SafetensorsFile open(const std::filesystem::path& path);
  static SafetensorsFile parse(std::span<const std::byte> bytes, std::string name = "<memory>");

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// Absolute offset of the data section (8 + header length).
  [[nodiscard]] std::uint64_t data_offset() const noexcept { return data_offset_; }

  /// The "__metadata__" map (string to string); empty when absent.
  [[nodiscard]] const std::map<std::string, std::string, std::less<>>& metadata() const noexcept {
    return metadata_;
  }
  [[nodiscard]] std::optional<std::string_view> metadata(std::string_view key) const;

  /// Sorted by name.
  [[nodiscard]] std::span<const SafetensorsTensorInfo> tensors() const noexcept { return tensors_; }
  [[nodiscard]] const SafetensorsTensorInfo* find_tensor(std::string_view name) const noexcept;
  /// Throws "<file>: tensor '<name>' not found".
  [[nodiscard]] TensorView tensor(std::string_view name) const;

 private:
  SafetensorsFile() = default;
  void parse_header(std::span<const std::byte> bytes);

  MappedFile mapping_;
  std::string name_;
  std::span<const std::byte> bytes_;
  std::uint64_t data_offset_ = 0;
  std::map<std::string, std::string, std::less<>> metadata_;
  std::vector<SafetensorsTensorInfo> tensors_;
};

}  // namespace plinth::formats
