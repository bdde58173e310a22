// The tokenizer.json path against two independent references: `llama4 convert-tokenizer` turns the
// real tokenizer.model into a tokenizer.json, which npm `@huggingface/tokenizers` loads; the corpus
// must encode identically with that package, with our `llama4 tokenize --tokenizer tokenizer.json`,
// and with npm `tiktoken` on the original ranks. A missing node or npm package is a failure.
//
// One true upstream difference, asserted rather than hidden: Hugging Face tokenizers always
// recognise added tokens (e.g. "<|eot|>") written literally in the input; they have no switch to
// treat them as text. Our default and tiktoken's `disallowed_special=()` treat them as text. So the
// three-way comparison runs with special tokens recognised (our --parse-special, tiktoken "all"),
// and the plain-text comparison covers every case that contains no special-token string, while the
// cases that do are counted and checked to be exactly the ones where the two modes differ.
#include <gtest/gtest.h>

#include <algorithm>

#include "test_corpus.h"
#include "test_support.h"

namespace llama4::test {
namespace {

constexpr TokenId kFirstSpecialId = 200000;

std::filesystem::path reference_dir() {
  return source_dir() / "tests/tokenizer/reference";
}

// Makes sure node and both pinned npm packages are there (installing them if needed).
::testing::AssertionResult references_available() {
  if (run_shell("node --version > /dev/null 2>&1") != 0)
    return ::testing::AssertionFailure() << "node is not installed (needed for the reference "
                                            "tokenizers: apt-get install nodejs npm)";
  const auto hf_package = reference_dir() / "node_modules/@huggingface/tokenizers/package.json";
  const auto tiktoken_package = reference_dir() / "node_modules/tiktoken/package.json";
  if (!std::filesystem::exists(hf_package) || !std::filesystem::exists(tiktoken_package)) {
    const std::string install =
        "npm install --prefix " + shell_quote(reference_dir().string()) + " > /dev/null 2>&1";
    if (run_shell(install) != 0 || !std::filesystem::exists(hf_package) ||
        !std::filesystem::exists(tiktoken_package))
      return ::testing::AssertionFailure()
             << "the npm packages '@huggingface/tokenizers' and 'tiktoken' are needed and `npm "
                "install --prefix "
             << reference_dir().string() << "` failed";
  }
  const std::string bin = env_or_empty("LLAMA4_BIN");
  if (bin.empty() || !std::filesystem::exists(bin))
    return ::testing::AssertionFailure() << "LLAMA4_BIN does not name the built llama4 program";
  return ::testing::AssertionSuccess();
}

std::string llama4_bin() {
  return shell_quote(env_or_empty("LLAMA4_BIN"));
}

// Runs `command < input > dir/out_name` and parses one id array per output line.
std::vector<std::vector<TokenId>> run_encoder(const TempDir& dir, const std::string& command,
                                              const std::string& input,
                                              const std::string& out_name) {
  const auto out = dir.path() / out_name;
  const std::string full = command + " < " + shell_quote(input) + " > " + shell_quote(out.string());
  EXPECT_EQ(run_shell(full), 0) << full;
  return read_id_lines(out);
}

std::vector<std::vector<TokenId>> hf_ids(const TempDir& dir, const std::filesystem::path& json,
                                         const std::string& input, bool add_special) {
  return run_encoder(dir,
                     "node " +
                         shell_quote((reference_dir() / "hf_tokenizers_encode.mjs").string()) +
                         " " + shell_quote(json.string()) + (add_special ? " --add-special" : ""),
                     input, "hf.jsonl");
}

std::vector<std::vector<TokenId>> tiktoken_ids(const TempDir& dir, const std::string& input,
                                               bool parse_special) {
  return run_encoder(dir,
                     "node " + shell_quote((reference_dir() / "tiktoken_encode.mjs").string()) +
                         " " + shell_quote(llama4_model_file().string()) +
                         (parse_special ? " --parse-special" : ""),
                     input, "tiktoken.jsonl");
}

std::vector<std::vector<TokenId>> our_ids(const TempDir& dir, const std::filesystem::path& json,
                                          const std::string& input, const std::string& flags) {
  return run_encoder(
      dir,
      llama4_bin() + " tokenize --jsonl --tokenizer " + shell_quote(json.string()) + " " + flags,
      input, "ours.jsonl");
}

std::string preview(const std::string& text) {
  return nlohmann::json(text.substr(0, 120)).dump() + (text.size() > 120 ? "…" : "");
}

std::string ids_preview(const std::vector<TokenId>& ids) {
  return nlohmann::json(ids).dump().substr(0, 200);
}

bool has_special(const std::vector<TokenId>& ids) {
  return std::any_of(ids.begin(), ids.end(), [](TokenId id) { return id >= kFirstSpecialId; });
}

// Converts the real tokenizer.model into DIR/hf/tokenizer.json.
std::filesystem::path convert(const TempDir& dir) {
  const auto out_dir = dir.path() / "hf";
  const std::string command = llama4_bin() + " convert-tokenizer " +
                              shell_quote(llama4_model_file().string()) + " " +
                              shell_quote(out_dir.string()) + " > /dev/null";
  EXPECT_EQ(run_shell(command), 0) << command;
  return out_dir / "tokenizer.json";
}

TEST(TokenizerHfReference, ConvertedJsonEncodesLikeHfTokenizersAndTiktoken) {
  ASSERT_TRUE(references_available());
  const auto corpus = tokenizer_corpus();
  ASSERT_GE(corpus.size(), 400u);
  TempDir dir;
  const auto json = convert(dir);
  ASSERT_TRUE(std::filesystem::exists(json));
  const auto input = (dir.path() / "corpus.jsonl").string();
  write_jsonl(input, corpus);

  // Special tokens recognised in all three (the only mode Hugging Face tokenizers offer).
  const auto hf = hf_ids(dir, json, input, false);
  const auto tiktoken_special = tiktoken_ids(dir, input, true);
  const auto ours_special = our_ids(dir, json, input, "--parse-special");
  ASSERT_EQ(hf.size(), corpus.size());
  ASSERT_EQ(tiktoken_special.size(), corpus.size());
  ASSERT_EQ(ours_special.size(), corpus.size());
  int mismatches = 0;
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    if (hf[i] == tiktoken_special[i] && ours_special[i] == tiktoken_special[i]) continue;
    ++mismatches;
    ADD_FAILURE() << "case " << i << " " << preview(corpus[i]) << ": tiktoken "
                  << ids_preview(tiktoken_special[i]) << " vs @huggingface/tokenizers "
                  << ids_preview(hf[i]) << " vs ours " << ids_preview(ours_special[i]);
  }
  EXPECT_EQ(mismatches, 0) << "of " << corpus.size() << " cases";

  // Plain text (our default): ours equals tiktoken everywhere; Hugging Face equals both on every
  // case without a literal special token, and only those cases differ between the two modes.
  const auto tiktoken_plain = tiktoken_ids(dir, input, false);
  const auto ours_plain = our_ids(dir, json, input, "");
  ASSERT_EQ(tiktoken_plain.size(), corpus.size());
  ASSERT_EQ(ours_plain.size(), corpus.size());
  int plain_mismatches = 0;
  int cases_with_specials = 0;
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    if (ours_plain[i] != tiktoken_plain[i]) {
      ++plain_mismatches;
      ADD_FAILURE() << "plain case " << i << " " << preview(corpus[i]) << ": tiktoken "
                    << ids_preview(tiktoken_plain[i]) << " vs ours " << ids_preview(ours_plain[i]);
    }
    EXPECT_FALSE(has_special(tiktoken_plain[i])) << "case " << i << " " << preview(corpus[i]);
    if (has_special(tiktoken_special[i])) {
      ++cases_with_specials;
      EXPECT_NE(hf[i], tiktoken_plain[i]) << "case " << i << " " << preview(corpus[i]);
    } else {
      EXPECT_EQ(hf[i], tiktoken_plain[i]) << "case " << i << " " << preview(corpus[i]);
    }
  }
  EXPECT_EQ(plain_mismatches, 0) << "of " << corpus.size() << " cases";
  // The corpus has special-token look-alikes, some of them exact special-token strings.
  EXPECT_GT(cases_with_specials, 0);
  EXPECT_LT(cases_with_specials, static_cast<int>(corpus.size()) / 10);
}

// The post-processor (TemplateProcessing with BOS) as the converter writes it: asking Hugging Face
// tokenizers to add special tokens gives exactly our `--bos` output.
TEST(TokenizerHfReference, ConvertedPostProcessorAddsBosLikeOurs) {
  ASSERT_TRUE(references_available());
  TempDir dir;
  const auto json = convert(dir);
  const std::vector<std::string> texts = {"Hello world", "", " leading space", "<|eot|> x",
                                          "multi\nline\r\ntext 12345"};
  const auto input = (dir.path() / "bos.jsonl").string();
  write_jsonl(input, texts);
  const auto hf = hf_ids(dir, json, input, true);
  const auto ours = our_ids(dir, json, input, "--bos --parse-special");
  ASSERT_EQ(hf.size(), texts.size());
  ASSERT_EQ(ours.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    ASSERT_FALSE(hf[i].empty()) << preview(texts[i]);
    EXPECT_EQ(hf[i].front(), llama4_tokenizer().bos_id()) << preview(texts[i]);
    EXPECT_EQ(hf[i], ours[i]) << preview(texts[i]);
  }
}

}  // namespace
}  // namespace llama4::test
