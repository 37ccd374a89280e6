// Writes the committed seed corpus (corpus/gguf, corpus/safetensors): a handful of small valid files
// covering every metadata type and the supported tensor types, plus a few broken ones. Rerun only
// to change the seeds: plinth_fuzz_make_corpus <fuzz/corpus directory>.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <string>

#include "format_writer.hpp"

namespace {

using namespace plinth::formats::testing;

void write(const std::filesystem::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

GgufSpec rich_gguf(std::uint32_t version) {
  GgufSpec s;
  s.version = version;
  s.kvs = {
      kv_string("general.architecture", "llama"),
      kv<std::uint8_t>("u8", kU8, 7), kv<std::int8_t>("i8", kI8, -7),
      kv<std::uint16_t>("u16", kU16, 700), kv<std::int16_t>("i16", kI16, -700),
      kv<std::uint32_t>("llama.context_length", kU32, 2048), kv<std::int32_t>("i32", kI32, -70000),
      kv<std::uint64_t>("u64", kU64, 1ull << 33), kv<std::int64_t>("i64", kI64, -(1ll << 33)),
      kv<float>("f32", kF32, 0.25f), kv<double>("f64", kF64, 1e-6), kv<std::uint8_t>("b", kBool, 1),
      kv_array("tokenizer.ggml.tokens", string_array_body({"<s>", "</s>", "a", "b"})),
      kv_array("tokenizer.ggml.scores", array_body<float>(kF32, {0.0f, 0.0f, -1.0f, -2.0f})),
      kv_array("tokenizer.ggml.token_type", array_body<std::int32_t>(kI32, {3, 3, 1, 1})),
      kv_array("nested", nested_array_body({string_array_body({"x", "y"}), array_body<std::uint8_t>(kU8, {1})})),
  };
  s.tensors = {
      {"f32", kGgmlF32, {4, 2}, filled(32, 1), {}},
      {"f16", kGgmlF16, {8}, filled(16, 2), {}},
      {"bf16", kGgmlBF16, {8}, filled(16, 3), {}},
      {"q8_0", kGgmlQ8_0, {32}, filled(34, 4), {}},
      {"q4_0", kGgmlQ4_0, {32}, filled(18, 5), {}},
      {"q4_1", kGgmlQ4_1, {32}, filled(20, 6), {}},
  };
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " <corpus directory>\n";
    return 2;
  }
  const std::filesystem::path root = argv[1];
  const auto gguf = root / "gguf";
  const auto st = root / "safetensors";
  std::filesystem::create_directories(gguf);
  std::filesystem::create_directories(st);

  write(gguf / "valid_v2.gguf", build_gguf(rich_gguf(2)));
  write(gguf / "valid_v3.gguf", build_gguf(rich_gguf(3)));
  {
    GgufSpec s;
    s.kvs = {kv<std::uint32_t>("general.alignment", kU32, 64)};
    s.alignment = 64;
    s.tensors = {{"a", kGgmlF32, {2}, filled(8), {}}, {"k", kGgmlQ4_K, {256}, filled(144), {}}};
    write(gguf / "align64_q4k.gguf", build_gguf(s));
  }
  {
    Bytes v = build_gguf(rich_gguf(3));
    v.resize(v.size() / 2);
    write(gguf / "truncated.gguf", v);
  }
  {
    GgufSpec s;
    s.tensors = {{"a", kGgmlF32, {16}, filled(64), {}}, {"b", kGgmlF32, {4}, filled(16), 32}};
    write(gguf / "overlap.gguf", build_gguf(s));
  }
  {
    GgufSpec s;
    s.kvs = {kv_string("a", "b")};
    s.kv_count = std::numeric_limits<std::uint64_t>::max();
    write(gguf / "huge_count.gguf", build_gguf(s));
  }

  write(st / "valid.safetensors",
        build_safetensors({{"w", "F32", {2, 2}, filled(16)}, {"h", "F16", {3}, filled(6)}, {"b", "BF16", {1}, filled(2)},
                           {"i", "I64", {1}, filled(8)}, {"m", "BOOL", {2}, filled(2)}},
                          {{"format", "pt"}}));
  write(st / "overlap.safetensors",
        build_safetensors_raw(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                              filled(12)));
  write(st / "past_end.safetensors",
        build_safetensors_raw(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", filled(8)));
  write(st / "bad_json.safetensors", build_safetensors_raw(R"({"a":{"dtype":"F32","shape":[)", {}));
  std::cout << "wrote seed corpus under " << root.string() << "\n";
  return 0;
}
