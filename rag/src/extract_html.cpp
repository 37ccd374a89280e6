// HTML through gumbo (an HTML5 parser: entities decoded, broken markup repaired as browsers do).
// The main content is walked with an explicit stack (no recursion, however deep the tree), and its
// elements become DocumentBuilder elements. Sphinx pages (the Python documentation among them) get
// their API entries as headings, so a chunk's heading path names the function it describes.
#include <gumbo.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "document_builder.hpp"
#include "extractors.hpp"
#include "html_depth.hpp"
#include "text_util.hpp"

namespace plinth::rag::detail {

namespace {

struct GumboOutputDeleter {
  void operator()(GumboOutput* output) const noexcept { gumbo_destroy_output(&kGumboDefaultOptions, output); }
};
using GumboTree = std::unique_ptr<GumboOutput, GumboOutputDeleter>;

GumboTree parse(std::string_view utf8) {
  GumboOptions options = kGumboDefaultOptions;
  options.max_errors = 0;  // the parse errors are never read: do not collect them
  GumboTree tree(gumbo_parse_with_options(&options, utf8.data(), utf8.size()));
  if (!tree) throw ExtractError("the HTML parser failed");
  return tree;
}

bool is_element(const GumboNode* node) noexcept { return node->type == GUMBO_NODE_ELEMENT; }

const GumboVector* children(const GumboNode* node) noexcept {
  if (node->type == GUMBO_NODE_DOCUMENT) return &node->v.document.children;
  if (node->type == GUMBO_NODE_ELEMENT) return &node->v.element.children;
  return nullptr;  // text, comments, and <template> content (never read)
}

const GumboNode* child(const GumboVector& nodes, std::size_t i) noexcept {
  return static_cast<const GumboNode*>(nodes.data[i]);
}

std::string_view attribute(const GumboNode* element, const char* name) noexcept {
  const GumboAttribute* attr = gumbo_get_attribute(&element->v.element.attributes, name);
  return attr ? std::string_view(attr->value) : std::string_view();
}

bool has_class(const GumboNode* element, std::string_view name) noexcept {
  std::string_view classes = attribute(element, "class");
  while (!classes.empty()) {
    while (!classes.empty() && is_space(classes.front())) classes.remove_prefix(1);
    std::size_t n = 0;
    while (n < classes.size() && !is_space(classes[n])) ++n;
    if (classes.substr(0, n) == name) return true;
    classes.remove_prefix(n);
  }
  return false;
}

// Visits every node of the subtree at `root` in document order, without recursion; `visit` returns
// false to skip a node's children.
template <typename Visit>
void preorder(const GumboNode* root, Visit&& visit) {
  std::vector<const GumboNode*> stack{root};
  while (!stack.empty()) {
    const GumboNode* node = stack.back();
    stack.pop_back();
    if (!visit(node)) continue;
    if (const GumboVector* kids = children(node)) {
      for (std::size_t i = kids->length; i-- > 0;) stack.push_back(child(*kids, i));
    }
  }
}

std::string text_of(const GumboNode* root) {
  std::string out;
  preorder(root, [&](const GumboNode* node) {
    if (node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_WHITESPACE ||
        node->type == GUMBO_NODE_CDATA) {
      out.append(node->v.text.text);
    }
    return true;
  });
  return out;
}

const GumboNode* first_element(const GumboNode* root, GumboTag tag) {
  const GumboNode* found = nullptr;
  preorder(root, [&](const GumboNode* node) {
    if (!found && is_element(node) && node->v.element.tag == tag) found = node;
    return !found;
  });
  return found;
}

// The main content when the page marks it: the first role="main" or <main>, else the first
// div.body (Sphinx), else the whole document.
const GumboNode* main_content(const GumboNode* root) {
  const GumboNode* main = nullptr;
  const GumboNode* body = nullptr;
  preorder(root, [&](const GumboNode* node) {
    if (main) return false;
    if (!is_element(node)) return true;  // the document node
    if (node->v.element.tag == GUMBO_TAG_MAIN || attribute(node, "role") == "main") {
      main = node;
    } else if (!body && node->v.element.tag == GUMBO_TAG_DIV && has_class(node, "body")) {
      body = node;
    }
    return true;
  });
  return main ? main : body ? body : root;
}

// The <title> text without a trailing " — <project> documentation" (Sphinx's suffix).
std::string page_title(const GumboNode* root) {
  const GumboNode* title = first_element(root, GUMBO_TAG_TITLE);
  if (!title) return {};
  std::string text = fold_whitespace(text_of(title));
  constexpr std::string_view kDash = " \xE2\x80\x94 ";  // " — "
  const auto dash = text.rfind(kDash);
  if (dash != std::string::npos && text.find("documentation", dash) != std::string::npos) text.resize(dash);
  return text;
}

bool inside(const GumboNode* node, std::initializer_list<GumboTag> tags) noexcept {
  for (const GumboNode* p = node->parent; p; p = p->parent) {
    if (is_element(p) && std::find(tags.begin(), tags.end(), p->v.element.tag) != tags.end()) return true;
  }
  return false;
}

// Page furniture, not content: scripts and styles, navigation, search, forms, sidebars, permalinks.
bool skipped(const GumboNode* element) {
  switch (element->v.element.tag) {
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_NAV:
    case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_FORM:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_HEAD:
    case GUMBO_TAG_BUTTON:
    case GUMBO_TAG_SELECT:
    case GUMBO_TAG_TEXTAREA:
    case GUMBO_TAG_SVG:
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_OBJECT:
    case GUMBO_TAG_EMBED:
    case GUMBO_TAG_CANVAS: return true;
    // A page's header and footer are furniture; an article's or section's own are its content.
    case GUMBO_TAG_HEADER:
    case GUMBO_TAG_FOOTER: return !inside(element, {GUMBO_TAG_ARTICLE, GUMBO_TAG_SECTION});
    default: break;
  }
  const auto role = attribute(element, "role");
  if (role == "navigation" || role == "search") return true;
  return has_class(element, "sphinxsidebar") || has_class(element, "related") ||
         has_class(element, "footer") || has_class(element, "headerlink");
}

// Sphinx writes an API entry (function, class, method, ...) as <dl class="py function"> whose
// <dt class="sig sig-object py" id="functools.lru_cache"> holds the signature.
bool is_signature(const GumboNode* node) noexcept {
  return is_element(node) && node->v.element.tag == GUMBO_TAG_DT && has_class(node, "sig");
}

// A signature the walk turns into a heading (one not skipped as furniture).
bool signature_heading(const GumboNode* node) { return is_signature(node) && !skipped(node); }

// The element sibling before (step -1) or after (+1) `node`, skipping whitespace and comments.
const GumboNode* sibling(const GumboNode* node, int step) noexcept {
  const GumboVector* kids = node->parent ? children(node->parent) : nullptr;
  if (!kids) return nullptr;
  for (std::size_t i = node->index_within_parent; step < 0 ? i-- > 0 : ++i < kids->length;) {
    const GumboNode* s = child(*kids, i);
    if (s->type == GUMBO_NODE_WHITESPACE || s->type == GUMBO_NODE_COMMENT) continue;
    return s;
  }
  return nullptr;
}

// How many API entries enclose signature `dt`: 1 for a function, 2 for a method inside its class.
int entry_depth(const GumboNode* dt) noexcept {
  int depth = 0;
  for (const GumboNode* p = dt->parent; p; p = p->parent) {
    if (!is_element(p) || p->v.element.tag != GUMBO_TAG_DL) continue;
    const GumboVector& kids = p->v.element.children;
    for (std::size_t i = 0; i < kids.length; ++i) {
      if (is_signature(child(kids, i))) {
        ++depth;
        break;
      }
    }
  }
  return std::max(depth, 1);
}

bool block_container(GumboTag tag) noexcept {
  switch (tag) {
    case GUMBO_TAG_ADDRESS:
    case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_CENTER:
    case GUMBO_TAG_DD:
    case GUMBO_TAG_DETAILS:
    case GUMBO_TAG_DIR:
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_DL:
    case GUMBO_TAG_DT:
    case GUMBO_TAG_FIELDSET:
    case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_FIGURE:
    case GUMBO_TAG_HGROUP:
    case GUMBO_TAG_HR:
    case GUMBO_TAG_LEGEND:
    case GUMBO_TAG_MAIN:
    case GUMBO_TAG_MENU:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_UL:
    case GUMBO_TAG_SECTION:
    case GUMBO_TAG_SUMMARY:
    case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_BODY:
    case GUMBO_TAG_HTML:
    case GUMBO_TAG_HEADER:
    case GUMBO_TAG_FOOTER: return true;
    default: return false;
  }
}

class HtmlReader {
 public:
  ExtractedDocument read(const GumboNode* document) {
    walk(main_content(document));
    std::string title = page_title(document);
    if (title.empty()) {
      const auto& doc = builder_.document();
      for (const auto& block : doc.blocks) {
        if (block.kind == BlockKind::kHeading && block.level == 1) {
          title = doc.text.substr(block.begin, block.end - block.begin);
          break;
        }
      }
    }
    if (title.empty()) title = first_line_title(builder_.document().text);
    return std::move(builder_).finish(title);
  }

 private:
  struct Visit {
    const GumboNode* node;
    std::size_t next_child;
    bool close;  // close the builder element when the node ends
  };

  void walk(const GumboNode* root) {
    std::vector<Visit> stack;
    if (root->type == GUMBO_NODE_DOCUMENT) {
      stack.push_back({root, 0, false});
    } else if (const auto close = enter(root)) {
      stack.push_back({root, 0, *close});
    }
    while (!stack.empty()) {
      const GumboVector* kids = children(stack.back().node);
      if (!kids || stack.back().next_child == kids->length) {
        if (stack.back().close) builder_.close();
        stack.pop_back();
        continue;
      }
      const GumboNode* node = child(*kids, stack.back().next_child++);
      switch (node->type) {
        case GUMBO_NODE_TEXT:
        case GUMBO_NODE_CDATA:
        case GUMBO_NODE_WHITESPACE: builder_.text(node->v.text.text); break;
        case GUMBO_NODE_ELEMENT:
          if (const auto close = enter(node)) stack.push_back({node, 0, *close});
          break;
        default: break;
      }
    }
  }

  // Starts `element` in the builder; whether its end closes a builder element, or nullopt to skip it.
  std::optional<bool> enter(const GumboNode* element) {
    if (skipped(element)) return std::nullopt;
    const GumboTag tag = element->v.element.tag;
    switch (tag) {
      case GUMBO_TAG_H1:
      case GUMBO_TAG_H2:
      case GUMBO_TAG_H3:
      case GUMBO_TAG_H4:
      case GUMBO_TAG_H5:
      case GUMBO_TAG_H6:
        section_level_ = 1 + static_cast<int>(tag - GUMBO_TAG_H1);
        builder_.open(BlockKind::kHeading, section_level_);
        return true;
      case GUMBO_TAG_PRE:
      case GUMBO_TAG_LISTING:
      case GUMBO_TAG_XMP:
      case GUMBO_TAG_PLAINTEXT: builder_.open(BlockKind::kCode); return true;
      case GUMBO_TAG_P: builder_.open(BlockKind::kParagraph); return true;
      case GUMBO_TAG_LI: builder_.open(BlockKind::kListItem); return true;
      case GUMBO_TAG_BLOCKQUOTE: builder_.open(BlockKind::kQuote); return true;
      case GUMBO_TAG_TABLE: builder_.open(BlockKind::kTable); return true;
      case GUMBO_TAG_TR: builder_.line_break(); return false;
      case GUMBO_TAG_TD:
      case GUMBO_TAG_TH: builder_.cell_break(); return false;
      case GUMBO_TAG_BR: builder_.line_break(); return false;
      default: break;
    }
    if (is_signature(element)) {
      // Consecutive signatures of one entry (overloads) are one heading, a line each.
      const GumboNode* before = sibling(element, -1);
      if (before && signature_heading(before)) {
        builder_.line_break();
      } else {
        builder_.open(BlockKind::kHeading, std::min(6, section_level_ + entry_depth(element)));
      }
      const GumboNode* after = sibling(element, +1);
      return !(after && signature_heading(after));
    }
    if (block_container(tag)) {
      builder_.open(BlockKind::kParagraph);
      return true;
    }
    return false;  // inline: a, span, em, code, ...
  }

  DocumentBuilder builder_;
  int section_level_ = 0;  // level of the last h1..h6: API entries sit below it
};

}  // namespace

std::string decode_html_fragment(std::string_view fragment) {
  const GumboTree tree = parse(fragment);
  return text_of(tree->root);
}

ExtractedDocument extract_html(std::string_view bytes) {
  const std::string html = sanitize_utf8(bytes);
  if (html_nesting_estimate(html, kMaxHtmlDepth) > kMaxHtmlDepth) {
    throw ExtractError("HTML nested deeper than " + std::to_string(kMaxHtmlDepth) + " elements");
  }
  const GumboTree tree = parse(html);
  return HtmlReader{}.read(tree->document);
}

}  // namespace plinth::rag::detail
