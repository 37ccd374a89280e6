// extract_document() on every format: blocks, kinds, levels, exact spans, titles, the Sphinx page
// shape of the Python documentation, PDFs written here byte by byte, and the errors for unreadable input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <plinth/rag/chunker.hpp>
#include <plinth/rag/extract.hpp>
#include <string>
#include <vector>

#include "pdf_writer.hpp"
#include "rag_invariants.hpp"

namespace plinth::rag {
namespace {

using testing::count_words;
using testing::document_violation;

std::string block_text(const ExtractedDocument& doc, std::size_t i) {
  const Block& b = doc.blocks.at(i);
  return doc.text.substr(b.begin, b.end - b.begin);
}

struct Expected {
  BlockKind kind;
  int level;
  std::string text;
};

void expect_blocks(const ExtractedDocument& doc, const std::vector<Expected>& expected) {
  EXPECT_EQ(document_violation(doc), "");
  ASSERT_EQ(doc.blocks.size(), expected.size()) << doc.text;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("block " + std::to_string(i));
    EXPECT_EQ(doc.blocks[i].kind, expected[i].kind);
    EXPECT_EQ(doc.blocks[i].level, expected[i].level);
    EXPECT_EQ(block_text(doc, i), expected[i].text);
  }
}

ExtractedDocument extract(DocumentFormat format, const std::string& bytes) {
  ExtractedDocument doc = extract_document(format, bytes);
  EXPECT_EQ(document_violation(doc), "");
  return doc;
}

std::string error_of(DocumentFormat format, const std::string& bytes) {
  try {
    extract_document(format, bytes);
  } catch (const ExtractError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(RagFormat, FromPathByExtensionCaseInsensitive) {
  EXPECT_EQ(format_from_path("notes.txt"), DocumentFormat::kText);
  EXPECT_EQ(format_from_path("notes.TEXT"), DocumentFormat::kText);
  EXPECT_EQ(format_from_path("docs/Guide.Md"), DocumentFormat::kMarkdown);
  EXPECT_EQ(format_from_path("a.markdown"), DocumentFormat::kMarkdown);
  EXPECT_EQ(format_from_path("/x/y/index.HTML"), DocumentFormat::kHtml);
  EXPECT_EQ(format_from_path("page.htm"), DocumentFormat::kHtml);
  EXPECT_EQ(format_from_path("paper.PDF"), DocumentFormat::kPdf);
  EXPECT_EQ(format_from_path("README"), std::nullopt);
  EXPECT_EQ(format_from_path("dir.md/README"), std::nullopt);
  EXPECT_EQ(format_from_path("archive.tar.gz"), std::nullopt);
  EXPECT_EQ(format_from_path("trailing."), std::nullopt);
  EXPECT_EQ(format_name(DocumentFormat::kText), "text");
  EXPECT_EQ(format_name(DocumentFormat::kMarkdown), "markdown");
  EXPECT_EQ(format_name(DocumentFormat::kHtml), "html");
  EXPECT_EQ(format_name(DocumentFormat::kPdf), "pdf");
}

TEST(RagExtractText, ParagraphsAtBlankLinesWhitespaceFolded) {
  const auto doc =
      extract(DocumentFormat::kText,
              "\n  \n  First   title line  \nsame\tparagraph\r\n\r\n \t \nSecond\n\n\n   third  para   \n");
  expect_blocks(doc, {{BlockKind::kParagraph, 0, "First title line same paragraph"},
                      {BlockKind::kParagraph, 0, "Second"},
                      {BlockKind::kParagraph, 0, "third para"}});
  EXPECT_EQ(doc.text, "First title line same paragraph\n\nSecond\n\nthird para");
  EXPECT_EQ(doc.title, "First title line");
}

TEST(RagExtractText, InvalidUtf8BecomesReplacementCharacter) {
  // A lone continuation byte, a truncated sequence, an overlong NUL, a surrogate and a NUL byte.
  const std::string bytes =
      std::string("a\x80z b\xE2\x82 c\xC0\x80 d\xED\xA0\x80 e") + std::string(1, '\0') + "f \xF0\x9F\x98\x80";
  const auto doc = extract(DocumentFormat::kText, bytes);
  ASSERT_EQ(doc.blocks.size(), 1u);
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(doc.text,
            "a" + r + "z b" + r + r + " c" + r + r + " d" + r + r + r + " e" + r + "f \xF0\x9F\x98\x80");
  EXPECT_TRUE(testing::valid_utf8(doc.title));
}

TEST(RagExtractText, LongTitleCutAtAWordWithinTheCap) {
  std::string line;
  for (int i = 0; i < 100; ++i) line += "\xC3\xA9t\xC3\xA9 ";  // "été " repeated, multi-byte
  const auto doc = extract(DocumentFormat::kText, line + "\n\nbody");
  EXPECT_LE(doc.title.size(), 200u);
  EXPECT_GT(doc.title.size(), 150u);
  EXPECT_TRUE(testing::valid_utf8(doc.title));
  EXPECT_EQ(doc.title.substr(doc.title.size() - 5), "\xC3\xA9t\xC3\xA9");
}

TEST(RagExtract, NoTextAndOversizedInputAreErrors) {
  EXPECT_EQ(error_of(DocumentFormat::kText, " \n\t\n "), "no text");
  EXPECT_EQ(error_of(DocumentFormat::kText, ""), "no text");
  EXPECT_EQ(error_of(DocumentFormat::kMarkdown, "<!-- only a comment -->\n"), "no text");
  EXPECT_EQ(error_of(DocumentFormat::kHtml, "<html><script>var x = 1;</script><nav>menu</nav></html>"),
            "no text");
  const std::string huge(kMaxDocumentBytes + 1, 'a');
  EXPECT_NE(error_of(DocumentFormat::kText, huge).find("over the limit of 64 MiB"), std::string::npos);
}

TEST(RagExtractMarkdown, BlocksKindsLevelsAndTitle) {
  const std::string md =
      "Intro line before the heading\n"
      "\n"
      "# Guide &amp; intro\n"
      "\n"
      "Some *emphasis*, `inline code` and a [link](http://example.com).\n"
      "A soft break &copy; &#x1F600; &#65; &bogus; here.\n"
      "\n"
      "## Install\n"
      "\n"
      "1. First item\n"
      "2. Second item\n"
      "   continued\n"
      "\n"
      "```sh\n"
      "\n"
      "  make install\n"
      "    sudo   thing\n"
      "\n"
      "```\n"
      "\n"
      "> quoted   text\n"
      "> more\n"
      "\n"
      "| Name | Value |\n"
      "|------|-------|\n"
      "| a    | 1     |\n"
      "| b    | 2     |\n"
      "\n"
      "<div>raw html is dropped</div>\n"
      "\n"
      "###### Deep\n"
      "\n"
      "    indented code\n"
      "      keeps indent\n";
  const auto doc = extract(DocumentFormat::kMarkdown, md);
  expect_blocks(
      doc,
      {
          {BlockKind::kParagraph, 0, "Intro line before the heading"},
          {BlockKind::kHeading, 1, "Guide & intro"},
          {BlockKind::kParagraph, 0,
           "Some emphasis, inline code and a link. A soft break \xC2\xA9 \xF0\x9F\x98\x80 A &bogus; here."},
          {BlockKind::kHeading, 2, "Install"},
          {BlockKind::kListItem, 0, "First item"},
          {BlockKind::kListItem, 0, "Second item continued"},
          {BlockKind::kCode, 0, "  make install\n    sudo   thing"},
          {BlockKind::kQuote, 0, "quoted text more"},
          {BlockKind::kTable, 0, "Name | Value\na | 1\nb | 2"},
          {BlockKind::kHeading, 6, "Deep"},
          {BlockKind::kCode, 0, "indented code\n  keeps indent"},
      });
  EXPECT_EQ(doc.title, "Guide & intro");
}

TEST(RagExtractMarkdown, LooseListParagraphsStayListItemsAndTitleFallsBackToFirstLine) {
  const auto doc = extract(DocumentFormat::kMarkdown,
                           "Plain   start\nof the doc\n\n- one\n\n  two paragraphs\n\n- > quoted item\n");
  expect_blocks(doc, {{BlockKind::kParagraph, 0, "Plain start of the doc"},
                      {BlockKind::kListItem, 0, "one"},
                      {BlockKind::kListItem, 0, "two paragraphs"},
                      {BlockKind::kQuote, 0, "quoted item"}});
  EXPECT_EQ(doc.title, "Plain start of the doc");
}

TEST(RagExtractHtml, BlocksAndFurnitureSkipped) {
  const std::string html = R"(<!DOCTYPE html><html><head><title>Plain page</title>
<style>p { color: red }</style><script>document.write("<p>no</p>")</script></head>
<body><header><h1>Site banner</h1></header><nav><ul><li>Home</li></ul></nav>
<h1>Main   heading</h1>
<p>First &amp; <b>bold</b>
   paragraph<br>after break.</p>
<div>Loose div text<div>nested div</div>tail text</div>
<pre>
  def f():
      return 1 &lt; 2
</pre>
<ul><li>item <em>one</em></li><li><p>item two</p></li></ul>
<table><tr><th>Col A</th><th>Col B</th></tr><tr><td><p>x</p></td><td>y z</td></tr></table>
<blockquote><p>A quote.</p></blockquote>
<h3>Sub</h3><form><input value="no"><label>Search</label></form><aside>ad</aside>
<p>End.</p><footer>copyright</footer><noscript>enable js</noscript><template><p>tpl</p></template>
</body></html>)";
  const auto doc = extract(DocumentFormat::kHtml, html);
  expect_blocks(doc, {
                         {BlockKind::kHeading, 1, "Main heading"},
                         {BlockKind::kParagraph, 0, "First & bold paragraph after break."},
                         {BlockKind::kParagraph, 0, "Loose div text"},
                         {BlockKind::kParagraph, 0, "nested div"},
                         {BlockKind::kParagraph, 0, "tail text"},
                         {BlockKind::kCode, 0, "  def f():\n      return 1 < 2"},
                         {BlockKind::kListItem, 0, "item one"},
                         {BlockKind::kListItem, 0, "item two"},
                         {BlockKind::kTable, 0, "Col A | Col B\nx | y z"},
                         {BlockKind::kQuote, 0, "A quote."},
                         {BlockKind::kHeading, 3, "Sub"},
                         {BlockKind::kParagraph, 0, "End."},
                     });
  EXPECT_EQ(doc.title, "Plain page");
}

TEST(RagExtractHtml, MainContentOnlyAndTitleFromFirstH1) {
  const auto doc = extract(DocumentFormat::kHtml,
                           "<body><div class='menu'><p>Menu text</p></div>"
                           "<main><h2>Intro</h2><p>Inside main.</p><h1>The  h1</h1></main>"
                           "<p>After main.</p></body>");
  expect_blocks(doc, {{BlockKind::kHeading, 2, "Intro"},
                      {BlockKind::kParagraph, 0, "Inside main."},
                      {BlockKind::kHeading, 1, "The h1"}});
  EXPECT_EQ(doc.title, "The h1");
  // role="main" counts too; an article's own header is content, the page's is not.
  const auto article = extract(DocumentFormat::kHtml,
                               "<header>Site</header><div role='main'><article><header><h1>Post</h1></header>"
                               "<p>Body.</p><footer>Post footer</footer></article></div><p>outside</p>");
  expect_blocks(article, {{BlockKind::kHeading, 1, "Post"},
                          {BlockKind::kParagraph, 0, "Body."},
                          {BlockKind::kParagraph, 0, "Post footer"}});
}

// A page shaped like the Python documentation's Sphinx output (3.11): related navigation, a
// sidebar, permalinks, API entries as dl.py with dt.sig signatures, overloads, a class with a method.
constexpr const char* kSphinxPage = R"(<!DOCTYPE html>
<html><head><meta charset="utf-8" />
<title>functools — Higher-order functions and operations on callable objects &#8212; Python 3.11.2 documentation</title>
<script src="_static/doctools.js"></script></head>
<body>
<div class="related" role="navigation" aria-label="related navigation"><h3>Navigation</h3>
<ul><li class="right"><a href="genindex.html" title="General Index">index</a></li></ul></div>
<div class="document"><div class="documentwrapper"><div class="bodywrapper">
<div class="body" role="main">
<section id="module-functools">
<span id="functools-higher-order"></span><h1><a class="reference internal" href="#module-functools"><code class="xref py py-mod docutils literal notranslate"><span class="pre">functools</span></code></a> — Higher-order functions and operations on callable objects<a class="headerlink" href="#module-functools" title="Permalink to this heading">¶</a></h1>
<p><strong>Source code:</strong> <a class="reference external" href="#">Lib/functools.py</a></p>
<p>The <code class="xref py py-mod docutils literal notranslate"><span class="pre">functools</span></code> module is for higher-order functions.</p>
<dl class="py function">
<dt class="sig sig-object py" id="functools.lru_cache">
<span class="sig-prename descclassname"><span class="pre">&#64;</span></span><span class="sig-prename descclassname"><span class="pre">functools.</span></span><span class="sig-name descname"><span class="pre">lru_cache</span></span><span class="sig-paren">(</span><em class="sig-param"><span class="n"><span class="pre">user_function</span></span></em><span class="sig-paren">)</span><a class="headerlink" href="#functools.lru_cache" title="Permalink to this definition">¶</a></dt>
<dt class="sig sig-object py">
<span class="sig-prename descclassname"><span class="pre">&#64;</span></span><span class="sig-prename descclassname"><span class="pre">functools.</span></span><span class="sig-name descname"><span class="pre">lru_cache</span></span><span class="sig-paren">(</span><em class="sig-param"><span class="n"><span class="pre">maxsize</span></span><span class="o"><span class="pre">=</span></span><span class="default_value"><span class="pre">128</span></span></em>, <em class="sig-param"><span class="n"><span class="pre">typed</span></span><span class="o"><span class="pre">=</span></span><span class="default_value"><span class="pre">False</span></span></em><span class="sig-paren">)</span></dt>
<dd><p>Decorator to wrap a function with a memoizing callable that saves up to the
<em>maxsize</em> most recent calls.</p>
<div class="highlight-python3 notranslate"><div class="highlight"><pre><span></span><span class="nd">@lru_cache</span>
<span class="k">def</span> <span class="nf">count_vowels</span><span class="p">(</span><span class="n">sentence</span><span class="p">):</span>
    <span class="k">return</span> <span class="nb">sum</span><span class="p">(</span><span class="n">sentence</span><span class="o">.</span><span class="n">count</span><span class="p">(</span><span class="n">vowel</span><span class="p">)</span> <span class="k">for</span> <span class="n">vowel</span> <span class="ow">in</span> <span class="s1">&#39;AEIOUaeiou&#39;</span><span class="p">)</span>
</pre></div></div>
<div class="versionadded"><p><span class="versionmodified added">New in version 3.2.</span></p></div>
</dd></dl>
<section id="partial-objects">
<h2><a class="reference internal" href="#functools.partial"><code class="xref py py-class docutils literal notranslate"><span class="pre">partial</span></code></a> Objects<a class="headerlink" href="#partial-objects" title="Permalink to this heading">¶</a></h2>
<dl class="py class">
<dt class="sig sig-object py" id="functools.partialmethod"><em class="property"><span class="pre">class</span><span class="w"> </span></em><span class="sig-prename descclassname"><span class="pre">functools.</span></span><span class="sig-name descname"><span class="pre">partialmethod</span></span><span class="sig-paren">(</span><em class="sig-param"><span class="n"><span class="pre">func</span></span></em><span class="sig-paren">)</span><a class="headerlink" href="#functools.partialmethod" title="Permalink to this definition">¶</a></dt>
<dd><p>Return a new descriptor.</p>
<dl class="py attribute">
<dt class="sig sig-object py" id="functools.partialmethod.func"><span class="sig-prename descclassname"><span class="pre">partialmethod.</span></span><span class="sig-name descname"><span class="pre">func</span></span><a class="headerlink" href="#functools.partialmethod.func" title="Permalink to this definition">¶</a></dt>
<dd><p>The wrapped callable.</p></dd></dl>
</dd></dl>
</section>
</section>
<div class="clearer"></div></div></div></div>
<div class="sphinxsidebar" role="navigation" aria-label="main navigation"><div class="sphinxsidebarwrapper">
<h3>Table of Contents</h3><ul><li><a href="#">functools</a></li></ul>
<div id="searchbox" role="search"><form class="search"><input type="text" name="q" /></form></div>
</div></div></div>
<div class="footer">&copy; Copyright 2001-2023, Python Software Foundation.</div>
</body></html>)";

TEST(RagExtractHtml, SphinxApiEntriesAreHeadingsBelowTheirSection) {
  const auto doc = extract(DocumentFormat::kHtml, kSphinxPage);
  expect_blocks(
      doc,
      {
          {BlockKind::kHeading, 1, "functools — Higher-order functions and operations on callable objects"},
          {BlockKind::kParagraph, 0, "Source code: Lib/functools.py"},
          {BlockKind::kParagraph, 0, "The functools module is for higher-order functions."},
          {BlockKind::kHeading, 2,
           "@functools.lru_cache(user_function)\n@functools.lru_cache(maxsize=128, typed=False)"},
          {BlockKind::kParagraph, 0,
           "Decorator to wrap a function with a memoizing callable that saves up to the maxsize most recent "
           "calls."},
          {BlockKind::kCode, 0,
           "@lru_cache\ndef count_vowels(sentence):\n    return sum(sentence.count(vowel) for vowel in "
           "'AEIOUaeiou')"},
          {BlockKind::kParagraph, 0, "New in version 3.2."},
          {BlockKind::kHeading, 2, "partial Objects"},
          {BlockKind::kHeading, 3, "class functools.partialmethod(func)"},
          {BlockKind::kParagraph, 0, "Return a new descriptor."},
          {BlockKind::kHeading, 4, "partialmethod.func"},
          {BlockKind::kParagraph, 0, "The wrapped callable."},
      });
  EXPECT_EQ(doc.title, "functools — Higher-order functions and operations on callable objects");
  EXPECT_EQ(doc.text.find("\xC2\xB6"), std::string::npos) << "a permalink mark leaked";
  EXPECT_EQ(doc.text.find("Navigation"), std::string::npos);
  EXPECT_EQ(doc.text.find("Copyright"), std::string::npos);

  const auto chunks = chunk_document(doc, {.max_tokens = 40, .overlap_tokens = 5}, count_words);
  EXPECT_EQ(testing::chunks_violation(doc, chunks, {40, 5}, count_words), "");
  std::vector<std::string> paths;
  for (const auto& c : chunks) paths.push_back(c.heading_path);
  const std::string title = doc.title;
  const std::vector<std::string> expected{
      title,
      title + " > @functools.lru_cache(user_function) @functools.lru_cache(maxsize=128, typed=False)",
      title + " > partial Objects",  // a section with no body of its own: its heading is its chunk
      title + " > partial Objects > class functools.partialmethod(func)",
      title + " > partial Objects > class functools.partialmethod(func) > partialmethod.func",
  };
  EXPECT_EQ(paths, expected);
  EXPECT_EQ(chunks[2].text, "partial Objects");
  EXPECT_NE(chunks[1].text.find("@lru_cache\ndef count_vowels(sentence):"), std::string::npos);
}

TEST(RagExtractHtml, NestingDepthIsBoundedBeforeParsing) {
  std::string deep;
  for (int i = 0; i < 20000; ++i) deep += "<div>";
  deep += "text";
  EXPECT_NE(error_of(DocumentFormat::kHtml, deep).find("nested deeper than 512"), std::string::npos);
  // End tags that close nothing do not hide the depth.
  std::string sneaky;
  for (int i = 0; i < 2000; ++i) sneaky += "<section></span>";
  EXPECT_NE(error_of(DocumentFormat::kHtml, sneaky + "x").find("nested deeper"), std::string::npos);
  // Neither are these deep: balanced elements, unclosed paragraphs and list items, SVG shapes,
  // and tags inside scripts, comments and attribute values.
  std::string wide;
  for (int i = 0; i < 3000; ++i) wide += "<div><span>a</span></div><p>b<li>c<br><img src=x>";
  for (int i = 0; i < 600; ++i)
    wide += "<svg viewBox='0 0 8 8'><path d='M0 0'/><circle r='1'/><g><rect/></g></svg>";
  wide += "<script>" + std::string(3000, '<') + "div>" + "</script><!-- <div><div> -->";
  for (int i = 0; i < 600; ++i) wide += "<a title='<div>'>x</a>";
  const auto doc = extract(DocumentFormat::kHtml, wide + "<p>end</p>");
  EXPECT_EQ(block_text(doc, doc.blocks.size() - 1), "end");
  std::string ok;
  for (int i = 0; i < 300; ++i) ok += "<div>";
  EXPECT_EQ(block_text(extract(DocumentFormat::kHtml, ok + "deep text"), 0), "deep text");
}

TEST(RagExtractPdf, PagesParagraphsAndTitle) {
  testing::PdfSpec spec;
  spec.title = "A (tiny) test document";
  spec.pages = {
      {{72, 720, "Hello PDF world, first line"},
       {72, 706, "of the first paragraph."},
       {72, 600, "A second paragraph far below."}},
      {{72, 720, "Page two text."}},
  };
  const auto doc = extract(DocumentFormat::kPdf, testing::write_pdf(spec));
  expect_blocks(doc, {{BlockKind::kParagraph, 0, "Hello PDF world, first line of the first paragraph."},
                      {BlockKind::kParagraph, 0, "A second paragraph far below."},
                      {BlockKind::kParagraph, 0, "Page two text."}});
  EXPECT_EQ(doc.title, "A (tiny) test document");

  spec.title.clear();
  EXPECT_EQ(extract(DocumentFormat::kPdf, testing::write_pdf(spec)).title,
            "Hello PDF world, first line of the first paragraph.");
}

TEST(RagExtractPdf, UnreadableLockedAndEmptyPdfsAreErrors) {
  testing::PdfSpec spec;
  spec.pages = {{{72, 720, "Secret text"}}};
  EXPECT_NE(error_of(DocumentFormat::kPdf, "this is not a PDF at all").find("not a readable PDF"),
            std::string::npos);
  EXPECT_NE(error_of(DocumentFormat::kPdf, "").find("not a readable PDF"), std::string::npos);
  const std::string valid = testing::write_pdf(spec);
  EXPECT_NE(error_of(DocumentFormat::kPdf, valid.substr(0, 40)).find("not a readable PDF"),
            std::string::npos);
  spec.encrypted = true;
  EXPECT_EQ(error_of(DocumentFormat::kPdf, testing::write_pdf(spec)),
            "the PDF is encrypted and needs a password");
  spec.encrypted = false;
  spec.pages = {{}};  // a page with no text (a scan)
  EXPECT_EQ(error_of(DocumentFormat::kPdf, testing::write_pdf(spec)), "no text");
}

// The evaluation corpus: a real page of the Python 3.11 documentation (Debian's python3.11-doc).
TEST(RagExtractHtml, RealPythonDocsPageNamesTheApiEntryInItsHeadingPath) {
  const std::filesystem::path page = "/usr/share/doc/python3.11/html/library/functools.html";
  if (!std::filesystem::exists(page)) {
    GTEST_SKIP() << page << " not found (install the Debian package python3.11-doc)";
  }
  std::ifstream in(page, std::ios::binary);
  const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto doc = extract(DocumentFormat::kHtml, html);
  EXPECT_EQ(doc.title.rfind("functools — Higher-order functions", 0), 0u) << doc.title;
  EXPECT_EQ(doc.text.find("\xC2\xB6"), std::string::npos);
  EXPECT_EQ(doc.text.find("Table of Contents"), std::string::npos);
  const ChunkOptions options{.max_tokens = 120, .overlap_tokens = 16};
  const auto chunks = chunk_document(doc, options, count_words);
  EXPECT_EQ(testing::chunks_violation(doc, chunks, options, count_words), "");
  bool found = false;
  for (const auto& c : chunks) {
    if (c.heading_path.find("functools.lru_cache(") != std::string::npos &&
        c.text.find("memoizing callable") != std::string::npos) {
      found = true;
    }
  }
  EXPECT_TRUE(found) << "no chunk about functools.lru_cache under its own heading";
}

}  // namespace
}  // namespace plinth::rag
