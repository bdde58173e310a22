// The BPE core's two merge loops (rank scan and heap) must agree, for tiktoken ranks and for
// merges reconstructed from them; and small pieces: base64, byte-level mapping, UTF-8 helpers.
#include <gtest/gtest.h>

#include <random>

#include "test_corpus.h"
#include "test_support.h"
#include "tokenizer/base64.h"
#include "tokenizer/bpe.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/converter.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace llama4::test {
namespace {

// Pieces to merge: substrings of corpus texts of many lengths (not pre-tokenized, so they
// cross character classes, which exercises merges the pattern would never produce).
std::vector<std::string> sample_pieces() {
  std::mt19937 rng(7);
  std::vector<std::string> pieces;
  const auto corpus = tokenizer_corpus(/*include_huge_runs=*/false);
  for (int i = 0; i < 3000; ++i) {
    const std::string& text = corpus[rng() % corpus.size()];
    if (text.size() < 2) continue;
    const std::size_t length =
        2 + rng() % std::min<std::size_t>(text.size() - 1, i % 10 == 0 ? 600 : 90);
    const std::size_t start = rng() % (text.size() - length + 1);
    pieces.push_back(text.substr(start, length));
  }
  return pieces;
}

TEST(BpeModel, ScanAndHeapAgree) {
  const auto tokens = read_tiktoken_ranks(llama4_model_file());
  const BpeModel by_rank = BpeModel::from_ranks(tokens);
  const auto rank_merges = merges_from_ranks(tokens);
  const std::vector<std::pair<TokenId, TokenId>> merges(rank_merges.begin(), rank_merges.end());
  const BpeModel by_merges = BpeModel::from_merges(tokens, merges, /*ignore_merges=*/true);
  int compared = 0;
  for (const auto& piece : sample_pieces()) {
    std::vector<TokenId> scan, heap, merged_scan, merged_heap;
    by_rank.merge_by_scan(piece, scan);
    by_rank.merge_by_heap(piece, heap);
    by_merges.merge_by_scan(piece, merged_scan);
    by_merges.merge_by_heap(piece, merged_heap);
    ASSERT_EQ(scan, heap) << nlohmann::json(piece).dump();
    ASSERT_EQ(merged_scan, merged_heap) << nlohmann::json(piece).dump();
    ASSERT_EQ(scan, merged_scan) << nlohmann::json(piece).dump();
    std::string joined;
    for (const TokenId id : scan) joined += tokens[id];
    ASSERT_EQ(joined, piece);
    ++compared;
  }
  EXPECT_GT(compared, 2500);
}

TEST(BpeModel, MergesFromRanksFollowTransformersOrder) {
  // Tokens: bytes 0..255, then "ab" (256), "bc" (257), "abc" (258).
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.emplace_back(1, static_cast<char>(b));
  tokens.insert(tokens.end(), {"ab", "bc", "abc"});
  const auto merges = merges_from_ranks(tokens);
  ASSERT_EQ(merges.size(), 4u);
  EXPECT_EQ(merges[0], std::make_pair(int{'a'}, int{'b'}));
  EXPECT_EQ(merges[1], std::make_pair(int{'b'}, int{'c'}));
  // "abc" = a|bc or ab|c: ordered by (left rank, right rank); 'a' = 97 < "ab" = 256.
  EXPECT_EQ(merges[2], std::make_pair(int{'a'}, 257));
  EXPECT_EQ(merges[3], std::make_pair(256, int{'c'}));
}

TEST(Base64, DecodesStrictly) {
  EXPECT_EQ(base64_decode("SGVsbG8="), "Hello");
  EXPECT_EQ(base64_decode("SGk="), "Hi");
  EXPECT_EQ(base64_decode("SGVs"), "Hel");
  EXPECT_FALSE(base64_decode("SGVsbG8").has_value());
  EXPECT_FALSE(base64_decode("SG=s").has_value());
  EXPECT_FALSE(base64_decode("S===").has_value());
  EXPECT_FALSE(base64_decode("").has_value());
  EXPECT_EQ(base64_encode("Hello"), "SGVsbG8=");
  for (int b = 0; b < 256; ++b) {
    const std::string s(1, static_cast<char>(b));
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
  }
}

TEST(ByteLevel, MatchesGpt2Mapping) {
  EXPECT_EQ(byte_level::encode(" "), "Ġ");
  EXPECT_EQ(byte_level::encode("\n"), "Ċ");
  EXPECT_EQ(byte_level::encode("a!~"), "a!~");
  EXPECT_EQ(byte_level::encode("\xAD"), "Ń");  // 0xAD is the last remapped byte: U+0143
  EXPECT_EQ(byte_level::encode(std::string(1, '\0')), "Ā");
  for (int b = 0; b < 256; ++b) {
    const std::string s(1, static_cast<char>(b));
    EXPECT_EQ(byte_level::decode(byte_level::encode(s)), s) << b;
  }
  EXPECT_FALSE(byte_level::decode("中").has_value());
  EXPECT_FALSE(byte_level::decode(" ").has_value());  // the space itself is not in the alphabet
}

TEST(Utf8, RepairReplacesMaximalSubparts) {
  EXPECT_EQ(utf8::repair("ok"), "ok");
  EXPECT_EQ(utf8::repair("a\xF0\x9F\x98"), "a\xEF\xBF\xBD");        // one truncated char
  EXPECT_EQ(utf8::repair("\xE0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong: 2 replacements
  EXPECT_EQ(utf8::repair("\xED\xA0\x80"),
            std::string(3, 'x').replace(0, 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"));
  EXPECT_EQ(utf8::first_invalid_offset("ab\xC3\xA9\xFF"), 4u);
  EXPECT_FALSE(utf8::first_invalid_offset("żółw 😀").has_value());
}

TEST(PreTokenizer, SplitsLikeTheO200kPattern) {
  const PreTokenizer pre(kO200kPattern);
  auto split = [&](std::string_view text) {
    std::vector<std::string> pieces;
    pre.split(text, [&](std::string_view p) { pieces.emplace_back(p); });
    return pieces;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(split("Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(split("I'M don't"), (V{"I'M", " don't"}));
  EXPECT_EQ(split("1234567"), (V{"123", "456", "7"}));
  EXPECT_EQ(split("a  \n\n  b"), (V{"a", "  \n\n", " ", " b"}));
  EXPECT_EQ(split("end   "), (V{"end", "   "}));
  EXPECT_EQ(split("x'ſ"), (V{"x'ſ"}));  // (?i:'s) matches the long s, as Unicode folding says
  EXPECT_EQ(split("!\u0085"), (V{"!", "\u0085"}));  // U+0085 is whitespace here, as in Rust's regex
  EXPECT_EQ(split("a/b//\n"), (V{"a", "/b", "//\n"}));
  EXPECT_EQ(pcre2_pattern_from_rust(R"(\s+(?!\S)|[^\s\p{L}])"),
            R"([\s\x{85}]+(?![^\s\x{85}])|[^\s\x{85}\p{L}])");
  EXPECT_THROW(PreTokenizer("(unclosed"), Error);
}

}  // namespace
}  // namespace llama4::test
