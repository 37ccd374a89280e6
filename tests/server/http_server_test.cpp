// The HTTP transport on real loopback sockets: keep-alive, chunked streams written from another
// thread, the limits (header, body, read and idle timeouts, the connection cap), disconnect
// notification, drain, and the parser the fuzzer drives.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <plinth/server/http_server.hpp>
#include <string>
#include <thread>

namespace plinth::server {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// A blocking loopback client.
class Client {
 public:
  explicit Client(std::uint16_t port) : socket_(io_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }
  void send(std::string_view bytes) { net::write(socket_, net::buffer(bytes.data(), bytes.size())); }
  // Everything until the server closes (or `limit` passes).
  std::string read_all(std::chrono::milliseconds limit = 5000ms) {
    pump(limit, [] { return false; });
    return std::exchange(pending_, {});
  }
  // Reads until `marker` appears (or the server closes); what came after it stays for the next read.
  std::string read_until(std::string_view marker, std::chrono::milliseconds limit = 5000ms) {
    pump(limit, [&] { return pending_.find(marker) != std::string::npos; });
    const auto at = pending_.find(marker);
    if (at == std::string::npos) return std::exchange(pending_, {});
    std::string out = pending_.substr(0, at + marker.size());
    pending_.erase(0, at + marker.size());
    return out;
  }
  bool closed() const { return closed_; }
  void close() { socket_.close(); }

 private:
  // Appends what arrives to pending_ until `done`, the server closes, or `limit` passes.
  template <class Done>
  void pump(std::chrono::milliseconds limit, Done done) {
    const auto give_up = std::chrono::steady_clock::now() + limit;
    socket_.non_blocking(true);
    char buf[4096];
    while (!done() && std::chrono::steady_clock::now() < give_up) {
      boost::system::error_code ec;
      const std::size_t n = socket_.read_some(net::buffer(buf), ec);
      if (ec == net::error::would_block) {
        std::this_thread::sleep_for(2ms);
        continue;
      }
      if (ec) {
        closed_ = true;
        break;
      }
      pending_.append(buf, n);
    }
  }

  net::io_context io_;
  tcp::socket socket_;
  std::string pending_;
  bool closed_ = false;
};

HttpServerOptions options(HttpLimits limits = {}) {
  HttpServerOptions o;
  o.port = 0;
  o.io_threads = 2;
  o.limits = limits;
  return o;
}

HttpHandler echo_handler() {
  return [](HttpRequest request, std::shared_ptr<HttpResponder> out) {
    out->send({.status = 200, .content_type = "text/plain", .body = request.method + " " + request.target + " " + request.body});
  };
}

std::string get(std::string_view path, std::string_view extra = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: x\r\n" + std::string(extra) + "\r\n";
}

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  HttpServer server(options(), echo_handler());
  server.start();
  Client c(server.port());
  c.send(get("/a"));
  const std::string first = c.read_until("GET /a ");
  EXPECT_NE(first.find("HTTP/1.1 200 OK"), std::string::npos);
  EXPECT_NE(first.find("Connection: keep-alive"), std::string::npos);
  c.send("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz");
  EXPECT_NE(c.read_until("POST /b xyz").find("POST /b xyz"), std::string::npos);
  c.send(get("/c", "Connection: close\r\n"));
  const std::string last = c.read_all();
  EXPECT_NE(last.find("Connection: close"), std::string::npos);
  EXPECT_NE(last.find("GET /c "), std::string::npos);
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(server.stats().accepted, 1u);
}

TEST(HttpServer, LimitsAnswerWithTheirStatus) {
  HttpLimits limits;
  limits.max_header_bytes = 1024;
  limits.max_body_bytes = 100;
  HttpServer server(options(limits), echo_handler());
  server.start();
  {
    Client c(server.port());
    c.send(get("/", "X-Big: " + std::string(2000, 'a') + "\r\n"));
    EXPECT_NE(c.read_all().find("HTTP/1.1 431"), std::string::npos);
    EXPECT_TRUE(c.closed());
  }
  {
    Client c(server.port());
    c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n" + std::string(101, 'b'));
    EXPECT_NE(c.read_all().find("HTTP/1.1 413"), std::string::npos);
  }
  {
    Client c(server.port());
    c.send("NOT HTTP AT ALL\r\n\r\n");
    EXPECT_NE(c.read_all().find("HTTP/1.1 400"), std::string::npos);
  }
  EXPECT_EQ(server.stats().bad_requests, 3u);
}

TEST(HttpServer, AClientStillSendingAnOversizedBodyReadsIts413) {
  // The server answers at the header and must not reset the connection under the upload, or the
  // client loses the answer.
  HttpLimits limits;
  limits.max_body_bytes = 1024;
  HttpServer server(options(limits), echo_handler());
  server.start();
  Client c(server.port());
  const std::string body(4 << 20, 'z');
  c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
  c.send(body);  // blocks unless the server keeps reading
  EXPECT_NE(c.read_all().find("HTTP/1.1 413"), std::string::npos);
}

TEST(HttpServer, ASlowSenderIsCutOffAtTheReadTimeout) {
  HttpLimits limits;
  limits.read_timeout = 300ms;
  HttpServer server(options(limits), echo_handler());
  server.start();
  Client c(server.port());
  const auto t0 = std::chrono::steady_clock::now();
  c.send("GET / HTTP/1.1\r\nHo");  // and nothing more
  EXPECT_EQ(c.read_all(3000ms), "");
  EXPECT_TRUE(c.closed());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2000ms);
  EXPECT_EQ(server.stats().timed_out, 1u);
}

TEST(HttpServer, AnIdleKeepAliveConnectionIsClosed) {
  HttpLimits limits;
  limits.idle_timeout = 200ms;
  HttpServer server(options(limits), echo_handler());
  server.start();
  Client c(server.port());
  c.send(get("/"));
  c.read_until("GET / ");
  EXPECT_EQ(c.read_all(3000ms), "");
  EXPECT_TRUE(c.closed());
}

TEST(HttpServer, ConnectionsOverTheCapGetA503) {
  HttpLimits limits;
  limits.max_connections = 2;
  HttpServer server(options(limits), echo_handler(), [](int status, std::string_view message) {
    return HttpResponse{.status = status, .content_type = "application/json", .body = std::string(message)};
  });
  server.start();
  Client a(server.port()), b(server.port());
  // Both are accepted (their first request proves it) before the third connects.
  a.send(get("/"));
  b.send(get("/"));
  a.read_until("GET / ");
  b.read_until("GET / ");
  Client c(server.port());
  const std::string refused = c.read_all();
  EXPECT_NE(refused.find("HTTP/1.1 503"), std::string::npos);
  EXPECT_NE(refused.find("too many connections"), std::string::npos);
  EXPECT_EQ(server.stats().refused, 1u);
}

TEST(HttpServer, StreamsChunksWrittenFromAnotherThread) {
  std::thread writer;
  HttpServer server(options(), [&](HttpRequest, std::shared_ptr<HttpResponder> out) {
    out->begin_stream(200, "text/event-stream");
    writer = std::thread([out] {
      for (int i = 0; i < 3; ++i) {
        out->write("data: " + std::to_string(i) + "\n\n");
        std::this_thread::sleep_for(10ms);
      }
      out->end();
      out->write("ignored after end");
    });
  });
  server.start();
  Client c(server.port());
  c.send(get("/stream"));
  const std::string response = c.read_until("0\r\n\r\n");
  writer.join();
  EXPECT_NE(response.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(response.find("Content-Type: text/event-stream"), std::string::npos);
  EXPECT_NE(response.find("9\r\ndata: 0\n\n\r\n"), std::string::npos);
  EXPECT_NE(response.find("9\r\ndata: 2\n\n\r\n"), std::string::npos);
  EXPECT_EQ(response.find("ignored"), std::string::npos);
  // The connection is still usable.
  c.send(get("/again"));
  EXPECT_NE(c.read_until("0\r\n\r\n").find("data: 1"), std::string::npos);
  writer.join();
}

TEST(HttpServer, AClientHangingUpIsReported) {
  std::promise<void> gone;
  std::shared_ptr<HttpResponder> held;
  HttpServer server(options(), [&](HttpRequest, std::shared_ptr<HttpResponder> out) {
    held = out;  // no answer yet: a long generation
    out->on_disconnect([&] { gone.set_value(); });
  });
  server.start();
  {
    Client c(server.port());
    c.send(get("/slow"));
    std::this_thread::sleep_for(50ms);
    c.close();
  }
  EXPECT_EQ(gone.get_future().wait_for(3s), std::future_status::ready);
  EXPECT_EQ(server.stats().disconnects, 1u);
  held->send({.status = 200, .body = "too late"});  // dropped, no crash
}

TEST(HttpServer, DrainFinishesTheResponseInFlightAndRefusesNewOnes) {
  std::promise<std::shared_ptr<HttpResponder>> pending;
  HttpServer server(options(), [&](HttpRequest, std::shared_ptr<HttpResponder> out) { pending.set_value(out); });
  server.start();
  Client busy(server.port());
  busy.send(get("/work"));
  auto responder = pending.get_future().get();
  Client idle(server.port());  // connected, never sends
  std::this_thread::sleep_for(50ms);
  server.begin_drain();
  EXPECT_EQ(idle.read_all(2000ms), "");  // closed, without a response
  responder->send({.status = 200, .content_type = "text/plain", .body = "done"});
  const std::string last = busy.read_all();
  EXPECT_NE(last.find("done"), std::string::npos);
  EXPECT_NE(last.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(busy.closed());
  EXPECT_THROW(Client late(server.port()), boost::system::system_error);
}

TEST(HttpServer, BindFailureNamesTheAddress) {
  HttpServer first(options(), echo_handler());
  first.start();
  auto o = options();
  o.port = first.port();
  HttpServer second(o, echo_handler());
  try {
    second.start();
    FAIL() << "bound twice";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())), std::string::npos);
  }
}

TEST(HttpParser, ParsesWhatTheServerWouldRead) {
  std::string error;
  const std::string two = "POST /x?y=1 HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer k\r\nContent-Length: 2\r\n\r\nab" + get("/next");
  auto parsed = parse_http_request(two, {}, error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(parsed->first.method, "POST");
  EXPECT_EQ(parsed->first.path(), "/x");
  EXPECT_EQ(parsed->first.header("authorization"), "Bearer k");
  EXPECT_EQ(parsed->first.header("missing"), "");
  EXPECT_EQ(parsed->first.body, "ab");
  EXPECT_LT(parsed->second, two.size());
  EXPECT_FALSE(parse_http_request("GET / HTTP/1.1\r\nHost:", {}, error));
  EXPECT_EQ(error, "incomplete request");
  HttpLimits small;
  small.max_body_bytes = 1;
  EXPECT_FALSE(parse_http_request("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nab", small, error));
  EXPECT_FALSE(parse_http_request("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", {}, error));
}

TEST(HttpParser, ChunkFraming) {
  EXPECT_EQ(chunk("hello"), "5\r\nhello\r\n");
  EXPECT_EQ(chunk(std::string(26, 'x')).substr(0, 4), "1a\r\n");
  EXPECT_EQ(chunk(""), "");
  const std::string r = serialize_response({.status = 429, .body = "{}", .headers = {{"Retry-After", "2"}}}, false);
  EXPECT_EQ(r.substr(0, 30), "HTTP/1.1 429 Too Many Requests");
  EXPECT_NE(r.find("Retry-After: 2\r\n"), std::string::npos);
  EXPECT_NE(r.find("Content-Length: 2\r\n\r\n{}"), std::string::npos);
}

}  // namespace
}  // namespace plinth::server
