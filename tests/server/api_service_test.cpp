// ApiService's answers that need no model: health and readiness through loading, ready and draining,
// 503 while loading or draining, authentication (open mode and keys), routing, methods, and that each
// refusal is counted in the metrics. The real endpoints over real engines: openai_client_test.py.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <plinth/server/api_service.hpp>
#include <string>

namespace plinth::server {
namespace {

using nlohmann::json;

// Records what the service answered; the service answers these requests synchronously.
class Capture final : public HttpResponder {
 public:
  void send(HttpResponse response) override { response_ = std::move(response); }
  void begin_stream(int, std::string, HttpHeaders) override { ADD_FAILURE() << "unexpected stream"; }
  void write(std::string) override {}
  void end() override {}
  void on_disconnect(std::function<void()>) override {}
  const HttpResponse& response() const { return response_; }

 private:
  HttpResponse response_{.status = 0, .content_type = {}, .body = {}, .headers = {}};
};

HttpResponse call(ApiService& service, std::string method, std::string target, std::string body = {},
                  HttpHeaders headers = {}) {
  auto capture = std::make_shared<Capture>();
  service.handle({.method = std::move(method), .target = std::move(target), .headers = std::move(headers),
                  .body = std::move(body)},
                 capture);
  return capture->response();
}

const std::string kChat = R"({"model": "m", "messages": [{"role": "user", "content": "hi"}]})";

TEST(ApiService, ReadinessFollowsLoadingReadyAndDraining) {
  ServerMetrics metrics;
  ApiService service({}, metrics);
  EXPECT_EQ(call(service, "GET", "/health").status, 200);
  HttpResponse r = call(service, "GET", "/ready");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(json::parse(r.body)["status"], "loading");
  r = call(service, "POST", "/v1/chat/completions", kChat);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "loading");

  service.set_ready(true);
  EXPECT_EQ(call(service, "GET", "/ready").status, 200);
  r = call(service, "POST", "/v1/chat/completions", kChat);  // no model loaded under that name
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body)["error"]["param"], "model");

  service.begin_drain();
  r = call(service, "GET", "/ready");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(json::parse(r.body)["status"], "draining");
  r = call(service, "POST", "/v1/completions", R"({"model": "m", "prompt": "x"})");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "draining");
  EXPECT_EQ(call(service, "GET", "/health").status, 200);
}

TEST(ApiService, KeysAreRequiredWhenConfigured) {
  AccessConfig access = parse_access_config(R"(
[[tenant]]
name = "acme"
[[key]]
tenant = "acme"
sha256 = ")" + format_key_hash(sha256_of("sk-right")) + "\"\n",
                                            "test.toml");
  ServerMetrics metrics;
  ApiService service(access, metrics);
  service.set_ready(true);
  HttpResponse r = call(service, "GET", "/v1/models");
  EXPECT_EQ(r.status, 401);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "WWW-Authenticate");
  EXPECT_EQ(json::parse(r.body)["error"]["type"], "authentication_error");
  EXPECT_EQ(call(service, "GET", "/v1/models", {}, {{"Authorization", "Bearer sk-wrong"}}).status, 401);
  EXPECT_EQ(call(service, "GET", "/v1/models", {}, {{"Authorization", "Basic sk-right"}}).status, 401);
  r = call(service, "GET", "/v1/models", {}, {{"authorization", "Bearer sk-right"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["object"], "list");
  // The health endpoints need no key: probes carry none.
  EXPECT_EQ(call(service, "GET", "/health").status, 200);
  EXPECT_EQ(call(service, "GET", "/metrics").status, 200);
  // Refusals are counted, the unauthenticated ones under their own tenant label.
  const std::string text = metrics.render();
  EXPECT_NE(text.find(R"(plinth_requests_total{endpoint="models",model="",status="401",tenant="unauthenticated"} 3)"),
            std::string::npos)
      << text.substr(0, 2000);
}

TEST(ApiService, RoutesMethodsAndBadBodies) {
  ServerMetrics metrics;
  ApiService service({}, metrics);
  service.set_ready(true);
  EXPECT_EQ(call(service, "GET", "/nope").status, 404);
  EXPECT_EQ(call(service, "POST", "/v1/nope").status, 404);
  EXPECT_EQ(call(service, "GET", "/v1/chat/completions").status, 405);
  EXPECT_EQ(call(service, "POST", "/health").status, 405);
  HttpResponse r = call(service, "POST", "/v1/chat/completions", "{not json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"]["type"], "invalid_request_error");
  r = call(service, "POST", "/v1/embeddings", R"({"model": "e", "input": "x", "extra": 1})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"]["param"], "extra");
  EXPECT_EQ(call(service, "GET", "/v1/models/unknown").status, 404);
  EXPECT_EQ(json::parse(call(service, "GET", "/v1/models").body)["data"].size(), 0u);
}

}  // namespace
}  // namespace plinth::server
