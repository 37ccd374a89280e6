#include "document_builder.hpp"

#include <algorithm>

#include "text_util.hpp"

namespace plinth::rag::detail {

namespace {
bool absorbs(BlockKind kind) noexcept {
  return kind == BlockKind::kHeading || kind == BlockKind::kCode || kind == BlockKind::kTable;
}
}  // namespace

BlockKind DocumentBuilder::current_kind() const noexcept {
  if (open_block_) return open_block_->kind;
  return frames_.empty() ? BlockKind::kParagraph : frames_.back().kind;
}

void DocumentBuilder::open(BlockKind kind, int level) {
  if (!frames_.empty() && absorbs(frames_.back().kind)) {
    frames_.push_back({frames_.back().kind, frames_.back().level, true});
    separate(Pending::kSpace);
    return;
  }
  end_block();
  if (kind == BlockKind::kParagraph && !frames_.empty() &&
      (frames_.back().kind == BlockKind::kListItem || frames_.back().kind == BlockKind::kQuote)) {
    kind = frames_.back().kind;
  }
  frames_.push_back({kind, kind == BlockKind::kHeading ? std::clamp(level, 1, 6) : 0, false});
}

void DocumentBuilder::close() {
  if (frames_.empty()) return;
  const Frame frame = frames_.back();
  frames_.pop_back();
  if (frame.absorbed) {
    separate(Pending::kSpace);
  } else {
    end_block();
  }
}

void DocumentBuilder::separate(Pending p) noexcept {
  // Code carries its own whitespace; elsewhere the strongest separator since the last text wins.
  if (current_kind() == BlockKind::kCode) return;
  if (current_kind() == BlockKind::kParagraph || current_kind() == BlockKind::kListItem ||
      current_kind() == BlockKind::kQuote) {
    p = std::min(p, Pending::kSpace);
  } else if (current_kind() == BlockKind::kHeading) {
    p = p == Pending::kCell ? Pending::kSpace : p;
  }
  pending_ = std::max(pending_, p);
}

void DocumentBuilder::line_break() {
  if (current_kind() == BlockKind::kCode) {
    if (open_block_) {
      doc_.text.push_back('\n');
    } else {
      code_lead_.push_back('\n');
    }
    return;
  }
  separate(Pending::kLine);
}

void DocumentBuilder::cell_break() { separate(Pending::kCell); }

void DocumentBuilder::text(std::string_view utf8) {
  if (current_kind() == BlockKind::kCode) {
    code(utf8);
  } else {
    prose(utf8);
  }
}

void DocumentBuilder::start_block() {
  if (!doc_.text.empty()) doc_.text.append("\n\n");
  const Frame top = frames_.empty() ? Frame{BlockKind::kParagraph, 0, false} : frames_.back();
  open_block_ = Block{top.kind, top.level, doc_.text.size(), doc_.text.size()};
  pending_ = Pending::kNone;
}

void DocumentBuilder::prose(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    if (is_space(s[i])) {
      separate(Pending::kSpace);
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < s.size() && !is_space(s[j])) ++j;
    if (!open_block_) {
      start_block();
    } else if (pending_ == Pending::kSpace) {
      doc_.text.push_back(' ');
    } else if (pending_ == Pending::kCell) {
      doc_.text.append(" | ");
    } else if (pending_ == Pending::kLine) {
      doc_.text.push_back('\n');
    }
    pending_ = Pending::kNone;
    doc_.text.append(s.substr(i, j - i));
    i = j;
  }
}

void DocumentBuilder::code(std::string_view s) {
  if (!open_block_) {
    std::size_t visible = 0;
    while (visible < s.size() && is_space(s[visible])) ++visible;
    code_lead_.append(s.substr(0, visible));
    if (visible == s.size()) return;
    s.remove_prefix(visible);
    start_block();
    // Blank lines before the first line go; that line's indentation stays.
    const auto eol = code_lead_.rfind('\n');
    doc_.text.append(eol == std::string::npos ? code_lead_ : code_lead_.substr(eol + 1));
    code_lead_.clear();
  }
  doc_.text.append(s);
}

void DocumentBuilder::end_block() {
  pending_ = Pending::kNone;
  code_lead_.clear();
  if (!open_block_) return;
  Block block = *open_block_;
  open_block_.reset();
  // A block starts at a visible character (or code indentation before one), so trimming never
  // empties it.
  while (doc_.text.size() > block.begin && is_space(doc_.text.back())) doc_.text.pop_back();
  block.end = doc_.text.size();
  doc_.blocks.push_back(block);
}

ExtractedDocument DocumentBuilder::finish(std::string_view title) && {
  end_block();
  if (doc_.blocks.empty()) throw ExtractError("no text");
  doc_.title = make_title(title);
  return std::move(doc_);
}

void add_paragraphs(DocumentBuilder& builder, std::string_view text) {
  bool in_paragraph = false;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    const auto line = text.substr(0, eol);
    if (trim(line).empty()) {
      if (in_paragraph) builder.close();
      in_paragraph = false;
    } else {
      if (!in_paragraph) builder.open(BlockKind::kParagraph);
      in_paragraph = true;
      builder.text(line);
      builder.text("\n");
    }
    if (eol == std::string_view::npos) break;
    text.remove_prefix(eol + 1);
  }
  if (in_paragraph) builder.close();
}

}  // namespace plinth::rag::detail
