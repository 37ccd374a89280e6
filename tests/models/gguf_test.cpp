#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <string>

#include <plinth/formats/format_error.hpp>
#include <plinth/formats/gguf_file.hpp>

#include "format_writer.hpp"
#include "temp_file.hpp"

namespace plinth::formats {
namespace {

using namespace testing;  // NOLINT: the writer's vocabulary

std::span<const std::byte> span_of(const Bytes& b) { return {b.data(), b.size()}; }

// The message a parse of `bytes` fails with; the test fails if it does not throw.
std::string parse_error(const Bytes& bytes, const std::string& name = "t.gguf") {
  try {
    (void)GgufFile::parse(span_of(bytes), name);
  } catch (const FormatError& e) {
    return e.what();
  }
  ADD_FAILURE() << "parse succeeded";
  return {};
}

GgufSpec full_spec(std::uint32_t version) {
  GgufSpec s;
  s.version = version;
  s.kvs = {
      kv_string("general.architecture", "llama"),
      kv<std::uint8_t>("u8", kU8, 200),
      kv<std::int8_t>("i8", kI8, -100),
      kv<std::uint16_t>("u16", kU16, 60000),
      kv<std::int16_t>("i16", kI16, -30000),
      kv<std::uint32_t>("u32", kU32, 4000000000u),
      kv<std::int32_t>("i32", kI32, -2000000000),
      kv<std::uint64_t>("u64", kU64, 1ull << 40),
      kv<std::int64_t>("i64", kI64, -(1ll << 40)),
      kv<float>("f32", kF32, 1.5f),
      kv<double>("f64", kF64, -2.25),
      kv<std::uint8_t>("flag", kBool, 1),
      kv_array("tokens", string_array_body({"<s>", "</s>", "hello", ""})),
      kv_array("scores", array_body<float>(kF32, {0.5f, -1.0f, 2.0f})),
      kv_array("ids", array_body<std::int32_t>(kI32, {1, -2, 3})),
      kv_array("u64s", array_body<std::uint64_t>(kU64, {7, 8})),
      kv_array("bools", array_body<std::uint8_t>(kBool, {1, 0, 1})),
      kv_array("merges", nested_array_body({string_array_body({"a", "b"}), string_array_body({"c"})})),
      kv_array("mixed", nested_array_body({array_body<std::int16_t>(kI16, {-1, 2}), string_array_body({"x"})})),
      kv<std::uint32_t>("general.alignment", kU32, 64),
  };
  s.alignment = 64;
  s.tensors = {
      {"tok_embd.weight", kGgmlF32, {3, 2}, filled(24, 3), {}},
      {"f16", kGgmlF16, {4}, filled(8, 5), {}},
      {"bf16", kGgmlBF16, {2, 1, 1, 2}, filled(8, 9), {}},
      {"q8", kGgmlQ8_0, {64, 2}, filled(4 * 34, 11), {}},
      {"q40", kGgmlQ4_0, {32}, filled(18, 13), {}},
      {"q41", kGgmlQ4_1, {32, 3}, filled(60, 17), {}},
      {"q4k", kGgmlQ4_K, {256}, filled(144, 19), {}},
  };
  return s;
}

class GgufRoundTrip : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(GgufRoundTrip, ReadsEveryValueTypeAndTensor) {
  const auto spec = full_spec(GetParam());
  const Bytes image = build_gguf(spec);
  TempFile file("plinth-gguf", image);
  const GgufFile g = GgufFile::open(file.path());

  EXPECT_EQ(g.version(), GetParam());
  EXPECT_EQ(g.alignment(), 64u);
  EXPECT_EQ(g.data_offset() % 64, 0u);
  EXPECT_EQ(g.metadata().size(), spec.kvs.size());
  EXPECT_EQ(g.get<std::string_view>("general.architecture"), "llama");
  EXPECT_EQ(g.get<std::uint8_t>("u8"), 200);
  EXPECT_EQ(g.get<std::int8_t>("i8"), -100);
  EXPECT_EQ(g.get<std::uint16_t>("u16"), 60000);
  EXPECT_EQ(g.get<std::int16_t>("i16"), -30000);
  EXPECT_EQ(g.get<std::uint32_t>("u32"), 4000000000u);
  EXPECT_EQ(g.get<std::int32_t>("i32"), -2000000000);
  EXPECT_EQ(g.get<std::uint64_t>("u64"), 1ull << 40);
  EXPECT_EQ(g.get<std::int64_t>("i64"), -(1ll << 40));
  EXPECT_EQ(g.get<float>("f32"), 1.5f);
  EXPECT_EQ(g.get<double>("f64"), -2.25);
  EXPECT_TRUE(g.get<bool>("flag"));
  EXPECT_EQ(g.get_uint("u32"), 4000000000u);
  EXPECT_EQ(g.get_int("i8"), -100);
  EXPECT_EQ(g.get_int("u64"), 1ll << 40);

  EXPECT_EQ(g.get_array<std::string_view>("tokens"), (std::vector<std::string_view>{"<s>", "</s>", "hello", ""}));
  EXPECT_EQ(g.get_array<float>("scores"), (std::vector<float>{0.5f, -1.0f, 2.0f}));
  EXPECT_EQ(g.get_array<std::int32_t>("ids"), (std::vector<std::int32_t>{1, -2, 3}));
  EXPECT_EQ(g.get_array<std::uint64_t>("u64s"), (std::vector<std::uint64_t>{7, 8}));
  EXPECT_EQ(g.get_array<bool>("bools"), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(g.at("tokens").type_string(), "array[string]");
  EXPECT_EQ(g.at("tokens").size(), 4u);

  const auto merges = g.at("merges").nested();
  ASSERT_EQ(merges.size(), 2u);
  EXPECT_EQ(merges[0].as_array<std::string_view>(), (std::vector<std::string_view>{"a", "b"}));
  EXPECT_EQ(merges[1].as_array<std::string_view>(), (std::vector<std::string_view>{"c"}));
  const auto mixed = g.at("mixed").nested();
  ASSERT_EQ(mixed.size(), 2u);
  EXPECT_EQ(mixed[0].as_array<std::int16_t>(), (std::vector<std::int16_t>{-1, 2}));
  EXPECT_EQ(mixed[1].as_array<std::string_view>(), (std::vector<std::string_view>{"x"}));

  ASSERT_EQ(g.tensors().size(), spec.tensors.size());
  for (const auto& t : spec.tensors) {
    const GgufTensorInfo* info = g.find_tensor(t.name);
    ASSERT_NE(info, nullptr) << t.name;
    EXPECT_EQ(info->ggml_type, t.type);
    EXPECT_EQ(info->offset % 64, 0u);
    EXPECT_EQ(info->byte_size, t.data.size()) << t.name;
    if (t.type == kGgmlQ4_K) continue;
    const TensorView v = g.tensor(t.name);
    EXPECT_EQ(v.name, t.name);
    ASSERT_EQ(v.data.size(), t.data.size());
    EXPECT_EQ(std::memcmp(v.data.data(), t.data.data(), t.data.size()), 0) << t.name;
    ASSERT_EQ(v.shape.size(), t.ne.size());
    for (std::size_t d = 0; d < t.ne.size(); ++d) {
      EXPECT_EQ(v.shape[d], static_cast<std::int64_t>(t.ne[t.ne.size() - 1 - d])) << "outermost first";
    }
  }
  EXPECT_EQ(g.tensor("tok_embd.weight").shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(g.tensor("tok_embd.weight").dtype, DType::kF32);
  EXPECT_EQ(g.tensor("f16").dtype, DType::kF16);
  EXPECT_EQ(g.tensor("bf16").dtype, DType::kBF16);
  EXPECT_EQ(g.tensor("q8").dtype, DType::kQ8_0);
  EXPECT_EQ(g.tensor("q40").dtype, DType::kQ4_0);
  EXPECT_EQ(g.tensor("q41").dtype, DType::kQ4_1);
  EXPECT_EQ(g.find_tensor("q4k")->type_name, "Q4_K");
}

INSTANTIATE_TEST_SUITE_P(Versions, GgufRoundTrip, ::testing::Values(2u, 3u));

TEST(Gguf, MovedFileKeepsViewsValid) {
  const Bytes image = build_gguf(full_spec(3));
  TempFile file("plinth-gguf", image);
  GgufFile a = GgufFile::open(file.path());
  const TensorView before = a.tensor("q8");
  GgufFile b = std::move(a);
  const TensorView after = b.tensor("q8");
  EXPECT_EQ(before.data.data(), after.data.data());
  EXPECT_EQ(b.get<std::string_view>("general.architecture"), "llama");
}

TEST(Gguf, DefaultAlignmentIs32AndNoTensorsIsFine) {
  GgufSpec s;
  s.kvs = {kv_string("general.name", "tiny")};
  const Bytes image = build_gguf(s);
  const GgufFile g = GgufFile::parse(span_of(image), "tiny.gguf");
  EXPECT_EQ(g.alignment(), 32u);
  EXPECT_TRUE(g.tensors().empty());
  EXPECT_EQ(g.name(), "tiny.gguf");
}

TEST(Gguf, TypedGettersNameFileKeyAndTypes) {
  const Bytes image = build_gguf(full_spec(3));
  const GgufFile g = GgufFile::parse(span_of(image), "model.gguf");
  auto message = [&](auto&& f) -> std::string {
    try {
      f();
    } catch (const FormatError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(message([&] { (void)g.get<std::string_view>("general.alignment"); }),
            "model.gguf: metadata key 'general.alignment' has type uint32, expected string");
  EXPECT_EQ(message([&] { (void)g.get_array<std::int32_t>("scores"); }),
            "model.gguf: metadata key 'scores' has type array[float32], expected array[int32]");
  EXPECT_EQ(message([&] { (void)g.get<float>("scores"); }),
            "model.gguf: metadata key 'scores' has type array[float32], expected float32");
  EXPECT_EQ(message([&] { (void)g.get<std::uint32_t>("nope"); }), "model.gguf: metadata key 'nope' not found");
  EXPECT_EQ(message([&] { (void)g.get_uint("i8"); }),
            "model.gguf: metadata key 'i8' is negative (-100), expected an unsigned integer");
  EXPECT_EQ(message([&] { (void)g.get_uint("f32"); }),
            "model.gguf: metadata key 'f32' has type float32, expected an integer");
  EXPECT_EQ(message([&] { (void)g.at("tokens").nested(); }),
            "metadata value has type array[string], expected array[array]");
  EXPECT_EQ(message([&] { (void)g.tensor("q4k"); }), "model.gguf: unsupported tensor type Q4_K for tensor 'q4k'");
  EXPECT_EQ(message([&] { (void)g.tensor("missing"); }), "model.gguf: tensor 'missing' not found");
  EXPECT_FALSE(g.contains("missing"));
}

TEST(Gguf, MapsToPlinthDtypes) {
  EXPECT_EQ(to_plinth_dtype(DType::kF32), PLINTH_DTYPE_F32);
  EXPECT_EQ(to_plinth_dtype(DType::kF16), PLINTH_DTYPE_F16);
  EXPECT_EQ(to_plinth_dtype(DType::kBF16), PLINTH_DTYPE_BF16);
  EXPECT_EQ(to_plinth_dtype(DType::kI32), PLINTH_DTYPE_I32);
  EXPECT_EQ(to_plinth_dtype(DType::kQ8_0), PLINTH_DTYPE_Q8_0);
  EXPECT_EQ(to_plinth_dtype(DType::kQ4_0), PLINTH_DTYPE_Q4_0);
  EXPECT_EQ(to_plinth_dtype(DType::kQ4_1), PLINTH_DTYPE_Q4_1);
  EXPECT_EQ(to_plinth_dtype(DType::kI64), std::nullopt);
  ASSERT_NE(find_ggml_type(14), nullptr);
  EXPECT_EQ(find_ggml_type(14)->name, "Q6_K");
  EXPECT_EQ(find_ggml_type(4), nullptr);
}

TEST(Gguf, EveryTruncationIsAnError) {
  GgufSpec s;
  s.kvs = {kv_string("general.architecture", "llama"), kv_array("tokens", string_array_body({"a", "bc"})),
           kv<std::uint32_t>("n", kU32, 7)};
  s.tensors = {{"w", kGgmlQ8_0, {32}, filled(34), {}}, {"b", kGgmlF32, {3}, filled(12), {}}};
  const Bytes image = build_gguf(s);
  ASSERT_NO_THROW((void)GgufFile::parse(span_of(image)));
  for (std::size_t n = 0; n < image.size(); ++n) {
    const Bytes prefix(image.begin(), image.begin() + static_cast<std::ptrdiff_t>(n));
    const std::string m = parse_error(prefix, "cut.gguf");
    EXPECT_EQ(m.rfind("cut.gguf: ", 0), 0u) << "at " << n << ": " << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
}

TEST(Gguf, FlippedHeaderBytesNeverCrash) {
  const Bytes image = build_gguf(full_spec(3));
  const GgufFile good = GgufFile::parse(span_of(image));
  const std::size_t header_end = good.data_offset();
  int errors = 0;
  for (std::size_t i = 0; i < header_end; ++i) {
    for (std::uint8_t mask : {0x01, 0x80, 0xff}) {
      Bytes bad = image;
      bad[i] ^= std::byte{mask};
      try {
        const GgufFile g = GgufFile::parse(span_of(bad), "flip.gguf");
        for (const auto& t : g.tensors()) {
          try {
            (void)g.tensor(t.name);
          } catch (const FormatError&) {
          }
        }
      } catch (const FormatError& e) {
        ++errors;
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
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

class GgufCorruption : public ::testing::TestWithParam<Corruption> {};

TEST_P(GgufCorruption, GivesOneLineNamingFileAndProblem) {
  const std::string m = parse_error(GetParam().image, "bad.gguf");
  EXPECT_NE(m.find(GetParam().fragment), std::string::npos) << m;
  EXPECT_EQ(m.rfind("bad.gguf: ", 0), 0u) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
}

Bytes with_tensors(std::vector<GgufTensorSpec> tensors, std::vector<Bytes> kvs = {}) {
  GgufSpec s;
  s.kvs = std::move(kvs);
  s.tensors = std::move(tensors);
  return build_gguf(s);
}

Bytes patched(Bytes b, std::size_t at, const void* data, std::size_t n) {
  std::memcpy(b.data() + at, data, n);
  return b;
}

std::vector<Corruption> gguf_corruptions() {
  const Bytes small = with_tensors({{"w", kGgmlF32, {4}, filled(16), {}}});
  const std::uint32_t v1 = 1, v4 = 4, vbe = 0x03000000;
  const std::uint64_t huge = std::numeric_limits<std::uint64_t>::max();
  constexpr std::uint64_t kBig = 1ull << 32;
  Bytes deep;
  {
    Bytes body = array_body<std::uint8_t>(kU8, {1});
    for (int i = 0; i < 12; ++i) body = nested_array_body({body});
    GgufSpec s;
    s.kvs = {kv_array("deep", body)};
    deep = build_gguf(s);
  }
  Bytes huge_string;
  put_bytes(huge_string, "GGUF", 4);
  put<std::uint32_t>(huge_string, 3);
  put<std::uint64_t>(huge_string, 0);
  put<std::uint64_t>(huge_string, 1);
  put<std::uint64_t>(huge_string, huge);  // key length
  put<std::uint64_t>(huge_string, 0);
  GgufSpec huge_kv;
  huge_kv.kvs = {kv_string("a", "b")};
  huge_kv.kv_count = huge;
  GgufSpec huge_tensors;
  huge_tensors.kvs = {kv_string("a", "b")};
  huge_tensors.tensor_count = 1ull << 40;
  Bytes huge_array;
  {
    Bytes body;
    put<std::uint32_t>(body, kStr);
    put<std::uint64_t>(body, 1ull << 60);
    GgufSpec s;
    s.kvs = {kv_array("tokens", body)};
    huge_array = build_gguf(s);
  }
  return {
      {"empty", {}, "truncated: magic at offset 0 needs 4 bytes, only 0 remain"},
      {"bad magic", patched(small, 0, "GGML", 4), "not a GGUF file (magic 'GGML')"},
      {"version 1", patched(small, 4, &v1, 4), "GGUF version 1 is not supported"},
      {"version 4", patched(small, 4, &v4, 4), "unsupported GGUF version 4"},
      {"big endian", patched(small, 4, &vbe, 4), "big-endian GGUF files are not supported"},
      {"huge kv count", build_gguf(huge_kv), "metadata count 18446744073709551615 is more than the remaining"},
      {"huge tensor count", build_gguf(huge_tensors), "tensor count 1099511627776 is more than the remaining"},
      {"huge key length", huge_string, "truncated: metadata key at offset 32 needs 18446744073709551615 bytes"},
      {"huge array count", huge_array, "metadata key 'tokens' array of 1152921504606846976 string elements cannot fit"},
      {"unknown value type", [] { GgufSpec s; s.kvs = {kv<std::uint8_t>("k", 13, 0)}; return build_gguf(s); }(),
       "metadata key 'k' has unknown value type 13"},
      {"bad bool", [] { GgufSpec s; s.kvs = {kv<std::uint8_t>("flag", kBool, 2)}; return build_gguf(s); }(),
       "metadata key 'flag' has invalid bool value 2"},
      {"truncated string value", [] { GgufSpec s; s.kvs = {kv<std::uint64_t>("name", kStr, 100)}; return build_gguf(s); }(),
       "truncated: metadata key 'name' string at offset"},
      {"duplicate key", [] { GgufSpec s; s.kvs = {kv_string("a", "x"), kv_string("a", "y")}; return build_gguf(s); }(),
       "duplicate metadata key 'a'"},
      {"nesting", deep, "metadata key 'deep' nests arrays deeper than 8 levels"},
      {"alignment not power of two",
       with_tensors({{"w", kGgmlF32, {4}, filled(16), {}}}, {kv<std::uint32_t>("general.alignment", kU32, 48)}),
       "general.alignment 48 is not a power of two"},
      {"alignment zero",
       with_tensors({{"w", kGgmlF32, {4}, filled(16), {}}}, {kv<std::uint32_t>("general.alignment", kU32, 0)}),
       "general.alignment 0 is not a power of two"},
      {"alignment wrong type", with_tensors({}, {kv_string("general.alignment", "32")}),
       "metadata key 'general.alignment' has type string, expected uint32"},
      {"too many dims", with_tensors({{"w", kGgmlF32, {1, 1, 1, 1, 4}, filled(16), {}}}),
       "tensor 'w' has 5 dimensions (at most 4 are supported)"},
      {"unknown ggml type", with_tensors({{"w", 4, {4}, filled(16), {}}}), "tensor 'w' has unknown type id 4"},
      {"partial block", with_tensors({{"w", kGgmlQ8_0, {33}, filled(34), {}}}),
       "tensor 'w' row of 33 elements is not a multiple of the Q8_0 block size 32"},
      {"element overflow", with_tensors({{"w", kGgmlF32, {kBig, kBig, kBig}, filled(16), {}}}),
       "tensor 'w' element count overflows"},
      {"byte size overflow", with_tensors({{"w", kGgmlF32, {1ull << 62}, filled(16), {}}}),
       "tensor 'w' byte size overflows"},
      {"dimension too large", with_tensors({{"w", kGgmlF32, {huge}, filled(16), {}}}),
       "tensor 'w' dimension 0 is too large"},
      {"misaligned offset", with_tensors({{"w", kGgmlF32, {4}, filled(16), 4}}),
       "tensor 'w' data offset 4 is not a multiple of the alignment 32"},
      {"offset overflow", with_tensors({{"w", kGgmlF32, {4}, filled(16), huge - 31}}), "tensor 'w' data offset"},
      {"duplicate tensor", with_tensors({{"w", kGgmlF32, {4}, filled(16), {}}, {"w", kGgmlF32, {4}, filled(16), {}}}),
       "duplicate tensor name 'w'"},
      {"overlap",
       with_tensors({{"a", kGgmlF32, {16}, filled(64), {}}, {"b", kGgmlF32, {4}, filled(16), 32}}),
       "tensors 'a' [96, 160) and 'b' [128, 144) overlap"},
      {"escaped name", with_tensors({{"a\nb", kGgmlF32, {1, 1, 1, 1, 4}, filled(16), {}}}), "tensor 'a\\x0ab' has 5"},
  };
}

INSTANTIATE_TEST_SUITE_P(Table, GgufCorruption, ::testing::ValuesIn(gguf_corruptions()));

TEST(Gguf, DataBeyondTheEndNamesTheRange) {
  // 250 f32 = 1000 bytes placed at relative offset 1024 of a file that ends long before.
  GgufSpec s;
  s.tensors = {{"blk.0.attn_q.weight", kGgmlF32, {250}, filled(1000), {}}};
  Bytes image = build_gguf(s);
  const GgufFile ok = GgufFile::parse(span_of(image));
  const std::uint64_t begin = ok.data_offset();
  image.resize(image.size() - 1);
  EXPECT_EQ(parse_error(image, "model.gguf"),
            "model.gguf: tensor 'blk.0.attn_q.weight' data [" + std::to_string(begin) + ", " +
                std::to_string(begin + 1000) + ") lies beyond the end of the file (" +
                std::to_string(image.size()) + " bytes)");
}

TEST(Gguf, OpenReportsMissingFile) {
  try {
    (void)GgufFile::open("/nonexistent-dir/model.gguf");
    FAIL() << "open succeeded";
  } catch (const FormatError& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent-dir/model.gguf: cannot open: No such file or directory");
  }
  EXPECT_THROW((void)GgufFile::open(std::filesystem::temp_directory_path()), FormatError);
  TempFile empty("plinth-empty", {});
  EXPECT_THROW((void)GgufFile::open(empty.path()), FormatError);
}

}  // namespace
}  // namespace plinth::formats
