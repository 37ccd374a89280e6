// libFuzzer entry point for the server's HTTP request parsing (server/: parse_http_request, the same
// Beast parser and limits the server reads its sockets with). The input is the bytes a client sent.
// A request is parsed or refused with an error; anything else (a crash, a sanitizer report, an
// exception, a request that claims more bytes than it was given) is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <plinth/server/http_server.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  plinth::server::HttpLimits limits;
  limits.max_header_bytes = 4096;
  limits.max_body_bytes = 8192;
  std::string error;
  const auto parsed = plinth::server::parse_http_request(bytes, limits, error);
  if (!parsed) {
    if (error.empty()) std::abort();
    return 0;
  }
  const auto& [request, used] = *parsed;
  if (used == 0 || used > size || request.method.empty()) std::abort();
  if (request.body.size() > limits.max_body_bytes) std::abort();
  (void)request.path();
  (void)request.header("content-length");
  return 0;
}
