// Utf8Assembler: turns token pieces (raw bytes; a byte-level BPE token may end in the middle of a
// UTF-8 character) into text that is always complete, valid UTF-8, for streaming. An incomplete
// trailing sequence is held back until the bytes that finish it arrive; bytes that can never form
// valid UTF-8 become U+FFFD, one per maximal invalid subpart (the Unicode recommended practice).
#pragma once

#include <string>
#include <string_view>

namespace plinth::models {

class Utf8Assembler {
 public:
  // Adds bytes; returns the complete characters now available.
  std::string push(std::string_view bytes);
  // At the end of the stream: an incomplete held-back sequence becomes U+FFFD.
  std::string flush();
  // Bytes held back, waiting for the rest of their character.
  std::size_t pending() const noexcept { return pending_.size(); }
  void reset() noexcept { pending_.clear(); }

 private:
  std::string pending_;
};

}  // namespace plinth::models
