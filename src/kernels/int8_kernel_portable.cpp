// The portable int8-activation kernel (see int8_kernels.h): one (row, token) at a time, the 16
// lanes as a plain array. It defines the arithmetic the SIMD kernels must reproduce bit for bit,
// and runs where neither AVX2 nor AVX-512 VNNI is available.
#include <algorithm>
#include <cmath>

#include "kernels/int8_kernels.h"

namespace llama4::int8 {
namespace {

// The integer sums of one 64-byte chunk (`valid` bytes of it) into the 16 lanes.
template <int kBits>
void chunk_sums(const std::uint8_t* bytes, const std::int8_t* act, std::int64_t valid,
                std::int32_t (&sums)[kLanes]) {
  for (int m = 0; m < kLanes; ++m) sums[m] = 0;
  for (std::int64_t k = 0; k < valid; ++k) {
    const std::int32_t packed = bytes[k];
    if constexpr (kBits == 4)
      sums[k / 4] += (packed & 0xF) * act[k] + (packed >> 4) * act[kChunkBytes + k];
    else
      sums[k / 4] += packed * act[k];
  }
}

template <int kBits>
float portable_row_token(const Matrix& w, const RowBlock& block, std::int64_t r,
                         const Activations& a, std::int64_t t) {
  const int group = w.quant.group_size;
  constexpr std::int64_t kChunk = chunk_inputs(kBits);
  const std::uint8_t* bytes = block.row(r);
  const float* scales = block.row_scales(r);
  const std::int8_t* levels = a.levels.data() + t * a.chunks * kChunk;
  const float* lane_scales = a.lane_scales.data() + t * a.chunks * kLanes;
  std::int64_t group_offset[kLanes];
  for (int m = 0; m < kLanes; ++m) group_offset[m] = lane_group_offset(kBits, group, m);
  float lanes[kLanes] = {};
  for (std::int64_t c = 0; c < a.chunks; ++c) {
    std::int32_t sums[kLanes];
    chunk_sums<kBits>(bytes + c * kChunkBytes, levels + c * kChunk,
                      std::min(kChunkBytes, block.row_bytes - c * kChunkBytes), sums);
    const float* chunk_scales = scales + c * kChunk / group;
    for (int m = 0; m < kLanes; ++m)
      lanes[m] = std::fma(static_cast<float>(sums[m]),
                          lane_scales[c * kLanes + m] * chunk_scales[group_offset[m]], lanes[m]);
  }
  return reduce_lanes(lanes) + bias_term(block.row_biases(r), a, t);
}

}  // namespace

void portable_block(const Matrix& w, const RowBlock& block, std::int64_t row0, std::int64_t count,
                    const Activations& a, std::int64_t n_tokens, float* y) {
  for (std::int64_t r = 0; r < count; ++r)
    for (std::int64_t t = 0; t < n_tokens; ++t)
      y[t * w.out_features + row0 + r] = w.quant.bits == 4
                                             ? portable_row_token<4>(w, block, r, a, t)
                                             : portable_row_token<8>(w, block, r, a, t);
}

}  // namespace llama4::int8
