// Internal state of a Tokenizer, shared by the two loaders (tiktoken ranks, tokenizer.json) and
// the encode/decode code, which does not care where the vocabulary came from.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"

namespace llama4 {

// Largest token id a vocabulary file may use: 64x the largest published vocabularies, and far
// below what would make the id -> bytes table an absurd allocation (a corrupt or hostile id of
// 2^31 would ask for tens of GB).
inline constexpr TokenId kMaxTokenId = 16 * 1024 * 1024;

struct Tokenizer::Impl {
  Impl(BpeModel model, PreTokenizer pre_tokenizer)
      : bpe(std::move(model)), pre(std::move(pre_tokenizer)) {}

  // Registers an added token; its bytes are `content` (added tokens are not byte-level mapped).
  void add_token(const std::string& content, TokenId id, bool special);
  // Builds the id → bytes table; call after all tokens are added.
  void finish();

  BpeModel bpe;
  PreTokenizer pre;
  AddedTokenMatcher added;
  std::unordered_map<std::string, TokenId> added_ids;  // content → id
  std::vector<std::pair<TokenId, bool>> added_list;    // (id, special) in insertion order
  std::vector<std::string> id_bytes;                   // every id → its bytes
  std::vector<bool> special;                           // every id → is it special
  std::optional<TokenId> bos;
  TokenizerSettings settings;
};

// tokenizer.model: lines "base64(token bytes) rank". Returns tokens indexed by rank (holes are
// empty). Throws Error naming the file and line for a bad line, duplicate rank or duplicate token.
std::vector<std::string> read_tiktoken_ranks(const std::filesystem::path& path);

std::unique_ptr<Tokenizer::Impl> load_tiktoken(const std::filesystem::path& model_file);
std::unique_ptr<Tokenizer::Impl> load_tokenizer_json(const std::filesystem::path& json_file);

// Overrides `settings` from a tokenizer_config.json (and chat_template.jinja) next to the file.
void read_tokenizer_config(const std::filesystem::path& dir, TokenizerSettings& settings);

}  // namespace llama4
