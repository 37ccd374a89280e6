#include <plinth/formats/format_error.hpp>
#include <plinth/formats/safetensors_file.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "error_text.hpp"

namespace plinth::formats {

namespace {

using Json = nlohmann::json;

constexpr std::array<std::pair<std::string_view, DType>, 15> kDTypes = {{
    {"F64", DType::kF64}, {"F32", DType::kF32}, {"F16", DType::kF16}, {"BF16", DType::kBF16},
    {"F8_E4M3", DType::kF8E4M3}, {"F8_E5M2", DType::kF8E5M2}, {"I64", DType::kI64}, {"I32", DType::kI32},
    {"I16", DType::kI16}, {"I8", DType::kI8}, {"U64", DType::kU64}, {"U32", DType::kU32},
    {"U16", DType::kU16}, {"U8", DType::kU8}, {"BOOL", DType::kBool},
}};

// nlohmann's messages quote the bytes last read, which may be anything: keep them on one line.
std::string one_line(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u >= 0x7f) ? '?' : c;
  }
  return out;
}

}  // namespace

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  MappedFile mapping = MappedFile::open(path);
  const auto bytes = mapping.bytes();
  SafetensorsFile file = parse(bytes, mapping.name());
  file.mapping_ = std::move(mapping);  // the mapped address is unchanged by the move
  return file;
}

SafetensorsFile SafetensorsFile::parse(std::span<const std::byte> bytes, std::string name) {
  SafetensorsFile file;
  file.name_ = std::move(name);
  file.bytes_ = bytes;
  file.parse_header(bytes);
  return file;
}

void SafetensorsFile::parse_header(std::span<const std::byte> bytes) {
  auto fail = [this](std::string_view problem) { detail::fail(name_, problem); };
  const std::uint64_t size = bytes.size();
  if (size < 8) fail("truncated: file is " + std::to_string(size) + " bytes, the header length alone needs 8");
  std::uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  if (header_len > size - 8) {
    fail("truncated: header length " + std::to_string(header_len) + " exceeds the " + std::to_string(size - 8) +
         " bytes after it");
  }
  if (header_len > kMaxHeaderBytes) {
    fail("header length " + std::to_string(header_len) + " exceeds the limit of " +
         std::to_string(kMaxHeaderBytes) + " bytes");
  }
  data_offset_ = 8 + header_len;
  const std::uint64_t data_size = size - data_offset_;

  const auto* text = reinterpret_cast<const char*>(bytes.data() + 8);
  // nlohmann keeps the last of duplicate keys silently; a duplicated tensor name would hide an entry.
  std::set<std::string, std::less<>> top_keys;
  std::string duplicate;
  const Json::parser_callback_t on_event = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::key && depth == 1 && parsed.is_string()) {
      if (!top_keys.insert(parsed.get<std::string>()).second && duplicate.empty()) duplicate = parsed.get<std::string>();
    }
    return true;
  };
  Json header;
  try {
    header = Json::parse(text, text + header_len, on_event);
  } catch (const Json::exception& e) {
    std::string_view what = e.what();
    if (auto p = what.find("] "); p != std::string_view::npos) what.remove_prefix(p + 2);
    fail("header is not valid JSON: " + one_line(what));
  }
  if (!header.is_object()) fail("header is not a JSON object");
  if (!duplicate.empty()) fail("header names " + detail::quoted(duplicate) + " more than once");

  for (auto& [key, entry] : header.items()) {
    const std::string who = "tensor " + detail::quoted(key);
    if (key == "__metadata__") {
      if (!entry.is_object()) fail("__metadata__ is not an object");
      for (auto& [mkey, mval] : entry.items()) {
        if (!mval.is_string()) fail("__metadata__ entry " + detail::quoted(mkey) + " is not a string");
        metadata_.emplace(mkey, mval.get<std::string>());
      }
      continue;
    }
    if (!entry.is_object()) fail(who + " entry is not an object");
    const auto dt = entry.find("dtype");
    if (dt == entry.end() || !dt->is_string()) fail(who + " has no string \"dtype\"");
    const auto& dtype_name = dt->get_ref<const std::string&>();
    const auto known = std::find_if(kDTypes.begin(), kDTypes.end(), [&](const auto& p) { return p.first == dtype_name; });
    if (known == kDTypes.end()) fail(who + " has unsupported dtype " + detail::quoted(dtype_name));

    SafetensorsTensorInfo t;
    t.name = key;
    t.dtype = known->second;
    const auto sh = entry.find("shape");
    if (sh == entry.end() || !sh->is_array()) fail(who + " has no array \"shape\"");
    std::uint64_t elements = 1;
    t.shape.reserve(sh->size());
    for (const auto& d : *sh) {
      if (!d.is_number_unsigned() ||
          d.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        fail(who + " shape has an entry that is not a non-negative integer: " + one_line(d.dump()).substr(0, 64));
      }
      const auto extent = d.get<std::uint64_t>();
      if (!detail::checked_mul(elements, extent, elements)) fail(who + " element count overflows");
      t.shape.push_back(static_cast<std::int64_t>(extent));
    }
    const auto off = entry.find("data_offsets");
    if (off == entry.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned()) {
      fail(who + " \"data_offsets\" is not a pair of non-negative integers");
    }
    const auto begin = (*off)[0].get<std::uint64_t>();
    const auto end = (*off)[1].get<std::uint64_t>();
    if (begin > end) fail(who + " data_offsets " + detail::range_text(begin, end) + " end before they begin");
    if (end > data_size) {
      fail(who + " data_offsets " + detail::range_text(begin, end) +
           " lie beyond the end of the data section (" + std::to_string(data_size) + " bytes)");
    }
    const DTypeInfo info = dtype_info(t.dtype);
    std::uint64_t expected = 0;
    if (!detail::checked_mul(elements, info.block_bytes, expected)) fail(who + " byte size overflows");
    if (end - begin != expected) {
      fail(who + " holds " + std::to_string(end - begin) + " bytes but " + std::string(info.name) + " shape " +
           one_line(sh->dump()).substr(0, 64) + " needs " + std::to_string(expected));
    }
    t.begin = data_offset_ + begin;  // cannot overflow: end <= data_size
    t.end = data_offset_ + end;
    tensors_.push_back(std::move(t));
  }

  // JSON objects iterate in key order, so tensors_ is sorted by name already; overlap needs offset order.
  std::vector<const SafetensorsTensorInfo*> by_offset;
  by_offset.reserve(tensors_.size());
  for (const auto& t : tensors_) {
    if (t.end > t.begin) by_offset.push_back(&t);
  }
  std::sort(by_offset.begin(), by_offset.end(), [](const auto* a, const auto* b) { return a->begin < b->begin; });
  for (std::size_t i = 1; i < by_offset.size(); ++i) {
    const auto* a = by_offset[i - 1];
    const auto* b = by_offset[i];
    if (b->begin < a->end) {
      fail("tensors " + detail::quoted(a->name) + " " +
           detail::range_text(a->begin - data_offset_, a->end - data_offset_) + " and " +
           detail::quoted(b->name) + " " +
           detail::range_text(b->begin - data_offset_, b->end - data_offset_) + " overlap");
    }
  }
}

std::optional<std::string_view> SafetensorsFile::metadata(std::string_view key) const {
  auto it = metadata_.find(key);
  if (it == metadata_.end()) return std::nullopt;
  return std::string_view(it->second);
}

const SafetensorsTensorInfo* SafetensorsFile::find_tensor(std::string_view name) const noexcept {
  auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                             [](const SafetensorsTensorInfo& t, std::string_view n) { return t.name < n; });
  return (it != tensors_.end() && it->name == name) ? &*it : nullptr;
}

TensorView SafetensorsFile::tensor(std::string_view name) const {
  const SafetensorsTensorInfo* t = find_tensor(name);
  if (t == nullptr) detail::fail(name_, "tensor " + detail::quoted(name) + " not found");
  TensorView view;
  view.name = t->name;
  view.dtype = t->dtype;
  view.shape = t->shape;
  view.data = bytes_.subspan(static_cast<std::size_t>(t->begin), static_cast<std::size_t>(t->end - t->begin));
  return view;
}

}  // namespace plinth::formats
