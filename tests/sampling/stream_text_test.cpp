// StopMatcher and Utf8Assembler: text that arrives token by token.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plinth/models/stop_matcher.hpp"
#include "plinth/models/utf8_assembler.hpp"

namespace plinth::models {
namespace {

// Feeds pieces until a stop; returns everything passed on (and the flush when no stop came).
std::string run(StopMatcher& m, const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& p : pieces) {
    out += m.push(p);
    if (m.stopped()) return out;
  }
  return out + m.flush();
}

TEST(StopMatcher, NoStopsPassesEverythingThrough) {
  StopMatcher m;
  EXPECT_EQ(m.push("hello "), "hello ");
  EXPECT_EQ(m.push("world"), "world");
  EXPECT_FALSE(m.stopped());
}

TEST(StopMatcher, StopInsideOnePiece) {
  StopMatcher m({"END"});
  EXPECT_EQ(run(m, {"abc", "dEND tail", "more"}), "abcd");
  ASSERT_TRUE(m.stopped());
  EXPECT_EQ(*m.matched(), "END");
  EXPECT_EQ(m.push("x"), "");
  EXPECT_EQ(m.flush(), "");
}

TEST(StopMatcher, StopSplitAcrossPiecesIsNeverShown) {
  StopMatcher m({"<|end|>"});
  std::string shown;
  for (std::string p : {"Hi", " <", "|e", "nd", "|", ">after"}) {
    shown += m.push(p);
    // At no moment is any part of the stop string visible.
    EXPECT_EQ(shown.find('<'), std::string::npos) << shown;
    if (m.stopped()) break;
  }
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(shown, "Hi ");
}

TEST(StopMatcher, HeldBackTextIsReleasedWhenItTurnsOutNotToBeAStop) {
  StopMatcher m({"\n\nUser:"});
  EXPECT_EQ(m.push("line\n"), "line");
  EXPECT_EQ(m.push("\nUs"), "");
  EXPECT_EQ(m.push("ually"), "\n\nUsually");
  EXPECT_EQ(m.push("\n"), "");
  EXPECT_EQ(m.flush(), "\n");
  EXPECT_FALSE(m.stopped());
}

TEST(StopMatcher, EarliestOfSeveralStopsWins) {
  StopMatcher m({"world", "lo w"});
  EXPECT_EQ(run(m, {"hel", "lo wor", "ld"}), "hel");
  EXPECT_EQ(*m.matched(), "lo w");
}

TEST(StopMatcher, OverlappingPrefixes) {
  // "aab" must be found in "aaab" although the first "aa" is a false start.
  StopMatcher m({"aab"});
  EXPECT_EQ(run(m, {"a", "a", "a", "b", "c"}), "a");
  EXPECT_TRUE(m.stopped());
}

TEST(StopMatcher, EmptyStopStringsAreIgnoredAndResetWorks) {
  StopMatcher m({"", "x"});
  EXPECT_EQ(m.stops().size(), 1u);
  EXPECT_EQ(run(m, {"abx"}), "ab");
  m.reset();
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(run(m, {"ab"}), "ab");
}

TEST(Utf8Assembler, AsciiPassesThrough) {
  Utf8Assembler u;
  EXPECT_EQ(u.push("abc"), "abc");
  EXPECT_EQ(u.pending(), 0u);
}

TEST(Utf8Assembler, CharacterSplitAcrossPiecesIsHeldBack) {
  Utf8Assembler u;
  const std::string euro = "\xE2\x82\xAC";       // U+20AC, 3 bytes
  const std::string emoji = "\xF0\x9F\x98\x80";  // U+1F600, 4 bytes
  EXPECT_EQ(u.push("a\xE2"), "a");
  EXPECT_EQ(u.pending(), 1u);
  EXPECT_EQ(u.push("\x82"), "");
  EXPECT_EQ(u.push("\xAC"
                   "b\xF0\x9F"),
            euro + "b");
  EXPECT_EQ(u.push("\x98"), "");
  EXPECT_EQ(u.push("\x80"), emoji);
  EXPECT_EQ(u.flush(), "");
}

TEST(Utf8Assembler, EveryByteSplitReassemblesTheSameText) {
  const std::string text = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xE4\xB8\xAD\xE6\x96\x87";
  std::string out;
  Utf8Assembler u;
  for (char c : text) {
    const std::string piece = u.push(std::string(1, c));
    out += piece;
  }
  out += u.flush();
  EXPECT_EQ(out, text);
}

TEST(Utf8Assembler, InvalidBytesBecomeReplacementCharacters) {
  const std::string fffd = "\xEF\xBF\xBD";
  Utf8Assembler u;
  EXPECT_EQ(u.push("\x80"
                   "a"),
            fffd + "a");                       // stray continuation byte
  EXPECT_EQ(u.push("\xC0\xAF"), fffd + fffd);  // overlong lead C0 is never valid
  EXPECT_EQ(u.push("\xE2\x82"
                   "x"),
            fffd + "x");                                             // truncated by a non-continuation byte
  EXPECT_EQ(u.push("\xED\xA0\x80"), fffd + fffd + fffd);             // a surrogate: ED A0 is invalid
  EXPECT_EQ(u.push("\xF4\x90\x80\x80"), fffd + fffd + fffd + fffd);  // above U+10FFFF
  EXPECT_EQ(u.push("\xF0\x9F"), "");
  EXPECT_EQ(u.flush(), fffd);  // an unfinished character at the end
}

TEST(StreamText, Utf8AndStopTogether) {
  // A multi-byte stop string split mid-character across pieces.
  Utf8Assembler u;
  StopMatcher m({"\xE2\x80\x94STOP"});  // an em dash then STOP
  std::string shown;
  for (std::string p : {"ok \xE2", "\x80", "\x94", "ST", "OP!"}) {
    shown += m.push(u.push(p));
    if (m.stopped()) break;
  }
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(shown, "ok ");
}

}  // namespace
}  // namespace plinth::models
