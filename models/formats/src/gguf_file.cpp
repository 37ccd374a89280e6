#include <plinth/formats/format_error.hpp>
#include <plinth/formats/gguf_file.hpp>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <numeric>

#include "error_text.hpp"

static_assert(std::endian::native == std::endian::little, "the readers assume a little-endian host");

namespace plinth::formats {

namespace {

constexpr std::uint32_t kMaxDims = 4;
// Nested arrays recurse; a hostile file could otherwise nest deep enough to exhaust the stack.
constexpr int kMaxArrayNesting = 8;
// Smallest possible encodings, used to refuse counts the remaining bytes cannot possibly hold
// before anything is allocated for them.
constexpr std::uint64_t kMinKvBytes = 8 + 4 + 1;            // key length, value type, 1-byte value
constexpr std::uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // name length, n_dims, type, offset

std::uint64_t min_value_bytes(GgufType type) {
  switch (type) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kBool: return 1;
    case GgufType::kUint16:
    case GgufType::kInt16: return 2;
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32: return 4;
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64:
    case GgufType::kString: return 8;
    case GgufType::kArray: return 4 + 8;
  }
  return 1;
}

// Counts are already capped by the bytes left, but a container element can be many times larger than
// its smallest encoding; reserving only up to a fixed amount keeps memory proportional to what is
// actually parsed, not to what a header claims.
constexpr std::uint64_t kMaxReserve = 1u << 16;

template <class Container>
void bounded_reserve(Container& c, std::uint64_t count) {
  c.reserve(static_cast<std::size_t>(std::min(count, kMaxReserve)));
}

bool is_fixed_size(GgufType type) { return type != GgufType::kString && type != GgufType::kArray; }

}  // namespace

// Reads the file front to back with a bounds-checked cursor; every failure is a FormatError.
class GgufParser {
 public:
  GgufParser(GgufFile& file, std::span<const std::byte> bytes) : file_(file), bytes_(bytes) {}

  void run() {
    read_header();
    read_metadata();
    read_alignment();
    read_tensor_infos();
    place_data();
  }

 private:
  [[noreturn]] void fail(std::string_view problem) const { detail::fail(file_.name_, problem); }

  [[nodiscard]] std::uint64_t remaining() const noexcept { return bytes_.size() - pos_; }

  // what is a literal; the subject (the key or tensor being read, if any) is added only on failure,
  // so the hot path builds no strings.
  std::span<const std::byte> take(std::uint64_t n, const char* what) {
    if (n > remaining()) {
      std::string subject = subject_.empty() ? std::string() : std::string(subject_kind_) + " " + detail::quoted(subject_) + " ";
      fail("truncated: " + subject + what + " at offset " + std::to_string(pos_) + " needs " +
           std::to_string(n) + " bytes, only " + std::to_string(remaining()) + " remain");
    }
    auto out = bytes_.subspan(pos_, static_cast<std::size_t>(n));
    pos_ += n;
    return out;
  }

  template <class T>
  T read(const char* what) {
    T v{};
    std::memcpy(&v, take(sizeof(T), what).data(), sizeof(T));
    return v;
  }

  std::string_view read_string(const char* what) {
    const auto len = read<std::uint64_t>(what);
    auto s = take(len, what);
    return {reinterpret_cast<const char*>(s.data()), s.size()};
  }

  void read_header() {
    auto magic = take(4, "magic");
    if (std::memcmp(magic.data(), "GGUF", 4) != 0) {
      fail("not a GGUF file (magic " +
           detail::quoted({reinterpret_cast<const char*>(magic.data()), magic.size()}) + ")");
    }
    const auto version = read<std::uint32_t>("version");
    if (version == 2 || version == 3) {
      file_.version_ = version;
    } else if (version == 1) {
      fail("GGUF version 1 is not supported (only versions 2 and 3)");
    } else if (__builtin_bswap32(version) == 2 || __builtin_bswap32(version) == 3) {
      fail("big-endian GGUF files are not supported");
    } else {
      fail("unsupported GGUF version " + std::to_string(version) + " (only versions 2 and 3)");
    }
    tensor_count_ = read<std::uint64_t>("tensor count");
    kv_count_ = read<std::uint64_t>("metadata count");
    if (kv_count_ > remaining() / kMinKvBytes) {
      fail("metadata count " + std::to_string(kv_count_) + " is more than the remaining " +
           std::to_string(remaining()) + " bytes can hold");
    }
    if (tensor_count_ > remaining() / kMinTensorInfoBytes) {
      fail("tensor count " + std::to_string(tensor_count_) + " is more than the remaining " +
           std::to_string(remaining()) + " bytes can hold");
    }
  }

  void read_metadata() {
    bounded_reserve(file_.metadata_, kv_count_);
    bounded_reserve(file_.metadata_index_, kv_count_);
    for (std::uint64_t i = 0; i < kv_count_; ++i) {
      subject_ = {};
      key_ = read_string("metadata key");
      subject_kind_ = "metadata key";
      subject_ = key_;
      const auto type = read_type("value type");
      GgufValue value = read_value(type, 0);
      if (!file_.metadata_index_.emplace(key_, file_.metadata_.size()).second) {
        fail("duplicate metadata key " + detail::quoted(key_));
      }
      file_.metadata_.emplace_back(key_, std::move(value));
    }
    key_ = {};
    subject_ = {};
  }

  [[nodiscard]] std::string key_context() const { return "metadata key " + detail::quoted(key_); }

  GgufType read_type(const char* what) {
    const auto raw = read<std::uint32_t>(what);
    if (raw > static_cast<std::uint32_t>(GgufType::kFloat64)) {
      fail(key_context() + " has unknown value type " + std::to_string(raw));
    }
    return static_cast<GgufType>(raw);
  }

  GgufValue read_value(GgufType type, int depth) {
    GgufValue v;
    v.type_ = type;
    if (type == GgufType::kString) {
      v.string_ = read_string("string");
    } else if (type == GgufType::kArray) {
      read_array(v, depth);
    } else {
      v.raw_ = take(min_value_bytes(type), "value");
      if (type == GgufType::kBool) check_bools(v.raw_);
    }
    return v;
  }

  void check_bools(std::span<const std::byte> raw) const {
    for (auto b : raw) {
      if (std::to_integer<unsigned>(b) > 1) {
        fail(key_context() + " has invalid bool value " + std::to_string(std::to_integer<unsigned>(b)));
      }
    }
  }

  void read_array(GgufValue& v, int depth) {
    if (depth >= kMaxArrayNesting) {
      fail(key_context() + " nests arrays deeper than " + std::to_string(kMaxArrayNesting) + " levels");
    }
    v.element_type_ = read_type("array element type");
    v.count_ = read<std::uint64_t>("array length");
    const std::uint64_t min_bytes = min_value_bytes(v.element_type_);
    if (v.count_ > remaining() / min_bytes) {
      fail(key_context() + " array of " + std::to_string(v.count_) + " " +
           std::string(gguf_type_name(v.element_type_)) + " elements cannot fit in the remaining " +
           std::to_string(remaining()) + " bytes");
    }
    if (is_fixed_size(v.element_type_)) {
      v.raw_ = take(v.count_ * min_bytes, "array");  // no overflow: checked above
      if (v.element_type_ == GgufType::kBool) check_bools(v.raw_);
    } else if (v.element_type_ == GgufType::kString) {
      bounded_reserve(v.strings_, v.count_);
      for (std::uint64_t i = 0; i < v.count_; ++i) v.strings_.push_back(read_string("string"));
    } else {
      bounded_reserve(v.arrays_, v.count_);
      for (std::uint64_t i = 0; i < v.count_; ++i) v.arrays_.push_back(read_value(GgufType::kArray, depth + 1));
    }
  }

  void read_alignment() {
    const GgufValue* a = file_.find("general.alignment");
    if (a == nullptr) return;
    const auto alignment = a->as<std::uint32_t>(file_.context("general.alignment"));
    if (alignment == 0 || !std::has_single_bit(alignment)) {
      fail("general.alignment " + std::to_string(alignment) + " is not a power of two");
    }
    file_.alignment_ = alignment;
  }

  void read_tensor_infos() {
    bounded_reserve(file_.tensors_, tensor_count_);
    bounded_reserve(file_.tensor_index_, tensor_count_);
    for (std::uint64_t i = 0; i < tensor_count_; ++i) {
      GgufTensorInfo t;
      subject_ = {};
      t.name = read_string("tensor name");
      subject_kind_ = "tensor";
      subject_ = t.name;
      const std::string who = "tensor " + detail::quoted(t.name);
      const auto n_dims = read<std::uint32_t>("dimension count");
      if (n_dims > kMaxDims) {
        fail(who + " has " + std::to_string(n_dims) + " dimensions (at most " + std::to_string(kMaxDims) +
             " are supported)");
      }
      std::uint64_t ne[kMaxDims] = {1, 1, 1, 1};
      std::uint64_t elements = 1;
      for (std::uint32_t d = 0; d < n_dims; ++d) {
        ne[d] = read<std::uint64_t>("dimensions");
        if (ne[d] > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          fail(who + " dimension " + std::to_string(d) + " is too large (" + std::to_string(ne[d]) + ")");
        }
        if (!detail::checked_mul(elements, ne[d], elements)) fail(who + " element count overflows");
      }
      t.ggml_type = read<std::uint32_t>("type");
      const GgmlTypeInfo* type = find_ggml_type(t.ggml_type);
      if (type == nullptr) fail(who + " has unknown type id " + std::to_string(t.ggml_type));
      t.type_name = type->name;
      if (ne[0] % type->block_elements != 0) {
        fail(who + " row of " + std::to_string(ne[0]) + " elements is not a multiple of the " +
             std::string(type->name) + " block size " + std::to_string(type->block_elements));
      }
      if (!detail::checked_mul(elements / type->block_elements, type->block_bytes, t.byte_size)) {
        fail(who + " byte size overflows");
      }
      t.offset = read<std::uint64_t>("data offset");
      if (t.offset % file_.alignment_ != 0) {
        fail(who + " data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
             std::to_string(file_.alignment_));
      }
      t.shape.resize(n_dims);
      for (std::uint32_t d = 0; d < n_dims; ++d) t.shape[n_dims - 1 - d] = static_cast<std::int64_t>(ne[d]);
      if (!file_.tensor_index_.emplace(t.name, file_.tensors_.size()).second) {
        fail("duplicate tensor name " + detail::quoted(t.name));
      }
      file_.tensors_.push_back(std::move(t));
    }
    subject_ = {};
  }

  void place_data() {
    const std::uint64_t a = file_.alignment_;
    std::uint64_t data = 0;
    if (!detail::checked_add(pos_, a - 1, data)) fail("data section offset overflows");
    data -= data % a;
    file_.data_offset_ = data;
    const std::uint64_t size = bytes_.size();
    for (auto& t : file_.tensors_) {
      std::uint64_t begin = 0;
      std::uint64_t end = 0;
      const std::string who = "tensor " + detail::quoted(t.name);
      if (!detail::checked_add(data, t.offset, begin) || !detail::checked_add(begin, t.byte_size, end)) {
        fail(who + " data offset " + std::to_string(t.offset) + " overflows");
      }
      if (end > size) {
        fail(who + " data " + detail::range_text(begin, end) + " lies beyond the end of the file (" +
             std::to_string(size) + " bytes)");
      }
      t.offset = begin;
    }
    std::vector<std::size_t> order(file_.tensors_.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    const auto& ts = file_.tensors_;
    std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return ts[x].offset < ts[y].offset; });
    const GgufTensorInfo* prev = nullptr;
    for (std::size_t i : order) {
      const auto& t = ts[i];
      if (t.byte_size == 0) continue;
      if (prev != nullptr && t.offset < prev->offset + prev->byte_size) {
        fail("tensors " + detail::quoted(prev->name) + " " +
             detail::range_text(prev->offset, prev->offset + prev->byte_size) + " and " +
             detail::quoted(t.name) + " " + detail::range_text(t.offset, t.offset + t.byte_size) +
             " overlap");
      }
      prev = &t;
    }
  }

  GgufFile& file_;
  std::span<const std::byte> bytes_;
  std::uint64_t pos_ = 0;
  std::uint64_t tensor_count_ = 0;
  std::uint64_t kv_count_ = 0;
  std::string_view key_;
  std::string_view subject_kind_;
  std::string_view subject_;
};

GgufFile GgufFile::open(const std::filesystem::path& path) {
  MappedFile mapping = MappedFile::open(path);
  const auto bytes = mapping.bytes();
  GgufFile file = parse(bytes, mapping.name());
  file.mapping_ = std::move(mapping);  // the mapped address is unchanged by the move
  return file;
}

GgufFile GgufFile::parse(std::span<const std::byte> bytes, std::string name) {
  GgufFile file;
  file.name_ = std::move(name);
  file.bytes_ = bytes;
  GgufParser(file, bytes).run();
  return file;
}

const GgufValue* GgufFile::find(std::string_view key) const noexcept {
  auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

const GgufValue& GgufFile::at(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) detail::fail(name_, "metadata key " + detail::quoted(key) + " not found");
  return *v;
}

std::string GgufFile::context(std::string_view key) const {
  return name_ + ": metadata key " + detail::quoted(key);
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const noexcept {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

TensorView GgufFile::tensor(std::string_view name) const {
  const GgufTensorInfo* t = find_tensor(name);
  if (t == nullptr) detail::fail(name_, "tensor " + detail::quoted(name) + " not found");
  const GgmlTypeInfo* type = find_ggml_type(t->ggml_type);
  if (type == nullptr || !type->dtype) {
    detail::fail(name_, "unsupported tensor type " + std::string(t->type_name) + " for tensor " +
                            detail::quoted(t->name));
  }
  TensorView view;
  view.name = t->name;
  view.dtype = *type->dtype;
  view.shape = t->shape;
  view.data = bytes_.subspan(static_cast<std::size_t>(t->offset), static_cast<std::size_t>(t->byte_size));
  return view;
}

}  // namespace plinth::formats
