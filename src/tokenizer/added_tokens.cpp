// Added-token trie; see added_tokens.h.
#include "tokenizer/added_tokens.h"

#include <algorithm>

namespace llama4 {

AddedTokenMatcher::AddedTokenMatcher() : nodes_(1) {}

std::int32_t AddedTokenMatcher::child(std::int32_t node, std::uint8_t byte) const {
  const auto& children = nodes_[node].children;
  const auto it =
      std::lower_bound(children.begin(), children.end(), byte,
                       [](const auto& entry, std::uint8_t b) { return entry.first < b; });
  return it != children.end() && it->first == byte ? it->second : -1;
}

void AddedTokenMatcher::add(std::string_view content, TokenId id, bool special) {
  if (content.empty()) return;
  std::int32_t node = 0;
  for (const char c : content) {
    const auto byte = static_cast<std::uint8_t>(c);
    std::int32_t next = child(node, byte);
    if (next < 0) {
      next = static_cast<std::int32_t>(nodes_.size());
      nodes_.emplace_back();
      auto& children = nodes_[node].children;
      children.insert(std::lower_bound(children.begin(), children.end(), std::make_pair(byte, 0)),
                      {byte, next});
    }
    node = next;
  }
  if (nodes_[node].id >= 0) return;
  nodes_[node].id = id;
  nodes_[node].special = special;
  first_byte_[static_cast<std::uint8_t>(content[0])] = true;
  has_non_special_ = has_non_special_ || !special;
}

std::optional<AddedTokenMatcher::Match> AddedTokenMatcher::find(std::string_view text,
                                                                std::size_t pos,
                                                                bool include_special) const {
  for (std::size_t begin = pos; begin < text.size(); ++begin) {
    if (!first_byte_[static_cast<std::uint8_t>(text[begin])]) continue;
    std::optional<Match> longest;
    std::int32_t node = 0;
    for (std::size_t i = begin; i < text.size(); ++i) {
      node = child(node, static_cast<std::uint8_t>(text[i]));
      if (node < 0) break;
      const Node& n = nodes_[node];
      if (n.id >= 0 && (include_special || !n.special)) longest = Match{begin, i + 1 - begin, n.id};
    }
    if (longest) return longest;
  }
  return std::nullopt;
}

}  // namespace llama4
