#include "unicode_text.hpp"

#include <utf8proc.h>

namespace plinth::models::unicode {
namespace {

std::size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

utf8proc_category_t category(char32_t cp) {
  if (cp > 0x10FFFF) return UTF8PROC_CATEGORY_CN;
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

}  // namespace

std::u32string decode_utf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t len = sequence_length(lead);
    if (len == 1) {
      out.push_back(lead);
      ++i;
      continue;
    }
    bool ok = len != 0 && i + len <= text.size();
    char32_t cp = 0;
    if (ok) {
      cp = len == 2 ? (lead & 0x1Fu) : len == 3 ? (lead & 0x0Fu) : (lead & 0x07u);
      for (std::size_t k = 1; k < len && ok; ++k) {
        const auto c = static_cast<unsigned char>(text[i + k]);
        ok = is_continuation(c);
        cp = (cp << 6) | (c & 0x3Fu);
      }
      // Overlong forms, surrogates and values past U+10FFFF are not characters.
      ok = ok && !(len == 3 && cp < 0x800) && !(len == 4 && cp < 0x10000) && !(cp >= 0xD800 && cp <= 0xDFFF) &&
           cp <= 0x10FFFF;
    }
    if (ok) {
      out.push_back(cp);
      i += len;
    } else {
      out.push_back(kReplacement);
      ++i;
    }
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string encode_utf8(std::u32string_view cps) {
  std::string out;
  out.reserve(cps.size());
  for (char32_t cp : cps) append_utf8(out, cp);
  return out;
}

bool is_letter(char32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= U'a' && (cp | 0x20) <= U'z';
  switch (category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
      return true;
    default:
      return false;
  }
}

bool is_number(char32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  switch (category(cp)) {
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

bool is_punctuation(char32_t cp) {
  if (cp < 0x80) {
    // ASCII P* characters; $ + < = > ^ ` | ~ are symbols (S*).
    switch (cp) {
      case U'!': case U'"': case U'#': case U'%': case U'&': case U'\'': case U'(': case U')': case U'*':
      case U',': case U'-': case U'.': case U'/': case U':': case U';': case U'?': case U'@': case U'[':
      case U'\\': case U']': case U'_': case U'{': case U'}':
        return true;
      default:
        return false;
    }
  }
  switch (category(cp)) {
    case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

bool is_nonspacing_mark(char32_t cp) { return cp >= 0x300 && category(cp) == UTF8PROC_CATEGORY_MN; }

bool is_other(char32_t cp) {
  if (cp < 0x80) return cp < 0x20 || cp == 0x7F;
  switch (category(cp)) {
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CS: case UTF8PROC_CATEGORY_CN:
      return true;
    default:
      return false;
  }
}

bool is_assigned(char32_t cp) { return category(cp) != UTF8PROC_CATEGORY_CN; }

bool is_whitespace(char32_t cp) {
  // The White_Space property (PropList.txt); utf8proc has no accessor for it.
  if (cp >= 0x09 && cp <= 0x0D) return true;
  switch (cp) {
    case 0x20: case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F:
    case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

char32_t to_lower(char32_t cp) {
  if (cp < 0x80) return cp >= U'A' && cp <= U'Z' ? cp + 32 : cp;
  if (cp > 0x10FFFF) return cp;
  return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
}

std::u32string nfd(std::u32string_view cps) {
  std::u32string out;
  out.reserve(cps.size());
  utf8proc_int32_t buffer[32];
  for (char32_t cp : cps) {
    if (cp < 0x80) {
      out.push_back(cp);
      continue;
    }
    int boundclass = UTF8PROC_BOUNDCLASS_START;
    const utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), buffer, 32,
                                                       UTF8PROC_DECOMPOSE, &boundclass);
    if (n <= 0 || n > 32) {
      out.push_back(cp);
    } else {
      for (utf8proc_ssize_t k = 0; k < n; ++k) out.push_back(static_cast<char32_t>(buffer[k]));
    }
  }
  // Canonical ordering: a stable sort of each run of combining marks by combining class.
  std::size_t i = 0;
  while (i < out.size()) {
    if (out[i] < 0x300) {  // no combining class below U+0300
      ++i;
      continue;
    }
    auto ccc = [](char32_t c) { return utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class; };
    if (ccc(out[i]) == 0) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < out.size() && ccc(out[j]) != 0) ++j;
    for (std::size_t a = i + 1; a < j; ++a) {
      char32_t v = out[a];
      std::size_t b = a;
      while (b > i && ccc(out[b - 1]) > ccc(v)) {
        out[b] = out[b - 1];
        --b;
      }
      out[b] = v;
    }
    i = j;
  }
  return out;
}

}  // namespace plinth::models::unicode
