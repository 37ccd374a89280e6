// load_wordpiece: a BERT tokenizer.json (HF tokenizers) or a plain vocab.txt.
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include <plinth/models/wordpiece_tokenizer.hpp>

#include "message_text.hpp"

namespace plinth::models {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what) {
  throw std::runtime_error(one_line(path.string(), 4096) + ": " + one_line(what, 1000));
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) fail(path, "read error");
  return ss.str();
}

}  // namespace

WordPieceConfig wordpiece_config_from_vocab_txt(std::string_view text, std::string source) {
  const std::filesystem::path path = source;
  WordPieceConfig config;
  config.source = std::move(source);
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string token(text.substr(pos, nl - pos));
    if (!token.empty() && token.back() == '\r') token.pop_back();
    config.vocab.push_back(std::move(token));
    pos = nl + 1;
  }
  if (config.vocab.empty()) fail(path, "empty vocabulary");
  return config;
}

namespace {

const json& member(const std::filesystem::path& path, const json& obj, const char* key, const char* where) {
  if (!obj.is_object() || !obj.contains(key)) fail(path, std::string(where) + " has no '" + key + "'");
  return obj.at(key);
}

std::string special_of(const std::filesystem::path& path, const json& piece) {
  // TemplateProcessing: {"SpecialToken": {"id": "[CLS]", ...}}
  if (piece.is_object() && piece.contains("SpecialToken")) {
    return member(path, piece.at("SpecialToken"), "id", "post_processor special token").get<std::string>();
  }
  return {};
}

}  // namespace

WordPieceConfig wordpiece_config_from_json(std::string_view text, std::string source) {
  const std::filesystem::path path = source;
  WordPieceConfig config;
  config.source = std::move(source);
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    fail(path, "invalid JSON: " + one_line(e.what()));
  }
  try {
    const json& model = member(path, doc, "model", "tokenizer.json");
    const std::string type = model.value("type", "");
    if (type != "WordPiece") fail(path, "model type '" + type + "' is not supported here (expected WordPiece)");
    const json& vocab = member(path, model, "vocab", "model");
    if (!vocab.is_object() || vocab.empty()) fail(path, "model.vocab is not a non-empty object");
    config.vocab.assign(vocab.size(), std::string());
    std::vector<bool> seen(vocab.size(), false);
    for (const auto& [token, id_value] : vocab.items()) {
      if (!id_value.is_number_integer()) fail(path, "vocab id of '" + token + "' is not an integer");
      const auto id = id_value.get<std::int64_t>();
      if (id < 0 || static_cast<std::size_t>(id) >= vocab.size() || seen[static_cast<std::size_t>(id)]) {
        fail(path, "vocab ids are not 0.." + std::to_string(vocab.size() - 1) + " each once (id " +
                       std::to_string(id) + ")");
      }
      seen[static_cast<std::size_t>(id)] = true;
      config.vocab[static_cast<std::size_t>(id)] = token;
    }
    if (model.contains("unk_token")) config.unk_token = model.at("unk_token").get<std::string>();
    if (model.contains("continuing_subword_prefix")) {
      config.continuing_prefix = model.at("continuing_subword_prefix").get<std::string>();
    }
    if (model.contains("max_input_chars_per_word")) {
      config.max_input_chars_per_word = model.at("max_input_chars_per_word").get<std::size_t>();
    }

    const json normalizer = doc.value("normalizer", json());
    if (normalizer.is_null()) {
      config.clean_text = config.handle_chinese_chars = config.lowercase = config.strip_accents = false;
    } else {
      const std::string ntype = normalizer.value("type", "");
      if (ntype != "BertNormalizer") fail(path, "normalizer '" + ntype + "' is not supported (expected BertNormalizer)");
      config.clean_text = normalizer.value("clean_text", true);
      config.handle_chinese_chars = normalizer.value("handle_chinese_chars", true);
      config.lowercase = normalizer.value("lowercase", true);
      const json strip = normalizer.value("strip_accents", json());
      config.strip_accents = strip.is_null() ? config.lowercase : strip.get<bool>();
    }
    const json pre = doc.value("pre_tokenizer", json());
    if (!pre.is_null() && pre.value("type", "") != "BertPreTokenizer") {
      fail(path, "pre_tokenizer '" + pre.value("type", "") + "' is not supported (expected BertPreTokenizer)");
    }
    const json post = doc.value("post_processor", json());
    if (!post.is_null()) {
      const std::string ptype = post.value("type", "");
      if (ptype == "BertProcessing") {
        config.cls_token = member(path, post, "cls", "post_processor").at(0).get<std::string>();
        config.sep_token = member(path, post, "sep", "post_processor").at(0).get<std::string>();
      } else if (ptype == "TemplateProcessing") {
        const json& single = member(path, post, "single", "post_processor");
        if (!single.is_array() || single.size() < 2) fail(path, "post_processor.single is not [CLS] $A [SEP]");
        config.cls_token = special_of(path, single.front());
        config.sep_token = special_of(path, single.back());
        if (config.cls_token.empty() || config.sep_token.empty()) {
          fail(path, "post_processor.single is not [CLS] $A [SEP]");
        }
      } else {
        fail(path, "post_processor '" + ptype + "' is not supported (expected TemplateProcessing or BertProcessing)");
      }
    }
    for (const json& added : doc.value("added_tokens", json::array())) {
      if (added.value("special", false)) config.special_tokens.push_back(added.at("content").get<std::string>());
    }
    const json truncation = doc.value("truncation", json());
    if (truncation.is_object() && truncation.contains("max_length")) {
      config.model_max_length = truncation.at("max_length").get<std::size_t>();
    }
  } catch (const json::exception& e) {
    fail(path, "malformed tokenizer.json: " + one_line(e.what()));
  }
  return config;
}

std::unique_ptr<Tokenizer> load_wordpiece(const std::filesystem::path& path) {
  std::filesystem::path file = path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    file = path / "tokenizer.json";
    if (!std::filesystem::exists(file, ec)) file = path / "vocab.txt";
    if (!std::filesystem::exists(file, ec)) fail(path, "neither tokenizer.json nor vocab.txt in this directory");
  }
  const std::string text = read_file(file);
  WordPieceConfig config = file.extension() == ".json" ? wordpiece_config_from_json(text, file.string())
                                                       : wordpiece_config_from_vocab_txt(text, file.string());
  return make_wordpiece_tokenizer(std::move(config));
}

}  // namespace plinth::models
