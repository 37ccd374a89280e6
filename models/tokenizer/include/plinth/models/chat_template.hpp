#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace plinth::formats {
class GgufFile;
}

namespace plinth::models {

struct ChatMessage {
  std::string role;
  std::string content;
};

/// Renders a conversation into the prompt text a chat model was trained on. Only ChatML is
/// understood (templates containing "<|im_start|>", including the variant that inserts a default
/// system message); Jinja is not interpreted.
class ChatTemplate {
 public:
  /// ChatML with no default system prompt.
  ChatTemplate() = default;

  /// From tokenizer.chat_template; ChatML when the key is absent. Throws std::runtime_error naming the
  /// file when the template is of an unsupported kind.
  static ChatTemplate from_gguf(const formats::GgufFile& file);
  /// From template source text; name is used in error messages.
  static ChatTemplate from_string(std::string_view template_text, std::string_view name = "<template>");

  [[nodiscard]] std::string apply(std::span<const ChatMessage> messages, bool add_generation_prompt = true) const;
  /// Strings that end the assistant's turn, e.g. "<|im_end|>".
  [[nodiscard]] std::vector<std::string> stop_strings() const;
  /// The system message inserted when the conversation does not start with one (empty: none).
  [[nodiscard]] const std::string& default_system_prompt() const noexcept { return default_system_; }

 private:
  std::string default_system_;
};

}  // namespace plinth::models
