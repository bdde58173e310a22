// AttentionWindow: which earlier positions a query may attend to. Attention visibility is a rule,
// not a mask tensor, so attention kernels loop only over the visible key range.
//  - global (NoPE layers): key k is visible from query q iff k <= q.
//  - chunked local (RoPE layers): additionally k and q must lie in the same chunk of `chunk_size`
//    absolute positions, i.e. floor(k / C) == floor(q / C). A query sees at most C keys.
#pragma once

#include <cstdint>

namespace llama4 {

struct AttentionWindow {
  static constexpr std::int64_t kGlobal = 0;
  std::int64_t chunk_size = kGlobal;  // 0 = global causal

  bool is_global() const { return chunk_size == kGlobal; }
  // First key position visible from query position q (the last one is q itself).
  std::int64_t first_visible(std::int64_t q) const {
    return is_global() ? 0 : (q / chunk_size) * chunk_size;
  }
  bool visible(std::int64_t q, std::int64_t k) const { return k <= q && k >= first_visible(q); }
};

}  // namespace llama4
