// libFuzzer entry point for the GGUF reader: any input must parse or fail with FormatError, and
// everything a parsed file hands out must be readable in full.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <plinth/formats/format_error.hpp>
#include <plinth/formats/gguf_file.hpp>

namespace {

using plinth::formats::GgufType;
using plinth::formats::GgufValue;

std::uint64_t touch(std::span<const std::byte> bytes) {
  std::uint64_t sum = 0;
  for (auto b : bytes) sum += std::to_integer<unsigned>(b);
  return sum;
}

template <class T>
std::uint64_t sum_of(const std::vector<T>& values) {
  std::uint64_t sum = 0;
  for (T x : values) sum += static_cast<std::uint64_t>(x);
  return sum;
}

std::uint64_t touch(const GgufValue& v) {
  std::uint64_t sum = v.type_string().size();
  if (v.type() == GgufType::kArray) {
    switch (v.element_type()) {
      case GgufType::kString:
        for (auto s : v.as_array<std::string_view>()) sum += s.size() + (s.empty() ? 0 : s.back());
        break;
      case GgufType::kArray:
        for (const auto& inner : v.nested()) sum += touch(inner);
        break;
      case GgufType::kUint8: sum += sum_of(v.as_array<std::uint8_t>()); break;
      case GgufType::kInt8: sum += sum_of(v.as_array<std::int8_t>()); break;
      case GgufType::kUint16: sum += sum_of(v.as_array<std::uint16_t>()); break;
      case GgufType::kInt16: sum += sum_of(v.as_array<std::int16_t>()); break;
      case GgufType::kUint32: sum += sum_of(v.as_array<std::uint32_t>()); break;
      case GgufType::kInt32: sum += sum_of(v.as_array<std::int32_t>()); break;
      case GgufType::kUint64: sum += sum_of(v.as_array<std::uint64_t>()); break;
      case GgufType::kInt64: sum += sum_of(v.as_array<std::int64_t>()); break;
      case GgufType::kFloat32: sum += v.as_array<float>().size(); break;
      case GgufType::kFloat64: sum += v.as_array<double>().size(); break;
      case GgufType::kBool: sum += v.as_array<bool>().size(); break;
    }
  } else if (v.type() == GgufType::kString) {
    const auto s = v.as<std::string_view>();
    sum += s.size() + (s.empty() ? 0 : s.back());
  } else if (v.type() == GgufType::kFloat32) {
    sum += static_cast<std::uint64_t>(v.as<float>() != 0.0f);
  } else if (v.type() != GgufType::kFloat64 && v.type() != GgufType::kBool) {
    sum += static_cast<std::uint64_t>(v.as_int() != 0);
  }
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto file = plinth::formats::GgufFile::parse({reinterpret_cast<const std::byte*>(data), size}, "fuzz.gguf");
    volatile std::uint64_t sink = file.alignment();
    for (const auto& [key, value] : file.metadata()) {
      try {
        sink = sink + key.size() + touch(value);
      } catch (const plinth::formats::FormatError&) {
        // uint64 values above int64's range are refused by as_int: expected.
      }
    }
    for (const auto& info : file.tensors()) {
      try {
        sink = sink + touch(file.tensor(info.name).data);
      } catch (const plinth::formats::FormatError&) {
        // Recognised but unsupported tensor types: expected.
      }
    }
  } catch (const plinth::formats::FormatError&) {
    // Rejected input: the expected outcome for most of them.
  }
  return 0;
}
