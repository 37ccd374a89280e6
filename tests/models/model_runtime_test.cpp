// models/runtime: the models cache (lookup, the lock's pins, verification and its stamp) and weight
// upload with dtype conversion.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <thread>
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
  ScopedEnv lock("PLINTH_MODELS_LOCK", nullptr);

  EXPECT_EQ(find_default_model("SmolLM2-135M-Instruct"),
            dir / "SmolLM2-135M-Instruct" / "SmolLM2-135M-Instruct.Q4_1.gguf");
  EXPECT_FALSE(find_default_model("all-MiniLM-L6-v2"));  // directory without its weights
  EXPECT_FALSE(find_default_model("no-such-model"));
  std::ofstream(dir / "all-MiniLM-L6-v2" / "model.safetensors") << "x";
  EXPECT_EQ(find_default_model("all-MiniLM-L6-v2"), dir / "all-MiniLM-L6-v2");

  EXPECT_EQ(resolve_model(dir.string()), dir);  // an existing path that is no default model: as it is
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
    EXPECT_NE(std::string(e.what()).find("not installed"), std::string::npos) << e.what();
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
  EXPECT_NO_THROW(ModelStore("/nonexistent", ModelsLock::built_in()));
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

// Before any fix, a default model whose file was damaged resolved like a good one. With the pins
// built in, any file that is not the real model is corrupt.
TEST(ModelStore, ResolveRefusesACorruptDefaultModelNamingTheFileAndTheRepair) {
  const auto dir = std::filesystem::path(testing::TempDir()) / "plinth-model-store-corrupt";
  std::filesystem::remove_all(dir);
  const auto file = dir / "SmolLM2-135M-Instruct" / "SmolLM2-135M-Instruct.Q4_1.gguf";
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file) << "GGUF, but not the pinned one";
  ScopedEnv models("PLINTH_MODELS_DIR", dir.c_str());
  ScopedEnv lock("PLINTH_MODELS_LOCK", nullptr);
  for (const std::string& name_or_path : {std::string("SmolLM2-135M-Instruct"), file.string()}) {
    try {
      (void)resolve_model(name_or_path);
      ADD_FAILURE() << "a corrupt default model resolved: " << name_or_path;
    } catch (const std::runtime_error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("corrupt"), std::string::npos) << message;
      EXPECT_NE(message.find(file.string()), std::string::npos) << message;
      EXPECT_NE(message.find("tools/fetch_models.sh"), std::string::npos) << message;
      EXPECT_NE(message.find("tools/bootstrap.sh models"), std::string::npos) << message;
    }
  }
  std::filesystem::remove_all(dir);
}

// A cache of synthetic default models with a lock that pins them: FIPS 180-2's "abc" for the
// decoder, the empty file and three million 'a' (several read chunks) for the encoder.
class ModelStoreTest : public testing::Test {
 protected:
  static constexpr const char* kLock =
      "file all-MiniLM-L6-v2 any/model.safetensors "
      "2a152c894398719c0570f83fac34ac03a0f6e8e474b995c2403aa5434f7b9dd4\n"
      "file all-MiniLM-L6-v2 any/vocab.txt e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "file SmolLM2-135M-Instruct any/SmolLM2-135M-Instruct.Q4_1.gguf "
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n";

  void SetUp() override {
    dir_ = std::filesystem::path(testing::TempDir()) /
           (std::string("plinth-store-") + testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(encoder_dir());
    std::filesystem::create_directories(decoder_file().parent_path());
    std::ofstream(encoder_dir() / "model.safetensors") << std::string(3'000'000, 'a');
    std::ofstream(encoder_dir() / "vocab.txt").flush();
    std::ofstream(decoder_file()) << "abc";
    // File timestamps tick coarsely, so a file written in the last moments before it is hashed is
    // not stamped yet (see model_store.cpp). Tests of the stamp start after that.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  ModelStore store(ModelStore::WarningSink warn = [](std::string_view) {}) const {
    return ModelStore(dir_, ModelsLock::parse(kLock, "test.lock"), std::move(warn));
  }
  std::filesystem::path encoder_dir() const { return dir_ / "all-MiniLM-L6-v2"; }
  std::filesystem::path decoder_file() const {
    return dir_ / "SmolLM2-135M-Instruct" / "SmolLM2-135M-Instruct.Q4_1.gguf";
  }
  static void flip_byte(const std::filesystem::path& path, std::streamoff offset) {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(offset);
    const char byte = static_cast<char>(file.get() ^ 1);
    file.seekp(offset);
    file.put(byte);
  }

  std::filesystem::path dir_;
};

TEST_F(ModelStoreTest, GoodModelsVerifyAndResolve) {
  ModelStore models = store();
  const ModelCheck encoder = models.check("all-MiniLM-L6-v2");
  EXPECT_EQ(encoder.status, ModelStatus::kVerified);
  EXPECT_TRUE(encoder.problems.empty()) << encoder.problems.front();
  EXPECT_EQ(encoder.path, encoder_dir());  // the encoder loads from its directory
  EXPECT_EQ(models.require("SmolLM2-135M-Instruct"), decoder_file());
  EXPECT_EQ(models.resolve("SmolLM2-135M-Instruct"), decoder_file());
  EXPECT_EQ(models.resolve(decoder_file().string()), decoder_file());
  EXPECT_EQ(to_string(ModelStatus::kVerified), "verified");
  EXPECT_THROW((void)models.check("gpt-9"), std::invalid_argument);
}

TEST_F(ModelStoreTest, StampSparesLaterChecksTheHashing) {
  ModelStore first = store();
  ASSERT_EQ(first.check("all-MiniLM-L6-v2").status, ModelStatus::kVerified);
  EXPECT_EQ(first.files_hashed(), 2u);
  EXPECT_TRUE(std::filesystem::is_regular_file(encoder_dir() / ".verified.json"));
  ASSERT_EQ(first.check("all-MiniLM-L6-v2").status, ModelStatus::kVerified);
  EXPECT_EQ(first.files_hashed(), 2u);
  // The stamp is in the cache, not in the store: another process finds it too.
  ModelStore second = store();
  EXPECT_EQ(second.require("all-MiniLM-L6-v2"), encoder_dir());
  EXPECT_EQ(second.files_hashed(), 0u);
}

TEST_F(ModelStoreTest, CorruptModelIsRefusedNamingTheFileAndTheRepair) {
  flip_byte(decoder_file(), 1);
  ModelStore models = store();
  const ModelCheck check = models.check("SmolLM2-135M-Instruct");
  EXPECT_EQ(check.status, ModelStatus::kCorrupt);
  ASSERT_EQ(check.problems.size(), 1u);
  EXPECT_NE(check.problems[0].find(decoder_file().string() + " has sha256 "), std::string::npos)
      << check.problems[0];
  EXPECT_NE(check.problems[0].find("expected ba7816bf"), std::string::npos) << check.problems[0];
  for (const std::string& name_or_path : {std::string("SmolLM2-135M-Instruct"), decoder_file().string()}) {
    try {
      (void)models.resolve(name_or_path);
      ADD_FAILURE() << "a corrupt default model resolved: " << name_or_path;
    } catch (const std::runtime_error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("default model 'SmolLM2-135M-Instruct' is corrupt"), std::string::npos)
          << message;
      EXPECT_NE(message.find(decoder_file().string()), std::string::npos) << message;
      EXPECT_NE(message.find("tools/fetch_models.sh"), std::string::npos) << message;
    }
  }
  // A copy outside the cache has no pin: it is the user's file and loads as it is.
  const auto copy = dir_ / "copy.gguf";
  std::filesystem::copy_file(decoder_file(), copy);
  EXPECT_EQ(models.resolve(copy.string()), copy);
}

TEST_F(ModelStoreTest, ChangesAfterTheStampAreCaught) {
  ModelStore models = store();
  ASSERT_EQ(models.check("all-MiniLM-L6-v2").status, ModelStatus::kVerified);
  ASSERT_EQ(models.files_hashed(), 2u);

  // Same size, and the modification time put back: only the change time gives it away.
  const auto weights = encoder_dir() / "model.safetensors";
  const auto mtime = std::filesystem::last_write_time(weights);
  flip_byte(weights, 2'500'000);
  std::filesystem::last_write_time(weights, mtime);
  ModelCheck check = models.check("all-MiniLM-L6-v2");
  EXPECT_EQ(check.status, ModelStatus::kCorrupt);
  EXPECT_EQ(models.files_hashed(), 3u);  // only the changed file was hashed again
  ASSERT_EQ(check.problems.size(), 1u);
  EXPECT_NE(check.problems[0].find(weights.string()), std::string::npos) << check.problems[0];
  EXPECT_EQ(models.check("all-MiniLM-L6-v2").status, ModelStatus::kCorrupt);  // and stays refused

  // Replaced (a new file renamed over it, as the setup script repairs): verified again.
  std::ofstream(encoder_dir() / "new") << std::string(3'000'000, 'a');
  std::filesystem::rename(encoder_dir() / "new", weights);
  EXPECT_EQ(models.check("all-MiniLM-L6-v2").status, ModelStatus::kVerified);

  std::filesystem::remove(encoder_dir() / "vocab.txt");
  check = models.check("all-MiniLM-L6-v2");
  EXPECT_EQ(check.status, ModelStatus::kMissing);
  ASSERT_EQ(check.problems.size(), 1u);
  EXPECT_NE(check.problems[0].find("vocab.txt is missing"), std::string::npos) << check.problems[0];
  try {
    (void)models.require("all-MiniLM-L6-v2");
    ADD_FAILURE() << "an incomplete default model was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("vocab.txt is missing"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("tools/bootstrap.sh models"), std::string::npos) << e.what();
  }
}

TEST_F(ModelStoreTest, UnwritableStampMeansHashingEveryTimeWithOneWarning) {
  // A directory where the stamp goes makes writing it fail even for root, like a read-only cache.
  std::filesystem::create_directories(dir_ / "SmolLM2-135M-Instruct" / ".verified.json" / "x");
  std::vector<std::string> warnings;
  ModelStore models = store([&](std::string_view warning) { warnings.emplace_back(warning); });
  EXPECT_EQ(models.require("SmolLM2-135M-Instruct"), decoder_file());
  EXPECT_EQ(models.require("SmolLM2-135M-Instruct"), decoder_file());
  EXPECT_EQ(models.files_hashed(), 2u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("hashed again on every load"), std::string::npos) << warnings[0];
  flip_byte(decoder_file(), 0);
  EXPECT_EQ(models.check("SmolLM2-135M-Instruct").status, ModelStatus::kCorrupt);
}

TEST_F(ModelStoreTest, DamagedStampOnlyCostsAHash) {
  ModelStore models = store();
  ASSERT_EQ(models.check("SmolLM2-135M-Instruct").status, ModelStatus::kVerified);
  std::ofstream(dir_ / "SmolLM2-135M-Instruct" / ".verified.json") << "{\"format\": 1, \"files\": {\"SmolLM2";
  EXPECT_EQ(models.check("SmolLM2-135M-Instruct").status, ModelStatus::kVerified);
  EXPECT_EQ(models.files_hashed(), 2u);
  EXPECT_EQ(models.check("SmolLM2-135M-Instruct").status, ModelStatus::kVerified);
  EXPECT_EQ(models.files_hashed(), 2u);  // rewritten whole
}

TEST(ModelStoreLock, RefusesALockWithoutTheDefaultModels) {
  const std::string sha(64, 'a');
  try {
    ModelStore store(
        "/nonexistent",
        ModelsLock::parse("file SmolLM2-135M-Instruct a/SmolLM2-135M-Instruct.Q4_1.gguf " + sha, "x.lock"));
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("x.lock pins no file all-MiniLM-L6-v2/model.safetensors"),
              std::string::npos)
        << e.what();
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
