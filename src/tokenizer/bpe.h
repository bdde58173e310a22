// Byte-level BPE: turns one pre-tokenized piece into token ids. Two ways to rank merges share one
// merge loop:
//  - tiktoken ranks: two adjacent parts merge when their concatenated bytes are a token, lowest
//    rank (= id) first — exactly tiktoken's `byte_pair_encode`;
//  - tokenizer.json merges: a (left id, right id) pair merges by its position in the merges list.
// Ties go to the leftmost pair in both. The whole piece is looked up first (tiktoken does this,
// tokenizer.json does it with `ignore_merges`). Short pieces use tiktoken's rank scan; long ones a
// linked list + min-heap, O(n log n), so a 100 KB piece does not take quadratic time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/token_index.h"

namespace llama4 {

class BpeModel {
 public:
  // `tokens[id]` = the bytes of token id (empty = no such id). Every single byte must be a token.
  static BpeModel from_ranks(std::vector<std::string> tokens);
  // `merges` in priority order; each pair's concatenation must be a token. Pairs that repeat are
  // ignored after their first appearance (as tokenizer.json's BPE does).
  static BpeModel from_merges(std::vector<std::string> tokens,
                              const std::vector<std::pair<TokenId, TokenId>>& merges,
                              bool ignore_merges);

  // Appends the ids of `piece` (any bytes) to `out`.
  void encode_piece(std::string_view piece, std::vector<TokenId>& out) const;

  TokenId find(std::string_view bytes) const { return index_.find(bytes); }  // -1 when absent
  const std::vector<std::string>& tokens() const { return *tokens_; }

  // The two merge loops, exposed so tests can check they agree (encode_piece picks by length).
  void merge_by_scan(std::string_view piece, std::vector<TokenId>& out) const;
  void merge_by_heap(std::string_view piece, std::vector<TokenId>& out) const;

 private:
  BpeModel() = default;
  void index_tokens();
  // Merge of two adjacent parts, or nullptr-like nullopt; `begin`…`end` are the bytes of both.
  std::optional<Merge> merge_of(std::string_view piece, std::size_t begin, std::size_t end,
                                TokenId left, TokenId right) const;

  // Behind a pointer so that the index, which refers to the vector, survives moves of the model.
  std::unique_ptr<std::vector<std::string>> tokens_;
  BytesIndex index_;
  std::vector<TokenId> byte_token_;  // id of each single byte
  // Id of each two-byte token, indexed by (first byte << 8 | second byte), -1 where none: most
  // merge lookups are of two bytes, and this table is far smaller than the hash index.
  std::vector<TokenId> two_byte_token_;
  std::optional<PairIndex> pairs_;  // set for tokenizer.json merges, absent for tiktoken ranks
  bool whole_piece_lookup_ = true;
};

}  // namespace llama4
