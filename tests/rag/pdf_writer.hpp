// A minimal PDF writer for tests: one page per entry, Helvetica text lines at given positions, an
// optional Title, and optionally an /Encrypt dictionary whose passwords nothing empty opens. The
// cross-reference table has the exact byte offsets a reader checks.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace plinth::rag::testing {

struct PdfLine {
  int x = 72;
  int y = 720;
  std::string text;  // Latin-1 safe ASCII; '(' ')' '\' are escaped
};

struct PdfSpec {
  std::vector<std::vector<PdfLine>> pages;
  std::string title;       // empty: no /Info
  bool encrypted = false;  // a Standard security handler with an unknown user password
};

inline std::string pdf_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '(' || c == ')' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

inline std::string write_pdf(const PdfSpec& spec) {
  std::vector<std::string> objects;  // object i + 1
  const int pages = static_cast<int>(spec.pages.size());
  // 1 catalog, 2 pages, 3 font, then page and content pairs, then info and encrypt.
  objects.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  std::string kids;
  for (int p = 0; p < pages; ++p) kids += std::to_string(4 + 2 * p) + " 0 R ";
  objects.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(pages) + " >>");
  objects.push_back("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
  for (int p = 0; p < pages; ++p) {
    std::string content = "BT /F1 12 Tf\n";
    for (const auto& line : spec.pages[p]) {
      content += "1 0 0 1 " + std::to_string(line.x) + " " + std::to_string(line.y) + " Tm (" +
                 pdf_escape(line.text) + ") Tj\n";
    }
    content += "ET";
    objects.push_back(
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
        "/Contents " +
        std::to_string(5 + 2 * p) + " 0 R >>");
    objects.push_back("<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content +
                      "\nendstream");
  }
  std::string trailer_extra;
  if (!spec.title.empty()) {
    objects.push_back("<< /Title (" + pdf_escape(spec.title) + ") /Producer (plinth tests) >>");
    trailer_extra += " /Info " + std::to_string(objects.size()) + " 0 R";
  }
  if (spec.encrypted) {
    const std::string o(64, 'A');
    const std::string u(64, '5');
    objects.push_back("<< /Filter /Standard /V 1 /R 2 /O <" + o + "> /U <" + u + "> /P -44 >>");
    trailer_extra += " /Encrypt " + std::to_string(objects.size()) +
                     " 0 R /ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>]";
  }
  std::string pdf = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const std::size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (const std::size_t offset : offsets) {
    char entry[32];
    std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", offset);
    pdf += entry;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R" + trailer_extra +
         " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

}  // namespace plinth::rag::testing
