// libFuzzer entry point for the server's JSON request decoding (server/: openai_protocol). The first
// byte picks the endpoint (0 chat completions, 1 completions, 2 embeddings); the rest is the body.
// A body is decoded, or refused with an ApiError of status 400 and a message; anything else (a crash,
// a sanitizer report, another exception, a decoded request that breaks its own rules) is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <plinth/server/openai_protocol.hpp>

namespace {

using namespace plinth::server;

void check(bool ok) {
  if (!ok) std::abort();
}

void check_params(const GenerationParams& p) {
  check(!p.model.empty());
  check(!p.max_tokens || *p.max_tokens >= 1);
  check(p.stop.size() <= kMaxStopStrings);
  check(p.priority >= 0 && p.priority <= kMaxPriority);
  plinth::models::validate(p.sampling);  // throws std::invalid_argument: not caught, so a bug
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    const nlohmann::json json = parse_json_object(body);
    switch (data[0] % 3) {
      case 0: {
        const auto r = parse_chat_completion(json);
        check_params(r.params);
        check(!r.messages.empty());
        (void)sse_event(chunk_json(Endpoint::chat, {.id = "x", .created = 0, .model = r.params.model},
                                   r.messages.front().content, std::nullopt, true));
        break;
      }
      case 1: {
        const auto r = parse_completion(json);
        check_params(r.params);
        check(r.prompt_tokens ? !r.prompt_tokens->empty() : !r.prompt.empty());
        break;
      }
      default: {
        const auto r = parse_embeddings(json);
        check(!r.model.empty());
        check(!r.texts.empty() || !r.token_inputs.empty());
        break;
      }
    }
  } catch (const ApiError& e) {
    check(e.status() == 400 && e.what()[0] != '\0');
  }
  return 0;
}
