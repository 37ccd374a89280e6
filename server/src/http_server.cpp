#include "plinth/server/http_server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <array>
#include <cctype>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace plinth::server {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

using Parser = http::request_parser<http::string_body>;

void configure(Parser& parser, const HttpLimits& limits) {
  parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(limits.max_header_bytes, UINT32_MAX)));
  parser.body_limit(limits.max_body_bytes);
}

HttpRequest to_request(http::request<http::string_body>&& message) {
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) request.headers.emplace_back(field.name_string(), field.value());
  request.keep_alive = message.keep_alive();
  request.body = std::move(message.body());
  return request;
}

// The transport's own errors: what the limit or the syntax problem was.
int status_of(const boost::system::error_code& ec) {
  if (ec == http::error::header_limit) return 431;
  if (ec == http::error::body_limit) return 413;
  return 400;
}

HttpResponse default_error(int status, std::string_view message) {
  return {.status = status, .content_type = "text/plain; charset=utf-8", .body = std::string(message) + "\n"};
}

}  // namespace

std::string_view HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

std::string_view HttpRequest::path() const {
  const std::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::string serialize_stream_head(int status, std::string_view content_type, const HttpHeaders& headers,
                                  bool keep_alive) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " ";
  out += http::obsolete_reason(http::int_to_status(static_cast<unsigned>(status)));
  out += "\r\nServer: plinth\r\nContent-Type: ";
  out += content_type;
  out += "\r\n";
  for (const auto& [key, value] : headers) {
    out += key;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  return out;
}

std::string serialize_response(const HttpResponse& response, bool keep_alive) {
  std::string out = serialize_stream_head(response.status, response.content_type, response.headers, keep_alive);
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n\r\n";
  out += response.body;
  return out;
}

std::string chunk(std::string_view data) {
  if (data.empty()) return {};  // an empty chunk would end the body
  char size[24];
  const int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string out(size, static_cast<std::size_t>(n));
  out += data;
  out += "\r\n";
  return out;
}

std::optional<std::pair<HttpRequest, std::size_t>> parse_http_request(std::string_view bytes, const HttpLimits& limits,
                                                                      std::string& error) {
  Parser parser;
  configure(parser, limits);
  parser.eager(true);
  boost::system::error_code ec;
  std::size_t used = 0;
  while (!parser.is_done() && used < bytes.size()) {
    const std::size_t n = parser.put(net::buffer(bytes.data() + used, bytes.size() - used), ec);
    if (ec == http::error::need_more) {
      if (n == 0) break;  // the parser wants more than there is
      ec = {};
    }
    if (ec) {
      error = ec.message();
      return std::nullopt;
    }
    used += n;
  }
  if (!parser.is_done()) {
    error = "incomplete request";
    return std::nullopt;
  }
  return std::make_pair(to_request(parser.release()), used);
}

// ---- Server --------------------------------------------------------------------------------------

class Connection;

// Whether the server still takes posts from responders. A responder may outlive the server (an
// engine's sink holds it); once the gate is shut it posts nothing, so nothing reaches an io_context
// that is going away.
struct PostGate {
  std::mutex mutex;
  bool open = true;
};

struct ServerShared {
  std::shared_ptr<PostGate> gate = std::make_shared<PostGate>();
  HttpServerOptions options;
  HttpHandler handler;
  HttpErrorFormatter errors;
  std::atomic<bool> draining{false};
  std::atomic<std::size_t> open{0};
  std::atomic<std::uint64_t> accepted{0}, refused{0}, timed_out{0}, bad_requests{0}, disconnects{0};
  std::mutex mutex;  // connections
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;

  void notify(ConnectionEvent event) const {
    if (options.on_connection) options.on_connection(event);
  }

  HttpResponse error(int status, std::string_view message) const {
    return errors ? errors(status, message) : default_error(status, message);
  }
};

// One TCP connection. Every member is used on the connection's strand only; the responders of its
// requests post there.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, ServerShared& shared)
      : socket_(std::move(socket)),
        read_timer_(socket_.get_executor(), SteadyClock::time_point::max()),
        write_timer_(socket_.get_executor(), SteadyClock::time_point::max()),
        shared_(shared) {}

  net::any_io_executor socket_executor() { return socket_.get_executor(); }

  void start() {
    register_self();
    if (shared_.draining.load()) return close();
    shared_.notify(ConnectionEvent::opened);
    opened_ = true;
    watch_timer(read_timer_);
    watch_timer(write_timer_);
    read_timer_.expires_after(shared_.options.limits.read_timeout);  // a new connection must speak soon
    read_next();
  }

  // Over the connection cap: a 503 without reading the request, then close.
  void refuse() {
    shared_.notify(ConnectionEvent::refused);
    register_self();
    watch_timer(read_timer_);
    watch_timer(write_timer_);
    keep_alive_ = false;
    phase_ = Phase::handling;
    queue(serialize_response(shared_.error(503, "too many connections; retry later"), false));
    response_done_ = true;
  }

  // The responder's calls, on the strand; `seq` names the request they answer.
  void send(std::uint64_t seq, HttpResponse response) {
    if (!current(seq) || response_started_) return;
    response_started_ = response_done_ = true;
    queue(serialize_response(response, keep_alive_));
  }
  void begin_stream(std::uint64_t seq, int status, const std::string& content_type, const HttpHeaders& headers) {
    if (!current(seq) || response_started_) return;
    response_started_ = true;
    std::string head = serialize_stream_head(status, content_type, headers, keep_alive_);
    head += "Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n\r\n";
    queue(std::move(head));
  }
  void write(std::uint64_t seq, const std::string& data) {
    if (!current(seq) || !response_started_ || response_done_ || data.empty()) return;
    queue(chunk(data));
  }
  void end(std::uint64_t seq) {
    if (!current(seq) || !response_started_ || response_done_) return;
    response_done_ = true;
    queue(std::string(kLastChunk));
  }
  void on_disconnect(std::uint64_t seq, std::function<void()> callback) {
    if (seq != seq_) return;  // that response is complete: nothing to cancel
    if (client_gone_) {
      callback();
      return;
    }
    on_disconnect_ = std::move(callback);
  }

  void drain() {
    keep_alive_ = false;
    if (phase_ == Phase::idle) close();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    read_timer_.cancel();
    write_timer_.cancel();
    if (phase_ == Phase::handling && !response_done_) notify_gone();
    if (registered_) {
      std::lock_guard lock(shared_.mutex);
      shared_.connections.erase(this);
    }
    if (opened_) shared_.notify(ConnectionEvent::closed);
    shared_.open.fetch_sub(1, std::memory_order_relaxed);
  }

 private:
  enum class Phase { idle, reading, handling };

  // In the registry, so drain and stop reach it.
  void register_self() {
    std::lock_guard lock(shared_.mutex);
    shared_.connections.emplace(this, weak_from_this());
    registered_ = true;
  }

  static constexpr std::chrono::milliseconds kMaxLinger{2000};

  bool current(std::uint64_t seq) const { return !closed_ && seq == seq_ && phase_ == Phase::handling; }

  // One wait is always pending on each timer; moving its expiry cancels the wait, which re-arms.
  void watch_timer(net::steady_timer& timer) {
    timer.async_wait([self = shared_from_this(), &timer](boost::system::error_code) {
      if (self->closed_) return;
      if (timer.expiry() <= SteadyClock::now()) {
        if (!self->lingering_) self->shared_.timed_out.fetch_add(1, std::memory_order_relaxed);
        self->close();
        return;
      }
      self->watch_timer(timer);
    });
  }

  void read_next() {
    phase_ = Phase::idle;
    if (watch_pending_) return;  // its completion parses
    if (buffer_.size() > 0) return parse();
    start_watch();
  }

  // A read of whatever comes next: the start of the next request while idle, or while a handler
  // works, the client's hang-up (or pipelined bytes, kept for later).
  void start_watch() {
    if (watch_pending_ || closed_) return;
    watch_pending_ = true;
    socket_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](boost::system::error_code ec,
                                                                                std::size_t n) {
      self->watch_pending_ = false;
      if (self->closed_) return;
      if (ec) return self->close();  // hang-up: close() reports it when a response was pending
      if (self->lingering_) return self->discard();
      self->buffer_.commit(n);
      if (self->phase_ == Phase::idle) return self->parse();
      if (self->buffer_.size() < self->shared_.options.limits.max_header_bytes) self->start_watch();
    });
  }

  void parse() {
    phase_ = Phase::reading;
    read_timer_.expires_after(shared_.options.limits.read_timeout);
    parser_.emplace();
    configure(*parser_, shared_.options.limits);
    http::async_read(socket_, buffer_, *parser_, [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(boost::system::error_code ec) {
    if (closed_) return;
    if (ec) {
      if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset) {
        return close();
      }
      shared_.bad_requests.fetch_add(1, std::memory_order_relaxed);
      phase_ = Phase::handling;
      keep_alive_ = false;
      ++seq_;
      response_started_ = response_done_ = true;
      queue(serialize_response(shared_.error(status_of(ec), "bad request: " + ec.message()), false));
      return;
    }
    read_timer_.expires_at(SteadyClock::time_point::max());
    HttpRequest request = to_request(parser_->release());
    request.received = SteadyClock::now();
    parser_.reset();
    keep_alive_ = request.keep_alive && !shared_.draining.load(std::memory_order_relaxed);
    phase_ = Phase::handling;
    response_started_ = response_done_ = false;
    client_gone_ = false;
    on_disconnect_ = nullptr;
    const std::uint64_t seq = ++seq_;
    start_watch();
    auto responder = std::make_shared<Responder>(shared_from_this(), seq);
    try {
      shared_.handler(std::move(request), responder);
    } catch (const std::exception& e) {
      send(seq, shared_.error(500, std::string("internal error: ") + e.what()));
    }
  }

  void queue(std::string bytes) {
    if (closed_ || bytes.empty()) return;
    out_.push_back(std::move(bytes));
    flush();
  }

  void flush() {
    if (writing_ || out_.empty() || closed_) return;
    writing_ = std::make_shared<std::string>();
    for (auto& piece : out_) *writing_ += piece;
    out_.clear();
    write_timer_.expires_after(shared_.options.limits.write_timeout);
    net::async_write(socket_, net::buffer(*writing_), [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
      self->on_written(ec);
    });
  }

  void on_written(boost::system::error_code ec) {
    writing_.reset();
    if (closed_) return;
    write_timer_.expires_at(SteadyClock::time_point::max());
    if (ec) return close();
    if (!out_.empty()) return flush();
    if (phase_ != Phase::handling || !response_done_) return;
    // The response is complete.
    on_disconnect_ = nullptr;
    if (!keep_alive_ || shared_.draining.load(std::memory_order_relaxed)) return linger_close();
    read_timer_.expires_after(shared_.options.limits.idle_timeout);
    read_next();
  }

  // Closing right after a response can reset the connection while the client is still sending (a
  // body over the limit, say), and a reset makes it lose the response it has not read yet. So: end
  // our side, read and drop what still comes until the client closes, for a short while at most.
  void linger_close() {
    if (closed_) return;
    lingering_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    read_timer_.expires_after(std::min<std::chrono::milliseconds>(shared_.options.limits.read_timeout, kMaxLinger));
    if (!watch_pending_) discard();
  }

  void discard() {
    socket_.async_read_some(net::buffer(discard_buffer_), [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
      if (self->closed_) return;
      if (ec) return self->close();
      self->discard();
    });
  }

  void notify_gone() {
    if (client_gone_) return;
    client_gone_ = true;
    shared_.disconnects.fetch_add(1, std::memory_order_relaxed);
    if (auto callback = std::exchange(on_disconnect_, nullptr)) callback();
  }

  class Responder final : public HttpResponder {
   public:
    Responder(const std::shared_ptr<Connection>& connection, std::uint64_t seq)
        : gate_(connection->shared_.gate), connection_(connection), seq_(seq) {}
    void send(HttpResponse response) override {
      post([response = std::move(response)](Connection& c, std::uint64_t seq) mutable { c.send(seq, std::move(response)); });
    }
    void begin_stream(int status, std::string content_type, HttpHeaders headers) override {
      post([status, content_type = std::move(content_type), headers = std::move(headers)](Connection& c, std::uint64_t seq) {
        c.begin_stream(seq, status, content_type, headers);
      });
    }
    void write(std::string data) override {
      post([data = std::move(data)](Connection& c, std::uint64_t seq) { c.write(seq, data); });
    }
    void end() override {
      post([](Connection& c, std::uint64_t seq) { c.end(seq); });
    }
    void on_disconnect(std::function<void()> callback) override {
      post([callback = std::move(callback)](Connection& c, std::uint64_t seq) mutable {
        c.on_disconnect(seq, std::move(callback));
      });
    }

   private:
    // Always a post, never run inline: the caller may hold its own locks (a sink's), and calls keep
    // their order on the strand. Only a weak reference is kept, so a responder held by an engine never
    // keeps a connection (and its sockets and timers) alive past its server.
    template <class F>
    void post(F&& f) {
      std::lock_guard lock(gate_->mutex);
      if (!gate_->open) return;
      std::shared_ptr<Connection> c = connection_.lock();
      if (!c) return;
      const auto executor = c->socket_.get_executor();
      net::post(executor, [c = std::move(c), seq = seq_, f = std::forward<F>(f)]() mutable { f(*c, seq); });
    }
    std::shared_ptr<PostGate> gate_;
    std::weak_ptr<Connection> connection_;
    std::uint64_t seq_;
  };

  tcp::socket socket_;
  net::steady_timer read_timer_;   // the read, idle or first-request deadline
  net::steady_timer write_timer_;  // the write in flight
  ServerShared& shared_;
  boost::beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  std::deque<std::string> out_;
  std::shared_ptr<std::string> writing_;
  std::function<void()> on_disconnect_;
  std::uint64_t seq_ = 0;
  Phase phase_ = Phase::idle;
  bool keep_alive_ = true;
  bool response_started_ = false;
  bool response_done_ = false;
  bool watch_pending_ = false;
  bool client_gone_ = false;
  bool closed_ = false;
  bool registered_ = false;
  bool lingering_ = false;
  bool opened_ = false;  // reported opened (so its close is reported too)
  std::array<char, 4096> discard_buffer_;
};

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, HttpHandler handler, HttpErrorFormatter errors)
      : acceptor_(ioc_), work_(net::make_work_guard(ioc_)) {
    if (options.io_threads < 1) throw std::invalid_argument("http server: io_threads must be >= 1");
    if (!handler) throw std::invalid_argument("http server: no handler");
    shared_.options = std::move(options);
    shared_.handler = std::move(handler);
    shared_.errors = std::move(errors);
  }

  void start() {
    const auto& o = shared_.options;
    boost::system::error_code ec;
    const auto address = net::ip::make_address(o.host, ec);
    if (ec) throw std::runtime_error("http server: bad listen address '" + o.host + "': " + ec.message());
    const tcp::endpoint endpoint(address, o.port);
    const std::string where = o.host + ":" + std::to_string(o.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("http server: cannot listen on " + where + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    accept();
    for (int i = 0; i < o.io_threads; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }

  void begin_drain() {
    if (shared_.draining.exchange(true)) return;
    net::post(ioc_, [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
    });
    for_each_connection([](Connection& c) { c.drain(); });
  }

  void stop() {
    if (stopped_) return;
    stopped_ = true;
    {
      std::lock_guard lock(shared_.gate->mutex);
      shared_.gate->open = false;  // responders post nothing from now on
    }
    begin_drain();
    for_each_connection([](Connection& c) { c.close(); });
    work_.reset();
    // Closed connections finish their operations (aborted) and re-arm nothing, so the threads run out
    // of work and return; every handler, and with it every connection, is gone before the io_context.
    for (auto& t : threads_) t.join();
    threads_.clear();
    ioc_.restart();
    ioc_.poll();  // a start() raced with the drain, say
  }

  ServerShared shared_;
  std::uint16_t port_ = 0;

 private:
  template <class F>
  void for_each_connection(F f) {
    std::vector<std::shared_ptr<Connection>> all;
    {
      std::lock_guard lock(shared_.mutex);
      for (auto& [ptr, weak] : shared_.connections) {
        if (auto c = weak.lock()) all.push_back(std::move(c));
      }
    }
    for (auto& c : all) {
      net::dispatch(c->socket_executor(), [c, f] { f(*c); });
    }
  }

  void accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) {
        socket.set_option(tcp::no_delay(true), ec);
        const std::size_t open = shared_.open.fetch_add(1, std::memory_order_relaxed) + 1;
        auto connection = std::make_shared<Connection>(std::move(socket), shared_);
        if (open > shared_.options.limits.max_connections || shared_.draining.load()) {
          shared_.refused.fetch_add(1, std::memory_order_relaxed);
          net::dispatch(connection->socket_executor(), [connection] { connection->refuse(); });
        } else {
          shared_.accepted.fetch_add(1, std::memory_order_relaxed);
          net::dispatch(connection->socket_executor(), [connection] { connection->start(); });
        }
      }
      accept();  // an accept error (out of descriptors, say) must not stop the server
    });
  }

  net::io_context ioc_;
  tcp::acceptor acceptor_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
  bool stopped_ = false;
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler, HttpErrorFormatter errors)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), std::move(errors))) {}
HttpServer::~HttpServer() { stop(); }
void HttpServer::start() { impl_->start(); }
std::uint16_t HttpServer::port() const { return impl_->port_; }
void HttpServer::begin_drain() { impl_->begin_drain(); }
bool HttpServer::draining() const noexcept { return impl_->shared_.draining.load(); }
std::size_t HttpServer::open_connections() const noexcept { return impl_->shared_.open.load(); }
HttpServerStats HttpServer::stats() const noexcept {
  const auto& s = impl_->shared_;
  return {.open_connections = s.open.load(),
          .accepted = s.accepted.load(),
          .refused = s.refused.load(),
          .timed_out = s.timed_out.load(),
          .bad_requests = s.bad_requests.load(),
          .disconnects = s.disconnects.load()};
}
void HttpServer::stop() { impl_->stop(); }

}  // namespace plinth::server
