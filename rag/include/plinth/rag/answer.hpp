// Grounded answers: what the decoder is told, when retrieval found nothing worth answering from, and
// which sources an answer cites. The decoder itself runs elsewhere (the engine); this is the part
// that decides and checks, so it is testable without a model.
//
//   auto hits = retrieve(collections, question, embedding, options);
//   if (!grounded_enough(hits, options.mode, grounding)) print(kNotFoundAnswer);
//   GroundedPrompt p = build_grounded_prompt(question, hits, grounding);  // messages + numbered sources
//   ... generate from p.messages ...
//   std::vector<int> cited = cited_sources(answer, p.sources.size());    // the [n] the answer uses
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "plinth/models/chat_template.hpp"
#include "plinth/rag/retriever.hpp"

namespace plinth::rag {

// What an answer says when the documents hold nothing relevant (also what the decoder is told to say).
inline constexpr std::string_view kNotFoundAnswer = "Not found in the documents.";

struct GroundingOptions {
  std::size_t max_sources = 5;         // chunks the decoder sees, best first
  std::size_t max_source_chars = 1200;  // each chunk's text is cut (at a word) beyond this
  // The best dense (cosine) similarity between the question and a retrieved chunk below which the
  // documents are taken to hold no answer. Calibrated for all-MiniLM-L6-v2 on the Python-docs QA set
  // against off-topic questions (docs/rag.md, "Answers"): 0.40 keeps 118 of 120 answerable questions
  // and refuses 38 of 40 off-topic ones. Another embedding model needs its own value.
  float min_dense_score = 0.40f;
};

// A numbered source of a grounded prompt: the chunk behind "[number]" in the answer.
struct AnswerSource {
  int number = 0;  // 1-based, as cited
  std::string collection, source, title, heading_path;
  std::int64_t chunk_id = 0, begin = 0, end = 0;  // the chunk and its character span in its document
};

struct GroundedPrompt {
  std::vector<models::ChatMessage> messages;  // system + user, for the model's chat template
  std::vector<AnswerSource> sources;          // numbered 1..n in the order the decoder sees them
};

// Whether `hits`, retrieved in `mode`, hold something to answer from: with dense search (dense or
// hybrid), a hit whose dense similarity reaches GroundingOptions::min_dense_score (a chunk that BM25
// alone brought in proves nothing: common words match almost anything); with BM25 alone, any hit.
bool grounded_enough(std::span<const RetrievedChunk> hits, RetrievalMode mode, const GroundingOptions& options);

// The conversation asking the decoder to answer `question` from the first max_sources hits only,
// citing them as [n], and to say kNotFoundAnswer when they do not hold the answer. The sources'
// text is quoted as data: instructions inside a document are not the user's (the system message says
// so). Throws std::invalid_argument for an empty question or no hits.
GroundedPrompt build_grounded_prompt(std::string_view question, std::span<const RetrievedChunk> hits,
                                     const GroundingOptions& options);

// The source numbers an answer cites, in order of first citation, each once: "[2]", "[1, 3]",
// "[1][2]"; numbers outside [1, source_count] are ignored (a decoder can invent them).
std::vector<int> cited_sources(std::string_view answer, std::size_t source_count);

}  // namespace plinth::rag
