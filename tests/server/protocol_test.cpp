// The OpenAI wire format: what each request field does (served, accepted at its neutral value, or
// refused with a 400 naming it), the JSON limits, and the shapes of responses, chunks and errors.
#include <gtest/gtest.h>

#include <plinth/server/openai_protocol.hpp>
#include <string>

namespace plinth::server {
namespace {

using nlohmann::json;

// The ApiError `f` throws: its status and param.
template <class F>
ApiError error_of(F&& f) {
  try {
    f();
  } catch (const ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "no ApiError thrown";
  return ApiError(0, "none");
}

json chat(json extra = json::object()) {
  json body = {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
  body.update(extra);
  return body;
}

TEST(Protocol, ChatDefaultsAreOpenAIs) {
  const auto r = parse_chat_completion(chat());
  EXPECT_EQ(r.params.model, "m");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].role, "user");
  EXPECT_EQ(r.messages[0].content, "hi");
  EXPECT_FLOAT_EQ(r.params.sampling.temperature, 1.0f);
  EXPECT_FLOAT_EQ(r.params.sampling.top_p, 1.0f);
  EXPECT_EQ(r.params.sampling.top_k, 0);
  EXPECT_FALSE(r.params.max_tokens);
  EXPECT_FALSE(r.params.stream);
}

TEST(Protocol, ChatFieldsAreServed) {
  const auto r = parse_chat_completion(chat({{"max_completion_tokens", 7}, {"temperature", 0}, {"top_p", 0.5},
                                             {"seed", 42}, {"stop", {"a", "b"}}, {"stream", true},
                                             {"stream_options", {{"include_usage", true}}}, {"user", "u1"},
                                             {"top_k", 3}, {"min_p", 0.1}, {"priority", 2}, {"timeout", 1.5},
                                             {"queue_timeout", 0.25}, {"repetition_penalty", 1.1},
                                             {"ignore_eos", true}}));
  EXPECT_EQ(r.params.max_tokens, 7u);
  EXPECT_FLOAT_EQ(r.params.sampling.temperature, 0.0f);
  EXPECT_FLOAT_EQ(r.params.sampling.top_p, 0.5f);
  EXPECT_EQ(r.params.seed, 42u);
  EXPECT_EQ(r.params.stop, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(r.params.stream);
  EXPECT_TRUE(r.params.include_usage);
  EXPECT_EQ(r.params.user, "u1");
  EXPECT_EQ(r.params.sampling.top_k, 3);
  EXPECT_FLOAT_EQ(r.params.sampling.min_p, 0.1f);
  EXPECT_EQ(r.params.priority, 2);
  EXPECT_DOUBLE_EQ(*r.params.timeout_s, 1.5);
  EXPECT_DOUBLE_EQ(*r.params.queue_timeout_s, 0.25);
  EXPECT_FLOAT_EQ(r.params.sampling.repetition_penalty, 1.1f);
  EXPECT_TRUE(r.params.ignore_eos);
  EXPECT_EQ(parse_chat_completion(chat({{"max_tokens", 9}})).params.max_tokens, 9u);
  EXPECT_EQ(parse_chat_completion(chat({{"stop", "x"}})).params.stop, std::vector<std::string>{"x"});
}

TEST(Protocol, NeutralValuesAreAcceptedAndOthersRefusedByName) {
  // What common clients send by default.
  EXPECT_NO_THROW(parse_chat_completion(chat({{"n", 1}, {"presence_penalty", 0}, {"frequency_penalty", 0},
                                              {"logprobs", false}, {"top_logprobs", 0}, {"logit_bias", json::object()},
                                              {"response_format", {{"type", "text"}}}, {"tools", json::array()},
                                              {"tool_choice", "none"}, {"max_tokens", nullptr}})));
  for (const auto& [field, value] : std::vector<std::pair<std::string, json>>{
           {"n", 2}, {"presence_penalty", 0.5}, {"frequency_penalty", -1}, {"logprobs", true}, {"top_logprobs", 3},
           {"logit_bias", {{"5", 1}}}, {"response_format", {{"type", "json_object"}}}}) {
    const ApiError e = error_of([&] { parse_chat_completion(chat({{field, value}})); });
    EXPECT_EQ(e.status(), 400) << field;
    EXPECT_EQ(e.param(), field);
    EXPECT_EQ(e.code(), "unsupported_value") << field;
  }
  const ApiError unknown = error_of([] { parse_chat_completion(chat({{"functions", json::array()}})); });
  EXPECT_EQ(unknown.status(), 400);
  EXPECT_EQ(unknown.param(), "functions");
  EXPECT_NE(std::string(unknown.what()).find("unrecognized"), std::string::npos);
}

TEST(Protocol, BadValuesNameTheirField) {
  for (const auto& [field, value] : std::vector<std::pair<std::string, json>>{
           {"temperature", 3}, {"temperature", "hot"}, {"top_p", 0}, {"max_tokens", 0}, {"max_tokens", 1.5},
           {"max_completion_tokens", -1}, {"stop", {"a", "b", "c", "d", "e"}}, {"stop", ""}, {"stream", "yes"},
           {"priority", 10}, {"timeout", 0}, {"top_k", -1}, {"seed", "x"}, {"model", ""}}) {
    const ApiError e = error_of([&] { parse_chat_completion(chat({{field, value}})); });
    EXPECT_EQ(e.status(), 400) << field << "=" << value;
    EXPECT_EQ(e.param(), field) << value;
  }
  EXPECT_EQ(error_of([] { parse_chat_completion(json{{"messages", json::array({{{"role", "user"}, {"content", "x"}}})}}); }).param(),
            "model");
  EXPECT_EQ(error_of([] { parse_chat_completion(json{{"model", "m"}}); }).param(), "messages");
  EXPECT_EQ(error_of([] { parse_chat_completion(chat({{"messages", json::array()}})); }).param(), "messages");
}

TEST(Protocol, Messages) {
  const auto r = parse_chat_completion(chat(
      {{"messages",
        {{{"role", "developer"}, {"content", "be brief"}},
         {{"role", "user"}, {"content", {{{"type", "text"}, {"text", "a"}}, {{"type", "text"}, {"text", "b"}}}}},
         {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", json::array()}}}}}));
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[1].content, "ab");
  EXPECT_EQ(r.messages[2].content, "");
  EXPECT_EQ(error_of([] { parse_chat_completion(chat({{"messages", {{{"role", "tool"}, {"content", "x"}}}}})); }).param(),
            "messages[0].role");
  EXPECT_EQ(error_of([] {
              parse_chat_completion(chat({{"messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}}}}}}}}));
            }).param(),
            "messages[0].content");
  EXPECT_EQ(error_of([] { parse_chat_completion(chat({{"messages", {{{"role", "user"}, {"content", "x"}, {"name", "bob"}}}}})); })
                .param(),
            "messages[0].name");
  EXPECT_EQ(error_of([] { parse_chat_completion(chat({{"messages", {{{"role", "user"}}}}})); }).param(),
            "messages[0].content");
}

TEST(Protocol, CompletionPrompts) {
  EXPECT_EQ(parse_completion({{"model", "m"}, {"prompt", "abc"}}).prompt, "abc");
  EXPECT_EQ(parse_completion({{"model", "m"}, {"prompt", {"abc"}}}).prompt, "abc");
  EXPECT_EQ(*parse_completion({{"model", "m"}, {"prompt", {1, 2, 3}}}).prompt_tokens, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(*parse_completion({{"model", "m"}, {"prompt", {{4, 5}}}}).prompt_tokens, (std::vector<int32_t>{4, 5}));
  EXPECT_EQ(error_of([] { parse_completion({{"model", "m"}, {"prompt", {"a", "b"}}}); }).code(), "unsupported_value");
  EXPECT_EQ(error_of([] { parse_completion({{"model", "m"}, {"prompt", ""}}); }).param(), "prompt");
  EXPECT_EQ(error_of([] { parse_completion({{"model", "m"}, {"prompt", {1, -2}}}); }).param(), "prompt");
  EXPECT_EQ(error_of([] { parse_completion({{"model", "m"}, {"prompt", "a"}, {"echo", true}}); }).param(), "echo");
  EXPECT_NO_THROW(parse_completion({{"model", "m"}, {"prompt", "a"}, {"echo", false}, {"best_of", 1}, {"suffix", ""}}));
}

TEST(Protocol, EmbeddingInputs) {
  EXPECT_EQ(parse_embeddings({{"model", "e"}, {"input", "x"}}).texts, std::vector<std::string>{"x"});
  const auto many = parse_embeddings({{"model", "e"}, {"input", {"x", "y"}}, {"encoding_format", "base64"}});
  EXPECT_EQ(many.texts.size(), 2u);
  EXPECT_TRUE(many.base64);
  EXPECT_EQ(parse_embeddings({{"model", "e"}, {"input", {1, 2}}}).token_inputs.size(), 1u);
  EXPECT_EQ(parse_embeddings({{"model", "e"}, {"input", {{1, 2}, {3}}}}).token_inputs.size(), 2u);
  EXPECT_EQ(*parse_embeddings({{"model", "e"}, {"input", "x"}, {"dimensions", 384}}).dimensions, 384);
  EXPECT_EQ(error_of([] { parse_embeddings({{"model", "e"}, {"input", "x"}, {"encoding_format", "int8"}}); }).param(),
            "encoding_format");
  EXPECT_EQ(error_of([] { parse_embeddings({{"model", "e"}, {"input", json::array()}}); }).param(), "input");
  EXPECT_EQ(error_of([] { parse_embeddings({{"model", "e"}, {"input", {""}}}); }).param(), "input");
  EXPECT_EQ(error_of([] { parse_embeddings({{"model", "e"}}); }).param(), "input");
}

TEST(Protocol, JsonBodyLimits) {
  EXPECT_EQ(parse_json_object(R"({"a": 1})")["a"], 1);
  EXPECT_EQ(error_of([] { parse_json_object("[1]"); }).status(), 400);
  EXPECT_EQ(error_of([] { parse_json_object("{"); }).status(), 400);
  EXPECT_EQ(error_of([] { parse_json_object(""); }).status(), 400);
  std::string deep = "{\"a\":" + std::string(kMaxJsonDepth + 5, '[') + std::string(kMaxJsonDepth + 5, ']') + "}";
  const ApiError e = error_of([&] { parse_json_object(deep); });
  EXPECT_EQ(e.status(), 400);
  EXPECT_NE(std::string(e.what()).find("deeper"), std::string::npos);
  // A hundred thousand levels: refused without recursing that deep.
  std::string very_deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(error_of([&] { parse_json_object(very_deep); }).status(), 400);
}

TEST(Protocol, ResponseShapes) {
  const ResponseHeader h{.id = "chatcmpl-1", .created = 5, .model = "m"};
  const json full = completion_json(Endpoint::chat, h, "hello", "stop", {.prompt_tokens = 3, .completion_tokens = 2});
  EXPECT_EQ(full["object"], "chat.completion");
  EXPECT_EQ(full["choices"][0]["message"]["content"], "hello");
  EXPECT_EQ(full["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(full["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(full["usage"]["total_tokens"], 5);
  const json text = completion_json(Endpoint::completion, h, "x", "length", {});
  EXPECT_EQ(text["object"], "text_completion");
  EXPECT_EQ(text["choices"][0]["text"], "x");

  const json first = chunk_json(Endpoint::chat, h, "", std::nullopt, true);
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  EXPECT_TRUE(first["choices"][0]["finish_reason"].is_null());
  const json last = chunk_json(Endpoint::chat, h, "", "length", false);
  EXPECT_EQ(last["choices"][0]["finish_reason"], "length");
  EXPECT_TRUE(last["choices"][0]["delta"].empty());
  const json usage = usage_chunk_json(Endpoint::chat, h, {.prompt_tokens = 1, .completion_tokens = 1});
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["total_tokens"], 2);
  EXPECT_EQ(sse_event(json{{"a", 1}}), "data: {\"a\":1}\n\n");
}

TEST(Protocol, ErrorObjects) {
  const json e = error_json(429, "slow down");
  EXPECT_EQ(e["error"]["message"], "slow down");
  EXPECT_EQ(e["error"]["type"], "rate_limit_error");
  EXPECT_TRUE(e["error"]["param"].is_null());
  EXPECT_EQ(error_json(401, "x")["error"]["type"], "authentication_error");
  EXPECT_EQ(error_json(404, "x")["error"]["type"], "not_found_error");
  EXPECT_EQ(error_json(500, "x")["error"]["type"], "server_error");
  EXPECT_EQ(error_json(400, "x", {}, "model", "c")["error"]["param"], "model");
  EXPECT_EQ(ApiError(429, "x").set_retry_after(3).retry_after(), 3);
}

TEST(Protocol, EmbeddingsEncoding) {
  const float values[] = {1.0f, -2.0f};
  EXPECT_EQ(base64_floats(values, 1), "AACAPw==");      // 00 00 80 3f
  EXPECT_EQ(base64_floats(values, 2), "AACAPwAAAMA=");  // ... 00 00 00 c0
  const json out = embeddings_json("e", {1, 2, 3, 4}, 2, false, 7);
  ASSERT_EQ(out["data"].size(), 2u);
  EXPECT_EQ(out["data"][1]["index"], 1);
  EXPECT_EQ(out["data"][1]["embedding"], json({3.0, 4.0}));
  EXPECT_EQ(out["usage"]["prompt_tokens"], 7);
  EXPECT_EQ(embeddings_json("e", {1, 2}, 2, true, 1)["data"][0]["embedding"], base64_floats(values, 0) + "AACAPwAAAEA=");
  EXPECT_EQ(models_json({"a", "b"}, 1)["data"][1]["id"], "b");
}

}  // namespace
}  // namespace plinth::server
