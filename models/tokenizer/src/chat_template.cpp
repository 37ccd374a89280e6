#include <plinth/models/chat_template.hpp>

#include <algorithm>
#include <stdexcept>

#include <plinth/formats/gguf_file.hpp>

namespace plinth::models {
namespace {

constexpr std::string_view kImStart = "<|im_start|>";
constexpr std::string_view kImEnd = "<|im_end|>";

// Jinja string-literal escapes that can appear in a template's system prompt.
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      const char c = s[++i];
      switch (c) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        default: out += c; break;  // \\ \' \"
      }
    } else {
      out += s[i];
    }
  }
  return out;
}

// A ChatML template that tests the first message's role and otherwise emits a literal
// "<|im_start|>system\n...<|im_end|>" block carries a default system prompt: the first such block
// after the test whose text is one plain string literal (no quotes, no Jinja code inside).
std::string find_default_system(std::string_view text) {
  std::size_t guard = std::string_view::npos;
  for (std::string_view g : {"'system'", "\"system\""}) guard = std::min(guard, text.find(g));
  if (guard == std::string_view::npos) return {};
  std::size_t best_at = std::string_view::npos;
  std::string best;
  for (std::string_view open : {"<|im_start|>system\n", "<|im_start|>system\\n"}) {
    for (std::size_t at = text.find(open, guard); at != std::string_view::npos; at = text.find(open, at + 1)) {
      if (at > best_at) break;
      const std::size_t begin = at + open.size();
      const std::size_t end = text.find(kImEnd, begin);
      if (end == std::string_view::npos) break;
      const std::string_view body = text.substr(begin, end - begin);
      if (body.empty() || body.find_first_of("'\"") != std::string_view::npos ||
          body.find("{{") != std::string_view::npos || body.find("{%") != std::string_view::npos) {
        continue;
      }
      best_at = at;
      best = unescape(body);
      break;
    }
  }
  return best;
}

}  // namespace

ChatTemplate ChatTemplate::from_string(std::string_view template_text, std::string_view name) {
  if (template_text.find(kImStart) == std::string_view::npos) {
    throw std::runtime_error(std::string(name) +
                             ": unsupported chat template (only ChatML templates, which use <|im_start|>, are "
                             "supported; Jinja is not interpreted)");
  }
  ChatTemplate t;
  t.default_system_ = find_default_system(template_text);
  return t;
}

ChatTemplate ChatTemplate::from_gguf(const formats::GgufFile& file) {
  if (!file.contains("tokenizer.chat_template")) return ChatTemplate();
  return from_string(file.get<std::string_view>("tokenizer.chat_template"), file.name());
}

std::string ChatTemplate::apply(std::span<const ChatMessage> messages, bool add_generation_prompt) const {
  std::string out;
  auto turn = [&out](std::string_view role, std::string_view content) {
    out += kImStart;
    out += role;
    out += '\n';
    out += content;
    out += kImEnd;
    out += '\n';
  };
  if (!default_system_.empty() && !messages.empty() && messages.front().role != "system") {
    turn("system", default_system_);
  }
  for (const ChatMessage& m : messages) turn(m.role, m.content);
  if (add_generation_prompt) {
    out += kImStart;
    out += "assistant\n";
  }
  return out;
}

std::vector<std::string> ChatTemplate::stop_strings() const { return {std::string(kImEnd)}; }

}  // namespace plinth::models
