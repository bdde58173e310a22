// KvCache; see kv_cache.h.
#include "model/kv_cache.h"

#include <algorithm>
#include <string>

#include "tensor/dtype.h"
#include "util/error.h"

namespace llama4 {

std::string_view kv_type_name(KvType type) {
  return type == KvType::kBf16 ? "bf16" : "f32";
}

std::optional<KvType> kv_type_from_name(std::string_view name) {
  if (name == "f32") return KvType::kF32;
  if (name == "bf16") return KvType::kBf16;
  return std::nullopt;
}

namespace {

std::size_t element_size(KvType type) {
  return type == KvType::kBf16 ? sizeof(std::uint16_t) : sizeof(float);
}

}  // namespace

KvCache::KvCache(AttentionWindow window, std::int64_t context_size, std::int64_t n_kv_heads,
                 std::int64_t head_dim, KvType type)
    : window_(window),
      capacity_(window.is_global() ? context_size : std::min(window.chunk_size, context_size)),
      n_kv_heads_(n_kv_heads),
      head_dim_(head_dim),
      type_(type) {
  const auto bytes =
      static_cast<std::size_t>(capacity_ * n_kv_heads_ * head_dim_) * element_size(type);
  keys_.assign(bytes, std::byte{0});
  values_.assign(bytes, std::byte{0});
}

void KvCache::store_row(std::int64_t position, const float* k, const float* v) {
  const std::size_t offset = slot_offset(position, 0);
  const std::int64_t row = n_kv_heads_ * head_dim_;
  if (type_ == KvType::kF32) {
    std::copy_n(k, row, reinterpret_cast<float*>(keys_.data()) + offset);
    std::copy_n(v, row, reinterpret_cast<float*>(values_.data()) + offset);
    return;
  }
  auto* keys = reinterpret_cast<std::uint16_t*>(keys_.data()) + offset;
  auto* values = reinterpret_cast<std::uint16_t*>(values_.data()) + offset;
  for (std::int64_t i = 0; i < row; ++i) {
    keys[i] = f32_to_bf16(k[i]);
    values[i] = f32_to_bf16(v[i]);
  }
}

void KvCache::read_f32(std::int64_t position, float* key_row, float* value_row) const {
  const std::int64_t row = n_kv_heads_ * head_dim_;
  if (type_ == KvType::kF32) {
    std::copy_n(key<float>(position, 0), row, key_row);
    std::copy_n(value<float>(position, 0), row, value_row);
    return;
  }
  const std::uint16_t* keys = key<std::uint16_t>(position, 0);
  const std::uint16_t* values = value<std::uint16_t>(position, 0);
  for (std::int64_t i = 0; i < row; ++i) {
    key_row[i] = bf16_to_f32(keys[i]);
    value_row[i] = bf16_to_f32(values[i]);
  }
}

void KvCache::append(const float* k, const float* v, std::int64_t start, std::int64_t n) {
  if (start != end_)
    throw Error("KV cache: append at position " + std::to_string(start) +
                " but the cache ends at " + std::to_string(end_));
  if (n <= 0) return;
  const std::int64_t new_end = start + n;
  // The next query (at new_end) and every later one in its chunk see keys from here on.
  const std::int64_t keep_from = std::max(begin_, window_.first_visible(new_end));
  if (window_.is_global() && new_end > capacity_)
    throw Error("KV cache: position " + std::to_string(new_end - 1) + " exceeds the context size " +
                std::to_string(capacity_));
  const std::int64_t row = n_kv_heads_ * head_dim_;
  for (std::int64_t p = std::max(start, keep_from); p < new_end; ++p)
    store_row(p, k + (p - start) * row, v + (p - start) * row);
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
