// The OpenAI API's wire format as `plinth serve` speaks it: request bodies decoded into typed requests
// (every field either served, accepted at its neutral value, or refused with a 400 that names it;
// nothing is silently ignored), and the response, stream-chunk and error objects the official clients
// read. Pure functions of their inputs: no engine, no I/O, so the fuzzer and the unit tests call them
// directly.
//
// Plinth's extensions ride in the body, the way clients pass `extra_body`: `top_k`, `min_p`,
// `repetition_penalty`, `priority` (class 0-9, 0 first), `timeout` (seconds until the request stops
// with a deadline finish), `queue_timeout` (seconds it may wait to start) and `ignore_eos` (end only
// at max_tokens or a stop string given in the request: for benchmarks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <plinth/models/chat_template.hpp>
#include <plinth/models/sampler.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plinth::server {

// An error for the client: HTTP status and OpenAI's error object (type, the offending param, a code).
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string type = "invalid_request_error", std::string param = {},
           std::string code = {})
      : std::runtime_error(std::move(message)), status_(status), type_(std::move(type)), param_(std::move(param)),
        code_(std::move(code)) {}
  int status() const noexcept { return status_; }
  const std::string& type() const noexcept { return type_; }
  const std::string& param() const noexcept { return param_; }
  const std::string& code() const noexcept { return code_; }
  // Seconds until a retry may succeed (429, 503): the response's Retry-After header.
  std::optional<long long> retry_after() const noexcept { return retry_after_; }
  ApiError& set_retry_after(long long seconds) {
    retry_after_ = seconds;
    return *this;
  }
  nlohmann::json to_json() const;

 private:
  int status_;
  std::optional<long long> retry_after_;
  std::string type_, param_, code_;
};

// OpenAI's error object for `status` ({"error": {"message", "type", "param", "code"}}), with the
// type OpenAI uses for that status when `type` is empty.
nlohmann::json error_json(int status, std::string_view message, std::string_view type = {},
                          std::string_view param = {}, std::string_view code = {});

inline constexpr int kMaxJsonDepth = 32;
inline constexpr int kMaxPriority = 9;
inline constexpr std::size_t kMaxStopStrings = 4;  // as OpenAI

// A JSON object from a request body; ApiError 400 for anything else, or nesting deeper than
// kMaxJsonDepth (checked while parsing, so a deep body costs no deep recursion).
nlohmann::json parse_json_object(std::string_view body);

// What chat and completions requests share.
struct GenerationParams {
  std::string model;
  std::optional<std::size_t> max_tokens;  // max_tokens or max_completion_tokens; default: the context left
  // OpenAI's defaults (temperature 1, top_p 1), not the CLI's; top_k off unless asked for.
  models::SamplingOptions sampling{.temperature = 1.0f, .top_k = 0, .top_p = 1.0f};
  std::optional<std::uint64_t> seed;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  int priority = 0;
  std::optional<double> timeout_s;
  std::optional<double> queue_timeout_s;
  bool ignore_eos = false;  // generate max_tokens whatever the model says (benchmarks)
  std::string user;
};

struct ChatCompletionRequest {
  GenerationParams params;
  std::vector<models::ChatMessage> messages;  // roles system, user, assistant (developer is system)
};

struct CompletionRequest {
  GenerationParams params;
  std::string prompt;                          // text, or
  std::optional<std::vector<std::int32_t>> prompt_tokens;  // token ids given as the prompt
  bool echo = false;
};

struct EmbeddingsRequest {
  std::string model;
  std::vector<std::string> texts;                      // text inputs, or
  std::vector<std::vector<std::int32_t>> token_inputs;  // token-id inputs
  bool base64 = false;                                  // encoding_format
  std::optional<int> dimensions;
  std::string user;
  int priority = 0;
  std::optional<double> timeout_s;
};

// Throw ApiError (400, naming the field) for a malformed or unsupported request.
ChatCompletionRequest parse_chat_completion(const nlohmann::json& body);
CompletionRequest parse_completion(const nlohmann::json& body);
EmbeddingsRequest parse_embeddings(const nlohmann::json& body);

// ---- Responses ----------------------------------------------------------------------------------

enum class Endpoint { chat, completion };

struct TokenUsage {
  std::size_t prompt_tokens = 0;
  std::size_t completion_tokens = 0;
  std::size_t cached_tokens = 0;
};

// The finish_reason string of an engine finish ("stop", "length"); a deadline reads "length" (the
// answer was cut), with Plinth's own reason beside it in the choice.
struct ResponseHeader {
  std::string id;  // "chatcmpl-..." or "cmpl-..."
  std::int64_t created = 0;
  std::string model;
};

nlohmann::json usage_json(const TokenUsage& usage);
// A whole (non-streamed) response.
nlohmann::json completion_json(Endpoint endpoint, const ResponseHeader& header, std::string_view text,
                               std::string_view finish_reason, const TokenUsage& usage);
// One stream chunk: a text delta (first = true adds the assistant role to a chat delta), or with a
// finish_reason and no text, the last choice chunk.
nlohmann::json chunk_json(Endpoint endpoint, const ResponseHeader& header, std::string_view text,
                          std::optional<std::string_view> finish_reason, bool first);
// The usage chunk of stream_options.include_usage (no choices).
nlohmann::json usage_chunk_json(Endpoint endpoint, const ResponseHeader& header, const TokenUsage& usage);
// "data: <json>\n\n"
std::string sse_event(const nlohmann::json& data);
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

// Little-endian float32 bytes in base64 (encoding_format "base64").
std::string base64_floats(const float* values, std::size_t count);
nlohmann::json embeddings_json(std::string_view model, const std::vector<float>& rows, int dim, bool base64,
                               std::size_t prompt_tokens);
nlohmann::json models_json(const std::vector<std::string>& ids, std::int64_t created);
nlohmann::json model_json(std::string_view id, std::int64_t created);

}  // namespace plinth::server
