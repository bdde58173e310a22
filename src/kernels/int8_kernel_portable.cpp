// The portable int8-activation kernel (see int8_kernels.h): one (row, token) at a time. It defines
// the arithmetic the SIMD kernels must reproduce bit for bit, and runs where neither AVX2 nor
// AVX-512 VNNI is available.
#include <cmath>

#include "kernels/int8_kernels.h"

namespace llama4::int8 {
namespace {

// The exact sum of one quad of packed levels (4 bytes) times its activations in quad order: a
// byte of an 8-bit row is one level; a byte of a 4-bit row holds an even input's level in its low
// nibble (meeting act[i]) and the next odd input's in its high nibble (meeting act[4 + i]).
template <int kBits>
std::int32_t quad_sum(const std::uint8_t* quad, const std::int8_t* act) {
  std::int32_t sum = 0;
  for (int i = 0; i < 4; ++i) {
    if constexpr (kBits == 4)
      sum += (quad[i] & 0xF) * act[i] + (quad[i] >> 4) * act[4 + i];
    else
      sum += quad[i] * act[i];
  }
  return sum;
}

template <int kBits>
float portable_row_token(const Matrix& w, const RowBlock& block, std::int64_t r,
                         const Activations& a, std::int64_t t) {
  const std::int64_t group = w.quant.group_size;
  const std::uint8_t* bytes = block.row(r);
  const float* scales = block.row_scales(r);
  const float* block_scales = a.token_scales(t);
  float acc = 0.0f;
  const std::int64_t quads = a.block / inputs_per_quad(kBits);  // per block
  for (std::int64_t k = 0; k < a.blocks; ++k) {
    std::int32_t sum = 0;
    for (int plane = 0; plane < a.planes; ++plane) {
      const std::int8_t* levels = a.plane_levels(plane, t);
      sum *= kPlaneRadix;  // 16-bit activations: the high plane's sum, then the low one's
      for (std::int64_t q = 0; q < quads; ++q)
        sum += quad_sum<kBits>(bytes + (k * quads + q) * 4,
                               levels + k * a.block + q * inputs_per_quad(kBits));
    }
    const float scale = scales[k * a.block / group] * block_scales[k];
    acc = std::fma(static_cast<float>(sum), scale, acc);
  }
  const float* biases = block.row_biases(r);
  const float* sums = a.token_sums(t);
  float bias = 0.0f;
  for (std::int64_t g = 0; g < a.groups; ++g) bias = std::fma(biases[g], sums[g], bias);
  return acc + bias;
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
