// plinth ingest / search / ask: the RAG pipeline from the command line, on collections kept under a
// data root (one SQLite file per collection, root/<tenant>/<name>.sqlite, listed in root/catalog.sqlite).
//
//   plinth ingest --root data --collection pydocs /usr/share/doc/python3.11/html
//   plinth search --root data --collection pydocs "how do I cache a function's results"
//   plinth ask --root data --collection pydocs "how do I cache a function's results?"
//
// All run the encoder behind the engine's embedding path (the same path `plinth serve` uses), and ask
// runs the decoder behind the serving engine, as the tenant given by --tenant.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

#include "cli_support.hpp"
#include "commands.hpp"
#include "plinth/models/bert_batch_encoder.hpp"
#include "plinth/models/bert_encoder.hpp"
#include "plinth/models/chat_template.hpp"
#include "plinth/models/generate.hpp"
#include "plinth/models/llama_model.hpp"
#include "plinth/models/model_store.hpp"
#include "plinth/models/paged_llama.hpp"
#include "plinth/models/tokenizer.hpp"
#include "plinth/rag/answer.hpp"
#include "plinth/rag/catalog.hpp"
#include "plinth/rag/extract.hpp"
#include "plinth/rag/ingest.hpp"
#include "plinth/rag/retriever.hpp"
#include "plinth/runtime.hpp"
#include "plinth/scheduler/embedding_engine.hpp"
#include "plinth/scheduler/engine.hpp"

namespace plinth::cli {
namespace {

// What both commands share: where the data lives, who asks, and the encoder.
struct RagArgs {
  std::string root = "plinth-data";
  std::string tenant = "default";
  std::string model = "all-MiniLM-L6-v2";
  std::string device = "cpu:0";
  std::vector<std::string> plugins;
};

struct IngestArgs {
  RagArgs rag;
  std::string collection;
  std::vector<std::string> paths;
  std::size_t max_tokens = 200;
  std::size_t overlap = 32;
  bool force = false;
  std::vector<std::string> metadata;  // key=value
};

struct SearchArgs {
  RagArgs rag;
  std::vector<std::string> collections;
  std::string mode = "hybrid";
  std::size_t k = 5;
  std::size_t depth = 50;
  bool json = false;
  std::string queries_file;
  std::vector<std::string> filters;  // key=value
  std::vector<std::string> query;
};

struct AskArgs {
  RagArgs rag;
  std::vector<std::string> collections;
  std::string mode = "hybrid";
  std::size_t k = 5;
  std::size_t depth = 50;
  float min_score = rag::GroundingOptions{}.min_dense_score;
  std::string decoder = "SmolLM2-135M-Instruct";
  std::string decoder_device;  // default: --device
  std::size_t max_tokens = 256;
  bool json = false;
  std::vector<std::string> filters;  // key=value
  std::vector<std::string> question;
};

void add_rag_options(CLI::App* cmd, RagArgs& args) {
  cmd->add_option("--root", args.root, "Data root: the catalog and one directory of collections per tenant")
      ->capture_default_str();
  cmd->add_option("--tenant", args.tenant, "Tenant whose collections are used")->capture_default_str();
  cmd->add_option("--model", args.model, "Embedding model (directory, or a default model's name)")
      ->capture_default_str();
  cmd->add_option("--device", args.device, "Device the encoder runs on")->capture_default_str();
  add_plugin_option(cmd, args.plugins);
}

std::pair<std::string, std::string> key_value(const std::string& kv, const char* option) {
  const auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw std::runtime_error(std::string(option) + " takes KEY=VALUE, got '" + kv + "'");
  }
  return {kv.substr(0, eq), kv.substr(eq + 1)};
}

// The encoder behind an embedding engine, for as long as the command runs.
class EncoderService {
 public:
  explicit EncoderService(const RagArgs& args)
      : device_(args.device, args.plugins),
        model_dir_(models::resolve_model(args.model)),
        encoder_(models::BertEncoder::load(device_.device(), model_dir_)),
        batch_(encoder_),
        engine_(std::vector<std::reference_wrapper<models::BatchEncoder>>{batch_}),
        embedder_(engine_,
                  std::shared_ptr<const models::Tokenizer>(models::load_wordpiece(
                      std::filesystem::is_directory(model_dir_) ? model_dir_ : model_dir_.parent_path())),
                  args.tenant),
        model_name_(args.model) {}
  ~EncoderService() { engine_.stop(); }
  EncoderService(const EncoderService&) = delete;
  EncoderService& operator=(const EncoderService&) = delete;

  Device& device() { return device_.device(); }
  rag::EngineEmbedder& embedder() { return embedder_; }
  const std::string& model_name() const { return model_name_; }
  std::vector<float> embed_one(const std::string& text) { return embedder_.embed({text}).get(); }

 private:
  OpenedDevice device_;
  std::filesystem::path model_dir_;
  models::BertEncoder encoder_;
  models::BertBatchEncoder batch_;
  scheduler::EmbeddingEngine engine_;
  rag::EngineEmbedder embedder_;
  std::string model_name_;
};

// Files under each path (directories recursively, in name order), with their sources: relative to the
// directory given, or the file's name when a file is given.
std::vector<rag::SourceFile> collect_files(const std::vector<std::string>& paths, std::size_t& skipped) {
  std::vector<rag::SourceFile> files;
  for (const auto& p : paths) {
    const std::filesystem::path path(p);
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      std::vector<std::filesystem::path> found;
      for (auto it = std::filesystem::recursive_directory_iterator(
               path, std::filesystem::directory_options::skip_permission_denied, ec);
           !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        if (rag::format_from_path(it->path().string())) {
          found.push_back(it->path());
        } else {
          ++skipped;
        }
      }
      if (ec) throw std::runtime_error("cannot walk " + p + ": " + ec.message());
      std::sort(found.begin(), found.end());
      // Lexically: a tree of links keeps its own names (relative() would resolve them).
      for (auto& f : found) files.push_back({f.lexically_relative(path).generic_string(), f});
    } else if (std::filesystem::exists(path, ec)) {
      files.push_back({path.filename().generic_string(), path});
    } else {
      throw std::runtime_error("no such file or directory: " + p);
    }
  }
  return files;
}

std::string duration_text(double seconds) {
  const auto s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, s / 60 % 60);
  } else if (s >= 60) {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lds", s);
  }
  return buf;
}

int run_ingest(const IngestArgs& args) {
  std::size_t skipped = 0;
  const std::vector<rag::SourceFile> files = collect_files(args.paths, skipped);
  if (files.empty()) throw std::runtime_error("no files to ingest (plain text, Markdown, HTML and PDF are read)");
  rag::IngestOptions options;
  options.chunking = {.max_tokens = args.max_tokens, .overlap_tokens = args.overlap};
  options.force = args.force;
  for (const auto& kv : args.metadata) options.metadata.push_back(key_value(kv, "--meta"));

  EncoderService encoder(args.rag);
  rag::Catalog catalog = rag::Catalog::open(args.rag.root);
  rag::CollectionInfo info;
  try {
    info = catalog.resolve(args.rag.tenant, args.collection);
  } catch (const rag::CatalogError& e) {
    if (e.kind() != rag::CatalogError::Kind::not_found || args.collection.find('/') != std::string::npos) throw;
    info = catalog.create(args.rag.tenant, args.collection, encoder.embedder().dim(), encoder.model_name());
    std::fprintf(stderr, "plinth ingest: created collection %s (%zu dimensions, %s)\n", info.ref().c_str(), info.dim,
                 info.embedding_model.c_str());
  }
  rag::CollectionStore store = catalog.open_store(info);
  std::fprintf(stderr, "plinth ingest: %zu file(s) into %s%s\n", files.size(), info.ref().c_str(),
               skipped ? (" (" + std::to_string(skipped) + " of other types skipped)").c_str() : "");

  const bool tty = isatty(STDERR_FILENO) != 0;
  double last_print = -1.0;
  std::vector<rag::FileReport> failures;
  auto progress = [&](const rag::IngestProgress& p, const rag::FileReport& r) {
    if (r.outcome == rag::FileOutcome::failed) {
      failures.push_back(r);
      std::fprintf(stderr, "%splinth ingest: %s: %s\n", tty ? "\r\033[K" : "", r.source.c_str(), r.error.c_str());
    }
    const bool last = p.files_done == p.files_total;
    if (!last && p.elapsed_seconds - last_print < (tty ? 0.2 : 5.0)) return;
    last_print = p.elapsed_seconds;
    const double rate = p.elapsed_seconds > 0 ? static_cast<double>(p.chunks) / p.elapsed_seconds : 0.0;
    const double frac = p.bytes_total ? static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total)
                                      : static_cast<double>(p.files_done) / static_cast<double>(p.files_total);
    const double eta = frac > 0 ? p.elapsed_seconds * (1.0 - frac) / frac : 0.0;
    std::fprintf(stderr, "%sfiles %zu/%zu  chunks %zu  %.1f chunks/s  elapsed %s  left ~%s%s",
                 tty ? "\r\033[K" : "", p.files_done, p.files_total, p.chunks, rate,
                 duration_text(p.elapsed_seconds).c_str(), duration_text(eta).c_str(), tty && !last ? "" : "\n");
  };
  const rag::IngestSummary s = rag::ingest_files(store, encoder.embedder(), files, options, progress);
  std::fprintf(stderr,
               "plinth ingest: %zu inserted, %zu replaced, %zu unchanged, %zu failed; %zu chunks (%zu tokens) in "
               "%.1f s (%.1f chunks/s); the collection holds %lld documents, %lld chunks\n",
               s.inserted, s.replaced, s.unchanged, s.failed, s.chunks, s.tokens, s.seconds,
               s.seconds > 0 ? static_cast<double>(s.chunks) / s.seconds : 0.0,
               static_cast<long long>(store.document_count()), static_cast<long long>(store.chunk_count()));
  return s.failed == 0 ? 0 : 2;  // 2: done, but some files were skipped
}

std::optional<rag::RetrievalMode> mode_of(const std::string& name) {
  if (name == "hybrid") return rag::RetrievalMode::hybrid;
  if (name == "bm25") return rag::RetrievalMode::bm25;
  if (name == "dense") return rag::RetrievalMode::dense;
  return std::nullopt;
}

nlohmann::json hits_json(const std::vector<rag::RetrievedChunk>& hits) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& h : hits) {
    out.push_back({{"collection", h.collection},
                   {"source", h.chunk.source},
                   {"title", h.chunk.title},
                   {"heading_path", h.chunk.heading_path},
                   {"span", {h.chunk.begin, h.chunk.end}},
                   {"chunk_id", h.chunk.id},
                   {"score", h.rank.score},
                   {"bm25_rank", h.rank.bm25_rank},
                   {"dense_rank", h.rank.dense_rank},
                   {"bm25_score", h.rank.bm25_score},
                   {"dense_score", h.rank.dense_score},
                   {"text", h.chunk.text}});
  }
  return out;
}

void print_hits(const std::string& query, const std::vector<rag::RetrievedChunk>& hits, double ms) {
  std::printf("query: %s  (%zu hits, %.1f ms)\n", query.c_str(), hits.size(), ms);
  std::size_t i = 0;
  for (const auto& h : hits) {
    auto rank = [](int r) { return r ? std::to_string(r) : std::string("-"); };
    std::printf("%2zu. %.4f  bm25 %-3s dense %-3s %s/%s  [%lld, %lld)\n    %s\n", ++i, h.rank.score,
                rank(h.rank.bm25_rank).c_str(), rank(h.rank.dense_rank).c_str(), h.collection.c_str(),
                h.chunk.source.c_str(), static_cast<long long>(h.chunk.begin), static_cast<long long>(h.chunk.end),
                h.chunk.heading_path.c_str());
    std::string snippet = h.chunk.text.substr(0, 160);
    std::replace(snippet.begin(), snippet.end(), '\n', ' ');
    std::printf("    %s%s\n", snippet.c_str(), h.chunk.text.size() > 160 ? "..." : "");
  }
}

// The collections a tenant asked for, resolved through the catalog (a foreign or missing one is "not
// found"), each with its dense index on the encoder's device.
class Collections {
 public:
  Collections(const RagArgs& args, const std::vector<std::string>& refs, Device& device) {
    rag::Catalog catalog = rag::Catalog::open(args.root);
    for (const auto& ref : refs) {
      const rag::CollectionInfo info = catalog.resolve(args.tenant, ref);
      indexes_.push_back(std::make_unique<rag::CollectionIndex>(info.ref(), catalog.open_store(info), device));
    }
  }

  std::vector<rag::RetrievedChunk> retrieve(const std::string& query, EncoderService& encoder,
                                            const rag::RetrievalOptions& options) {
    std::vector<rag::CollectionIndex*> cols;
    for (auto& i : indexes_) cols.push_back(i.get());
    const std::vector<float> vec =
        options.mode == rag::RetrievalMode::bm25 ? std::vector<float>{} : encoder.embed_one(query);
    return rag::retrieve(cols, query, vec, options);
  }

 private:
  std::vector<std::unique_ptr<rag::CollectionIndex>> indexes_;
};

rag::RetrievalOptions retrieval_options(rag::RetrievalMode mode, std::size_t k, std::size_t depth,
                                        const std::vector<std::string>& filters) {
  rag::RetrievalOptions options;
  options.mode = mode;
  options.limit = k;
  options.depth = std::max(depth, k);
  for (const auto& kv : filters) options.filter.must_have.push_back(key_value(kv, "--filter"));
  return options;
}

int run_search(const SearchArgs& args) {
  const auto mode = mode_of(args.mode);
  if (!mode) throw std::runtime_error("--mode must be hybrid, bm25 or dense, not '" + args.mode + "'");
  std::vector<std::string> queries;
  if (!args.queries_file.empty()) {
    std::ifstream in(args.queries_file);
    if (!in) throw std::runtime_error("cannot open --queries " + args.queries_file);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) queries.push_back(line);
    }
  }
  if (!args.query.empty()) {
    std::string q;
    for (const auto& w : args.query) q += (q.empty() ? "" : " ") + w;
    queries.push_back(q);
  }
  if (queries.empty()) throw std::runtime_error("no query: give QUERY words or --queries FILE (one per line)");

  EncoderService encoder(args.rag);
  Collections cols(args.rag, args.collections, encoder.device());
  const rag::RetrievalOptions options = retrieval_options(*mode, args.k, args.depth, args.filters);

  for (const auto& q : queries) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto hits = cols.retrieve(q, encoder, options);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (args.json) {
      std::cout << nlohmann::json{{"query", q}, {"mode", args.mode}, {"ms", ms}, {"hits", hits_json(hits)}}.dump()
                << "\n";
    } else {
      print_hits(q, hits, ms);
    }
  }
  return 0;
}

// Streams a request's text to stdout (unless quiet) as the engine thread produces it, keeps the whole
// answer, and hands over the finish.
class AnswerSink final : public scheduler::StreamSink {
 public:
  explicit AnswerSink(bool quiet) : quiet_(quiet) {}
  void on_delta(const scheduler::TokenDelta& delta) override {
    text_ += delta.text;
    if (!quiet_ && !delta.text.empty()) {
      std::fwrite(delta.text.data(), 1, delta.text.size(), stdout);
      std::fflush(stdout);
    }
  }
  void on_finish(const scheduler::FinishInfo& finish) override { done_.set_value(finish); }
  scheduler::FinishInfo wait() { return done_.get_future().get(); }
  const std::string& text() const { return text_; }  // after wait()

 private:
  bool quiet_;
  std::string text_;
  std::promise<scheduler::FinishInfo> done_;
};

nlohmann::json sources_json(const std::vector<rag::AnswerSource>& sources, const std::vector<int>& cited) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : sources) {
    out.push_back({{"number", s.number},
                   {"collection", s.collection},
                   {"source", s.source},
                   {"title", s.title},
                   {"heading_path", s.heading_path},
                   {"span", {s.begin, s.end}},
                   {"chunk_id", s.chunk_id},
                   {"cited", std::find(cited.begin(), cited.end(), s.number) != cited.end()}});
  }
  return out;
}

int run_ask(const AskArgs& args) {
  std::string question;
  for (const auto& w : args.question) question += (question.empty() ? "" : " ") + w;
  if (question.find_first_not_of(" \t\r\n") == std::string::npos) throw std::runtime_error("no question given");
  const auto mode = mode_of(args.mode);
  if (!mode) throw std::runtime_error("--mode must be hybrid, bm25 or dense, not '" + args.mode + "'");
  const auto decoder_path = models::resolve_model(args.decoder);  // before anything loads: a typo is cheap

  EncoderService encoder(args.rag);
  Collections cols(args.rag, args.collections, encoder.device());
  const auto t0 = std::chrono::steady_clock::now();
  const auto hits = cols.retrieve(question, encoder, retrieval_options(*mode, args.k, args.depth, args.filters));
  const double retrieval_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const rag::GroundingOptions grounding{.max_sources = args.k, .min_dense_score = args.min_score};

  float best_dense = 0.0f;
  for (const auto& h : hits) best_dense = std::max(best_dense, h.rank.dense_rank > 0 ? h.rank.dense_score : 0.0f);
  if (!rag::grounded_enough(hits, *mode, grounding)) {
    if (args.json) {
      std::cout << nlohmann::json{{"question", question}, {"answer", rag::kNotFoundAnswer}, {"found", false},
                                  {"best_dense_score", best_dense}, {"retrieval_ms", retrieval_ms},
                                  {"cited", nlohmann::json::array()}, {"sources", nlohmann::json::array()}}
                       .dump()
                << "\n";
    } else {
      std::printf("%s\n", std::string(rag::kNotFoundAnswer).c_str());
      std::fprintf(stderr, "plinth ask: %zu hit(s), best dense similarity %.3f below --min-score %.3f\n", hits.size(),
                   best_dense, args.min_score);
    }
    return 0;
  }
  const rag::GroundedPrompt grounded = rag::build_grounded_prompt(question, hits, grounding);

  // The decoder behind the serving engine, on the encoder's device unless told otherwise.
  const std::string& decoder_device = args.decoder_device.empty() ? args.rag.device : args.decoder_device;
  std::optional<OpenedDevice> other_device;
  if (decoder_device != args.rag.device) other_device.emplace(decoder_device, args.rag.plugins);
  Device& device = other_device ? other_device->device() : encoder.device();
  const auto model = models::LlamaModel::load(device, decoder_path);
  const std::shared_ptr<const models::Tokenizer> tokenizer = models::load_gguf_tokenizer(model.file());
  const auto chat_template = models::ChatTemplate::from_gguf(model.file());
  const auto prompt = tokenizer->encode(chat_template.apply(grounded.messages, /*add_generation_prompt=*/true),
                                        /*add_special=*/true);
  const int context = model.config().context_length;
  if (static_cast<int>(prompt.size() + args.max_tokens) > context) {
    throw std::runtime_error("the question and its " + std::to_string(grounded.sources.size()) + " sources take " +
                             std::to_string(prompt.size()) + " tokens; with --max-tokens " +
                             std::to_string(args.max_tokens) + " that exceeds the decoder's context of " +
                             std::to_string(context) + " (use a smaller -k)");
  }
  // One request: a KV cache of its own size, not the serving default (a share of the device's memory).
  models::PagedLlamaOptions paged;
  paged.num_blocks = static_cast<int>((prompt.size() + args.max_tokens) / paged.block_size) + 2;
  models::PagedLlama batch(model, paged);
  scheduler::EngineOptions engine_options;
  engine_options.scheduler.detokenizer = std::make_shared<const scheduler::Detokenizer>(
      [tokenizer](scheduler::Token t) { return tokenizer->is_special(t) ? std::string() : tokenizer->token_to_piece(t); });
  scheduler::Engine engine({batch}, engine_options);

  const auto end = models::end_conditions(*tokenizer, chat_template.stop_strings());
  auto sink = std::make_shared<AnswerSink>(args.json);
  scheduler::Request request;
  request.prompt.assign(prompt.begin(), prompt.end());
  request.sampling.temperature = 0.0f;  // the most likely answer: reproducible, and no invented variety
  request.max_tokens = args.max_tokens;
  request.stop.end_tokens = end.end_tokens;
  request.stop.stop_strings = end.stop;
  request.tenant = args.rag.tenant;
  request.sink = sink;
  const scheduler::SubmitResult submitted = engine.submit(std::move(request));
  if (!submitted) throw std::runtime_error("the engine refused the question: " + submitted.message);
  const scheduler::FinishInfo finish = sink->wait();
  engine.stop();
  if (finish.reason == scheduler::FinishReason::error) throw std::runtime_error("generation failed: " + finish.message);

  const std::vector<int> cited = rag::cited_sources(sink->text(), grounded.sources.size());
  if (args.json) {
    std::cout << nlohmann::json{{"question", question}, {"answer", sink->text()}, {"found", true},
                                {"best_dense_score", best_dense}, {"retrieval_ms", retrieval_ms},
                                {"finish", std::string(scheduler::to_string(finish.reason))},
                                {"cited", cited}, {"sources", sources_json(grounded.sources, cited)}}
                     .dump()
              << "\n";
    return 0;
  }
  if (sink->text().empty() || sink->text().back() != '\n') std::fputs("\n", stdout);
  std::printf("\nSources:\n");
  for (const auto& s : grounded.sources) {
    const bool was_cited = std::find(cited.begin(), cited.end(), s.number) != cited.end();
    std::printf("[%d]%s %s/%s  %s  [%lld, %lld)\n", s.number, was_cited ? "*" : " ", s.collection.c_str(),
                s.source.c_str(), s.heading_path.c_str(), static_cast<long long>(s.begin),
                static_cast<long long>(s.end));
  }
  std::fflush(stdout);  // the answer and its sources before the summary, also when both go to one file
  std::fprintf(stderr, "plinth ask: retrieval %.1f ms; prompt %zu tokens, %zu generated (%s); * marks cited sources\n",
               retrieval_ms, finish.usage.prompt_tokens, finish.usage.generated_tokens,
               std::string(scheduler::to_string(finish.reason)).c_str());
  return 0;
}

// The options search and ask share: which collections, how to retrieve, what to filter.
void add_retrieval_options(CLI::App* cmd, std::vector<std::string>& collections, std::string& mode, std::size_t& depth,
                           std::vector<std::string>& filters) {
  add_verbatim_list_option(cmd, "--collection", collections,
                           "Collection to search: NAME, or OWNER/NAME of one shared with you (repeatable)")
      ->required();
  cmd->add_option("--mode", mode, "Retrieval: hybrid, bm25 or dense")->capture_default_str();
  cmd->add_option("--depth", depth, "Candidates each retrieval method contributes to the fusion")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  add_verbatim_list_option(cmd, "--filter", filters, "KEY=VALUE the documents' metadata must have (repeatable)");
}

}  // namespace

void add_ask_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<AskArgs>();
  auto* cmd = app.add_subcommand(
      "ask",
      "Answer a question from RAG collections: `plinth ask --collection NAME QUESTION...` retrieves the\n"
      "best chunks (hybrid search), streams the decoder's answer written from them with [n] citations,\n"
      "then lists the sources (document, heading path, character span; * = cited). When no chunk is\n"
      "similar enough to the question (--min-score), it answers \"Not found in the documents.\"");
  add_rag_options(cmd, args->rag);
  add_retrieval_options(cmd, args->collections, args->mode, args->depth, args->filters);
  cmd->add_option("-k", args->k, "Chunks the decoder answers from")->check(CLI::Range(1, 20))->capture_default_str();
  cmd->add_option("--min-score", args->min_score,
                  "Best dense (cosine) similarity a chunk needs for an answer; below it: not found")
      ->check(CLI::Range(-1.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--decoder", args->decoder, "Decoder model (GGUF path, or a default model's name)")
      ->capture_default_str();
  cmd->add_option("--decoder-device", args->decoder_device, "Device the decoder runs on (default: --device)");
  cmd->add_option("--max-tokens", args->max_tokens, "Answer length limit in tokens")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_flag("--json", args->json, "One JSON object (answer, cited numbers, sources) instead of the stream");
  cmd->add_option("question", args->question, "The question")->required();
  cmd->callback([args, &exit_code] { exit_code = run_ask(*args); });
}

void add_ingest_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<IngestArgs>();
  auto* cmd = app.add_subcommand(
      "ingest",
      "Add files to a RAG collection: `plinth ingest --collection NAME PATH...` reads plain text, Markdown,\n"
      "HTML and PDF files (directories recursively), chunks them by structure, embeds the chunks and\n"
      "stores them (one transaction per document). Unchanged documents are skipped, changed ones\n"
      "replaced; unreadable files are reported and skipped (exit 2). The collection is created on\n"
      "first use, owned by --tenant");
  add_rag_options(cmd, args->rag);
  cmd->add_option("--collection", args->collection, "Collection name (or OWNER/NAME of one shared with you)")
      ->required();
  cmd->add_option("paths", args->paths, "Files or directories")->required();
  cmd->add_option("--max-tokens", args->max_tokens, "Chunk budget in encoder tokens")
      ->check(CLI::Range(8, 100000))
      ->capture_default_str();
  cmd->add_option("--overlap", args->overlap, "Tokens a chunk repeats from the previous one of its section")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  cmd->add_flag("--force", args->force, "Re-embed documents even when unchanged");
  add_verbatim_list_option(cmd, "--meta", args->metadata, "KEY=VALUE added to every document's metadata (repeatable)");
  cmd->callback([args, &exit_code] {
    if (args->overlap >= args->max_tokens) throw std::runtime_error("--overlap must be less than --max-tokens");
    exit_code = run_ingest(*args);
  });
}

void add_search_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<SearchArgs>();
  auto* cmd = app.add_subcommand(
      "search",
      "Search RAG collections: `plinth search --collection NAME QUERY...` prints the fused ranking\n"
      "(reciprocal rank fusion of BM25 and dense search) with each method's rank");
  add_rag_options(cmd, args->rag);
  add_retrieval_options(cmd, args->collections, args->mode, args->depth, args->filters);
  cmd->add_option("-k", args->k, "Hits to show")->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("--queries", args->queries_file, "Run each line of this file as a query");
  cmd->add_flag("--json", args->json, "One JSON object per query on stdout");
  cmd->add_option("query", args->query, "Query words");
  cmd->callback([args, &exit_code] { exit_code = run_search(*args); });
}

}  // namespace plinth::cli
