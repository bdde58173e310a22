// StopMatcher tests: stop strings split over several pieces, false starts, and releasing the rest.
#include "generate/stop_matcher.h"

#include <gtest/gtest.h>

namespace llama4 {
namespace {

TEST(StopMatcher, MatchesAcrossPiecesAndHidesTheStop) {
  StopMatcher m({"END"});
  auto s = m.push("abc E");
  EXPECT_EQ(s.text, "abc ");
  EXPECT_FALSE(s.stopped);
  s = m.push("N");
  EXPECT_EQ(s.text, "");
  s = m.push("D and more");
  EXPECT_TRUE(s.stopped);
  EXPECT_EQ(s.text, "");
}

TEST(StopMatcher, FalseStartIsReleased) {
  StopMatcher m({"END", "stop"});
  EXPECT_EQ(m.push("xEN").text, "x");
  const auto s = m.push("X st");
  EXPECT_FALSE(s.stopped);
  EXPECT_EQ(s.text, "ENX ");
  EXPECT_EQ(m.finish(), "st");
}

TEST(StopMatcher, EarliestOfSeveralStopsWins) {
  StopMatcher m({"cd", "b"});
  const auto s = m.push("abcd");
  EXPECT_TRUE(s.stopped);
  EXPECT_EQ(s.text, "a");
}

TEST(StopMatcher, NoStopsPassesEverything) {
  StopMatcher m({});
  EXPECT_EQ(m.push("hello").text, "hello");
  EXPECT_EQ(m.finish(), "");
}

}  // namespace
}  // namespace llama4
