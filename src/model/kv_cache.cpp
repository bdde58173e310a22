// KvCache; see kv_cache.h.
#include "model/kv_cache.h"

#include <algorithm>
#include <string>

#include "util/error.h"

namespace llama4 {

KvCache::KvCache(AttentionWindow window, std::int64_t context_size, std::int64_t n_kv_heads,
                 std::int64_t head_dim)
    : window_(window),
      capacity_(window.is_global() ? context_size : std::min(window.chunk_size, context_size)),
      n_kv_heads_(n_kv_heads),
      head_dim_(head_dim) {
  const auto elements = static_cast<std::size_t>(capacity_ * n_kv_heads_ * head_dim_);
  keys_.assign(elements, 0.0f);
  values_.assign(elements, 0.0f);
}

void KvCache::append(const float* k, const float* v, std::int64_t start, std::int64_t n) {
  if (start != end_)
    throw Error("KV cache: append at position " + std::to_string(start) + " but the cache ends at " +
                std::to_string(end_));
  if (n <= 0) return;
  const std::int64_t new_end = start + n;
  // The next query (at new_end) and every later one in its chunk see keys from here on.
  const std::int64_t keep_from = std::max(begin_, window_.first_visible(new_end));
  if (window_.is_global() && new_end > capacity_)
    throw Error("KV cache: position " + std::to_string(new_end - 1) + " exceeds the context size " +
                std::to_string(capacity_));
  const std::int64_t row = n_kv_heads_ * head_dim_;
  for (std::int64_t p = std::max(start, keep_from); p < new_end; ++p) {
    const std::size_t dst = slot_offset(p, 0);
    std::copy_n(k + (p - start) * row, row, keys_.begin() + static_cast<std::ptrdiff_t>(dst));
    std::copy_n(v + (p - start) * row, row, values_.begin() + static_cast<std::ptrdiff_t>(dst));
  }
  begin_ = keep_from;
  end_ = new_end;
}

bool KvCache::truncate(std::int64_t position) {
  if (position >= end_) return true;
  if (position < begin_) return false;
  end_ = position;
  return true;
}

void KvCache::clear() {
  begin_ = 0;
  end_ = 0;
}

}  // namespace llama4
