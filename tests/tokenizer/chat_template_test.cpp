// ChatML rendering from template text (the real model's template is checked in golden_test.cpp).
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include <format_writer.hpp>
#include <plinth/formats/gguf_file.hpp>
#include <plinth/models/chat_template.hpp>

namespace plinth::models {
namespace {

const std::vector<ChatMessage> kConversation = {{"user", "hi"}, {"assistant", "hello"}, {"user", "bye"}};

TEST(ChatTemplate, PlainChatMl) {
  const ChatTemplate t = ChatTemplate::from_string(
      "{% for m in messages %}{{'<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n'}}{% endfor %}");
  EXPECT_EQ(t.default_system_prompt(), "");
  EXPECT_EQ(t.apply(kConversation),
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>\n"
            "<|im_start|>user\nbye<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(t.apply(kConversation, false),
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>\n"
            "<|im_start|>user\nbye<|im_end|>\n");
  EXPECT_EQ(t.stop_strings(), (std::vector<std::string>{"<|im_end|>"}));
}

TEST(ChatTemplate, DefaultSystemPromptIsTakenFromTheTemplate) {
  // Escaped newlines and quotes inside the Jinja string literal.
  const ChatTemplate t = ChatTemplate::from_string(
      "{% if messages[0][\"role\"] != \"system\" %}{{ \"<|im_start|>system\\nYou are Bob.\\tBe nice.<|im_end|>\\n\" }}"
      "{% endif %}{% for m in messages %}{{'<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n'}}{% endfor %}");
  EXPECT_EQ(t.default_system_prompt(), "You are Bob.\tBe nice.");
  const std::vector<ChatMessage> user_first = {{"user", "hi"}};
  EXPECT_EQ(t.apply(user_first),
            "<|im_start|>system\nYou are Bob.\tBe nice.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
            "<|im_start|>assistant\n");
  const std::vector<ChatMessage> system_first = {{"system", "Be terse."}, {"user", "hi"}};
  EXPECT_EQ(t.apply(system_first, false), "<|im_start|>system\nBe terse.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n");
  EXPECT_EQ(t.apply({}, true), "<|im_start|>assistant\n");
}

TEST(ChatTemplate, DefaultSystemPromptInAnElseBranch) {
  // The shape of templates that test == 'system' and fall back to a literal default; the first
  // "<|im_start|>system" literals splice in message text and are not defaults.
  const ChatTemplate t = ChatTemplate::from_string(
      "{%- if tools %}{{- '<|im_start|>system\\n' }}{%- endif %}"
      "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + "
      "'<|im_end|>\\n' }}{%- else %}{{- '<|im_start|>system\\nYou are Qwen.<|im_end|>\\n' }}{%- endif %}");
  EXPECT_EQ(t.default_system_prompt(), "You are Qwen.");
}

TEST(ChatTemplate, NonChatMlIsAnError) {
  try {
    (void)ChatTemplate::from_string("{{ bos_token }}[INST] {{ messages[0]['content'] }} [/INST]", "model.gguf");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("model.gguf: unsupported chat template", 0), 0u) << what;
    EXPECT_NE(what.find("ChatML"), std::string::npos) << what;
  }
}

TEST(ChatTemplate, FromGguf) {
  namespace fw = formats::testing;
  fw::GgufSpec without;
  without.kvs.push_back(fw::kv_string("general.architecture", "llama"));
  const fw::Bytes a = fw::build_gguf(without);
  // No template: plain ChatML.
  EXPECT_EQ(ChatTemplate::from_gguf(formats::GgufFile::parse(a, "a.gguf")).apply(kConversation, false),
            ChatTemplate().apply(kConversation, false));
  fw::GgufSpec other = without;
  other.kvs.push_back(fw::kv_string("tokenizer.chat_template", "{{ messages }}"));
  const fw::Bytes b = fw::build_gguf(other);
  EXPECT_THROW((void)ChatTemplate::from_gguf(formats::GgufFile::parse(b, "b.gguf")), std::runtime_error);
}

}  // namespace
}  // namespace plinth::models
