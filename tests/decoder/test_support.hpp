// Shared by the decoder tests: opening one device through the plugins of the build tree, finding the
// default model, and temporary files.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <unistd.h>

#include <plinth/models/model_store.hpp>
#include <plinth/runtime.hpp>

namespace plinth::decoder_test {

inline constexpr const char* kDefaultDecoder = "SmolLM2-135M-Instruct";

// A Runtime that opened only `device_id`; device() is null when that device does not exist here.
struct OneDevice {
  explicit OneDevice(const std::string& device_id)
      : runtime(std::make_unique<Runtime>(RuntimeOptions{.devices = {device_id}})),
        device(runtime->find_device(device_id)) {}
  std::unique_ptr<Runtime> runtime;
  Device* device;
};

inline std::string missing_decoder_reason() {
  return std::string("default model ") + kDefaultDecoder + " not in " + models::models_dir().string() +
         ": run tools/bootstrap.sh models";
}

}  // namespace plinth::decoder_test

// Declares `var` = the default decoder's path, or skips the test (fails it with PLINTH_REQUIRE_MODELS=1).
#define PLINTH_DEFAULT_DECODER_OR_SKIP(var)                                                   \
  const auto var##_found = ::plinth::models::find_default_model(::plinth::decoder_test::kDefaultDecoder); \
  if (!var##_found) {                                                                         \
    if (::plinth::models::models_required()) {                                                \
      FAIL() << ::plinth::decoder_test::missing_decoder_reason() << " (PLINTH_REQUIRE_MODELS=1)"; \
    }                                                                                         \
    GTEST_SKIP() << ::plinth::decoder_test::missing_decoder_reason();                         \
  }                                                                                           \
  const std::filesystem::path var = *var##_found

namespace plinth::decoder_test {

// A file name in the temporary directory, removed when the object goes away.
class TempPath {
 public:
  explicit TempPath(const std::string& stem) {
    path_ = std::filesystem::temp_directory_path() /
            (stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++) + ".gguf");
  }
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  ~TempPath() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::filesystem::path path_;
};

}  // namespace plinth::decoder_test
