#include "plinth/server/openai_protocol.hpp"

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>

namespace plinth::server {
namespace {

using nlohmann::json;

[[noreturn]] void bad(std::string_view param, std::string message) {
  throw ApiError(400, std::move(message), "invalid_request_error", std::string(param));
}

[[noreturn]] void unsupported(std::string_view param, std::string_view what) {
  throw ApiError(400, std::string(param) + ": " + std::string(what) + " is not supported by this server",
                 "invalid_request_error", std::string(param), "unsupported_value");
}

std::string type_name(const json& v) { return v.type_name(); }

const std::string& as_string(const json& v, std::string_view name) {
  if (!v.is_string()) bad(name, std::string(name) + " must be a string, not " + type_name(v));
  return v.get_ref<const std::string&>();
}

bool as_bool(const json& v, std::string_view name) {
  if (!v.is_boolean()) bad(name, std::string(name) + " must be a boolean, not " + type_name(v));
  return v.get<bool>();
}

double as_number(const json& v, std::string_view name, double lo, double hi) {
  if (!v.is_number()) bad(name, std::string(name) + " must be a number, not " + type_name(v));
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi) {
    bad(name, std::string(name) + " must be in [" + json(lo).dump() + ", " + json(hi).dump() + "], not " + v.dump());
  }
  return x;
}

std::int64_t as_integer(const json& v, std::string_view name, std::int64_t lo, std::int64_t hi) {
  if (!v.is_number_integer()) bad(name, std::string(name) + " must be an integer, not " + v.dump());
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi)) {
    bad(name, std::string(name) + " must be at most " + std::to_string(hi));
  }
  const std::int64_t x = v.get<std::int64_t>();
  if (x < lo || x > hi) {
    bad(name, std::string(name) + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], not " +
                  std::to_string(x));
  }
  return x;
}

std::vector<std::int32_t> as_token_ids(const json& v, std::string_view name) {
  std::vector<std::int32_t> ids;
  ids.reserve(v.size());
  for (const json& t : v) {
    ids.push_back(static_cast<std::int32_t>(as_integer(t, name, 0, std::numeric_limits<std::int32_t>::max())));
  }
  return ids;
}

bool is_token_array(const json& v) { return v.is_array() && !v.empty() && v.front().is_number(); }

// One field's decoder. Every field a request may carry has one, declared once per endpoint; a field
// without one is refused.
template <class Request>
using FieldTable = std::map<std::string, std::function<void(const json&, Request&)>, std::less<>>;

template <class Request>
Request decode(const json& body, const FieldTable<Request>& table, std::initializer_list<std::string_view> required) {
  if (!body.is_object()) throw ApiError(400, "the request body must be a JSON object");
  for (std::string_view name : required) {
    if (!body.contains(name) || body.at(std::string(name)).is_null()) {
      bad(name, "missing required parameter: " + std::string(name));
    }
  }
  Request request;
  for (const auto& [key, value] : body.items()) {
    const auto it = table.find(key);
    if (it == table.end()) bad(key, "unrecognized request argument: " + key);
    if (value.is_null()) continue;  // clients send null for "unset"
    it->second(value, request);
  }
  return request;
}

// A penalty Plinth does not have: 0 (neutral) is accepted.
template <class R>
void neutral_zero(const json& v, R&, std::string_view name) {
  if (as_number(v, name, -2, 2) != 0) unsupported(name, "a non-zero value");
}

// The fields of chat and completions requests alike, over the GenerationParams member.
template <class R>
void add_generation_fields(FieldTable<R>& t) {
  t["model"] = [](const json& v, R& r) {
    r.params.model = as_string(v, "model");
    if (r.params.model.empty()) bad("model", "model must not be empty");
  };
  const auto max_tokens = [](std::string_view name) {
    return [name](const json& v, R& r) {
      r.params.max_tokens = static_cast<std::size_t>(as_integer(v, name, 1, std::numeric_limits<std::int32_t>::max()));
    };
  };
  t["max_tokens"] = max_tokens("max_tokens");
  t["max_completion_tokens"] = max_tokens("max_completion_tokens");
  t["temperature"] = [](const json& v, R& r) { r.params.sampling.temperature = static_cast<float>(as_number(v, "temperature", 0, 2)); };
  t["top_p"] = [](const json& v, R& r) {
    const double p = as_number(v, "top_p", 0, 1);
    if (p <= 0) bad("top_p", "top_p must be greater than 0");
    r.params.sampling.top_p = static_cast<float>(p);
  };
  t["seed"] = [](const json& v, R& r) {
    r.params.seed = static_cast<std::uint64_t>(
        as_integer(v, "seed", std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()));
  };
  t["stop"] = [](const json& v, R& r) {
    std::vector<std::string> stop;
    if (v.is_string()) {
      stop.push_back(v.get<std::string>());
    } else if (v.is_array()) {
      if (v.size() > kMaxStopStrings) bad("stop", "stop takes at most " + std::to_string(kMaxStopStrings) + " strings");
      for (const json& s : v) stop.push_back(as_string(s, "stop"));
    } else {
      bad("stop", "stop must be a string or an array of strings");
    }
    for (const auto& s : stop) {
      if (s.empty()) bad("stop", "stop strings must not be empty");
    }
    r.params.stop = std::move(stop);
  };
  t["stream"] = [](const json& v, R& r) { r.params.stream = as_bool(v, "stream"); };
  t["stream_options"] = [](const json& v, R& r) {
    if (!v.is_object()) bad("stream_options", "stream_options must be an object");
    for (const auto& [key, value] : v.items()) {
      if (key != "include_usage") bad("stream_options", "unrecognized stream_options field: " + key);
      if (!value.is_null()) r.params.include_usage = as_bool(value, "stream_options.include_usage");
    }
  };
  t["user"] = [](const json& v, R& r) { r.params.user = as_string(v, "user"); };
  t["n"] = [](const json& v, R&) {
    if (as_integer(v, "n", 1, 128) != 1) unsupported("n", "more than one choice");
  };
  t["presence_penalty"] = [](const json& v, R& r) { neutral_zero(v, r, "presence_penalty"); };
  t["frequency_penalty"] = [](const json& v, R& r) { neutral_zero(v, r, "frequency_penalty"); };
  t["logit_bias"] = [](const json& v, R&) {
    if (!v.is_object()) bad("logit_bias", "logit_bias must be an object");
    if (!v.empty()) unsupported("logit_bias", "a token bias");
  };
  // Extensions.
  t["top_k"] = [](const json& v, R& r) { r.params.sampling.top_k = static_cast<int>(as_integer(v, "top_k", 0, 1 << 20)); };
  t["min_p"] = [](const json& v, R& r) { r.params.sampling.min_p = static_cast<float>(as_number(v, "min_p", 0, 1)); };
  t["repetition_penalty"] = [](const json& v, R& r) {
    const double p = as_number(v, "repetition_penalty", 0, 10);
    if (p <= 0) bad("repetition_penalty", "repetition_penalty must be greater than 0");
    r.params.sampling.repetition_penalty = static_cast<float>(p);
  };
  t["priority"] = [](const json& v, R& r) { r.params.priority = static_cast<int>(as_integer(v, "priority", 0, kMaxPriority)); };
  t["timeout"] = [](const json& v, R& r) {
    r.params.timeout_s = as_number(v, "timeout", 0, 24 * 3600);
    if (*r.params.timeout_s <= 0) bad("timeout", "timeout must be greater than 0");
  };
  t["ignore_eos"] = [](const json& v, R& r) { r.params.ignore_eos = as_bool(v, "ignore_eos"); };
  t["queue_timeout"] = [](const json& v, R& r) {
    r.params.queue_timeout_s = as_number(v, "queue_timeout", 0, 24 * 3600);
    if (*r.params.queue_timeout_s <= 0) bad("queue_timeout", "queue_timeout must be greater than 0");
  };
}

std::string message_content(const json& v, std::size_t index) {
  const std::string name = "messages[" + std::to_string(index) + "].content";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return {};
  if (!v.is_array()) bad(name, name + " must be a string or an array of content parts");
  std::string text;
  for (const json& part : v) {
    if (!part.is_object() || !part.contains("type")) bad(name, name + ": each part must be an object with a type");
    const std::string& type = as_string(part.at("type"), name + ".type");
    if (type != "text") unsupported(name, "content of type '" + type + "'");
    for (const auto& [key, value] : part.items()) {
      if (key != "type" && key != "text") bad(name, name + ": unrecognized content part field: " + key);
    }
    if (!part.contains("text")) bad(name, name + ": a text part needs text");
    text += as_string(part.at("text"), name + ".text");
  }
  return text;
}

models::ChatMessage chat_message(const json& m, std::size_t index) {
  const std::string at = "messages[" + std::to_string(index) + "]";
  if (!m.is_object()) bad(at, at + " must be an object");
  if (!m.contains("role")) bad(at + ".role", at + " has no role");
  models::ChatMessage message;
  message.role = as_string(m.at("role"), at + ".role");
  if (message.role == "developer") message.role = "system";
  if (message.role != "system" && message.role != "user" && message.role != "assistant") {
    unsupported(at + ".role", "the role '" + message.role + "'");
  }
  for (const auto& [key, value] : m.items()) {
    if (key == "role") continue;
    if (key == "content") {
      message.content = message_content(value, index);
    } else if (value.is_null() || (key == "tool_calls" && value.is_array() && value.empty())) {
      continue;
    } else {
      unsupported(at + "." + key, "the message field '" + key + "'");
    }
  }
  if (!m.contains("content") && message.role != "assistant") bad(at + ".content", at + " has no content");
  return message;
}

}  // namespace

json ApiError::to_json() const { return error_json(status_, what(), type_, param_, code_); }

json error_json(int status, std::string_view message, std::string_view type, std::string_view param,
                std::string_view code) {
  std::string t(type);
  if (t.empty()) {
    switch (status) {
      case 401: t = "authentication_error"; break;
      case 403: t = "permission_error"; break;
      case 404: t = "not_found_error"; break;
      case 429: t = "rate_limit_error"; break;
      case 503: t = "service_unavailable"; break;
      default: t = status >= 500 ? "server_error" : "invalid_request_error";
    }
  }
  return {{"error",
           {{"message", message},
            {"type", t},
            {"param", param.empty() ? json(nullptr) : json(param)},
            {"code", code.empty() ? json(nullptr) : json(code)}}}};
}

json parse_json_object(std::string_view body) {
  json value;
  try {
    value = json::parse(body, [](int depth, json::parse_event_t, json&) {
      if (depth > kMaxJsonDepth) {
        throw ApiError(400, "the request body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
      }
      return true;
    });
  } catch (const json::exception& e) {
    throw ApiError(400, std::string("the request body is not valid JSON: ") + e.what());
  }
  if (!value.is_object()) throw ApiError(400, "the request body must be a JSON object");
  return value;
}

ChatCompletionRequest parse_chat_completion(const json& body) {
  static const FieldTable<ChatCompletionRequest> table = [] {
    FieldTable<ChatCompletionRequest> t;
    add_generation_fields(t);
    t["messages"] = [](const json& v, ChatCompletionRequest& r) {
      if (!v.is_array() || v.empty()) bad("messages", "messages must be a non-empty array");
      for (std::size_t i = 0; i < v.size(); ++i) r.messages.push_back(chat_message(v[i], i));
    };
    t["logprobs"] = [](const json& v, ChatCompletionRequest&) {
      if (as_bool(v, "logprobs")) unsupported("logprobs", "returning log probabilities");
    };
    t["top_logprobs"] = [](const json& v, ChatCompletionRequest&) {
      if (as_integer(v, "top_logprobs", 0, 20) != 0) unsupported("top_logprobs", "returning log probabilities");
    };
    t["response_format"] = [](const json& v, ChatCompletionRequest&) {
      if (!v.is_object() || v.value("type", "") != "text" || v.size() != 1) {
        unsupported("response_format", "a response format other than {\"type\": \"text\"}");
      }
    };
    t["tools"] = [](const json& v, ChatCompletionRequest&) {
      if (!v.is_array() || !v.empty()) unsupported("tools", "tool calling");
    };
    t["tool_choice"] = [](const json& v, ChatCompletionRequest&) {
      if (!v.is_string() || v.get<std::string>() != "none") unsupported("tool_choice", "tool calling");
    };
    t["parallel_tool_calls"] = [](const json& v, ChatCompletionRequest&) { as_bool(v, "parallel_tool_calls"); };
    return t;
  }();
  return decode(body, table, {"model", "messages"});
}

CompletionRequest parse_completion(const json& body) {
  static const FieldTable<CompletionRequest> table = [] {
    FieldTable<CompletionRequest> t;
    add_generation_fields(t);
    t["prompt"] = [](const json& v, CompletionRequest& r) {
      if (v.is_string()) {
        r.prompt = v.get<std::string>();
      } else if (is_token_array(v)) {
        r.prompt_tokens = as_token_ids(v, "prompt");
      } else if (v.is_array() && v.size() == 1 && v.front().is_string()) {
        r.prompt = v.front().get<std::string>();
      } else if (v.is_array() && v.size() == 1 && is_token_array(v.front())) {
        r.prompt_tokens = as_token_ids(v.front(), "prompt");
      } else if (v.is_array() && v.size() > 1) {
        unsupported("prompt", "more than one prompt per request");
      } else {
        bad("prompt", "prompt must be a string, an array of one string, or an array of token ids");
      }
    };
    t["echo"] = [](const json& v, CompletionRequest& r) {
      r.echo = as_bool(v, "echo");
      if (r.echo) unsupported("echo", "echoing the prompt");
    };
    t["suffix"] = [](const json& v, CompletionRequest&) {
      if (!as_string(v, "suffix").empty()) unsupported("suffix", "a suffix");
    };
    t["best_of"] = [](const json& v, CompletionRequest&) {
      if (as_integer(v, "best_of", 1, 20) != 1) unsupported("best_of", "more than one candidate");
    };
    t["logprobs"] = [](const json& v, CompletionRequest&) {
      if (as_integer(v, "logprobs", 0, 5) != 0) unsupported("logprobs", "returning log probabilities");
    };
    return t;
  }();
  CompletionRequest r = decode(body, table, {"model", "prompt"});
  if (!r.prompt_tokens && r.prompt.empty()) bad("prompt", "prompt must not be empty");
  return r;
}

EmbeddingsRequest parse_embeddings(const json& body) {
  static const FieldTable<EmbeddingsRequest> table = [] {
    FieldTable<EmbeddingsRequest> t;
    t["model"] = [](const json& v, EmbeddingsRequest& r) {
      r.model = as_string(v, "model");
      if (r.model.empty()) bad("model", "model must not be empty");
    };
    t["input"] = [](const json& v, EmbeddingsRequest& r) {
      if (v.is_string()) {
        r.texts.push_back(v.get<std::string>());
      } else if (is_token_array(v)) {
        r.token_inputs.push_back(as_token_ids(v, "input"));
      } else if (v.is_array() && !v.empty() && v.front().is_string()) {
        for (const json& s : v) r.texts.push_back(as_string(s, "input"));
      } else if (v.is_array() && !v.empty() && v.front().is_array()) {
        for (const json& ids : v) {
          if (!is_token_array(ids)) bad("input", "input: each token array must be a non-empty array of integers");
          r.token_inputs.push_back(as_token_ids(ids, "input"));
        }
      } else {
        bad("input", "input must be a string, an array of strings, or token ids");
      }
      for (const auto& s : r.texts) {
        if (s.empty()) bad("input", "input strings must not be empty");
      }
    };
    t["encoding_format"] = [](const json& v, EmbeddingsRequest& r) {
      const std::string& f = as_string(v, "encoding_format");
      if (f != "float" && f != "base64") bad("encoding_format", "encoding_format must be 'float' or 'base64'");
      r.base64 = f == "base64";
    };
    t["dimensions"] = [](const json& v, EmbeddingsRequest& r) {
      r.dimensions = static_cast<int>(as_integer(v, "dimensions", 1, 1 << 16));
    };
    t["user"] = [](const json& v, EmbeddingsRequest& r) { r.user = as_string(v, "user"); };
    t["priority"] = [](const json& v, EmbeddingsRequest& r) {
      r.priority = static_cast<int>(as_integer(v, "priority", 0, kMaxPriority));
    };
    t["timeout"] = [](const json& v, EmbeddingsRequest& r) {
      r.timeout_s = as_number(v, "timeout", 0, 24 * 3600);
      if (*r.timeout_s <= 0) bad("timeout", "timeout must be greater than 0");
    };
    return t;
  }();
  return decode(body, table, {"model", "input"});
}

// ---- Responses ----------------------------------------------------------------------------------

json usage_json(const TokenUsage& u) {
  json usage = {{"prompt_tokens", u.prompt_tokens},
                {"completion_tokens", u.completion_tokens},
                {"total_tokens", u.prompt_tokens + u.completion_tokens}};
  usage["prompt_tokens_details"] = {{"cached_tokens", u.cached_tokens}};
  return usage;
}

namespace {

json response_base(Endpoint endpoint, const ResponseHeader& h, bool chunk) {
  const char* object = endpoint == Endpoint::chat ? (chunk ? "chat.completion.chunk" : "chat.completion")
                                                  : "text_completion";
  return {{"id", h.id}, {"object", object}, {"created", h.created}, {"model", h.model}};
}

}  // namespace

json completion_json(Endpoint endpoint, const ResponseHeader& header, std::string_view text,
                     std::string_view finish_reason, const TokenUsage& usage) {
  json out = response_base(endpoint, header, false);
  json choice = {{"index", 0}, {"finish_reason", finish_reason}, {"logprobs", nullptr}};
  if (endpoint == Endpoint::chat) {
    choice["message"] = {{"role", "assistant"}, {"content", text}};
  } else {
    choice["text"] = text;
  }
  out["choices"] = json::array({choice});
  out["usage"] = usage_json(usage);
  return out;
}

json chunk_json(Endpoint endpoint, const ResponseHeader& header, std::string_view text,
                std::optional<std::string_view> finish_reason, bool first) {
  json out = response_base(endpoint, header, true);
  json choice = {{"index", 0}, {"logprobs", nullptr},
                 {"finish_reason", finish_reason ? json(*finish_reason) : json(nullptr)}};
  if (endpoint == Endpoint::chat) {
    json delta = json::object();
    if (first) delta["role"] = "assistant";
    if (!text.empty() || (first && !finish_reason)) delta["content"] = text;
    choice["delta"] = std::move(delta);
  } else {
    choice["text"] = text;
  }
  out["choices"] = json::array({choice});
  return out;
}

json usage_chunk_json(Endpoint endpoint, const ResponseHeader& header, const TokenUsage& usage) {
  json out = response_base(endpoint, header, true);
  out["choices"] = json::array();
  out["usage"] = usage_json(usage);
  return out;
}

std::string sse_event(const json& data) {
  std::string out = "data: ";
  out += data.dump(-1, ' ', false, json::error_handler_t::replace);
  out += "\n\n";
  return out;
}

std::string base64_floats(const float* values, std::size_t count) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  static_assert(std::numeric_limits<float>::is_iec559);
  std::string bytes(count * 4, '\0');
  for (std::size_t i = 0; i < count; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, &values[i], 4);
    for (int b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xff);  // little-endian
  }
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = (std::uint32_t(std::uint8_t(bytes[i])) << 16) | (std::uint32_t(std::uint8_t(bytes[i + 1])) << 8) |
                            std::uint8_t(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t n = std::uint32_t(std::uint8_t(bytes[i])) << 16;
    if (rest == 2) n |= std::uint32_t(std::uint8_t(bytes[i + 1])) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

json embeddings_json(std::string_view model, const std::vector<float>& rows, int dim, bool base64,
                     std::size_t prompt_tokens) {
  json data = json::array();
  const std::size_t n = dim > 0 ? rows.size() / static_cast<std::size_t>(dim) : 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float* row = rows.data() + i * static_cast<std::size_t>(dim);
    json item = {{"object", "embedding"}, {"index", i}};
    if (base64) {
      item["embedding"] = base64_floats(row, static_cast<std::size_t>(dim));
    } else {
      item["embedding"] = std::vector<float>(row, row + dim);
    }
    data.push_back(std::move(item));
  }
  return {{"object", "list"},
          {"data", std::move(data)},
          {"model", model},
          {"usage", {{"prompt_tokens", prompt_tokens}, {"total_tokens", prompt_tokens}}}};
}

json model_json(std::string_view id, std::int64_t created) {
  return {{"id", id}, {"object", "model"}, {"created", created}, {"owned_by", "plinth"}};
}

json models_json(const std::vector<std::string>& ids, std::int64_t created) {
  json data = json::array();
  for (const auto& id : ids) data.push_back(model_json(id, created));
  return {{"object", "list"}, {"data", std::move(data)}};
}

}  // namespace plinth::server
