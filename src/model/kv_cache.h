// KvCache: the keys and values one attention layer keeps for later tokens.
//
// Both kinds of Llama 4 attention layer use this one class, differing only in capacity:
//  - global (NoPE) layers keep every position up to the context size;
//  - chunked local (RoPE) layers keep only the current chunk: a query never looks before the start
//    of its own chunk, so memory is one chunk whatever the context length.
// Position p lives in slot p mod capacity. For a chunked layer the retained positions always start
// at a chunk boundary and span less than one chunk, so slots never collide.
//
// Elements are f32 or bf16 (KvType): bf16 halves the cache's memory and the bytes a long-context
// decode step reads, at the cost of rounding keys and values to 8 significant bits. Attention
// always computes in f32.
//
// The batch being processed is not in the cache while it is attended to: attention reads keys
// before the batch from here and the batch's own keys from its scratch buffers, then appends them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

#include "model/attention_window.h"

namespace llama4 {

enum class KvType { kF32, kBf16 };

// "f32" / "bf16", as the --kv-type flag spells them.
std::string_view kv_type_name(KvType type);
std::optional<KvType> kv_type_from_name(std::string_view name);

// The element type of each KvType: f32, or bf16 held as its 16 raw bits.
template <KvType type>
using KvElement = std::conditional_t<type == KvType::kF32, float, std::uint16_t>;

class KvCache {
 public:
  KvCache(AttentionWindow window, std::int64_t context_size, std::int64_t n_kv_heads,
          std::int64_t head_dim, KvType type = KvType::kF32);

  // Stores n positions starting at `start` (which must equal end()); k and v are
  // [n, n_kv_heads, head_dim], rounded to the cache's type. Only positions a later query can see
  // are kept.
  void append(const float* k, const float* v, std::int64_t start, std::int64_t n);
  // Forgets every position ≥ `position` (e.g. to reuse a shared prompt prefix). For a chunked
  // layer only positions in the retained range can be kept; returns false if that is impossible.
  bool truncate(std::int64_t position);
  void clear();

  // Head `kv_head` of the key / value at `position`, as elements of type T, which must be
  // KvElement<type()>.
  template <typename T>
  const T* key(std::int64_t position, std::int64_t kv_head) const {
    return elements<T>(keys_) + slot_offset(position, kv_head);
  }
  template <typename T>
  const T* value(std::int64_t position, std::int64_t kv_head) const {
    return elements<T>(values_) + slot_offset(position, kv_head);
  }
  // Every head of the key and value at `position`, widened to f32 ([n_kv_heads, head_dim] each).
  void read_f32(std::int64_t position, float* key_row, float* value_row) const;

  KvType type() const { return type_; }
  std::int64_t begin() const { return begin_; }  // first retained position
  std::int64_t end() const { return end_; }      // one past the last stored position
  std::int64_t capacity() const { return capacity_; }
  std::size_t bytes() const { return keys_.size() + values_.size(); }
  const AttentionWindow& window() const { return window_; }

 private:
  std::size_t slot_offset(std::int64_t position, std::int64_t kv_head) const {
    return static_cast<std::size_t>(((position % capacity_) * n_kv_heads_ + kv_head) * head_dim_);
  }
  template <typename T>
  static const T* elements(const std::vector<std::byte>& storage) {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, std::uint16_t>);
    return reinterpret_cast<const T*>(storage.data());
  }
  void store_row(std::int64_t position, const float* k, const float* v);

  AttentionWindow window_;
  std::int64_t capacity_;
  std::int64_t n_kv_heads_;
  std::int64_t head_dim_;
  KvType type_;
  std::int64_t begin_ = 0;
  std::int64_t end_ = 0;
  std::vector<std::byte> keys_, values_;  // capacity × n_kv_heads × head_dim elements of type_
};

}  // namespace llama4
