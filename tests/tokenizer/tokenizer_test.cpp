// Tokenizer behaviour on the real Llama 4 vocabulary: special-token ids, parse_special, BOS,
// round trips, decoding, streaming, invalid UTF-8, long runs, thread safety and throughput.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "test_corpus.h"
#include "test_support.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace llama4::test {
namespace {

using ::testing::HasSubstr;

TEST(Llama4Tokenizer, SpecialTokenIdsFollowMetasOrder) {
  const Tokenizer& tok = llama4_tokenizer();
  EXPECT_EQ(tok.vocab_size(), 202048u);
  const std::vector<std::pair<TokenId, std::string>> expected = {
      {200000, "<|begin_of_text|>"},
      {200001, "<|end_of_text|>"},
      {200005, "<|header_start|>"},
      {200006, "<|header_end|>"},
      {200007, "<|eom|>"},
      {200008, "<|eot|>"},
      {200010, "<|text_post_train_reserved_special_token_0|>"},
      {200016, "<|python_start|>"},
      {200018, "<|finetune_right_pad|>"},
      {200019, "<|text_post_train_reserved_special_token_8|>"},
      {200079, "<|text_post_train_reserved_special_token_68|>"},
      {200080, "<|image_start|>"},
      {200084, "<|tile_x_separator|>"},
      {200090, "<|image|>"},
      {200092, "<|patch|>"},
      {200093, "<|vision_reserved_special_token_7|>"},
      {201133, "<|vision_reserved_special_token_1047|>"},
      {201134, "<|reasoning_reserved_special_token_0|>"},
      {201142, "<|reasoning_thinking_start|>"},
      {201143, "<|reasoning_thinking_end|>"},
      {201144, "<|reserved_special_token_0|>"},
      {202047, "<|reserved_special_token_903|>"},
  };
  for (const auto& [id, name] : expected) {
    EXPECT_EQ(tok.token_bytes(id), name) << id;
    EXPECT_EQ(tok.token_id(name), id) << name;
    EXPECT_TRUE(tok.is_special(id)) << id;
  }
  EXPECT_FALSE(tok.is_special(220));
  EXPECT_EQ(tok.token_bytes(220), " ");
  EXPECT_EQ(tok.token_bytes(0), "\xC0");  // ranks are not in byte order
  EXPECT_EQ(tok.token_id("\n"), 198);
  EXPECT_EQ(tok.bos_id(), 200000);
  EXPECT_THROW(tok.token_bytes(202048), Error);
  EXPECT_THROW(tok.token_bytes(-1), Error);
}

TEST(Llama4Tokenizer, SettingsForTokenizerModel) {
  const auto& s = llama4_tokenizer().settings();
  EXPECT_EQ(s.bos_token, "<|begin_of_text|>");
  EXPECT_EQ(s.eos_token, "<|eot|>");
  EXPECT_TRUE(s.add_bos_token);
  EXPECT_FALSE(s.chat_template.has_value());  // no tokenizer_config.json next to the file
}

TEST(Llama4Tokenizer, KnownIdsAndBos) {
  const Tokenizer& tok = llama4_tokenizer();
  EXPECT_EQ(tok.encode("Hello world"), (std::vector<TokenId>{19873, 3817}));
  EXPECT_EQ(tok.encode("Hello world", {.add_bos = true}),
            (std::vector<TokenId>{200000, 19873, 3817}));
  EXPECT_EQ(tok.encode("I'M don't"), (std::vector<TokenId>{53, 92949, 5863}));
  EXPECT_TRUE(tok.encode("").empty());
}

TEST(Llama4Tokenizer, SpecialTokensParsedOnlyWhenAsked) {
  const Tokenizer& tok = llama4_tokenizer();
  const std::string text = "Hi<|eot|><|header_start|>";
  const auto parsed = tok.encode(text, {.parse_special = true});
  ASSERT_EQ(parsed.size(), 3u);
  EXPECT_EQ(parsed[1], 200008);
  EXPECT_EQ(parsed[2], 200005);
  const auto plain = tok.encode(text);
  EXPECT_GT(plain.size(), 3u);
  for (const TokenId id : plain) EXPECT_FALSE(tok.is_special(id)) << id;
  EXPECT_EQ(tok.decode(plain), text);
  EXPECT_EQ(tok.decode(parsed), text);
  EXPECT_EQ(tok.decode(parsed, /*skip_special=*/true), "Hi");
  // An unknown look-alike stays text even when parsing.
  for (const TokenId id : tok.encode("<|reserved_special_token_904|>", {.parse_special = true}))
    EXPECT_FALSE(tok.is_special(id));
}

TEST(Llama4Tokenizer, DecodeOfEncodeIsIdentityOnCorpus) {
  const Tokenizer& tok = llama4_tokenizer();
  for (const auto& text : tokenizer_corpus()) {
    const auto ids = tok.encode(text);
    ASSERT_EQ(tok.decode(ids), text) << nlohmann::json(text.substr(0, 80)).dump();
  }
}

TEST(Llama4Tokenizer, InvalidUtf8IsRejectedWithOffset) {
  const Tokenizer& tok = llama4_tokenizer();
  for (const std::string& bad : {std::string("abc\xFF"), std::string("abc\xC3"),
                                 std::string("abc\xED\xA0\x80"), std::string("abc\xC0\xAF")}) {
    try {
      tok.encode(bad);
      ADD_FAILURE() << "no error for " << nlohmann::json::binary({bad.begin(), bad.end()}).dump();
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr("invalid UTF-8 at byte offset 3"));
    }
  }
}

TEST(Llama4Tokenizer, DecodeReplacesIncompleteCharacters) {
  const Tokenizer& tok = llama4_tokenizer();
  const TokenId c3 = *tok.token_id("\xC3");
  const TokenId a9 = *tok.token_id("\xA9");
  const TokenId x = *tok.token_id("x");
  EXPECT_EQ(tok.decode(std::vector<TokenId>{c3, a9}), "é");
  EXPECT_EQ(tok.decode(std::vector<TokenId>{c3, x}), "\xEF\xBF\xBDx");
  EXPECT_EQ(tok.decode(std::vector<TokenId>{a9}), "\xEF\xBF\xBD");
  EXPECT_THROW(tok.decode(std::vector<TokenId>{x, 300000}), Error);
}

TEST(StreamingDecoder, HoldsBackSplitCharacters) {
  const Tokenizer& tok = llama4_tokenizer();
  const std::string emoji = "😀";  // F0 9F 98 80
  std::vector<TokenId> bytes;
  for (char c : emoji) bytes.push_back(*tok.token_id(std::string(1, c)));
  StreamingDecoder decoder(tok);
  EXPECT_EQ(decoder.push(*tok.token_id("a")), "a");
  EXPECT_EQ(decoder.push(bytes[0]), "");
  EXPECT_EQ(decoder.push(bytes[1]), "");
  EXPECT_EQ(decoder.push(bytes[2]), "");
  EXPECT_EQ(decoder.push(bytes[3]), emoji);
  EXPECT_EQ(decoder.push(bytes[0]), "");
  EXPECT_EQ(decoder.flush(), "\xEF\xBF\xBD");  // incomplete at the end
  EXPECT_EQ(decoder.flush(), "");
  // A byte that can never continue the pending sequence is replaced at once.
  EXPECT_EQ(decoder.push(bytes[0]), "");
  EXPECT_EQ(decoder.push(*tok.token_id("b")),
            "\xEF\xBF\xBD"
            "b");
}

TEST(StreamingDecoder, SpecialTokensShownOrHidden) {
  const Tokenizer& tok = llama4_tokenizer();
  StreamingDecoder hidden(tok), shown(tok, /*show_special=*/true);
  EXPECT_EQ(hidden.push(200008), "");
  EXPECT_EQ(shown.push(200008), "<|eot|>");
}

TEST(StreamingDecoder, ConcatenationEqualsDecodeOnCorpus) {
  const Tokenizer& tok = llama4_tokenizer();
  int split_characters = 0;
  for (const auto& text : tokenizer_corpus(/*include_huge_runs=*/false)) {
    StreamingDecoder decoder(tok);
    std::string streamed;
    for (const TokenId id : tok.encode(text)) {
      const std::string part = decoder.push(id);
      ASSERT_FALSE(utf8::first_invalid_offset(part).has_value());
      if (part.empty() && !tok.token_bytes(id).empty()) ++split_characters;
      streamed += part;
    }
    streamed += decoder.flush();
    ASSERT_EQ(streamed, text);
  }
  EXPECT_GT(split_characters, 0) << "the corpus should contain characters split across tokens";
}

TEST(Llama4Tokenizer, LongRunsOfOneClassRoundTrip) {
  // Long runs of one character class are where a naive BPE merge goes quadratic; their speed is
  // measured by bench/tokenizer_bench.cpp (a benchmark, not a timed test). Here: exact results.
  const Tokenizer& tok = llama4_tokenizer();
  constexpr std::size_t kRun = 256 * 1024;
  for (const char c : {'a', ' ', '7', '!'}) {
    const std::string text(kRun, c);
    const auto ids = tok.encode(text);
    EXPECT_EQ(tok.decode(ids), text) << "run of '" << c << "'";
    EXPECT_LT(ids.size(), kRun / 2) << "run of '" << c << "' should merge into multi-byte tokens";
  }
}

TEST(Llama4Tokenizer, ConcurrentEncodesAgree) {
  const Tokenizer& tok = llama4_tokenizer();
  const auto corpus = tokenizer_corpus(/*include_huge_runs=*/false);
  std::vector<std::vector<TokenId>> expected;
  for (const auto& text : corpus) expected.push_back(tok.encode(text));
  constexpr int kThreads = 4;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round)
        for (std::size_t i = 0; i < corpus.size(); ++i)
          mismatches[t] += tok.encode(corpus[(i + t * 37) % corpus.size()]) !=
                           expected[(i + t * 37) % corpus.size()];
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace llama4::test
