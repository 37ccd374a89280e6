#include <plinth/formats/format_error.hpp>
#include <plinth/formats/gguf_value.hpp>

#include <limits>

namespace plinth::formats {

std::string_view gguf_type_name(GgufType type) noexcept {
  switch (type) {
    case GgufType::kUint8: return "uint8";
    case GgufType::kInt8: return "int8";
    case GgufType::kUint16: return "uint16";
    case GgufType::kInt16: return "int16";
    case GgufType::kUint32: return "uint32";
    case GgufType::kInt32: return "int32";
    case GgufType::kFloat32: return "float32";
    case GgufType::kBool: return "bool";
    case GgufType::kString: return "string";
    case GgufType::kArray: return "array";
    case GgufType::kUint64: return "uint64";
    case GgufType::kInt64: return "int64";
    case GgufType::kFloat64: return "float64";
  }
  return "unknown";
}

std::string GgufValue::scalar_type_string(GgufType type) { return std::string(gguf_type_name(type)); }

std::string GgufValue::array_type_string(GgufType element) {
  return "array[" + std::string(gguf_type_name(element)) + "]";
}

std::string GgufValue::type_string() const {
  return type_ == GgufType::kArray ? array_type_string(element_type_) : scalar_type_string(type_);
}

void GgufValue::throw_mismatch(std::string_view context, std::string_view wanted) const {
  throw FormatError(std::string(context) + " has type " + type_string() + ", expected " + std::string(wanted));
}

std::uint64_t GgufValue::as_uint(std::string_view context) const {
  switch (type_) {
    case GgufType::kUint8: return as<std::uint8_t>(context);
    case GgufType::kUint16: return as<std::uint16_t>(context);
    case GgufType::kUint32: return as<std::uint32_t>(context);
    case GgufType::kUint64: return as<std::uint64_t>(context);
    case GgufType::kInt8:
    case GgufType::kInt16:
    case GgufType::kInt32:
    case GgufType::kInt64: {
      const std::int64_t v = as_int(context);
      if (v < 0) {
        throw FormatError(std::string(context) + " is negative (" + std::to_string(v) +
                          "), expected an unsigned integer");
      }
      return static_cast<std::uint64_t>(v);
    }
    default: throw_mismatch(context, "an integer");
  }
}

std::int64_t GgufValue::as_int(std::string_view context) const {
  switch (type_) {
    case GgufType::kInt8: return as<std::int8_t>(context);
    case GgufType::kInt16: return as<std::int16_t>(context);
    case GgufType::kInt32: return as<std::int32_t>(context);
    case GgufType::kInt64: return as<std::int64_t>(context);
    case GgufType::kUint8:
    case GgufType::kUint16:
    case GgufType::kUint32:
    case GgufType::kUint64: {
      const std::uint64_t v = as_uint(context);
      if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        throw FormatError(std::string(context) + " value " + std::to_string(v) + " does not fit int64");
      }
      return static_cast<std::int64_t>(v);
    }
    default: throw_mismatch(context, "an integer");
  }
}

std::span<const GgufValue> GgufValue::nested(std::string_view context) const {
  if (type_ != GgufType::kArray || element_type_ != GgufType::kArray) throw_mismatch(context, "array[array]");
  return arrays_;
}

}  // namespace plinth::formats
