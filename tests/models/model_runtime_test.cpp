// models/runtime: the models cache lookup, the lock's pins, and weight upload with dtype conversion.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <vector>

#include <plinth/formats/mapped_file.hpp>
#include <plinth/models/model_store.hpp>
#include <plinth/models/models_lock.hpp>
#include <plinth/models/weights.hpp>
#include <plinth/runtime.hpp>

namespace plinth::models {
namespace {

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(ModelStore, DirectoryComesFromEnvironmentInOrder) {
  ScopedEnv models("PLINTH_MODELS_DIR", "/srv/models");
  EXPECT_EQ(models_dir(), std::filesystem::path("/srv/models"));
  ScopedEnv unset("PLINTH_MODELS_DIR", "");
  ScopedEnv xdg("XDG_CACHE_HOME", "/xdg");
  EXPECT_EQ(models_dir(), std::filesystem::path("/xdg/plinth/models"));
  ScopedEnv no_xdg("XDG_CACHE_HOME", nullptr);
  ScopedEnv home("HOME", "/home/u");
  EXPECT_EQ(models_dir(), std::filesystem::path("/home/u/.cache/plinth/models"));
}

TEST(ModelStore, FindsInstalledDefaultModelsOnly) {
  const auto dir = std::filesystem::path(testing::TempDir()) / "plinth-model-store";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "SmolLM2-135M-Instruct");
  std::filesystem::create_directories(dir / "all-MiniLM-L6-v2");
  std::ofstream(dir / "SmolLM2-135M-Instruct" / "SmolLM2-135M-Instruct.Q4_1.gguf") << "x";
  ScopedEnv models("PLINTH_MODELS_DIR", dir.c_str());

  EXPECT_EQ(find_default_model("SmolLM2-135M-Instruct"),
            dir / "SmolLM2-135M-Instruct" / "SmolLM2-135M-Instruct.Q4_1.gguf");
  EXPECT_FALSE(find_default_model("all-MiniLM-L6-v2"));  // directory without its weights
  EXPECT_FALSE(find_default_model("no-such-model"));
  std::ofstream(dir / "all-MiniLM-L6-v2" / "model.safetensors") << "x";
  EXPECT_EQ(find_default_model("all-MiniLM-L6-v2"), dir / "all-MiniLM-L6-v2");

  EXPECT_EQ(resolve_model(dir.string()), dir);  // an existing path is taken as it is
  EXPECT_EQ(resolve_model("all-MiniLM-L6-v2"), dir / "all-MiniLM-L6-v2");
  try {
    (void)resolve_model("gpt-9");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("all-MiniLM-L6-v2, SmolLM2-135M-Instruct"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir / "all-MiniLM-L6-v2");
  try {
    (void)resolve_model("all-MiniLM-L6-v2");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bootstrap.sh models"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

// The pins this library was built with are tools/models.lock as it is now (the configure step
// re-reads it when it changes), and they pin every default model.
TEST(ModelsLock, BuiltInIsToolsModelsLock) {
  const ModelsLock built_in = ModelsLock::built_in();
  const ModelsLock source = ModelsLock::read(PLINTH_MODELS_LOCK_FILE);
  ASSERT_EQ(built_in.files().size(), source.files().size());
  for (std::size_t i = 0; i < source.files().size(); ++i) {
    EXPECT_EQ(built_in.files()[i].model, source.files()[i].model);
    EXPECT_EQ(built_in.files()[i].file, source.files()[i].file);
    EXPECT_EQ(built_in.files()[i].sha256, source.files()[i].sha256);
  }
  for (const DefaultModel& model : default_models()) {
    bool main_file_pinned = false;
    for (const PinnedFile& file : built_in.files_of(model.name))
      main_file_pinned |= file.file == model.main_file;
    EXPECT_TRUE(main_file_pinned) << model.name;
  }
  for (const PinnedFile& file : built_in.files()) {
    EXPECT_NE(find_default_model_info(file.model), nullptr)
        << file.model << " is pinned but not a default model";
  }
}

TEST(ModelsLock, ParsesFileLinesAndRefusesMalformedOnes) {
  const std::string sha(64, 'a');
  const ModelsLock lock =
      ModelsLock::parse("# comment\n\nwheel m pkg==1 " + sha + "\n  file m pkg/dir/w.bin " + sha +
                            "  \nfile n x.txt " + std::string(64, '0') + "\n",
                        "test.lock");
  ASSERT_EQ(lock.files().size(), 2u);
  EXPECT_EQ(lock.files()[0].model, "m");
  EXPECT_EQ(lock.files()[0].file, "w.bin");  // installed under its basename
  EXPECT_EQ(lock.files()[0].sha256, sha);
  EXPECT_EQ(lock.files_of("n").size(), 1u);
  EXPECT_TRUE(lock.files_of("nobody").empty());
  EXPECT_EQ(lock.origin(), "test.lock");

  const std::pair<std::string, std::string> bad[] = {
      {"\nfiles m a " + sha, "test.lock:2: unknown line kind 'files'"},
      {"file m a", "test.lock:1: expected 4 fields, found 3"},
      {"file m a " + sha + " extra", "test.lock:1: expected 4 fields, found 5"},
      {"file m a " + std::string(63, 'a'), "is not a sha256"},
      {"file m a " + std::string(64, 'A'), "is not a sha256"},  // fetch_models.sh compares lowercase
      {"file m a/ " + sha, "names no file"},
      {"file m a/x " + sha + "\nfile m b/x " + sha, "test.lock:2: file m/x is pinned twice"},
  };
  for (const auto& [text, expected] : bad) {
    try {
      (void)ModelsLock::parse(text, "test.lock");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  }
}

TEST(ReleasePages, ContentsSurviveReleaseAndAreReadAgain) {
  const auto path = std::filesystem::path(testing::TempDir()) / "plinth-release-pages.bin";
  std::vector<uint32_t> values(300000);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<uint32_t>(i * 2654435761u);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * 4));
  const auto file = formats::MappedFile::open(path);
  const std::span<const std::byte> bytes = file.bytes();
  ASSERT_EQ(bytes.size(), values.size() * 4);
  ASSERT_EQ(std::memcmp(bytes.data(), values.data(), bytes.size()), 0);  // every page resident now
  formats::release_pages(bytes.subspan(1000, 500000));  // unaligned ends: only whole pages inside go
  formats::release_pages(bytes.subspan(7, 0));
  formats::release_pages(bytes.subspan(4090, 10));  // within one or two pages: nothing to drop
  EXPECT_EQ(std::memcmp(bytes.data(), values.data(), bytes.size()), 0);
  std::filesystem::remove(path);
}

class WeightsTest : public testing::Test {
 protected:
  void SetUp() override {
    RuntimeOptions options;
    options.plugin_paths = {PLINTH_CPU_PLUGIN_PATH};
    options.use_env_plugin_path = false;
    options.use_default_plugin_dirs = false;
    runtime_ = std::make_unique<Runtime>(options);
    if (runtime_->devices().empty()) GTEST_SKIP() << "the cpu plugin opened no device";
    device_ = runtime_->devices()[0];
    stream_ = device_->create_stream();
  }
  template <typename T>
  std::vector<T> download(const DeviceTensor& t, std::size_t count) {
    std::vector<T> out(count);
    stream_.download(t.buffer, 0, out.data(), count * sizeof(T));
    stream_.synchronize();
    return out;
  }

  std::unique_ptr<Runtime> runtime_;
  Device* device_ = nullptr;
  Stream stream_;
};

formats::TensorView view_of(const std::vector<float>& values, std::vector<int64_t> shape) {
  return {"w", formats::DType::kF32, std::move(shape),
          std::as_bytes(std::span<const float>(values))};
}

TEST_F(WeightsTest, UploadsWithoutConversionBitExact) {
  const std::vector<float> values{1.0f, -2.5f, 3.25f, 1e-30f, 7.0f, 8.0f};
  const DeviceTensor t = upload(*device_, stream_, view_of(values, {2, 3}));
  EXPECT_EQ(t.tensor.dtype(), DType::f32);
  EXPECT_EQ(t.tensor.shape(), (Shape{2, 3}));
  EXPECT_EQ(download<float>(t, values.size()), values);
}

TEST_F(WeightsTest, ConvertsToHalfRoundingToNearestEven) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> values{1.0f,          -2.0f,   65504.0f, 65520.0f /* rounds to inf */,
                                  5.9604645e-8f /* 2^-24, smallest subnormal */,
                                  1.0f + 0x1p-11f /* tie: stays 1.0 */, 1.0f + 0x1p-10f + 0x1p-11f /* tie: up */,
                                  inf, 0.0f};
  const DeviceTensor t = upload(*device_, stream_, view_of(values, {9}), DType::f16);
  EXPECT_EQ(t.tensor.dtype(), DType::f16);
  const std::vector<uint16_t> expected{0x3C00, 0xC000, 0x7BFF, 0x7C00, 0x0001, 0x3C00, 0x3C02, 0x7C00, 0x0000};
  EXPECT_EQ(download<uint16_t>(t, values.size()), expected);
}

TEST_F(WeightsTest, ConvertsToBf16AndBackToF32) {
  const std::vector<float> values{1.0f, -3.0f, 1.0f + 0x1p-8f /* tie: stays 1.0 */};
  const DeviceTensor t = upload(*device_, stream_, view_of(values, {3}), DType::bf16);
  EXPECT_EQ(download<uint16_t>(t, 3), (std::vector<uint16_t>{0x3F80, 0xC040, 0x3F80}));

  const std::vector<uint16_t> halves{0x3C00, 0x0001, 0xFC00};
  const formats::TensorView half_view{"h", formats::DType::kF16, {3}, std::as_bytes(std::span<const uint16_t>(halves))};
  const std::vector<float> back = to_f32(half_view);
  EXPECT_EQ(back[0], 1.0f);
  EXPECT_EQ(back[1], 0x1p-24f);
  EXPECT_EQ(back[2], -std::numeric_limits<float>::infinity());
}

TEST_F(WeightsTest, RefusesQuantizedConversionAndUnsupportedDtypes) {
  const std::vector<std::byte> block(20);
  const formats::TensorView q{"blk.0.ffn_up.weight", formats::DType::kQ4_1, {1, 32}, block};
  EXPECT_THROW((void)upload(*device_, stream_, q, DType::f32), std::runtime_error);
  const DeviceTensor kept = upload(*device_, stream_, q);
  EXPECT_EQ(kept.tensor.dtype(), DType::q4_1);
  const std::vector<double> doubles{1.0};
  const formats::TensorView f64{"x", formats::DType::kF64, {1}, std::as_bytes(std::span<const double>(doubles))};
  try {
    (void)runtime_dtype(f64);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("'x'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace plinth::models
