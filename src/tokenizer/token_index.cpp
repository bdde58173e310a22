// Flat hash indexes; see token_index.h.
#include "tokenizer/token_index.h"

#include <bit>
#include <cstring>
#include <limits>

#include "util/error.h"

namespace llama4 {
namespace {

constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ULL;   // golden-ratio multiplier
constexpr std::uint64_t kEmptyKey = ~std::uint64_t{0};  // no valid pair has both ids = -1
constexpr std::size_t kMinSlots = 16;

std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 32;
  h *= kMul;
  h ^= h >> 29;
  return h;
}

// Slots for `count` entries at a load factor of at most 1/2.
std::size_t slot_count(std::size_t count) {
  return std::bit_ceil(std::max(kMinSlots, count * 2));
}

}  // namespace

std::uint64_t hash_bytes(std::string_view bytes) {
  std::uint64_t h = bytes.size() * kMul;
  std::size_t i = 0;
  for (; i + sizeof(std::uint64_t) <= bytes.size(); i += sizeof(std::uint64_t)) {
    std::uint64_t word;
    std::memcpy(&word, bytes.data() + i, sizeof word);
    h = (h ^ word) * kMul;
    h ^= h >> 31;
  }
  std::uint64_t tail = 0;
  if (i < bytes.size()) std::memcpy(&tail, bytes.data() + i, bytes.size() - i);
  return mix(h ^ tail);
}

BytesIndex::BytesIndex(const std::vector<std::string>& tokens) {
  std::size_t count = 0, total = 0;
  for (const auto& t : tokens) {
    count += !t.empty();
    total += t.size();
  }
  if (total >= std::numeric_limits<std::uint32_t>::max())
    throw Error("vocabulary too large: " + std::to_string(total) + " bytes of tokens");
  packed_.reserve(total);
  offsets_.reserve(tokens.size() + 1);
  for (const auto& t : tokens) {
    offsets_.push_back(static_cast<std::uint32_t>(packed_.size()));
    packed_ += t;
  }
  offsets_.push_back(static_cast<std::uint32_t>(packed_.size()));
  slots_.assign(slot_count(count), Slot{0, -1});
  mask_ = slots_.size() - 1;
  for (std::size_t id = 0; id < tokens.size(); ++id) {
    if (tokens[id].empty()) continue;
    const std::uint64_t hash = hash_bytes(tokens[id]);
    const auto tag = static_cast<std::uint32_t>(hash >> 32);
    std::uint64_t slot = hash & mask_;
    bool duplicate = false;
    while (slots_[slot].id >= 0) {
      if (slots_[slot].tag == tag && bytes_of(slots_[slot].id) == tokens[id]) {
        duplicate = true;
        break;
      }
      slot = (slot + 1) & mask_;
    }
    if (duplicate) {
      if (!duplicate_) duplicate_ = static_cast<TokenId>(id);
      continue;
    }
    slots_[slot] = Slot{tag, static_cast<TokenId>(id)};
  }
}

TokenId BytesIndex::find(std::string_view bytes) const {
  if (slots_.empty()) return -1;
  const std::uint64_t hash = hash_bytes(bytes);
  const auto tag = static_cast<std::uint32_t>(hash >> 32);
  std::uint64_t slot = hash & mask_;
  while (true) {
    const Slot& s = slots_[slot];
    if (s.id < 0) return -1;
    if (s.tag == tag && bytes_of(s.id) == bytes) return s.id;
    slot = (slot + 1) & mask_;
  }
}

namespace {
std::uint64_t pair_key(TokenId left, TokenId right) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) |
         static_cast<std::uint32_t>(right);
}
}  // namespace

PairIndex::PairIndex(std::size_t expected) {
  slots_.assign(slot_count(expected), Slot{kEmptyKey, {}});
  mask_ = slots_.size() - 1;
}

void PairIndex::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.size() * 2, Slot{kEmptyKey, {}});
  mask_ = slots_.size() - 1;
  for (const auto& s : old) {
    if (s.key == kEmptyKey) continue;
    std::uint64_t slot = mix(s.key) & mask_;
    while (slots_[slot].key != kEmptyKey) slot = (slot + 1) & mask_;
    slots_[slot] = s;
  }
}

bool PairIndex::insert(TokenId left, TokenId right, Merge merge) {
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const std::uint64_t key = pair_key(left, right);
  std::uint64_t slot = mix(key) & mask_;
  while (slots_[slot].key != kEmptyKey) {
    if (slots_[slot].key == key) return false;
    slot = (slot + 1) & mask_;
  }
  slots_[slot] = Slot{key, merge};
  ++size_;
  return true;
}

const Merge* PairIndex::find(TokenId left, TokenId right) const {
  const std::uint64_t key = pair_key(left, right);
  std::uint64_t slot = mix(key) & mask_;
  while (true) {
    const Slot& s = slots_[slot];
    if (s.key == key) return &s.merge;
    if (s.key == kEmptyKey) return nullptr;
    slot = (slot + 1) & mask_;
  }
}

}  // namespace llama4
