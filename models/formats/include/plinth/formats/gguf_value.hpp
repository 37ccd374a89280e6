#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace plinth::formats {

/// GGUF metadata value type ids (the numbers are the file format's).
enum class GgufType : std::uint32_t {
  kUint8 = 0, kInt8 = 1, kUint16 = 2, kInt16 = 3, kUint32 = 4, kInt32 = 5, kFloat32 = 6,
  kBool = 7, kString = 8, kArray = 9, kUint64 = 10, kInt64 = 11, kFloat64 = 12,
};

[[nodiscard]] std::string_view gguf_type_name(GgufType type) noexcept;

/// The GgufType a C++ type reads as; only these are accepted by the typed getters.
template <class T> struct GgufTypeOf;
template <> struct GgufTypeOf<std::uint8_t> { static constexpr GgufType kValue = GgufType::kUint8; };
template <> struct GgufTypeOf<std::int8_t> { static constexpr GgufType kValue = GgufType::kInt8; };
template <> struct GgufTypeOf<std::uint16_t> { static constexpr GgufType kValue = GgufType::kUint16; };
template <> struct GgufTypeOf<std::int16_t> { static constexpr GgufType kValue = GgufType::kInt16; };
template <> struct GgufTypeOf<std::uint32_t> { static constexpr GgufType kValue = GgufType::kUint32; };
template <> struct GgufTypeOf<std::int32_t> { static constexpr GgufType kValue = GgufType::kInt32; };
template <> struct GgufTypeOf<std::uint64_t> { static constexpr GgufType kValue = GgufType::kUint64; };
template <> struct GgufTypeOf<std::int64_t> { static constexpr GgufType kValue = GgufType::kInt64; };
template <> struct GgufTypeOf<float> { static constexpr GgufType kValue = GgufType::kFloat32; };
template <> struct GgufTypeOf<double> { static constexpr GgufType kValue = GgufType::kFloat64; };
template <> struct GgufTypeOf<bool> { static constexpr GgufType kValue = GgufType::kBool; };
template <> struct GgufTypeOf<std::string_view> { static constexpr GgufType kValue = GgufType::kString; };

template <class T>
concept GgufReadable = requires { GgufTypeOf<T>::kValue; };

/// One metadata value. Strings and numeric array payloads are views into the file's bytes (valid
/// while the owning GgufFile lives); arrays of strings and nested arrays are indexed at parse time.
/// Typed accessors throw FormatError "<context> has type <actual>, expected <wanted>"; context names
/// the file and key when the value came from GgufFile::get.
class GgufValue {
 public:
  [[nodiscard]] GgufType type() const noexcept { return type_; }
  /// Element type of an array (meaningless for scalars).
  [[nodiscard]] GgufType element_type() const noexcept { return element_type_; }
  /// Number of elements of an array; 1 for a scalar.
  [[nodiscard]] std::uint64_t size() const noexcept { return count_; }
  /// "uint32", "string", "array[float32]", "array[array]" ...
  [[nodiscard]] std::string type_string() const;

  template <GgufReadable T>
  [[nodiscard]] T as(std::string_view context = "metadata value") const {
    if (type_ != GgufTypeOf<T>::kValue) throw_mismatch(context, scalar_type_string(GgufTypeOf<T>::kValue));
    if constexpr (std::is_same_v<T, std::string_view>) {
      return string_;
    } else if constexpr (std::is_same_v<T, bool>) {
      return raw_[0] != std::byte{0};
    } else {
      T v{};
      std::memcpy(&v, raw_.data(), sizeof(T));
      return v;
    }
  }

  template <GgufReadable T>
  [[nodiscard]] std::vector<T> as_array(std::string_view context = "metadata value") const {
    if (type_ != GgufType::kArray || element_type_ != GgufTypeOf<T>::kValue) {
      throw_mismatch(context, array_type_string(GgufTypeOf<T>::kValue));
    }
    std::vector<T> out;
    if constexpr (std::is_same_v<T, std::string_view>) {
      out = strings_;
    } else {
      out.resize(static_cast<std::size_t>(count_));
      for (std::size_t i = 0; i < out.size(); ++i) {
        if constexpr (std::is_same_v<T, bool>) {
          out[i] = raw_[i] != std::byte{0};
        } else {
          std::memcpy(&out[i], raw_.data() + i * sizeof(T), sizeof(T));
        }
      }
    }
    return out;
  }

  /// Any integer scalar type, converted when the value fits; throws otherwise.
  [[nodiscard]] std::uint64_t as_uint(std::string_view context = "metadata value") const;
  [[nodiscard]] std::int64_t as_int(std::string_view context = "metadata value") const;

  /// The elements of an array of arrays.
  [[nodiscard]] std::span<const GgufValue> nested(std::string_view context = "metadata value") const;

 private:
  friend class GgufParser;
  [[noreturn]] void throw_mismatch(std::string_view context, std::string_view wanted) const;
  static std::string scalar_type_string(GgufType type);
  static std::string array_type_string(GgufType element);

  GgufType type_ = GgufType::kUint8;
  GgufType element_type_ = GgufType::kUint8;
  std::uint64_t count_ = 1;
  std::span<const std::byte> raw_;            // scalar bytes, or a numeric array's packed elements
  std::string_view string_;                   // a string scalar
  std::vector<std::string_view> strings_;     // an array of strings
  std::vector<GgufValue> arrays_;             // an array of arrays
};

}  // namespace plinth::formats
