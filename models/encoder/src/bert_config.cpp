#include "plinth/models/bert_config.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>

namespace plinth::models {
namespace {

using nlohmann::json;

[[noreturn]] void fail(std::string_view source, const std::string& problem) {
  throw std::runtime_error(std::string(source) + ": " + problem);
}

int positive_int(const json& config, std::string_view source, const char* key, bool required = true,
                 int fallback = 0) {
  const auto it = config.find(key);
  if (it == config.end()) {
    if (!required) return fallback;
    fail(source, std::string("missing \"") + key + "\"");
  }
  if (!it->is_number_integer() || it->get<int64_t>() <= 0 || it->get<int64_t>() > (1 << 30)) {
    fail(source, std::string("\"") + key + "\" must be a positive integer, not " + it->dump());
  }
  return static_cast<int>(it->get<int64_t>());
}

std::string unsupported(std::string_view what) {
  return "unsupported architecture " + std::string(what) + ": supported are " +
         std::string(kSupportedBertArchitectures);
}

}  // namespace

BertConfig parse_bert_config(std::string_view json_text, std::string_view source) {
  json config;
  try {
    config = json::parse(json_text);
  } catch (const json::parse_error& e) {
    std::string why = e.what();
    for (char& ch : why) {
      if (ch == '\n' || ch == '\r') ch = ' ';
    }
    fail(source, "not valid JSON (" + why + ")");
  }
  if (!config.is_object()) fail(source, "not a JSON object");

  BertConfig c;
  // Either key alone identifies the model; when present, each must say BERT.
  if (const auto it = config.find("model_type"); it != config.end()) {
    if (!it->is_string()) fail(source, "\"model_type\" must be a string");
    c.model_type = it->get<std::string>();
    if (c.model_type != "bert") fail(source, unsupported("model_type \"" + c.model_type + "\""));
  }
  if (const auto it = config.find("architectures"); it != config.end()) {
    if (!it->is_array()) fail(source, "\"architectures\" must be a list");
    for (const auto& arch : *it) {
      if (!arch.is_string() || arch.get<std::string>().rfind("Bert", 0) != 0) {
        fail(source, unsupported("\"" + (arch.is_string() ? arch.get<std::string>() : arch.dump()) + "\""));
      }
    }
    if (c.model_type.empty()) c.model_type = "bert";
  }
  if (c.model_type.empty()) {
    fail(source, "neither \"model_type\" nor \"architectures\" is given; supported are " +
                     std::string(kSupportedBertArchitectures));
  }
  if (const auto it = config.find("position_embedding_type");
      it != config.end() && !(it->is_string() && it->get<std::string>() == "absolute")) {
    fail(source, "position_embedding_type " + it->dump() + " is not supported (only \"absolute\")");
  }
  if (const auto it = config.find("hidden_act"); it != config.end()) {
    const std::string act = it->is_string() ? it->get<std::string>() : it->dump();
    if (act == "gelu") {
      c.gelu = ops::GeluApprox::erf;
    } else if (act == "gelu_new" || act == "gelu_pytorch_tanh") {
      c.gelu = ops::GeluApprox::tanh;
    } else {
      fail(source, "hidden_act \"" + act + "\" is not supported (gelu, gelu_new, gelu_pytorch_tanh)");
    }
  }

  c.vocab_size = positive_int(config, source, "vocab_size");
  c.hidden_size = positive_int(config, source, "hidden_size");
  c.num_layers = positive_int(config, source, "num_hidden_layers");
  c.num_heads = positive_int(config, source, "num_attention_heads");
  c.intermediate_size = positive_int(config, source, "intermediate_size");
  c.max_position_embeddings = positive_int(config, source, "max_position_embeddings");
  c.type_vocab_size = positive_int(config, source, "type_vocab_size", false, 2);
  if (c.hidden_size % c.num_heads != 0) {
    fail(source, "hidden_size " + std::to_string(c.hidden_size) +
                     " is not a multiple of num_attention_heads " + std::to_string(c.num_heads));
  }
  if (const auto it = config.find("layer_norm_eps"); it != config.end()) {
    if (!it->is_number() || !(it->get<double>() > 0.0))
      fail(source, "\"layer_norm_eps\" must be a positive number");
    c.layer_norm_eps = static_cast<float>(it->get<double>());
  }
  if (const auto it = config.find("pad_token_id"); it != config.end() && it->is_number_integer()) {
    c.pad_token_id = static_cast<int>(it->get<int64_t>());
    if (c.pad_token_id < 0 || c.pad_token_id >= c.vocab_size) c.pad_token_id = 0;
  }
  return c;
}

BertConfig read_bert_config(const std::filesystem::path& config_json) {
  std::ifstream in(config_json, std::ios::binary);
  if (!in) throw std::runtime_error(config_json.string() + ": cannot open the model's config.json");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_bert_config(text.str(), config_json.string());
}

}  // namespace plinth::models
