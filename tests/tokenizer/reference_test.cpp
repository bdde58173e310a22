// Encodes the corpus with our `llama4 tokenize --jsonl` and with the npm `tiktoken` package (the
// reference, run by node on the real Llama 4 ranks) and requires identical ids for every case.
// A missing node or npm package is a failure, not a skip: without the reference nothing is checked.
#include <gtest/gtest.h>

#include "test_corpus.h"
#include "test_support.h"

namespace llama4::test {
namespace {

std::filesystem::path reference_dir() {
  return source_dir() / "tests/tokenizer/reference";
}

// Makes sure node and the pinned npm package are there (installing the package if needed).
::testing::AssertionResult reference_available() {
  if (run_shell("node --version > /dev/null 2>&1") != 0)
    return ::testing::AssertionFailure() << "node is not installed (needed for the reference "
                                            "tokenizer: apt-get install nodejs npm)";
  const auto package = reference_dir() / "node_modules/tiktoken/package.json";
  if (!std::filesystem::exists(package)) {
    const std::string install =
        "npm install --prefix " + shell_quote(reference_dir().string()) + " > /dev/null 2>&1";
    if (run_shell(install) != 0 || !std::filesystem::exists(package))
      return ::testing::AssertionFailure()
             << "the npm package 'tiktoken' is missing and `npm install --prefix "
             << reference_dir().string() << "` failed";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult cli_available() {
  const std::string bin = env_or_empty("LLAMA4_BIN");
  if (bin.empty() || !std::filesystem::exists(bin))
    return ::testing::AssertionFailure() << "LLAMA4_BIN does not name the built llama4 program";
  return ::testing::AssertionSuccess();
}

std::vector<std::vector<TokenId>> reference_ids(const TempDir& dir, const std::string& input,
                                                bool parse_special) {
  const auto out = dir.path() / "reference.jsonl";
  const std::string command =
      "node " + shell_quote((reference_dir() / "tiktoken_encode.mjs").string()) + " " +
      shell_quote(llama4_model_file().string()) + (parse_special ? " --parse-special" : "") +
      " < " + shell_quote(input) + " > " + shell_quote(out.string());
  EXPECT_EQ(run_shell(command), 0) << command;
  return read_id_lines(out);
}

std::vector<std::vector<TokenId>> cli_ids(const TempDir& dir, const std::string& input,
                                          bool parse_special) {
  const auto out = dir.path() / "ours.jsonl";
  const std::string command =
      shell_quote(env_or_empty("LLAMA4_BIN")) + " tokenize --jsonl --tokenizer " +
      shell_quote(llama4_model_file().string()) + (parse_special ? " --parse-special" : "") +
      " < " + shell_quote(input) + " > " + shell_quote(out.string());
  EXPECT_EQ(run_shell(command), 0) << command;
  return read_id_lines(out);
}

std::string preview(const std::string& text) {
  return nlohmann::json(text.substr(0, 120)).dump() + (text.size() > 120 ? "…" : "");
}

void expect_same_ids(const std::vector<std::string>& corpus,
                     const std::vector<std::vector<TokenId>>& expected,
                     const std::vector<std::vector<TokenId>>& actual) {
  ASSERT_EQ(expected.size(), corpus.size());
  ASSERT_EQ(actual.size(), corpus.size());
  int mismatches = 0;
  for (std::size_t i = 0; i < corpus.size(); ++i)
    if (expected[i] != actual[i]) {
      ++mismatches;
      ADD_FAILURE() << "case " << i << " " << preview(corpus[i]) << ": reference "
                    << nlohmann::json(expected[i]).dump().substr(0, 200) << " vs ours "
                    << nlohmann::json(actual[i]).dump().substr(0, 200);
    }
  EXPECT_EQ(mismatches, 0) << "of " << corpus.size() << " cases";
}

TEST(TokenizerReference, CorpusEncodesLikeTiktoken) {
  ASSERT_TRUE(reference_available());
  ASSERT_TRUE(cli_available());
  const auto corpus = tokenizer_corpus();
  ASSERT_GE(corpus.size(), 400u);
  TempDir dir;
  const auto input = (dir.path() / "corpus.jsonl").string();
  write_jsonl(input, corpus);
  const auto expected = reference_ids(dir, input, false);
  expect_same_ids(corpus, expected, cli_ids(dir, input, false));
  // The library gives the same ids as the CLI.
  std::vector<std::vector<TokenId>> in_process;
  for (const auto& text : corpus) in_process.push_back(llama4_tokenizer().encode(text));
  expect_same_ids(corpus, expected, in_process);
}

TEST(TokenizerReference, ParsedSpecialTokensLikeTiktoken) {
  ASSERT_TRUE(reference_available());
  ASSERT_TRUE(cli_available());
  const std::vector<std::string> corpus = {
      "<|eot|>",
      "<|begin_of_text|>hello",
      "<|eot",
      "<|eot|><|eot|>x",
      "<|header_start|>user<|header_end|>\n\nHi "
      "there<|eot|><|header_start|>assistant<|header_end|>\n\n",
      "<|reserved_special_token_903|><|reserved_special_token_904|>",
      "<<|eot|>>",
      "<|image|><|image_start|><|patch|>",
      "a <|python_start|>print(1)<|python_end|> b",
      "<|reasoning_thinking_start|>hmm<|reasoning_thinking_end|>",
      "no specials at all"};
  TempDir dir;
  const auto input = (dir.path() / "specials.jsonl").string();
  write_jsonl(input, corpus);
  expect_same_ids(corpus, reference_ids(dir, input, true), cli_ids(dir, input, true));
  expect_same_ids(corpus, reference_ids(dir, input, false), cli_ids(dir, input, false));
}

// The converter's tokenizer.json, loaded by the tokenizer.json loader, must tokenize exactly as
// the tiktoken loader does (which the test above ties to the reference).
TEST(TokenizerReference, ConvertedTokenizerJsonEncodesLikeTokenizerModel) {
  ASSERT_TRUE(cli_available());
  TempDir dir;
  const auto template_file = dir.path() / "template.jinja";
  write_text(template_file, "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}");
  const std::string command = shell_quote(env_or_empty("LLAMA4_BIN")) + " convert-tokenizer " +
                              shell_quote(llama4_model_file().string()) + " " +
                              shell_quote((dir.path() / "hf").string()) + " --chat-template " +
                              shell_quote(template_file.string()) + " > /dev/null";
  ASSERT_EQ(run_shell(command), 0) << command;
  const Tokenizer converted = Tokenizer::load(dir.path() / "hf");
  const Tokenizer& original = llama4_tokenizer();
  EXPECT_EQ(converted.vocab_size(), original.vocab_size());
  EXPECT_EQ(converted.bos_id(), original.bos_id());
  EXPECT_EQ(converted.settings().bos_token, "<|begin_of_text|>");
  EXPECT_EQ(converted.settings().eos_token, "<|eot|>");
  EXPECT_TRUE(converted.settings().add_bos_token);
  EXPECT_EQ(converted.settings().chat_template, read_text(template_file));
  for (TokenId id : {0, 1, 255, 12345, 199999, 200000, 200008, 201142, 202047}) {
    EXPECT_EQ(converted.token_bytes(id), original.token_bytes(id)) << id;
    EXPECT_EQ(converted.is_special(id), original.is_special(id)) << id;
  }
  const auto corpus = tokenizer_corpus();
  int mismatches = 0;
  for (const auto& text : corpus) {
    for (const bool special : {false, true}) {
      const EncodeOptions options{.add_bos = special, .parse_special = special};
      if (converted.encode(text, options) != original.encode(text, options)) {
        ++mismatches;
        ADD_FAILURE() << preview(text) << " parse_special=" << special;
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace llama4::test
