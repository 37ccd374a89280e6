// Ingest: files -> text (extract) -> chunks (chunker) -> embeddings (through the engine) -> the
// collection's store, one transaction per document. A document is identified by its source and the
// SHA-256 of its bytes: an unchanged one costs no extraction and no embedding, a changed one replaces
// its chunks atomically. Bad or unreadable files are reported one by one and the ingest goes on.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "plinth/rag/chunker.hpp"
#include "plinth/rag/store.hpp"

namespace plinth::models {
class Tokenizer;
}
namespace plinth::scheduler {
class EmbeddingEngine;
}

namespace plinth::rag {

// Texts to embeddings. The pipeline needs the encoder's token counts (for the chunk budget) and its
// vectors; EngineEmbedder supplies them through the engine, tests may supply their own.
class Embedder {
 public:
  virtual ~Embedder() = default;
  virtual std::size_t dim() const = 0;
  // The encoder's tokens in `text` without special tokens.
  virtual std::size_t count_tokens(std::string_view text) const = 0;
  // Starts embedding `texts`; the future yields [texts, dim] row-major L2-normalized values, or throws
  // with the reason. May block while the engine refuses work (it then waits the retry-after).
  virtual std::future<std::vector<float>> embed(std::vector<std::string> texts) = 0;
};

// Embeddings through the engine's embedding path: batched with everyone else's requests, under the
// tenant's limits. A refusal for a full queue is retried after the engine's retry-after estimate.
class EngineEmbedder final : public Embedder {
 public:
  EngineEmbedder(scheduler::EmbeddingEngine& engine, std::shared_ptr<const models::Tokenizer> tokenizer,
                 std::string tenant = "default");
  std::size_t dim() const override;
  std::size_t count_tokens(std::string_view text) const override;
  std::future<std::vector<float>> embed(std::vector<std::string> texts) override;

 private:
  scheduler::EmbeddingEngine& engine_;
  std::shared_ptr<const models::Tokenizer> tokenizer_;
  std::string tenant_;
};

// What a chunk's embedding is computed from: its heading path (title and sections) and its text, so a
// chunk whose body never names its subject is still found by it.
std::string embedding_text(std::string_view heading_path, std::string_view text);

struct SourceFile {
  std::string source;          // the document's identity in the collection (e.g. a path relative to a root)
  std::filesystem::path path;  // where to read it
};

struct IngestOptions {
  ChunkOptions chunking{};
  // Documents whose embeddings are in flight at once: the engine batches their chunks together while
  // the pipeline reads and chunks the next ones.
  std::size_t max_pending = 8;
  bool force = false;       // re-embed documents whose content is unchanged
  MetadataPairs metadata{};  // added to every document's metadata
};

enum class FileOutcome { inserted, replaced, unchanged, failed };
std::string_view outcome_name(FileOutcome outcome) noexcept;

struct FileReport {
  std::string source;
  FileOutcome outcome = FileOutcome::failed;
  std::size_t chunks = 0;
  std::string error;  // why it failed
};

struct IngestProgress {
  std::size_t files_done = 0, files_total = 0;
  std::size_t chunks = 0;              // chunks written so far
  std::uint64_t bytes_done = 0, bytes_total = 0;
  double elapsed_seconds = 0.0;
};

struct IngestSummary {
  std::vector<FileReport> files;  // in input order
  std::size_t inserted = 0, replaced = 0, unchanged = 0, failed = 0;
  std::size_t chunks = 0;         // chunks embedded and written
  std::size_t tokens = 0;         // their tokens (the chunker's counts)
  double seconds = 0.0;
};

// Called after each file is settled (in input order).
using IngestProgressFn = std::function<void(const IngestProgress&, const FileReport&)>;

// Ingests `files` into `store`. Throws only for a store that fails to write (StoreError); every
// per-file problem (unreadable, unsupported format, no text, over the size limit, an embedding
// failure) is a FileReport with outcome failed.
IngestSummary ingest_files(CollectionStore& store, Embedder& embedder, std::span<const SourceFile> files,
                           const IngestOptions& options, const IngestProgressFn& progress = {});

// The SHA-256 of `bytes` as 64 lowercase hex digits: a document's content identity.
std::string content_hash(std::string_view bytes);

}  // namespace plinth::rag
