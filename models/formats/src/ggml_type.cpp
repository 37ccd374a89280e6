#include <plinth/formats/ggml_type.hpp>

#include <array>

namespace plinth::formats {

namespace {

// Layouts of the GGUF tensor types (block elements, block bytes). Ids 4, 5, 31-33 and 36-38 belonged
// to layouts that were withdrawn from the format; files using them are rejected as unknown.
constexpr std::array kTypes = {
    GgmlTypeInfo{0, "F32", 1, 4, DType::kF32},
    GgmlTypeInfo{1, "F16", 1, 2, DType::kF16},
    GgmlTypeInfo{2, "Q4_0", 32, 18, DType::kQ4_0},
    GgmlTypeInfo{3, "Q4_1", 32, 20, DType::kQ4_1},
    GgmlTypeInfo{6, "Q5_0", 32, 22, std::nullopt},
    GgmlTypeInfo{7, "Q5_1", 32, 24, std::nullopt},
    GgmlTypeInfo{8, "Q8_0", 32, 34, DType::kQ8_0},
    GgmlTypeInfo{9, "Q8_1", 32, 36, std::nullopt},
    GgmlTypeInfo{10, "Q2_K", 256, 84, std::nullopt},
    GgmlTypeInfo{11, "Q3_K", 256, 110, std::nullopt},
    GgmlTypeInfo{12, "Q4_K", 256, 144, std::nullopt},
    GgmlTypeInfo{13, "Q5_K", 256, 176, std::nullopt},
    GgmlTypeInfo{14, "Q6_K", 256, 210, std::nullopt},
    GgmlTypeInfo{15, "Q8_K", 256, 292, std::nullopt},
    GgmlTypeInfo{16, "IQ2_XXS", 256, 66, std::nullopt},
    GgmlTypeInfo{17, "IQ2_XS", 256, 74, std::nullopt},
    GgmlTypeInfo{18, "IQ3_XXS", 256, 98, std::nullopt},
    GgmlTypeInfo{19, "IQ1_S", 256, 50, std::nullopt},
    GgmlTypeInfo{20, "IQ4_NL", 32, 18, std::nullopt},
    GgmlTypeInfo{21, "IQ3_S", 256, 110, std::nullopt},
    GgmlTypeInfo{22, "IQ2_S", 256, 82, std::nullopt},
    GgmlTypeInfo{23, "IQ4_XS", 256, 136, std::nullopt},
    GgmlTypeInfo{24, "I8", 1, 1, DType::kI8},
    GgmlTypeInfo{25, "I16", 1, 2, DType::kI16},
    GgmlTypeInfo{26, "I32", 1, 4, DType::kI32},
    GgmlTypeInfo{27, "I64", 1, 8, DType::kI64},
    GgmlTypeInfo{28, "F64", 1, 8, DType::kF64},
    GgmlTypeInfo{29, "IQ1_M", 256, 56, std::nullopt},
    GgmlTypeInfo{30, "BF16", 1, 2, DType::kBF16},
    GgmlTypeInfo{34, "TQ1_0", 256, 54, std::nullopt},
    GgmlTypeInfo{35, "TQ2_0", 256, 66, std::nullopt},
    GgmlTypeInfo{39, "MXFP4", 32, 17, std::nullopt},
};

}  // namespace

const GgmlTypeInfo* find_ggml_type(std::uint32_t id) noexcept {
  for (const auto& t : kTypes) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

}  // namespace plinth::formats
