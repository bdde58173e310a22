// Byte-level BPE merge loops; see bpe.h.
#include "tokenizer/bpe.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>

#include "util/error.h"

namespace llama4 {
namespace {

constexpr int kByteCount = 256;
// Pieces up to this many bytes use the rank scan (cheaper than heap bookkeeping when short).
constexpr std::size_t kScanMaxBytes = 64;
constexpr std::uint32_t kNoMerge = std::numeric_limits<std::uint32_t>::max();

}  // namespace

void BpeModel::index_tokens() {
  index_ = BytesIndex(*tokens_);
  if (const auto dup = index_.first_duplicate())
    throw Error("token " + std::to_string(*dup) + " has the same bytes as an earlier token");
  byte_token_.assign(kByteCount, -1);
  for (int byte = 0; byte < kByteCount; ++byte) {
    const char c = static_cast<char>(byte);
    byte_token_[byte] = index_.find(std::string_view(&c, 1));
  }
  two_byte_token_.assign(static_cast<std::size_t>(kByteCount) * kByteCount, -1);
  for (std::size_t id = 0; id < tokens_->size(); ++id) {
    const std::string& t = (*tokens_)[id];
    if (t.size() == 2)
      two_byte_token_[(static_cast<std::uint8_t>(t[0]) << 8) | static_cast<std::uint8_t>(t[1])] =
          static_cast<TokenId>(id);
  }
}

BpeModel BpeModel::from_ranks(std::vector<std::string> tokens) {
  BpeModel model;
  model.tokens_ = std::make_unique<std::vector<std::string>>(std::move(tokens));
  model.index_tokens();
  for (int byte = 0; byte < kByteCount; ++byte)
    if (model.byte_token_[byte] < 0)
      throw Error("the vocabulary has no token for the single byte " + std::to_string(byte) +
                  " (byte-level BPE needs all 256)");
  return model;
}

BpeModel BpeModel::from_merges(std::vector<std::string> tokens,
                               const std::vector<std::pair<TokenId, TokenId>>& merges,
                               bool ignore_merges) {
  BpeModel model = from_ranks(std::move(tokens));
  model.whole_piece_lookup_ = ignore_merges;
  PairIndex pairs(merges.size());
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const auto [left, right] = merges[rank];
    const auto& t = *model.tokens_;
    const TokenId merged = model.index_.find(t.at(left) + t.at(right));
    if (merged < 0)
      throw Error("merge " + std::to_string(rank) + " (" + std::to_string(left) + ", " +
                  std::to_string(right) + ") produces bytes that are not in the vocabulary");
    pairs.insert(left, right, Merge{static_cast<std::uint32_t>(rank), merged});
  }
  model.pairs_ = std::move(pairs);
  return model;
}

std::optional<Merge> BpeModel::merge_of(std::string_view piece, std::size_t begin, std::size_t end,
                                        TokenId left, TokenId right) const {
  if (pairs_) {
    const Merge* m = pairs_->find(left, right);
    if (!m) return std::nullopt;
    return *m;
  }
  const TokenId merged = end - begin == 2
                             ? two_byte_token_[(static_cast<std::uint8_t>(piece[begin]) << 8) |
                                               static_cast<std::uint8_t>(piece[begin + 1])]
                             : index_.find(piece.substr(begin, end - begin));
  if (merged < 0) return std::nullopt;
  return Merge{static_cast<std::uint32_t>(merged), merged};
}

void BpeModel::encode_piece(std::string_view piece, std::vector<TokenId>& out) const {
  if (piece.empty()) return;
  if (whole_piece_lookup_) {
    const TokenId whole = index_.find(piece);
    if (whole >= 0) {
      out.push_back(whole);
      return;
    }
  }
  if (piece.size() == 1) {
    out.push_back(byte_token_[static_cast<std::uint8_t>(piece[0])]);
  } else if (piece.size() <= kScanMaxBytes) {
    merge_by_scan(piece, out);
  } else {
    merge_by_heap(piece, out);
  }
}

// tiktoken's loop: after each merge only the two neighbouring ranks change, then the lowest rank
// is found by a linear scan (leftmost wins ties). O(n²) but fast for short pieces.
void BpeModel::merge_by_scan(std::string_view piece, std::vector<TokenId>& out) const {
  struct Part {
    std::size_t begin;
    TokenId id;
    Merge next;  // merge with the following part (priority kNoMerge if none)
  };
  thread_local std::vector<Part> parts;
  parts.clear();
  for (std::size_t i = 0; i < piece.size(); ++i)
    parts.push_back({i, byte_token_[static_cast<std::uint8_t>(piece[i])], {kNoMerge, -1}});
  parts.push_back({piece.size(), -1, {kNoMerge, -1}});  // sentinel: end of the last part

  auto update = [&](std::size_t i) {  // recompute parts[i].next; needs i + 1 < last index
    const auto m =
        merge_of(piece, parts[i].begin, parts[i + 2].begin, parts[i].id, parts[i + 1].id);
    parts[i].next = m ? *m : Merge{kNoMerge, -1};
  };
  for (std::size_t i = 0; i + 2 < parts.size(); ++i) update(i);

  while (true) {
    std::size_t best = 0;
    std::uint32_t best_priority = kNoMerge;
    for (std::size_t i = 0; i + 2 < parts.size(); ++i)
      if (parts[i].next.priority < best_priority) {
        best_priority = parts[i].next.priority;
        best = i;
      }
    if (best_priority == kNoMerge) break;
    parts[best].id = parts[best].next.merged;
    parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(best) + 1);
    if (best + 2 < parts.size())
      update(best);
    else
      parts[best].next = {kNoMerge, -1};
    if (best > 0) update(best - 1);
  }
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) out.push_back(parts[i].id);
}

// Same result as merge_by_scan, O(n log n): parts form a doubly linked list over the initial byte
// positions; candidate merges sit in a min-heap keyed by (priority, position of the left part)
// and are checked for staleness when popped.
void BpeModel::merge_by_heap(std::string_view piece, std::vector<TokenId>& out) const {
  constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
  struct Node {
    TokenId id;
    std::uint32_t prev, next;  // kNone at the ends
  };
  struct Candidate {
    std::uint32_t priority, left, right;
    TokenId left_id, right_id, merged;
    bool operator>(const Candidate& o) const {
      return priority != o.priority ? priority > o.priority : left > o.left;
    }
  };
  if (piece.size() >= kNone)
    throw Error("a pre-tokenized piece of 4 GiB or more cannot be encoded");
  const auto n = static_cast<std::uint32_t>(piece.size());
  thread_local std::vector<Node> nodes;
  thread_local std::vector<Candidate> heap;
  nodes.resize(n);
  for (std::uint32_t i = 0; i < n; ++i)
    nodes[i] = {byte_token_[static_cast<std::uint8_t>(piece[i])], i == 0 ? kNone : i - 1,
                i + 1 == n ? kNone : i + 1};
  heap.clear();
  // Byte position just past node i (its right neighbour's start, or the piece end).
  auto end_of = [&](std::uint32_t i) { return nodes[i].next == kNone ? n : nodes[i].next; };
  auto consider = [&](std::uint32_t left) {
    if (left == kNone) return;
    const std::uint32_t right = nodes[left].next;
    if (right == kNone) return;
    const auto m = merge_of(piece, left, end_of(right), nodes[left].id, nodes[right].id);
    if (!m) return;
    heap.push_back({m->priority, left, right, nodes[left].id, nodes[right].id, m->merged});
    std::push_heap(heap.begin(), heap.end(), std::greater<>{});
  };
  for (std::uint32_t i = 0; i + 1 < n; ++i) consider(i);

  constexpr TokenId kDead = -1;
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
    const Candidate c = heap.back();
    heap.pop_back();
    Node& left = nodes[c.left];
    if (left.id == kDead || left.next != c.right || left.id != c.left_id) continue;
    Node& right = nodes[c.right];
    if (right.id != c.right_id) continue;
    left.id = c.merged;
    left.next = right.next;
    if (right.next != kNone) nodes[right.next].prev = c.left;
    right.id = kDead;
    consider(left.prev);
    consider(c.left);
  }
  for (std::uint32_t i = 0; i != kNone; i = nodes[i].next) out.push_back(nodes[i].id);
}

}  // namespace llama4
