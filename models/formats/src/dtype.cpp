#include <plinth/abi_lists.h>

#include <plinth/formats/dtype.hpp>

namespace plinth::formats {

namespace {

constexpr DTypeInfo info_of(DType dtype) noexcept {
  switch (dtype) {
    case DType::kF64: return {"F64", 1, 8};
    case DType::kF32: return {"F32", 1, 4};
    case DType::kF16: return {"F16", 1, 2};
    case DType::kBF16: return {"BF16", 1, 2};
    case DType::kF8E4M3: return {"F8_E4M3", 1, 1};
    case DType::kF8E5M2: return {"F8_E5M2", 1, 1};
    case DType::kI64: return {"I64", 1, 8};
    case DType::kI32: return {"I32", 1, 4};
    case DType::kI16: return {"I16", 1, 2};
    case DType::kI8: return {"I8", 1, 1};
    case DType::kU64: return {"U64", 1, 8};
    case DType::kU32: return {"U32", 1, 4};
    case DType::kU16: return {"U16", 1, 2};
    case DType::kU8: return {"U8", 1, 1};
    case DType::kBool: return {"BOOL", 1, 1};
    case DType::kQ8_0: return {"Q8_0", 32, 34};
    case DType::kQ4_0: return {"Q4_0", 32, 18};
    case DType::kQ4_1: return {"Q4_1", 32, 20};
  }
  return {"?", 1, 1};
}

// Files hold more element types than Plinth computes with (F64, I64, BOOL, ...). Each ABI element
// type of plinth/abi_lists.h is the file type k<ID>, with the same block layout.
#define PLINTH_FORMATS_DTYPE_CHECK(ID, name, bytes, elems, kind)                                       \
  static_assert(                                                                                       \
      info_of(DType::k##ID).block_bytes == (bytes) && info_of(DType::k##ID).block_elements == (elems), \
      "formats: the layout of " #ID " differs from the ABI's");
PLINTH_DTYPE_LIST(PLINTH_FORMATS_DTYPE_CHECK)
#undef PLINTH_FORMATS_DTYPE_CHECK

}  // namespace

DTypeInfo dtype_info(DType dtype) noexcept { return info_of(dtype); }

std::optional<plinth_dtype_t> to_plinth_dtype(DType dtype) noexcept {
#define PLINTH_FORMATS_TO_ABI(ID, name, bytes, elems, kind) \
  if (dtype == DType::k##ID) return PLINTH_DTYPE_##ID;
  PLINTH_DTYPE_LIST(PLINTH_FORMATS_TO_ABI)
#undef PLINTH_FORMATS_TO_ABI
  return std::nullopt;
}

}  // namespace plinth::formats
