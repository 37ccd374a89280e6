// HttpServer: HTTP/1.1 on Boost.Beast/Asio for many open connections at once. A few I/O threads serve
// every connection (nothing blocks per connection); each connection runs on its own strand. A request
// is read whole (header and body within limits and one read timeout), handed to the Handler, and
// answered through an HttpResponder that may be used from any thread: one whole response, or a
// chunked stream (Server-Sent Events) written piece by piece as an engine produces it.
//
// What it defends against: headers or bodies over their limits (431, 413), a client that sends its
// request too slowly (closed at the read timeout: slowloris), an idle keep-alive connection (closed at
// the idle timeout), a client that stops reading (closed when one write stalls past the write
// timeout), more connections than the cap (a 503 and close, decided without reading the request).
// A client that goes away before its response is complete is noticed at once (the connection keeps a
// read pending while the handler works) and reported to the responder's disconnect callback, so a
// generation can be cancelled.
//
//   HttpServer server({.port = 8000}, [](HttpRequest request, std::shared_ptr<HttpResponder> out) {
//     out->send({.status = 200, .content_type = "text/plain", .body = "ok\n"});
//   });
//   server.start();          // binds, starts the I/O threads
//   server.begin_drain();    // stops accepting; keep-alive connections close after their response
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plinth::server {

struct HttpLimits {
  std::size_t max_header_bytes = 16 * 1024;      // request line + headers (431 beyond)
  std::size_t max_body_bytes = 4 * 1024 * 1024;  // (413 beyond)
  // From the first byte of a request to its last: a slow sender is cut off here (no response).
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds idle_timeout{30'000};   // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30'000};  // one write that makes no progress
  std::size_t max_connections = 4096;               // open at once; more get a 503 and are closed
};

enum class ConnectionEvent { opened, closed, refused };

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8000;  // 0: any free port (see HttpServer::port())
  int io_threads = 2;
  HttpLimits limits{};
  // Told of every connection accepted (opened, later closed) or refused over the cap; runs on an I/O
  // thread and must be cheap (a metrics counter).
  std::function<void(ConnectionEvent)> on_connection{};
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as sent
  HttpHeaders headers;
  std::string body;
  bool keep_alive = true;
  std::chrono::steady_clock::time_point received{};  // when its last byte was read

  // The first value of header `name` (case-insensitive), or "" when absent.
  std::string_view header(std::string_view name) const;
  // The target without its query string.
  std::string_view path() const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  HttpHeaders headers{};  // extra ones (Retry-After, WWW-Authenticate, ...)
};

// One request's answer. Thread-safe: every call is posted to the connection's strand. Exactly one of
// send() or begin_stream() ... end(); calls after the connection closed are dropped.
class HttpResponder {
 public:
  virtual ~HttpResponder() = default;
  virtual void send(HttpResponse response) = 0;
  // A chunked response: the status line and headers now, then each write() as one chunk, then end().
  virtual void begin_stream(int status, std::string content_type, HttpHeaders headers = {}) = 0;
  virtual void write(std::string data) = 0;
  virtual void end() = 0;
  // `callback` runs once, on an I/O thread, if the client goes away before the response is complete;
  // at once if it already has. Set it before starting work that should stop then.
  virtual void on_disconnect(std::function<void()> callback) = 0;
};

// Runs on the connection's I/O thread; must not block (hand long work to an engine).
using HttpHandler = std::function<void(HttpRequest request, std::shared_ptr<HttpResponder> responder)>;

// Error responses the transport itself sends (limits, bad syntax, the connection cap); the handler's
// layer supplies them so they have its body format (an OpenAI error object, say).
using HttpErrorFormatter = std::function<HttpResponse(int status, std::string_view message)>;

struct HttpServerStats {
  std::size_t open_connections = 0;
  std::uint64_t accepted = 0;
  std::uint64_t refused = 0;      // over the connection cap
  std::uint64_t timed_out = 0;    // read, idle or write timeout
  std::uint64_t bad_requests = 0; // malformed or over a limit
  std::uint64_t disconnects = 0;  // clients gone before their response was complete
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler, HttpErrorFormatter errors = {});
  // Stops (see stop()).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens, then starts the I/O threads. Throws std::runtime_error naming the address and
  // the reason when it cannot bind.
  void start();
  std::uint16_t port() const;  // the bound port (after start)
  // Stops accepting; idle keep-alive connections are closed, busy ones close after their response.
  void begin_drain();
  bool draining() const noexcept;
  std::size_t open_connections() const noexcept;
  HttpServerStats stats() const noexcept;
  // Closes every connection (pending responses are dropped) and joins the I/O threads. Idempotent.
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Parses one complete request from `bytes` with the server's own parser and limits: the request and
// how many bytes it used, or nullopt with `error` set (also when the bytes end before the request
// does). For tests and the fuzzer; the server reads the same way from its sockets.
std::optional<std::pair<HttpRequest, std::size_t>> parse_http_request(std::string_view bytes, const HttpLimits& limits,
                                                                      std::string& error);

// The status line and headers of a response (keep_alive decides the Connection header), then the body
// with Content-Length; or, for chunked, only the head with Transfer-Encoding: chunked.
std::string serialize_response(const HttpResponse& response, bool keep_alive);
std::string serialize_stream_head(int status, std::string_view content_type, const HttpHeaders& headers,
                                  bool keep_alive);
std::string chunk(std::string_view data);  // one chunk of a chunked body ("" for an empty piece)
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

}  // namespace plinth::server
