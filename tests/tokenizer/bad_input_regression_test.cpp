// Regression tests for tokenizer-loading problems found while fuzzing the loaders (fuzz/) and by
// the bad-input suite (tests/bad_input/): token ids that would size an absurd allocation, and ids
// that are not integers, must be refused with an Error naming the field.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "test_support.h"
#include "tokenizer/byte_level.h"
#include "util/error.h"

namespace llama4::test {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// A minimal byte-level tokenizer.json: the 256 byte tokens, no merges, one added token.
json byte_tokenizer_json() {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_level::encode(std::string(1, static_cast<char>(b)))] = b;
  return {
      {"added_tokens", json::array({{{"id", 256}, {"content", "<s>"}, {"special", true}}})},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"post_processor", nullptr},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array()}}}};
}

std::string load_error(const json& tokenizer) {
  TempDir dir;
  std::ofstream(dir.path() / "tokenizer.json") << tokenizer.dump();
  try {
    Tokenizer::load(dir.path());
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(TokenizerBadInput, ValidFileLoads) {
  EXPECT_EQ(load_error(byte_tokenizer_json()), "(no error)");
}

// {"vocab": {"a": 2000000000}} once resized the id table to two billion strings.
TEST(TokenizerBadInput, HugeVocabIdIsRefusedBeforeAllocating) {
  json tokenizer = byte_tokenizer_json();
  tokenizer["model"]["vocab"]["zz"] = 2'000'000'000;
  EXPECT_THAT(load_error(tokenizer), HasSubstr("model.vocab['zz']: invalid id 2000000000"));
}

TEST(TokenizerBadInput, HugeAddedTokenIdIsRefusedBeforeAllocating) {
  json tokenizer = byte_tokenizer_json();
  tokenizer["added_tokens"][0]["id"] = 2'000'000'000;
  EXPECT_THAT(load_error(tokenizer), HasSubstr("added_tokens[0].id: invalid token id 2000000000"));
}

// A float id was narrowed to an int (undefined behaviour for 1e20).
TEST(TokenizerBadInput, FloatAddedTokenIdIsRefused) {
  json tokenizer = byte_tokenizer_json();
  tokenizer["added_tokens"][0]["id"] = 1e20;
  EXPECT_THAT(load_error(tokenizer), HasSubstr("added_tokens[0].id: invalid token id"));
}

TEST(TokenizerBadInput, AddedTokenIdAtTheLimitIsAccepted) {
  json tokenizer = byte_tokenizer_json();
  tokenizer["added_tokens"][0]["id"] = 1000;
  EXPECT_EQ(load_error(tokenizer), "(no error)");
}

}  // namespace
}  // namespace llama4::test
