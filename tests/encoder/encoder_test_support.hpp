// Shared pieces of the encoder tests: opening one device through its plugin, finding the default
// model (skip, or fail under PLINTH_REQUIRE_MODELS=1), reading the golden file, and cosines.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <plinth/models/model_store.hpp>
#include <plinth/runtime.hpp>
#include <span>
#include <string>
#include <vector>

namespace plinth::encoder_test {

inline constexpr const char* kDefaultEncoder = "all-MiniLM-L6-v2";

// A runtime that loads exactly one plugin and opens only `device_id`. device() is null when the
// plugin found no such device; why() then says what the probe reported.
class OneDevice {
 public:
  OneDevice(const std::string& plugin_path, const std::string& device_id) {
    RuntimeOptions options;
    options.plugin_paths = {plugin_path};
    options.use_env_plugin_path = false;
    options.use_default_plugin_dirs = false;
    options.devices = {device_id};
    options.log_level = "error";
    runtime_ = std::make_unique<Runtime>(options);
    device_ = runtime_->find_device(device_id);
    if (device_ == nullptr) {
      why_ = "no device " + device_id;
      for (const auto& u : runtime_->unusable_devices()) why_ += "; " + u.reason;
      for (const auto& r : runtime_->rejected_plugins()) why_ += "; " + r.reason;
    }
  }
  Device* device() const { return device_; }
  const std::string& why() const { return why_; }

 private:
  std::unique_ptr<Runtime> runtime_;
  Device* device_ = nullptr;
  std::string why_;
};

// The default encoder's directory, or nullopt after recording a skip (or a failure under
// PLINTH_REQUIRE_MODELS=1). Use as: auto dir = default_model(); if (!dir) return;
inline std::optional<std::filesystem::path> default_model() {
  if (auto dir = models::find_default_model(kDefaultEncoder)) return dir;
  const std::string message = std::string("default model ") + kDefaultEncoder + " not in " +
                              models::models_dir().string() + ": run tools/bootstrap.sh models";
  if (models::models_required()) {
    ADD_FAILURE() << message << " (PLINTH_REQUIRE_MODELS=1)";
  } else {
    [&] { GTEST_SKIP() << message; }();  // GTEST_SKIP returns: keep it out of this function
  }
  return std::nullopt;
}

struct GoldenCase {
  std::string text;
  std::vector<int32_t> ids;
  std::vector<float> embedding;
};

inline std::vector<GoldenCase> read_golden() {
  std::ifstream in(PLINTH_ENCODER_GOLDEN);
  const auto doc = nlohmann::json::parse(in);
  std::vector<GoldenCase> cases;
  for (const auto& c : doc.at("cases")) {
    cases.push_back({c.at("text").get<std::string>(), c.at("ids").get<std::vector<int32_t>>(),
                     c.at("embedding").get<std::vector<float>>()});
  }
  return cases;
}

inline double cosine(std::span<const float> a, std::span<const float> b) {
  double dot = 0, na = 0, nb = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  if (a.size() != b.size() || na == 0 || nb == 0) return 0;
  return dot / std::sqrt(na * nb);
}

inline std::span<const float> row(const std::vector<float>& rows, std::size_t i, std::size_t dim) {
  return std::span<const float>(rows).subspan(i * dim, dim);
}

}  // namespace plinth::encoder_test
