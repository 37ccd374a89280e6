// plinth embed [--model DIR|NAME] [--device ID] [--file F|-] [TEXT...]: sentence embeddings from a
// BERT-style encoder (default: all-MiniLM-L6-v2 from the models cache) on one device. Prints JSON on
// stdout, {"model", "device", "dim", "embeddings": [[...], ...]} with one L2-normalized row per text
// in input order, and the timing on stderr.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli_support.hpp"
#include "commands.hpp"
#include "plinth/models/bert_encoder.hpp"
#include "plinth/models/model_store.hpp"
#include "plinth/runtime.hpp"

namespace plinth::cli {
namespace {

struct EmbedArgs {
  std::string model = "all-MiniLM-L6-v2";
  std::string device = "cpu:0";
  std::vector<std::string> plugins;
  std::string file;
  std::vector<std::string> texts;
  int batch_size = 32;
  int max_tokens = 512;
  std::string weights = "f32";
};

// Non-empty lines of `in` (a trailing '\r' is dropped, so files with CRLF endings work).
void read_lines(std::istream& in, std::vector<std::string>& out) {
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
}

std::vector<std::string> collect_texts(const EmbedArgs& args) {
  std::vector<std::string> texts;
  if (!args.file.empty()) {
    if (args.file == "-") {
      read_lines(std::cin, texts);
    } else {
      std::ifstream in(args.file);
      if (!in) throw std::runtime_error("cannot open --file " + args.file);
      read_lines(in, texts);
    }
  }
  texts.insert(texts.end(), args.texts.begin(), args.texts.end());
  if (texts.empty()) {
    throw std::runtime_error(
        "no texts to embed: give TEXT arguments or --file F (one per line, - for stdin)");
  }
  return texts;
}

std::optional<DType> weight_dtype(const std::string& name) {
  if (name == "f16") return DType::f16;
  if (name == "bf16") return DType::bf16;
  return std::nullopt;
}

void write_json(std::ostream& out, const std::string& model, const std::string& device, int dim,
                const std::vector<float>& rows) {
  out << "{\"model\":" << nlohmann::json(model).dump() << ",\"device\":" << nlohmann::json(device).dump()
      << ",\"dim\":" << dim << ",\"embeddings\":[";
  const std::size_t n = dim > 0 ? rows.size() / static_cast<std::size_t>(dim) : 0;
  char number[32];
  for (std::size_t i = 0; i < n; ++i) {
    out << (i ? ",[" : "[");
    for (int c = 0; c < dim; ++c) {
      // 8 significant digits round-trip a float closely enough for any similarity use.
      std::snprintf(
          number, sizeof number, "%.8g",
          static_cast<double>(rows[i * static_cast<std::size_t>(dim) + static_cast<std::size_t>(c)]));
      out << (c ? "," : "") << number;
    }
    out << "]";
  }
  out << "]}\n";
}

int run_embed(const EmbedArgs& args) {
  const std::vector<std::string> texts = collect_texts(args);
  const std::filesystem::path model = models::resolve_model(args.model);

  const OpenedDevice opened(args.device, args.plugins);
  Device& device = opened.device();

  const auto t0 = std::chrono::steady_clock::now();
  auto encoder = models::BertEncoder::load(device, model,
                                           {.max_tokens = args.max_tokens,
                                            .batch_size = args.batch_size,
                                            .weight_dtype = weight_dtype(args.weights)});
  const auto t1 = std::chrono::steady_clock::now();
  std::vector<std::vector<int32_t>> ids;
  ids.reserve(texts.size());
  std::size_t tokens = 0;
  for (const auto& text : texts) {
    ids.push_back(encoder.tokenize(text));
    tokens += ids.back().size();
  }
  const std::vector<float> rows = encoder.embed_tokens(ids);
  const auto t2 = std::chrono::steady_clock::now();

  write_json(std::cout, args.model, device.id(), encoder.hidden_size(), rows);
  std::cout.flush();
  const double load_s = std::chrono::duration<double>(t1 - t0).count();
  const double embed_s = std::chrono::duration<double>(t2 - t1).count();
  std::fprintf(
      stderr,
      "plinth embed: %zu text%s, %zu tokens on %s (%s weights): %.1f ms (%.1f sentences/s, %.2f GFLOP/s); "
      "load %.1f ms\n",
      texts.size(), texts.size() == 1 ? "" : "s", tokens, device.id().c_str(),
      std::string(dtype_name(encoder.weight_dtype())).c_str(), embed_s * 1e3,
      static_cast<double>(texts.size()) / embed_s, encoder.flops(ids) / embed_s * 1e-9, load_s * 1e3);
  return 0;
}

}  // namespace

void add_embed_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<EmbedArgs>();
  auto* cmd = app.add_subcommand(
      "embed",
      "Sentence embeddings from a BERT-style encoder: `plinth embed [OPTIONS] TEXT...` prints JSON\n"
      "{\"model\", \"device\", \"dim\", \"embeddings\"} with one L2-normalized, mean-pooled row per text\n"
      "(those of --file first, then the TEXT arguments, each taken verbatim); timing goes to stderr");
  // TEXT... arguments (after those of --file) reach the model byte for byte.
  allow_verbatim_positionals(cmd);
  cmd->add_option(
         "--model", args->model,
         "Model directory (config.json, model.safetensors, tokenizer.json or vocab.txt), a .safetensors\n"
         "file with those beside it, or the name of a default model in the models cache")
      ->capture_default_str();
  cmd->add_option("--device", args->device, "Device id to run on")->capture_default_str();
  add_plugin_option(cmd, args->plugins);
  cmd->add_option("--file", args->file,
                  "Read texts from this file, one per line (blank lines skipped); - reads stdin");
  cmd->add_option("--batch-size", args->batch_size, "Sequences per launch")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--max-tokens", args->max_tokens, "Longer texts are truncated to this many tokens")
      ->check(CLI::Range(2, 1 << 20))
      ->capture_default_str();
  cmd->add_option(
         "--weights", args->weights,
         "Device dtype of the weight matrices (f16/bf16 fall back to f32 where the device lacks them)")
      ->check(CLI::IsMember({"f32", "f16", "bf16"}))
      ->capture_default_str();
  cmd->callback([cmd, args, &exit_code] {
    args->texts = verbatim_positionals(*cmd);
    exit_code = run_embed(*args);
  });
}

}  // namespace plinth::cli
