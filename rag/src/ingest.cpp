#include "plinth/rag/ingest.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

#include "plinth/models/tokenizer.hpp"
#include "plinth/rag/extract.hpp"
#include "plinth/scheduler/embedding_engine.hpp"

namespace plinth::rag {
namespace {

namespace sch = scheduler;

// Hands the engine's one result to the future.
class PromiseSink final : public sch::EmbeddingSink {
 public:
  std::future<std::vector<float>> future() { return promise_.get_future(); }
  void on_finish(const sch::EmbeddingResult& result) override {
    if (result.reason == sch::FinishReason::stop) {
      promise_.set_value(result.embeddings);
    } else {
      promise_.set_exception(std::make_exception_ptr(std::runtime_error(
          "embedding " + std::string(sch::to_string(result.reason)) +
          (result.message.empty() ? std::string() : ": " + result.message))));
    }
  }

 private:
  std::promise<std::vector<float>> promise_;
};

// A document between reading and writing: chunked and waiting for its embeddings.
struct Pending {
  std::size_t index = 0;  // in the input
  DocumentInput doc;
  std::vector<Chunk> chunks;
  std::future<std::vector<float>> vectors;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The file's bytes, or why not (a file over the extraction limit is refused before it is read).
std::string read_file(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw std::runtime_error("cannot read: " + ec.message());
  if (size > kMaxDocumentBytes) {
    throw std::runtime_error("too large: " + std::to_string(size) + " bytes (the limit is " +
                             std::to_string(kMaxDocumentBytes) + ")");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open for reading");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error("read error");
  return bytes;
}

}  // namespace

EngineEmbedder::EngineEmbedder(sch::EmbeddingEngine& engine, std::shared_ptr<const models::Tokenizer> tokenizer,
                               std::string tenant)
    : engine_(engine), tokenizer_(std::move(tokenizer)), tenant_(std::move(tenant)) {
  if (!tokenizer_) throw std::invalid_argument("EngineEmbedder: a tokenizer is required");
}

std::size_t EngineEmbedder::dim() const { return static_cast<std::size_t>(engine_.dim()); }

std::size_t EngineEmbedder::count_tokens(std::string_view text) const {
  return tokenizer_->encode(text, /*add_special=*/false).size();
}

std::future<std::vector<float>> EngineEmbedder::embed(std::vector<std::string> texts) {
  sch::EmbeddingRequest request;
  request.tenant = tenant_;
  request.inputs.reserve(texts.size());
  for (const auto& t : texts) {
    std::vector<sch::Token> ids = tokenizer_->encode(t, /*add_special=*/true);
    if (ids.empty()) ids.push_back(0);  // the engine wants >= 1 token; an empty text embeds as padding
    request.inputs.push_back(std::move(ids));
  }
  auto sink = std::make_shared<PromiseSink>();
  auto future = sink->future();
  request.sink = sink;
  for (;;) {
    const sch::SubmitResult r = engine_.submit(request);
    if (r) return future;
    if (r.reason != sch::RejectReason::queue_full && r.reason != sch::RejectReason::tenant_queue_full) {
      throw std::runtime_error("embedding refused (" + std::string(sch::to_string(r.reason)) + "): " + r.message);
    }
    // The queue is full of other work: come back when the engine expects room.
    std::this_thread::sleep_for(std::clamp<sch::Duration>(r.retry_after, std::chrono::milliseconds(5),
                                                          std::chrono::seconds(2)));
  }
}

std::string embedding_text(std::string_view heading_path, std::string_view text) {
  if (heading_path.empty()) return std::string(text);
  std::string out;
  out.reserve(heading_path.size() + 2 + text.size());
  out.append(heading_path).append("\n\n").append(text);
  return out;
}

std::string_view outcome_name(FileOutcome outcome) noexcept {
  switch (outcome) {
    case FileOutcome::inserted: return "inserted";
    case FileOutcome::replaced: return "replaced";
    case FileOutcome::unchanged: return "unchanged";
    case FileOutcome::failed: return "failed";
  }
  return "?";
}

std::string content_hash(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 15]);
  }
  return hex;
}

IngestSummary ingest_files(CollectionStore& store, Embedder& embedder, std::span<const SourceFile> files,
                           const IngestOptions& options, const IngestProgressFn& progress) {
  if (embedder.dim() != store.dim()) {
    throw std::invalid_argument("ingest: the embedder gives vectors of " + std::to_string(embedder.dim()) +
                                " values but the collection holds " + std::to_string(store.dim()));
  }
  const auto t0 = std::chrono::steady_clock::now();
  IngestSummary summary;
  summary.files.resize(files.size());
  IngestProgress state;
  state.files_total = files.size();
  std::vector<std::uint64_t> sizes(files.size(), 0);
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(files[i].path, ec);
    sizes[i] = ec ? 0 : size;
    state.bytes_total += sizes[i];
  }
  // Reports settle in input order: a file that finished early waits for those before it.
  std::size_t next_report = 0;
  std::vector<bool> settled(files.size(), false);
  auto settle = [&](std::size_t i, FileReport report) {
    summary.files[i] = std::move(report);
    settled[i] = true;
    while (next_report < files.size() && settled[next_report]) {
      const FileReport& r = summary.files[next_report];
      switch (r.outcome) {
        case FileOutcome::inserted: ++summary.inserted; break;
        case FileOutcome::replaced: ++summary.replaced; break;
        case FileOutcome::unchanged: ++summary.unchanged; break;
        case FileOutcome::failed: ++summary.failed; break;
      }
      ++state.files_done;
      state.bytes_done += sizes[next_report];
      state.elapsed_seconds = seconds_since(t0);
      if (progress) progress(state, r);
      ++next_report;
    }
  };
  auto fail = [&](std::size_t i, std::string why) {
    settle(i, {.source = files[i].source, .outcome = FileOutcome::failed, .chunks = 0, .error = std::move(why)});
  };

  // Waits for the oldest pending document's vectors and writes it in one transaction.
  std::deque<Pending> pending;
  auto finish_oldest = [&] {
    Pending p = std::move(pending.front());
    pending.pop_front();
    std::vector<float> vectors;
    try {
      vectors = p.vectors.get();
    } catch (const std::exception& e) {
      fail(p.index, e.what());
      return;
    }
    if (vectors.size() != p.chunks.size() * store.dim()) {
      fail(p.index, "the embedder returned " + std::to_string(vectors.size()) + " values for " +
                        std::to_string(p.chunks.size()) + " chunks");
      return;
    }
    p.doc.chunks.reserve(p.chunks.size());
    for (std::size_t c = 0; c < p.chunks.size(); ++c) {
      Chunk& ch = p.chunks[c];
      ChunkInput in;
      in.text = std::move(ch.text);
      in.heading_path = std::move(ch.heading_path);
      in.begin = static_cast<std::int64_t>(ch.begin);
      in.end = static_cast<std::int64_t>(ch.end);
      in.tokens = static_cast<std::int64_t>(ch.tokens);
      summary.tokens += ch.tokens;
      const auto row = vectors.begin() + static_cast<std::ptrdiff_t>(c * store.dim());
      in.embedding.assign(row, row + static_cast<std::ptrdiff_t>(store.dim()));
      p.doc.chunks.push_back(std::move(in));
    }
    const PutResult put = store.put_document(p.doc);  // a StoreError ends the ingest: the disk is the problem
    summary.chunks += p.doc.chunks.size();
    state.chunks = summary.chunks;
    settle(p.index, {.source = p.doc.source,
                     .outcome = put.outcome == PutOutcome::inserted ? FileOutcome::inserted : FileOutcome::replaced,
                     .chunks = p.doc.chunks.size(),
                     .error = {}});
  };

  const std::size_t max_pending = std::max<std::size_t>(options.max_pending, 1);
  const TokenCounter count = [&](std::string_view text) { return embedder.count_tokens(text); };
  for (std::size_t i = 0; i < files.size(); ++i) {
    const SourceFile& f = files[i];
    const std::optional<DocumentFormat> format = format_from_path(f.path.string());
    if (!format) {
      fail(i, "unsupported format (" + f.path.extension().string() + "): plain text, Markdown, HTML and PDF are read");
      continue;
    }
    std::string bytes;
    try {
      bytes = read_file(f.path);
    } catch (const std::exception& e) {
      fail(i, e.what());
      continue;
    }
    Pending p;
    p.index = i;
    p.doc.source = f.source;
    p.doc.content_hash = content_hash(bytes);
    if (!options.force && store.unchanged(f.source, p.doc.content_hash)) {
      const auto existing = store.document(f.source);
      settle(i, {.source = f.source,
                 .outcome = FileOutcome::unchanged,
                 .chunks = existing ? static_cast<std::size_t>(existing->chunk_count) : 0,
                 .error = {}});
      continue;
    }
    try {
      const ExtractedDocument extracted = extract_document(*format, bytes);
      p.chunks = chunk_document(extracted, options.chunking, count);
      p.doc.title = extracted.title;
    } catch (const std::exception& e) {
      fail(i, e.what());
      continue;
    }
    if (p.chunks.empty()) {
      fail(i, "no text to index");
      continue;
    }
    p.doc.format = std::string(format_name(*format));
    p.doc.bytes = static_cast<std::int64_t>(bytes.size());
    p.doc.metadata = options.metadata;
    p.doc.metadata.emplace_back("format", p.doc.format);
    std::vector<std::string> texts;
    texts.reserve(p.chunks.size());
    for (const Chunk& c : p.chunks) texts.push_back(embedding_text(c.heading_path, c.text));
    try {
      p.vectors = embedder.embed(std::move(texts));
    } catch (const std::exception& e) {
      fail(i, e.what());
      continue;
    }
    pending.push_back(std::move(p));
    while (pending.size() >= max_pending) finish_oldest();
  }
  while (!pending.empty()) finish_oldest();
  summary.seconds = seconds_since(t0);
  return summary;
}

}  // namespace plinth::rag
