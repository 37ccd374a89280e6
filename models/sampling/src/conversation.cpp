#include "plinth/models/conversation.hpp"

#include <algorithm>
#include <cstddef>

namespace plinth::models {

Conversation::Conversation(LlamaSession& session, const Tokenizer& tokenizer,
                           const ChatTemplate& chat_template, std::optional<std::string_view> system)
    : session_(session), tokenizer_(tokenizer), template_(chat_template) {
  if (system) system_.emplace(*system);
  reset();
}

void Conversation::reset() {
  messages_.clear();
  if (system_) messages_.push_back({"system", *system_});
  session_.reset();
  cached_text_.clear();
  cached_tokens_.clear();
}

std::optional<GenerateStats> Conversation::turn(std::string_view user, GenerateOptions options,
                                                const std::function<bool(std::string_view text)>& on_text) {
  const auto prompt = add_user(user);
  if (!prompt) return std::nullopt;
  // The cache before this turn is the history the repetition penalty sees besides the prompt.
  const std::vector<int32_t> context(cached_tokens_.begin(),
                                     cached_tokens_.end() - static_cast<std::ptrdiff_t>(prompt->size()));
  options.context = context;
  std::string answer;
  auto stats = generate(session_, tokenizer_, *prompt, options, [&](std::string_view piece) {
    answer.append(piece);
    return !on_text || on_text(piece);
  });
  add_answer(stats, answer);
  return stats;
}

std::optional<std::vector<int32_t>> Conversation::add_user(std::string_view user) {
  messages_.push_back({"user", std::string(user)});
  const std::string rendered = template_.apply(messages_, /*add_generation_prompt=*/true);
  const int room = session_.max_context() - 1;  // leave room to generate at least one token
  if (!cached_text_.empty() && rendered.starts_with(cached_text_)) {
    auto tail =
        tokenizer_.encode(std::string_view(rendered).substr(cached_text_.size()), /*add_special=*/false);
    if (!tail.empty() && session_.position() + static_cast<int>(tail.size()) <= room) {
      cached_text_ = rendered;
      cached_tokens_.insert(cached_tokens_.end(), tail.begin(), tail.end());
      return tail;
    }
  }
  auto all = tokenizer_.encode(rendered, /*add_special=*/true);
  if (static_cast<int>(all.size()) > room) {
    messages_.pop_back();
    return std::nullopt;
  }
  // Keep the longest common token prefix (at least one token must be prefilled for fresh logits).
  const std::size_t limit = std::min(cached_tokens_.size(), all.size() - 1);
  std::size_t keep = 0;
  while (keep < limit && cached_tokens_[keep] == all[keep]) ++keep;
  session_.truncate(static_cast<int>(keep));
  cached_tokens_ = all;
  cached_text_ = rendered;
  return std::vector<int32_t>(all.begin() + static_cast<std::ptrdiff_t>(keep), all.end());
}

void Conversation::add_answer(const GenerateStats& stats, std::string_view shown) {
  for (int i = 0; i < stats.decode_steps; ++i) {
    const int32_t t = stats.tokens[static_cast<std::size_t>(i)];
    cached_tokens_.push_back(t);
    cached_text_ += tokenizer_.token_to_piece(t);
  }
  messages_.push_back({"assistant", std::string(shown)});
}

}  // namespace plinth::models
