// KvCache: the keys and values one attention layer keeps for later tokens.
//
// Both kinds of Llama 4 attention layer use this one class, differing only in capacity:
//  - global (NoPE) layers keep every position up to the context size;
//  - chunked local (RoPE) layers keep only the current chunk: a query never looks before the start
//    of its own chunk, so memory is one chunk whatever the context length.
// Position p lives in slot p mod capacity. For a chunked layer the retained positions always start
// at a chunk boundary and span less than one chunk, so slots never collide.
//
// The batch being processed is not in the cache while it is attended to: attention reads keys
// before the batch from here and the batch's own keys from its scratch buffers, then appends them.
#pragma once

#include <cstdint>
#include <vector>

#include "model/attention_window.h"

namespace llama4 {

class KvCache {
 public:
  KvCache(AttentionWindow window, std::int64_t context_size, std::int64_t n_kv_heads,
          std::int64_t head_dim);

  // Stores n positions starting at `start` (which must equal end()); k and v are
  // [n, n_kv_heads, head_dim]. Only positions a later query can see are kept.
  void append(const float* k, const float* v, std::int64_t start, std::int64_t n);
  // Forgets every position ≥ `position` (e.g. to reuse a shared prompt prefix). For a chunked
  // layer only positions in the retained range can be kept; returns false if that is impossible.
  bool truncate(std::int64_t position);
  void clear();

  const float* key(std::int64_t position, std::int64_t kv_head) const {
    return keys_.data() + slot_offset(position, kv_head);
  }
  const float* value(std::int64_t position, std::int64_t kv_head) const {
    return values_.data() + slot_offset(position, kv_head);
  }

  std::int64_t begin() const { return begin_; }  // first retained position
  std::int64_t end() const { return end_; }      // one past the last stored position
  std::int64_t capacity() const { return capacity_; }
  std::size_t bytes() const { return (keys_.size() + values_.size()) * sizeof(float); }
  const AttentionWindow& window() const { return window_; }

 private:
  std::size_t slot_offset(std::int64_t position, std::int64_t kv_head) const {
    return static_cast<std::size_t>(((position % capacity_) * n_kv_heads_ + kv_head) * head_dim_);
  }

  AttentionWindow window_;
  std::int64_t capacity_;
  std::int64_t n_kv_heads_;
  std::int64_t head_dim_;
  std::int64_t begin_ = 0;
  std::int64_t end_ = 0;
  std::vector<float> keys_, values_;
};

}  // namespace llama4
