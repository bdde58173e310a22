// Open-addressing hash indexes used on the encode hot path: token bytes → id (whole-piece lookups
// and tiktoken merge ranks) and token-id pair → merge (tokenizer.json merges). std::unordered_map
// costs a node allocation per entry and several cache misses per lookup; these are flat arrays.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llama4 {

using TokenId = std::int32_t;

// Index over a token table (ids are positions in `tokens`; empty strings are holes and are not
// indexed). The index keeps its own packed copy of the bytes, so a lookup costs one probe of the
// slot array (a hash tag rules out most non-matches) and at most one read of the packed bytes.
class BytesIndex {
 public:
  BytesIndex() = default;
  explicit BytesIndex(const std::vector<std::string>& tokens);
  // Id of the token whose bytes equal `bytes`, or -1.
  TokenId find(std::string_view bytes) const;
  // When two ids have the same bytes, the first id inserted is kept and the other returned.
  std::optional<TokenId> first_duplicate() const { return duplicate_; }

 private:
  struct Slot {
    std::uint32_t tag;  // high bits of the hash
    TokenId id;         // -1 = empty
  };
  std::string_view bytes_of(TokenId id) const {
    return std::string_view(packed_).substr(offsets_[id], offsets_[id + 1] - offsets_[id]);
  }
  std::string packed_;                  // all token bytes, in id order
  std::vector<std::uint32_t> offsets_;  // id → start in packed_ (size = ids + 1)
  std::vector<Slot> slots_;
  std::uint64_t mask_ = 0;
  std::optional<TokenId> duplicate_;
};

// What merging two adjacent tokens produces: the token and its priority (lower merges first).
struct Merge {
  std::uint32_t priority;
  TokenId merged;
};

// Map (left id, right id) → Merge.
class PairIndex {
 public:
  explicit PairIndex(std::size_t expected = 0);
  // Keeps the existing entry (the earlier merge) when the pair is already present; returns false
  // then.
  bool insert(TokenId left, TokenId right, Merge merge);
  const Merge* find(TokenId left, TokenId right) const;
  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint64_t key;
    Merge merge;
  };
  void grow();
  std::vector<Slot> slots_;
  std::uint64_t mask_ = 0;
  std::size_t size_ = 0;
};

std::uint64_t hash_bytes(std::string_view bytes);

}  // namespace llama4
