#include "html_depth.hpp"

#include <gumbo.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "text_util.hpp"

namespace plinth::rag::detail {

namespace {

// Elements that never enclose a later sibling: void elements, and those the parser closes by itself
// when the next one starts (their end tags are optional).
bool holds_siblings(GumboTag tag) noexcept {
  switch (tag) {
    case GUMBO_TAG_AREA:
    case GUMBO_TAG_BASE:
    case GUMBO_TAG_BR:
    case GUMBO_TAG_COL:
    case GUMBO_TAG_EMBED:
    case GUMBO_TAG_HR:
    case GUMBO_TAG_IMG:
    case GUMBO_TAG_INPUT:
    case GUMBO_TAG_KEYGEN:
    case GUMBO_TAG_LINK:
    case GUMBO_TAG_META:
    case GUMBO_TAG_PARAM:
    case GUMBO_TAG_SOURCE:
    case GUMBO_TAG_TRACK:
    case GUMBO_TAG_WBR:
    case GUMBO_TAG_BASEFONT:
    case GUMBO_TAG_BGSOUND:
    case GUMBO_TAG_FRAME:
    case GUMBO_TAG_IMAGE:
    case GUMBO_TAG_MENUITEM:
    case GUMBO_TAG_P:
    case GUMBO_TAG_LI:
    case GUMBO_TAG_DT:
    case GUMBO_TAG_DD:
    case GUMBO_TAG_TR:
    case GUMBO_TAG_TD:
    case GUMBO_TAG_TH:
    case GUMBO_TAG_OPTION:
    case GUMBO_TAG_OPTGROUP:
    case GUMBO_TAG_THEAD:
    case GUMBO_TAG_TBODY:
    case GUMBO_TAG_TFOOT:
    case GUMBO_TAG_COLGROUP:
    case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_RB:
    case GUMBO_TAG_RT:
    case GUMBO_TAG_RTC:
    case GUMBO_TAG_RP:
    case GUMBO_TAG_HTML:
    case GUMBO_TAG_HEAD:
    case GUMBO_TAG_BODY: return false;
    default: return true;
  }
}

// Elements whose content the tokenizer reads as text up to their own end tag.
bool raw_text(GumboTag tag) noexcept {
  switch (tag) {
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_TEXTAREA:
    case GUMBO_TAG_TITLE:
    case GUMBO_TAG_XMP:
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_NOEMBED:
    case GUMBO_TAG_NOFRAMES: return true;
    default: return false;
  }
}

// Start tags that end SVG or MathML content (the parser pops back to HTML), and the integration
// points whose content is parsed as HTML again: after either, "<x/>" opens an element that nests.
bool leaves_foreign_content(GumboTag tag) noexcept {
  switch (tag) {
    case GUMBO_TAG_B:
    case GUMBO_TAG_BIG:
    case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_BODY:
    case GUMBO_TAG_BR:
    case GUMBO_TAG_CENTER:
    case GUMBO_TAG_CODE:
    case GUMBO_TAG_DD:
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_DL:
    case GUMBO_TAG_DT:
    case GUMBO_TAG_EM:
    case GUMBO_TAG_EMBED:
    case GUMBO_TAG_H1:
    case GUMBO_TAG_H2:
    case GUMBO_TAG_H3:
    case GUMBO_TAG_H4:
    case GUMBO_TAG_H5:
    case GUMBO_TAG_H6:
    case GUMBO_TAG_HEAD:
    case GUMBO_TAG_HR:
    case GUMBO_TAG_I:
    case GUMBO_TAG_IMG:
    case GUMBO_TAG_LI:
    case GUMBO_TAG_LISTING:
    case GUMBO_TAG_MENU:
    case GUMBO_TAG_META:
    case GUMBO_TAG_NOBR:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_P:
    case GUMBO_TAG_PRE:
    case GUMBO_TAG_RUBY:
    case GUMBO_TAG_S:
    case GUMBO_TAG_SMALL:
    case GUMBO_TAG_SPAN:
    case GUMBO_TAG_STRONG:
    case GUMBO_TAG_STRIKE:
    case GUMBO_TAG_SUB:
    case GUMBO_TAG_SUP:
    case GUMBO_TAG_TABLE:
    case GUMBO_TAG_TT:
    case GUMBO_TAG_U:
    case GUMBO_TAG_UL:
    case GUMBO_TAG_VAR:
    case GUMBO_TAG_FONT:
    case GUMBO_TAG_MI:
    case GUMBO_TAG_MO:
    case GUMBO_TAG_MN:
    case GUMBO_TAG_MS:
    case GUMBO_TAG_MTEXT:
    case GUMBO_TAG_ANNOTATION_XML:
    case GUMBO_TAG_FOREIGNOBJECT:
    case GUMBO_TAG_DESC:
    case GUMBO_TAG_TITLE: return true;
    default: return false;
  }
}

bool alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

class NestingScanner {
 public:
  NestingScanner(std::string_view html, std::size_t limit)
      : s_(html), limit_(limit), open_(static_cast<std::size_t>(GUMBO_TAG_LAST) + 1, 0) {}

  std::size_t run() {
    while (pos_ < s_.size() && max_ <= limit_) {
      const auto lt = s_.find('<', pos_);
      if (lt == std::string_view::npos) break;
      pos_ = lt + 1;
      if (s_.substr(lt, 4) == "<!--") {
        skip_past("-->", lt + 4);
      } else if (pos_ < s_.size() && (s_[pos_] == '!' || s_[pos_] == '?')) {
        skip_past(">", pos_);
      } else if (pos_ + 1 < s_.size() && s_[pos_] == '/' && alpha(s_[pos_ + 1])) {
        ++pos_;
        end_tag(read_name());
      } else if (pos_ < s_.size() && alpha(s_[pos_])) {
        start_tag(read_name());
      }
    }
    return max_;
  }

 private:
  void skip_past(std::string_view marker, std::size_t from) {
    const auto at = s_.find(marker, from);
    pos_ = at == std::string_view::npos ? s_.size() : at + marker.size();
  }

  GumboTag read_name() {
    const std::size_t begin = pos_;
    while (pos_ < s_.size() && !is_space(s_[pos_]) && s_[pos_] != '/' && s_[pos_] != '>') ++pos_;
    std::string name(s_.substr(begin, pos_ - begin));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return gumbo_tagn_enum(name.data(), static_cast<unsigned>(name.size()));
  }

  // Skips the attributes up to the tag's '>' as the tokenizer does (a quoted value may hold '>');
  // true when the tag ends with "/>".
  bool skip_attributes() {
    bool self_closing = false;
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == '>') {
        ++pos_;
        return self_closing;
      }
      self_closing = c == '/';
      ++pos_;
      if (c != '=') continue;
      while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '"' || s_[pos_] == '\'')) {
        const auto close = s_.find(s_[pos_], pos_ + 1);
        pos_ = close == std::string_view::npos ? s_.size() : close + 1;
      }
    }
    return self_closing;
  }

  void start_tag(GumboTag tag) {
    const bool self_closing = skip_attributes();
    if (tag == GUMBO_TAG_PLAINTEXT) {
      pos_ = s_.size();  // the rest of the document is text
      return;
    }
    if (foreign_ > 0 && leaves_foreign_content(tag)) foreign_ = 0;
    if (raw_text(tag) && !self_closing) {
      skip_to_end_tag(tag);
      return;
    }
    // <path/> in SVG is complete; a self-closing HTML element ("<div/>") opens like "<div>".
    if (self_closing &&
        ((foreign_ > 0 && tag == GUMBO_TAG_UNKNOWN) || tag == GUMBO_TAG_SVG || tag == GUMBO_TAG_MATH)) {
      return;
    }
    if (!holds_siblings(tag)) return;
    if (tag == GUMBO_TAG_SVG || tag == GUMBO_TAG_MATH) ++foreign_;
    ++open_[static_cast<std::size_t>(tag)];
    max_ = std::max(max_, ++depth_);
  }

  void end_tag(GumboTag tag) {
    skip_attributes();
    auto& open = open_[static_cast<std::size_t>(tag)];
    if (open == 0) return;  // closes nothing that is open: the parser ignores it
    --open;
    --depth_;
    if ((tag == GUMBO_TAG_SVG || tag == GUMBO_TAG_MATH) && foreign_ > 0) --foreign_;
  }

  void skip_to_end_tag(GumboTag tag) {
    while (pos_ < s_.size()) {
      const auto lt = s_.find("</", pos_);
      if (lt == std::string_view::npos) break;
      pos_ = lt + 2;
      if (pos_ < s_.size() && alpha(s_[pos_]) && read_name() == tag) {
        skip_attributes();
        return;
      }
    }
    pos_ = s_.size();
  }

  std::string_view s_;
  std::size_t limit_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
  std::size_t max_ = 0;
  std::size_t foreign_ = 0;
  std::vector<std::size_t> open_;  // per tag (unknown tags share one counter): elements still open
};

}  // namespace

std::size_t html_nesting_estimate(std::string_view html, std::size_t limit) {
  return NestingScanner(html, limit).run();
}

}  // namespace plinth::rag::detail
