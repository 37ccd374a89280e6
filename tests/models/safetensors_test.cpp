#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include <plinth/formats/format_error.hpp>
#include <plinth/formats/safetensors_file.hpp>

#include "format_writer.hpp"
#include "temp_file.hpp"

namespace plinth::formats {
namespace {

using namespace testing;  // NOLINT: the writer's vocabulary

std::span<const std::byte> span_of(const Bytes& b) { return {b.data(), b.size()}; }

std::string parse_error(const Bytes& bytes, const std::string& name = "t.safetensors") {
  try {
    (void)SafetensorsFile::parse(span_of(bytes), name);
  } catch (const FormatError& e) {
    return e.what();
  }
  ADD_FAILURE() << "parse succeeded";
  return {};
}

std::vector<SafetensorsTensorSpec> sample_tensors() {
  return {
      {"embeddings.word_embeddings.weight", "F32", {2, 3}, filled(24, 1)},
      {"half", "F16", {4}, filled(8, 2)},
      {"brain", "BF16", {1, 2}, filled(4, 3)},
      {"ids", "I32", {3}, filled(12, 4)},
      {"position_ids", "I64", {1, 2}, filled(16, 5)},
      {"bytes", "U8", {5}, filled(5, 6)},
      {"mask", "BOOL", {2}, filled(2, 7)},
      {"double", "F64", {1}, filled(8, 8)},
      {"empty", "F32", {0, 4}, {}},
      {"scalar", "F32", {}, filled(4, 9)},
  };
}

TEST(Safetensors, RoundTrip) {
  const auto specs = sample_tensors();
  const Bytes image = build_safetensors(specs, {{"format", "pt"}, {"note", "hi"}});
  TempFile file("plinth-st", image);
  const SafetensorsFile st = SafetensorsFile::open(file.path());
  EXPECT_EQ(st.metadata().size(), 2u);
  EXPECT_EQ(st.metadata("format"), "pt");
  EXPECT_EQ(st.metadata("missing"), std::nullopt);
  ASSERT_EQ(st.tensors().size(), specs.size());
  for (const auto& s : specs) {
    const TensorView v = st.tensor(s.name);
    EXPECT_EQ(v.name, s.name);
    EXPECT_EQ(dtype_name(v.dtype), s.dtype);
    EXPECT_EQ(v.shape, s.shape);
    ASSERT_EQ(v.data.size(), s.data.size());
    if (!s.data.empty()) {
      EXPECT_EQ(std::memcmp(v.data.data(), s.data.data(), s.data.size()), 0) << s.name;
    }
  }
  EXPECT_EQ(st.tensor("ids").dtype, DType::kI32);
  EXPECT_EQ(st.tensor("position_ids").dtype, DType::kI64);
  EXPECT_EQ(st.data_offset() + 24, st.find_tensor("embeddings.word_embeddings.weight")->end);
  for (std::size_t i = 1; i < st.tensors().size(); ++i) {
    EXPECT_LT(st.tensors()[i - 1].name, st.tensors()[i].name);
  }
  EXPECT_EQ(st.find_tensor("nope"), nullptr);
  try {
    (void)st.tensor("nope");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_EQ(std::string(e.what()), file.path().string() + ": tensor 'nope' not found");
  }
}

TEST(Safetensors, GapsAndUnsortedOffsetsAreFine) {
  const std::string header =
      R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"U8","shape":[2],"data_offsets":[8,10]}} )";
  const SafetensorsFile st = SafetensorsFile::parse(span_of(build_safetensors_raw(header, filled(12))));
  EXPECT_EQ(st.tensors().size(), 2u);
  EXPECT_EQ(st.tensor("a").data.size(), 2u);
}

TEST(Safetensors, EveryTruncationIsAnError) {
  const Bytes image = build_safetensors({{"a", "F32", {2}, filled(8)}, {"b", "F16", {3}, filled(6)}}, {{"k", "v"}});
  ASSERT_NO_THROW((void)SafetensorsFile::parse(span_of(image)));
  for (std::size_t n = 0; n < image.size(); ++n) {
    const Bytes prefix(image.begin(), image.begin() + static_cast<std::ptrdiff_t>(n));
    const std::string m = parse_error(prefix, "cut.safetensors");
    EXPECT_EQ(m.rfind("cut.safetensors: ", 0), 0u) << "at " << n << ": " << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
}

TEST(Safetensors, FlippedHeaderBytesNeverCrash) {
  const Bytes image = build_safetensors(sample_tensors(), {{"format", "pt"}});
  const SafetensorsFile good = SafetensorsFile::parse(span_of(image));
  int errors = 0;
  for (std::size_t i = 0; i < good.data_offset(); ++i) {
    for (std::uint8_t mask : {0x01, 0x80, 0xff}) {
      Bytes bad = image;
      bad[i] ^= std::byte{mask};
      try {
        const SafetensorsFile st = SafetensorsFile::parse(span_of(bad));
        for (const auto& t : st.tensors()) (void)st.tensor(t.name);
      } catch (const FormatError& e) {
        ++errors;
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
      }
    }
  }
  EXPECT_GT(errors, 0);
}

struct Corruption {
  const char* label;
  Bytes image;
  std::string fragment;
};

void PrintTo(const Corruption& c, std::ostream* os) { *os << c.label; }

class SafetensorsCorruption : public ::testing::TestWithParam<Corruption> {};

TEST_P(SafetensorsCorruption, GivesOneLineNamingFileAndProblem) {
  const std::string m = parse_error(GetParam().image, "bad.safetensors");
  EXPECT_NE(m.find(GetParam().fragment), std::string::npos) << m;
  EXPECT_EQ(m.rfind("bad.safetensors: ", 0), 0u) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
}

Bytes raw(std::string_view header, std::size_t data_bytes = 16) { return build_safetensors_raw(header, filled(data_bytes)); }

std::vector<Corruption> safetensors_corruptions() {
  Bytes long_header;
  put<std::uint64_t>(long_header, 1000);
  put_bytes(long_header, "{}", 2);
  Bytes bad_utf8 = raw(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}, "__metadata__":{"k":"XY"}})");
  // Replace "XY" with an invalid UTF-8 sequence.
  for (std::size_t i = 8; i + 1 < bad_utf8.size(); ++i) {
    if (bad_utf8[i] == std::byte{'X'} && bad_utf8[i + 1] == std::byte{'Y'}) {
      bad_utf8[i] = std::byte{0xc3};
      bad_utf8[i + 1] = std::byte{0x28};
    }
  }
  return {
      {"too short", Bytes(3), "truncated: file is 3 bytes, the header length alone needs 8"},
      {"header too long", long_header, "truncated: header length 1000 exceeds the 2 bytes after it"},
      {"not json", raw(R"({"a": )"), "header is not valid JSON: parse error"},
      {"bad utf8", bad_utf8, "header is not valid JSON"},
      {"not an object", raw("[1,2]"), "header is not a JSON object"},
      {"entry not object", raw(R"({"a":5})"), "tensor 'a' entry is not an object"},
      {"unknown dtype", raw(R"({"a":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}})"),
       "tensor 'a' has unsupported dtype 'F4'"},
      {"missing dtype", raw(R"({"a":{"shape":[2],"data_offsets":[0,8]}})"), "tensor 'a' has no string \"dtype\""},
      {"missing shape", raw(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})"), "tensor 'a' has no array \"shape\""},
      {"negative shape", raw(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})"),
       "tensor 'a' shape has an entry that is not a non-negative integer: -2"},
      {"float shape", raw(R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})"),
       "not a non-negative integer"},
      {"shape overflow",
       raw(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})"),
       "tensor 'a' element count overflows"},
      {"byte size overflow", raw(R"({"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]}})"),
       "tensor 'a' byte size overflows"},
      {"offsets not pair", raw(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})"),
       "tensor 'a' \"data_offsets\" is not a pair of non-negative integers"},
      {"offsets negative", raw(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})"),
       "\"data_offsets\" is not a pair"},
      {"offsets reversed", raw(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})"),
       "tensor 'a' data_offsets [8, 0) end before they begin"},
      {"past end", raw(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})"),
       "tensor 'a' data_offsets [8, 24) lie beyond the end of the data section (16 bytes)"},
      {"huge offsets", raw(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[18446744073709551600,18446744073709551615]}})"),
       "lie beyond the end of the data section"},
      {"wrong size", raw(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})"),
       "tensor 'a' holds 8 bytes but F32 shape [3] needs 12"},
      {"wrong dtype size", raw(R"({"a":{"dtype":"F16","shape":[4],"data_offsets":[0,16]}})"),
       "tensor 'a' holds 16 bytes but F16 shape [4] needs 8"},
      {"overlap",
       raw(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})"),
       "tensors 'a' [0, 8) and 'b' [4, 12) overlap"},
      {"duplicate name",
       raw(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})"),
       "header names 'a' more than once"},
      {"metadata not object", raw(R"({"__metadata__":[1]})"), "__metadata__ is not an object"},
      {"metadata value not string", raw(R"({"__metadata__":{"n":1}})"), "__metadata__ entry 'n' is not a string"},
      {"escaped name", raw("{\"a\\nb\":5}"), "tensor 'a\\x0ab' entry is not an object"},
  };
}

INSTANTIATE_TEST_SUITE_P(Table, SafetensorsCorruption, ::testing::ValuesIn(safetensors_corruptions()));

TEST(Safetensors, OpenReportsMissingFile) {
  EXPECT_THROW((void)SafetensorsFile::open("/nonexistent-dir/model.safetensors"), FormatError);
  TempFile empty("plinth-empty", {});
  try {
    (void)SafetensorsFile::open(empty.path());
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_EQ(std::string(e.what()), empty.path().string() + ": truncated: file is 0 bytes, the header length alone needs 8");
  }
}

}  // namespace
}  // namespace plinth::formats
