// Finds added tokens ("<|eot|>", …) in text: a byte trie searched for the leftmost, then longest,
// match, as tiktoken's special-token regex and tokenizer.json's added-token splitter do.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/token_index.h"

namespace llama4 {

class AddedTokenMatcher {
 public:
  AddedTokenMatcher();
  // `content` must be non-empty; a repeated content keeps its first id.
  void add(std::string_view content, TokenId id, bool special);
  bool has_non_special() const { return has_non_special_; }

  struct Match {
    std::size_t begin, length;
    TokenId id;
  };
  // Leftmost-longest match starting at or after `pos`; special tokens count only when asked.
  std::optional<Match> find(std::string_view text, std::size_t pos, bool include_special) const;

 private:
  struct Node {
    std::vector<std::pair<std::uint8_t, std::int32_t>> children;  // sorted by byte
    TokenId id = -1;
    bool special = false;
  };
  std::int32_t child(std::int32_t node, std::uint8_t byte) const;
  std::vector<Node> nodes_;
  std::array<bool, 256> first_byte_{};  // bytes that start some token
  bool has_non_special_ = false;
};

}  // namespace llama4
