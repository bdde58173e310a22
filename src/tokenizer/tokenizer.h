// Tokenizer: text ↔ token ids for Llama 4, loaded from either of the two files users have:
// Hugging Face's `tokenizer.json` (+ `tokenizer_config.json`) or Meta's tiktoken `tokenizer.model`
// (+ the 2,048 Llama 4 special tokens). Both feed one byte-level BPE core, so they tokenize
// identically. Encoding and decoding are const and thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace llama4 {

using TokenId = std::int32_t;

struct EncodeOptions {
  bool add_bos = false;        // prepend the BOS token
  bool parse_special = false;  // "<|eot|>" in the text becomes the special token (else plain text)
};

// Settings from tokenizer_config.json that generation and chat formatting need.
struct TokenizerSettings {
  std::optional<std::string> chat_template;  // Jinja source
  std::optional<std::string> bos_token;      // e.g. "<|begin_of_text|>"
  std::optional<std::string> eos_token;      // e.g. "<|eot|>"
  bool add_bos_token = true;                 // prompts start with BOS
};

class Tokenizer {
 public:
  // `path` is a model folder (tokenizer.json preferred, else tokenizer.model) or one of the files.
  static Tokenizer load(const std::filesystem::path& path);
  // True when the folder holds a tokenizer file.
  static bool available(const std::filesystem::path& model_dir);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Throws Error naming the byte offset when `text` is not valid UTF-8 (there is no reference
  // tokenization of such bytes, so they are refused rather than guessed at).
  std::vector<TokenId> encode(std::string_view text, const EncodeOptions& options = {}) const;
  // Concatenated bytes of the tokens; invalid UTF-8 is replaced by U+FFFD.
  std::string decode(std::span<const TokenId> ids, bool skip_special = false) const;
  // Raw bytes of one token (may be a partial UTF-8 sequence).
  const std::string& token_bytes(TokenId id) const;

  // Exact lookup: an added/special token's text, or the raw bytes of a vocabulary token.
  std::optional<TokenId> token_id(std::string_view special_or_piece) const;
  bool is_special(TokenId id) const;
  std::size_t vocab_size() const;
  std::optional<TokenId> bos_id() const;
  const TokenizerSettings& settings() const;

  struct Impl;

 private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Turns a stream of ids into text without ever emitting a partial UTF-8 sequence.
class StreamingDecoder {
 public:
  explicit StreamingDecoder(const Tokenizer& tokenizer, bool show_special = false);
  std::string push(TokenId id);  // text that became complete with this token (may be empty)
  std::string flush();           // whatever is pending; incomplete bytes become U+FFFD

 private:
  const Tokenizer* tokenizer_;
  bool show_special_;
  std::string pending_;
};

}  // namespace llama4
