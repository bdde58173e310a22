// Loaders on small hand-made files: tiktoken rank errors (with line numbers), tokenizer.json
// components (supported ones tokenize as specified, unsupported ones are named in the error),
// tokenizer_config.json settings, and which file a folder load picks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.h"
#include "tokenizer/base64.h"
#include "tokenizer/byte_level.h"
#include "util/error.h"

namespace llama4::test {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// Lines "base64 rank" for all 256 single bytes (rank = byte) plus `extra` tokens after them.
std::string ranks_file(const std::vector<std::string>& extra = {}) {
  std::string out;
  int rank = 0;
  for (int b = 0; b < 256; ++b)
    out +=
        base64_encode(std::string(1, static_cast<char>(b))) + " " + std::to_string(rank++) + "\n";
  for (const auto& t : extra) out += base64_encode(t) + " " + std::to_string(rank++) + "\n";
  return out;
}

std::string load_error(const std::filesystem::path& path) {
  try {
    Tokenizer::load(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(TiktokenLoader, SmallRanksFileTokenizesByRank) {
  TempDir dir;
  write_text(dir.path() / "tokenizer.model", ranks_file({"ab", "bc", "abc"}));
  const Tokenizer tok = Tokenizer::load(dir.path());
  EXPECT_EQ(tok.vocab_size(), 259u + 2048u);
  EXPECT_EQ(tok.encode("abc"), (std::vector<TokenId>{258}));  // whole piece first
  EXPECT_EQ(tok.encode("abcb"),
            (std::vector<TokenId>{258, 'b'}));  // "ab" (256) before "bc", then "abc"
  EXPECT_EQ(tok.encode("xbc"), (std::vector<TokenId>{'x', 257}));
  EXPECT_EQ(tok.token_id("<|begin_of_text|>"), 259);
  EXPECT_EQ(tok.bos_id(), 259);
}

TEST(TiktokenLoader, BadBase64NamesTheLine) {
  TempDir dir;
  std::string text = ranks_file();
  text.insert(text.find('\n', text.find('\n') + 1) + 1, "QQ=# 999\n");  // becomes line 3
  write_text(dir.path() / "tokenizer.model", text);
  const std::string message = load_error(dir.path() / "tokenizer.model");
  EXPECT_THAT(message, HasSubstr("tokenizer.model:3: invalid base64 'QQ=#'"));
}

TEST(TiktokenLoader, MalformedLinesNameTheLine) {
  TempDir dir;
  for (const auto& [line, why] :
       std::vector<std::pair<std::string, std::string>>{{"QUJD", "expected 'base64 rank'"},
                                                        {"QUJD 12x", "invalid rank '12x'"},
                                                        {"QUJD -1", "invalid rank '-1'"},
                                                        {"QUJD 1 2", "expected 'base64 rank'"}}) {
    write_text(dir.path() / "tokenizer.model", ranks_file() + line + "\n");
    EXPECT_THAT(load_error(dir.path() / "tokenizer.model"), HasSubstr(":257: " + why)) << line;
  }
}

TEST(TiktokenLoader, DuplicateRankAndDuplicateBytesAreErrors) {
  TempDir dir;
  write_text(dir.path() / "tokenizer.model", ranks_file() + base64_encode("ab") + " 5\n");
  EXPECT_THAT(load_error(dir.path() / "tokenizer.model"),
              HasSubstr(":257: duplicate rank 5 (first on line 6)"));
  write_text(dir.path() / "tokenizer.model", ranks_file() + base64_encode("a") + " 256\n");
  EXPECT_THAT(load_error(dir.path() / "tokenizer.model"),
              HasSubstr(":257: rank 256 repeats the bytes of rank 97 (line 98)"));
}

TEST(TiktokenLoader, MissingSingleByteIsAnError) {
  TempDir dir;
  std::string text;
  for (int b = 1; b < 256; ++b)
    text += base64_encode(std::string(1, static_cast<char>(b))) + " " + std::to_string(b) + "\n";
  write_text(dir.path() / "tokenizer.model", text);
  EXPECT_THAT(load_error(dir.path() / "tokenizer.model"), HasSubstr("single byte 0"));
}

// A GPT-2 style tokenizer.json over the 256 bytes with a few merges.
json small_tokenizer_json() {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_level::encode(std::string(1, static_cast<char>(b)))] = b;
  vocab["ab"] = 256;
  vocab[byte_level::encode(" a")] = 257;
  vocab["abc"] = 258;
  return {
      {"version", "1.0"},
      {"added_tokens", json::array({{{"id", 259}, {"content", "<s>"}, {"special", true}},
                                    {{"id", 260}, {"content", "[[x]]"}, {"special", false}}})},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", json::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
        {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {259}}, {"tokens", {"<s>"}}}}}}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model",
       {{"type", "BPE"},
        {"vocab", vocab},
        {"merges", json::array({"a b", json::array({byte_level::encode(" "), "a"})})},
        {"ignore_merges", false}}}};
}

TEST(TokenizerJsonLoader, Gpt2StyleFileTokenizes) {
  TempDir dir;
  write_text(dir.path() / "tokenizer.json", small_tokenizer_json().dump());
  const Tokenizer tok = Tokenizer::load(dir.path());
  // GPT-2 pattern: " ab" is one piece; merges: "a b" (0) before " a" (1).
  EXPECT_EQ(tok.encode(" ab"), (std::vector<TokenId>{' ', 256}));
  EXPECT_EQ(tok.encode(" ac"), (std::vector<TokenId>{257, 'c'}));
  // ignore_merges=false: "abc" is in the vocab but no merge reaches it.
  EXPECT_EQ(tok.encode("abc"), (std::vector<TokenId>{256, 'c'}));
  // Non-special added tokens are always matched, special ones only when parsing.
  EXPECT_EQ(tok.encode("a[[x]]<s>"), (std::vector<TokenId>{'a', 260, '<', 's', '>'}));
  EXPECT_EQ(tok.encode("a[[x]]<s>", {.parse_special = true}),
            (std::vector<TokenId>{'a', 260, 259}));
  EXPECT_EQ(tok.bos_id(), 259);
  EXPECT_EQ(tok.settings().bos_token, "<s>");
  EXPECT_TRUE(tok.settings().add_bos_token);
  EXPECT_TRUE(tok.is_special(259));
  EXPECT_FALSE(tok.is_special(260));
  EXPECT_EQ(tok.decode(tok.encode("héllo wörld")), "héllo wörld");

  json with_ignore = small_tokenizer_json();
  with_ignore["model"]["ignore_merges"] = true;
  write_text(dir.path() / "tokenizer.json", with_ignore.dump());
  EXPECT_EQ(Tokenizer::load(dir.path()).encode("abc"), (std::vector<TokenId>{258}));
}

TEST(TokenizerJsonLoader, TokenizerConfigSettings) {
  TempDir dir;
  write_text(dir.path() / "tokenizer.json", small_tokenizer_json().dump());
  write_text(dir.path() / "tokenizer_config.json",
             json{{"bos_token", {{"content", "<s>"}, {"lstrip", false}}},
                  {"eos_token", "</s>"},
                  {"add_bos_token", false},
                  {"chat_template", json::array({{{"name", "tool_use"}, {"template", "T"}},
                                                 {{"name", "default"}, {"template", "D"}}})}}
                 .dump());
  const Tokenizer tok = Tokenizer::load(dir.path() / "tokenizer.json");
  EXPECT_EQ(tok.settings().bos_token, "<s>");
  EXPECT_EQ(tok.settings().eos_token, "</s>");
  EXPECT_FALSE(tok.settings().add_bos_token);
  EXPECT_EQ(tok.settings().chat_template, "D");

  write_text(dir.path() / "tokenizer_config.json", json{{"chat_template", "{{ x }}"}}.dump());
  EXPECT_EQ(Tokenizer::load(dir.path()).settings().chat_template, "{{ x }}");
  write_text(dir.path() / "tokenizer_config.json",
             json{{"chat_template", json::array({{{"name", "rag"}, {"template", "R"}}})}}.dump());
  EXPECT_THAT(load_error(dir.path()), HasSubstr("no template named 'default' (found: rag)"));
}

TEST(TokenizerJsonLoader, FolderPrefersTokenizerJson) {
  TempDir dir;
  EXPECT_FALSE(Tokenizer::available(dir.path()));
  EXPECT_THAT(load_error(dir.path()), HasSubstr("no tokenizer.json or tokenizer.model"));
  write_text(dir.path() / "tokenizer.model", ranks_file());
  EXPECT_TRUE(Tokenizer::available(dir.path()));
  EXPECT_EQ(Tokenizer::load(dir.path()).vocab_size(), 256u + 2048u);
  write_text(dir.path() / "tokenizer.json", small_tokenizer_json().dump());
  EXPECT_EQ(Tokenizer::load(dir.path()).vocab_size(), 261u);
}

TEST(TokenizerJsonLoader, MalformedJsonIsAnError) {
  TempDir dir;
  write_text(dir.path() / "tokenizer.json", "{\"model\": [1, 2");
  EXPECT_THAT(load_error(dir.path()), HasSubstr("tokenizer.json: invalid JSON"));
  write_text(dir.path() / "tokenizer.json", "[]");
  EXPECT_THAT(load_error(dir.path()), HasSubstr("expected a JSON object"));
}

TEST(TokenizerJsonLoader, UnsupportedComponentsAreNamed) {
  struct Case {
    std::string pointer;  // JSON pointer of the value to replace
    json value;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"/normalizer", {{"type", "NFC"}}, "normalizer: type 'NFC' is not supported"},
      {"/pre_tokenizer",
       {{"type", "Whitespace"}},
       "pre_tokenizer: type 'Whitespace' is not supported"},
      {"/pre_tokenizer/add_prefix_space", true, "ByteLevel add_prefix_space=true is not supported"},
      {"/pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers", json::array({{{"type", "Digits"}}, {{"type", "ByteLevel"}}})}},
       "pre_tokenizer.pretokenizers[0]: type 'Digits' is not supported"},
      {"/pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         json::array(
             {{{"type", "Split"}, {"pattern", {{"Regex", "\\s+"}}}, {"behavior", "Removed"}},
              {{"type", "ByteLevel"}, {"use_regex", false}}})}},
       "behavior 'Removed' is not supported"},
      {"/model/type", "WordPiece", "model: type 'WordPiece' (only BPE) is not supported"},
      {"/model/continuing_subword_prefix", "##",
       "continuing_subword_prefix \"##\" is not supported"},
      {"/decoder", {{"type", "WordPiece"}}, "decoder: type 'WordPiece' is not supported"},
      {"/post_processor",
       {{"type", "BertProcessing"}},
       "post_processor: type 'BertProcessing' is not supported"},
      {"/post_processor/single",
       json::array({{{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                    {{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}}),
       "TemplateProcessing single template"},
      {"/added_tokens/0/lstrip", true, "added_tokens[0]: lstrip=true is not supported"},
      {"/model/merges/0", "a b c", "model.merges[0]: expected \"left right\""},
      {"/model/merges/0", "a zz", "model.merges[0]: 'zz' is not in the vocab"},
  };
  TempDir dir;
  for (const auto& c : cases) {
    json doc = small_tokenizer_json();
    doc[json::json_pointer(c.pointer)] = c.value;
    write_text(dir.path() / "tokenizer.json", doc.dump());
    EXPECT_THAT(load_error(dir.path()), HasSubstr(c.expected)) << c.pointer;
  }
}

}  // namespace
}  // namespace llama4::test
