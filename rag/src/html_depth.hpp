// A bound on HTML nesting checked before parsing: the HTML parser's time grows with the depth of the
// tree times the number of tags (each block start scans the open elements), and freeing its tree
// recurses once per level, so a document nested thousands deep must be refused, not parsed. Private to
// plinth::rag_ingest.
#pragma once

#include <cstddef>
#include <string_view>

namespace plinth::rag::detail {

// The deepest element nesting `html` reaches, estimated from its tags the way the parser's tokenizer
// sees them (quoted attribute values, comments, script and style text skipped): a start tag of an
// element that can hold others adds a level, an end tag of one that is open removes it. Void
// elements, elements whose end tag may be left out (p, li, td, ...) and self-closing tags in SVG or
// MathML add none. Stops counting once past `limit` and returns a value over it.
std::size_t html_nesting_estimate(std::string_view html, std::size_t limit);

}  // namespace plinth::rag::detail
