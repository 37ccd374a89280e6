#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <plinth/formats/ggml_type.hpp>
#include <plinth/formats/gguf_value.hpp>
#include <plinth/formats/mapped_file.hpp>
#include <plinth/formats/tensor_view.hpp>

namespace plinth::formats {

/// A tensor's entry in the GGUF tensor table. shape is outermost-first: GGUF stores ne[] innermost
/// first, the reader reverses it. offset is absolute within the file (already validated).
struct GgufTensorInfo {
  std::string_view name;
  std::uint32_t ggml_type = 0;
  std::string_view type_name;
  std::vector<std::int64_t> shape;
  std::uint64_t offset = 0;
  std::uint64_t byte_size = 0;
};

/// A GGUF (version 2 or 3, little-endian) file. open() maps the file and validates the whole header,
/// metadata and tensor table up front; every tensor's data range is checked to lie inside the file,
/// aligned and not overlapping another. Errors are FormatError "<file>: <problem>".
class GgufFile {
 public:
  static constexpr std::uint32_t kDefaultAlignment = 32;

  static GgufFile open(const std::filesystem::path& path);
  /// Parses bytes the caller keeps alive for the lifetime of the result; name is used in messages.
  static GgufFile parse(std::span<const std::byte> bytes, std::string name = "<memory>");

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] std::uint32_t version() const noexcept { return version_; }
  [[nodiscard]] std::uint32_t alignment() const noexcept { return alignment_; }
  /// Absolute offset of the (aligned) tensor data section.
  [[nodiscard]] std::uint64_t data_offset() const noexcept { return data_offset_; }

  // Metadata, in file order.
  [[nodiscard]] std::span<const std::pair<std::string_view, GgufValue>> metadata() const noexcept {
    return metadata_;
  }
  [[nodiscard]] const GgufValue* find(std::string_view key) const noexcept;
  [[nodiscard]] bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }
  /// Throws "<file>: metadata key '<key>' not found".
  [[nodiscard]] const GgufValue& at(std::string_view key) const;

  template <GgufReadable T>
  [[nodiscard]] T get(std::string_view key) const { return at(key).as<T>(context(key)); }
  template <GgufReadable T>
  [[nodiscard]] std::vector<T> get_array(std::string_view key) const {
    return at(key).as_array<T>(context(key));
  }
  /// Any integer type (writers disagree on uint32/int32/uint64 for counts).
  [[nodiscard]] std::uint64_t get_uint(std::string_view key) const { return at(key).as_uint(context(key)); }
  [[nodiscard]] std::int64_t get_int(std::string_view key) const { return at(key).as_int(context(key)); }

  // Tensors, in file order.
  [[nodiscard]] std::span<const GgufTensorInfo> tensors() const noexcept { return tensors_; }
  [[nodiscard]] const GgufTensorInfo* find_tensor(std::string_view name) const noexcept;
  /// Throws when the tensor is missing or its type is recognised but unsupported:
  /// "<file>: unsupported tensor type Q4_K for tensor 'blk.0.ffn_down.weight'".
  [[nodiscard]] TensorView tensor(std::string_view name) const;

 private:
  friend class GgufParser;
  GgufFile() = default;
  [[nodiscard]] std::string context(std::string_view key) const;

  MappedFile mapping_;
  std::string name_;
  std::span<const std::byte> bytes_;
  std::uint32_t version_ = 0;
  std::uint32_t alignment_ = kDefaultAlignment;
  std::uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string_view, GgufValue>> metadata_;
  std::unordered_map<std::string_view, std::size_t> metadata_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string_view, std::size_t> tensor_index_;
};

}  // namespace plinth::formats
