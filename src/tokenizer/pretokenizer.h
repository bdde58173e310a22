// Pre-tokenizer: splits text into the pieces BPE encodes, with a regex (PCRE2, UTF + UCP, JIT).
// Pieces are the regex matches in order; text between matches is dropped, as tiktoken and
// tokenizer.json's Split(Isolated) do (neither pattern below leaves gaps in valid UTF-8).
//
// Unicode tables: those of the system PCRE2 (Debian 12's PCRE2 10.42 has Unicode 14.0.0). The
// reference tokenizers (Rust `regex`/`fancy-regex`) may have a later Unicode version; characters
// assigned since 14.0 can be classified differently.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace llama4 {

// Llama 4's pre-tokenizer pattern (o200k): identical to Meta's Tokenizer.O200K_PATTERN.
inline constexpr std::string_view kO200kPattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
    R"(|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
    R"(|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// GPT-2's pattern, used by tokenizer.json's ByteLevel pre-tokenizer when use_regex is true.
inline constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Rewrites a pattern written for Rust's regex syntax so that PCRE2 gives the same matches:
// Rust's `\s` is Unicode White_Space, PCRE2's (with UCP) lacks U+0085 NEXT LINE, so `\s` becomes
// `[\s\x{85}]` and `\S` becomes `[^\s\x{85}]` (inside a class: `\s` gains `\x{85}`; a `\S` inside a
// class cannot be rewritten and is refused with an Error).
std::string pcre2_pattern_from_rust(std::string_view pattern);

class PreTokenizer {
 public:
  // Compiles `pattern` (Rust regex syntax, see above); throws Error with PCRE2's message and
  // offset.
  explicit PreTokenizer(std::string_view pattern);
  PreTokenizer(PreTokenizer&&) noexcept;
  PreTokenizer& operator=(PreTokenizer&&) noexcept;
  ~PreTokenizer();

  const std::string& pattern() const { return pattern_; }

  // Calls `on_piece(std::string_view)` for each piece of `text`, which must be valid UTF-8
  // (callers validate once; this function does not re-check). Thread-safe.
  template <typename OnPiece>
  void split(std::string_view text, OnPiece&& on_piece) const {
    std::size_t pos = 0;
    std::size_t begin = 0, end = 0;
    while (next_match(text, pos, begin, end)) {
      on_piece(text.substr(begin, end - begin));
      pos = end;
    }
  }

 private:
  // Finds the next match at or after `pos`; false when there is none.
  bool next_match(std::string_view text, std::size_t pos, std::size_t& begin,
                  std::size_t& end) const;

  struct Compiled;
  std::string pattern_;
  std::unique_ptr<Compiled> compiled_;
};

}  // namespace llama4
