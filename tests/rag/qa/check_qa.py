#!/usr/bin/python3
"""Validate the RAG evaluation QA set against the Python 3.11 HTML documentation.

Each JSONL entry must name a page that exists, an anchor that is the `id` of a `<section>` or a `<dt>`
on that page, and an evidence phrase that occurs in the visible text of that anchor's span:

  * `<section id=A>`: the whole section element, nested subsections included (everything from its
    heading up to the next heading of the same or a higher level).
  * `<dt id=A>` (an API entry such as `functools.lru_cache`, or a glossary term): that `<dt>`, the
    `<dt>` siblings directly after it (further signatures of the same entry), and the `<dd>` that
    follows them, nested entries (methods, attributes) included. The span ends before the next `<dt>`
    that follows that `<dd>`.

Visible text: markup removed, the contents of <script>/<style> and of the "¶" permalinks dropped,
block elements separated by a space, inline elements joined as displayed, every run of whitespace
collapsed to one space. The evidence phrase is compared after the same whitespace collapsing.

Also prints the entries per kind and the overlap statistic: for each question, the share of its content
words (lower-cased alphanumeric tokens, stop words removed, light suffix stripping) that also occur in
its evidence phrase; the mean, the median and the share of questions at or below 1/3 are reported.
For comparison it also reports the same share measured against the whole text of the anchor's span.

Exit status: 0 when every entry passes, 1 when any fails (one line per problem), 2 on bad usage,
77 ("SKIP: ...") when the documentation directory is absent.
"""

import argparse
import html
import json
import os
import re
import statistics
import sys
from html.parser import HTMLParser

DEFAULT_DOCS = "/usr/share/doc/python3.11/html"  # where Debian's python3.11-doc installs the HTML
FIELDS = ("id", "question", "page", "anchor", "section", "evidence", "kind")
KINDS = ("library", "reference", "tutorial", "howto", "faq", "other")
KIND_OF_FOLDER = {"library": "library", "reference": "reference", "tutorial": "tutorial",
                  "howto": "howto", "faq": "faq"}
EVIDENCE_WORDS = (6, 25)
LOW_OVERLAP = 1 / 3

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
        "wbr"}
BLOCK = {"address", "article", "aside", "blockquote", "br", "caption", "dd", "div", "dl", "dt",
         "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
         "nav", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul"}
HIDDEN = {"script", "style"}

STOP_WORDS = set("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers how i if in into is it its itself just me more most my no nor not now of off on
once only or other our out over own same she should so some such than that the their them then there
these they this those through to too under until up very was we were what when where which while who
whom why will with would you your yours get gets got use used using want wants way make makes need needs
python
""".split())


class Element:
    __slots__ = ("tag", "attrs", "children", "parent")

    def __init__(self, tag, attrs, parent):
        self.tag = tag
        self.attrs = attrs
        self.children = []
        self.parent = parent


class _RegionEnd(Exception):
    pass


class RegionBuilder(HTMLParser):
    """A forgiving DOM of the markup from the anchor's start tag on: an end tag closes the nearest open
    element of that name. Parsing stops when the anchor's parent would close (an end tag with no open
    match: the end of the <dl> around a <dt>) or, for a <section>, when the section itself closes.
    Parsing only that region keeps the check fast; the pages are large and html.parser is slow."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs), self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.current = self.current.parent

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is self.root:
            raise _RegionEnd
        self.current = node.parent
        anchor = self.root.children[0]
        if node is anchor and anchor.tag == "section":
            raise _RegionEnd

    def handle_data(self, data):
        if self.root.children:
            self.current.children.append(data)


def normalize(text):
    return " ".join(text.replace("\u00b6", " ").split())


def _collect(node, out):
    if isinstance(node, str):
        out.append(node)
        return
    if node.tag in HIDDEN or "headerlink" in node.attrs.get("class", "").split():
        return
    block = node.tag in BLOCK
    if block:
        out.append(" ")
    for child in node.children:
        _collect(child, out)
    if block:
        out.append(" ")


def visible_text(nodes):
    out = []
    for node in nodes:
        _collect(node, out)
    return normalize("".join(out))


def anchor_span(element):
    """The nodes that make up the anchor's section or API entry (see the module docstring)."""
    if element.tag == "section":
        return [element]
    if element.tag == "dt":
        siblings = [c for c in element.parent.children if isinstance(c, Element)]
        span = []
        for sibling in siblings[siblings.index(element):]:
            if sibling.tag == "dd":
                span.append(sibling)
                break
            if sibling.tag == "dt" and any(s.tag == "dd" for s in span if isinstance(s, Element)):
                break
            span.append(sibling)
        return span
    return None


def heading_of(element):
    """The displayed heading text of a section, or the signature of an API entry / glossary term."""
    if element.tag == "dt":
        return visible_text([element])
    for child in element.children:
        if isinstance(child, Element) and re.fullmatch(r"h[1-6]", child.tag):
            return visible_text([child])
    return None


class Page:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.html = f.read()

    def element(self, anchor):
        """The element whose id is `anchor` (with its region parsed below it), or None."""
        value = re.escape(html.escape(anchor, quote=True))
        match = re.search(r"<[a-zA-Z][a-zA-Z0-9]*\s(?:[^>]*?\s)?id=(?:\"" + value + r"\"|'" + value + r"')",
                          self.html)
        if match is None:
            return None
        builder = RegionBuilder()
        try:
            builder.feed(self.html[match.start():])
            builder.close()
        except _RegionEnd:
            pass
        return builder.root.children[0]


def stem(word):
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_words(text):
    return {stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOP_WORDS}


def overlap(question, evidence):
    words = content_words(question)
    if not words:
        return 0.0
    return len(words & content_words(evidence)) / len(words)


def check_entry(entry, docs, pages):
    """Problems with one entry, as strings (empty when it passes), and the text of its anchor's span."""
    missing = [f for f in FIELDS if not isinstance(entry.get(f), str) or not entry.get(f).strip()]
    if missing:
        return ["missing or empty field(s): " + ", ".join(missing)], None
    problems = []
    extra = sorted(set(entry) - set(FIELDS))
    if extra:
        problems.append("unknown field(s): " + ", ".join(extra))
    if not re.fullmatch(r"q\d{3,}", entry["id"]):
        problems.append(f"id {entry['id']!r} is not of the form q001")
    if entry["kind"] not in KINDS:
        problems.append(f"kind {entry['kind']!r} is not one of {', '.join(KINDS)}")
    expected_kind = KIND_OF_FOLDER.get(entry["page"].split("/")[0], "other")
    if "/" not in entry["page"]:
        expected_kind = "other"
    if entry["kind"] in KINDS and entry["kind"] != expected_kind:
        problems.append(f"kind {entry['kind']!r} does not match the page's folder (expected {expected_kind!r})")
    n_words = len(normalize(entry["evidence"]).split())
    if not EVIDENCE_WORDS[0] <= n_words <= EVIDENCE_WORDS[1]:
        problems.append(f"evidence has {n_words} words, expected {EVIDENCE_WORDS[0]}-{EVIDENCE_WORDS[1]}")

    page_path = os.path.normpath(os.path.join(docs, entry["page"]))
    if not page_path.startswith(os.path.normpath(docs) + os.sep) or not os.path.isfile(page_path):
        problems.append(f"page {entry['page']!r} does not exist under {docs}")
        return problems, None
    if page_path not in pages:
        pages[page_path] = Page(page_path)
    page = pages[page_path]
    element = page.element(entry["anchor"])
    if element is None:
        problems.append(f"anchor {entry['anchor']!r} not found on {entry['page']}")
        return problems, None
    span = anchor_span(element)
    if span is None:
        problems.append(f"anchor {entry['anchor']!r} is on a <{element.tag}>, not a <section> or <dt>")
        return problems, None
    heading = heading_of(element)
    if heading is not None and normalize(entry["section"]) != heading:
        problems.append(f"section {entry['section']!r} differs from the displayed heading {heading!r}")
    text = visible_text(span)
    if normalize(entry["evidence"]) not in text:
        problems.append(f"evidence not found in the text of {entry['page']}#{entry['anchor']}: "
                        f"{entry['evidence']!r}")
    return problems, text


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", default=DEFAULT_DOCS, help="root of the Python 3.11 HTML documentation")
    parser.add_argument("--quiet", action="store_true", help="print only problems and the summary")
    parser.add_argument("qa", help="the QA set, one JSON object per line")
    args = parser.parse_args(argv)

    if not os.path.isdir(args.docs):
        print(f"SKIP: documentation directory {args.docs} is absent (Debian package python3.11-doc)")
        return 77

    failures = 0
    entries = []
    seen_ids = {}
    pages = {}
    try:
        with open(args.qa, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        print(f"{args.qa}: cannot read the QA set: {e}")
        return 1
    for number, line in enumerate(lines, 1):
        where = f"{args.qa}:{number}"
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as e:
            print(f"{where}: not valid JSON: {e}")
            failures += 1
            continue
        if not isinstance(entry, dict):
            print(f"{where}: not a JSON object")
            failures += 1
            continue
        label = f"{where} ({entry.get('id', '?')})"
        problems, text = check_entry(entry, args.docs, pages)
        entry_id = entry.get("id")
        if isinstance(entry_id, str):
            if entry_id in seen_ids:
                problems.append(f"id {entry_id!r} already used on line {seen_ids[entry_id]}")
            else:
                seen_ids[entry_id] = number
        for problem in problems:
            print(f"{label}: {problem}")
        if problems:
            failures += 1
        else:
            entries.append((entry, text))

    if not entries and not failures:
        print(f"{args.qa}: no entries")
        return 1

    counts = {}
    for entry, _ in entries:
        counts[entry["kind"]] = counts.get(entry["kind"], 0) + 1
    pages_used = {e["page"] for e, _ in entries}
    print(f"{len(entries)} valid entries, {failures} failing; {len(pages_used)} distinct pages")
    print("per kind: " + ", ".join(f"{k} {counts[k]}" for k in KINDS if k in counts))
    if entries:
        shares = [overlap(e["question"], e["evidence"]) for e, _ in entries]
        in_section = [overlap(e["question"], text) for e, text in entries]
        low = sum(1 for s in shares if s <= LOW_OVERLAP + 1e-9)
        print(f"question/evidence word overlap: mean {statistics.mean(shares):.2f}, "
              f"median {statistics.median(shares):.2f}, "
              f"{low}/{len(shares)} ({100 * low / len(shares):.0f}%) at or below 1/3")
        print(f"question words found anywhere in the anchor's section: mean {statistics.mean(in_section):.2f}, "
              f"median {statistics.median(in_section):.2f}")
        if not args.quiet:
            print("  id   evidence section  page#anchor")
            for (entry, _), share, wide in zip(entries, shares, in_section):
                print(f"  {entry['id']} {share:8.2f} {wide:7.2f}  {entry['page']}#{entry['anchor']}")
    if failures:
        print(f"FAIL: {failures} entr{'y' if failures == 1 else 'ies'} with problems")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
