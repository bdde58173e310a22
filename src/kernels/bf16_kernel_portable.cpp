// The portable bf16-activation kernel (see bf16_kernels.h): one (row or column, token) at a time,
// the arithmetic of bf16_activations.h spelled out step by step. It is the reference the
// AVX-512 BF16 kernel is tested against bit for bit, and what CPUs without that extension run.
#include <cstdint>

#include "kernels/bf16_kernels.h"

namespace llama4::bf16 {
namespace {

float out_major_dot(const std::uint16_t* row, std::int64_t in, const std::uint16_t* x) {
  float lanes[kLanes] = {};
  for (std::int64_t chunk = 0; chunk < in; chunk += kChunkInputs)
    for (int m = 0; m < kLanes; ++m) {
      const std::int64_t even = chunk + 2 * std::int64_t{m}, odd = even + 1;
      const float w_odd = odd < in ? read_weight(row[odd]) : 0.0f;
      const float w_even = even < in ? read_weight(row[even]) : 0.0f;
      lanes[m] = add_product(lanes[m], w_odd, bf16_to_f32(x[odd]));
      lanes[m] = add_product(lanes[m], w_even, bf16_to_f32(x[even]));
    }
  return reduce_lanes(lanes);
}

}  // namespace

void portable_out_major(const Matrix& w, std::int64_t row0, std::int64_t count,
                        const Activations& a, std::int64_t t0, std::int64_t n_tokens, float* y) {
  const auto* rows = static_cast<const std::uint16_t*>(w.data);
  for (std::int64_t t = t0; t < t0 + n_tokens; ++t)
    for (std::int64_t r = row0; r < row0 + count; ++r)
      y[t * w.out_features + r] = out_major_dot(rows + r * w.row_stride, w.in_features, a.token(t));
}

void portable_in_major(const Matrix& w, std::int64_t c0, std::int64_t width, const Activations& a,
                       std::int64_t t0, std::int64_t n_tokens, float* y) {
  const auto* rows = static_cast<const std::uint16_t*>(w.data);
  const std::int64_t in = w.in_features;
  for (std::int64_t t = t0; t < t0 + n_tokens; ++t) {
    const std::uint16_t* x = a.token(t);
    for (std::int64_t c = c0; c < c0 + width; ++c) {
      float sum = 0.0f;
      for (std::int64_t even = 0; even < in; even += 2) {
        const std::int64_t odd = even + 1;
        const float w_odd = odd < in ? read_weight(rows[odd * w.row_stride + c]) : 0.0f;
        sum = add_product(sum, w_odd, bf16_to_f32(x[odd]));
        sum = add_product(sum, read_weight(rows[even * w.row_stride + c]), bf16_to_f32(x[even]));
      }
      y[t * w.out_features + c] = sum;
    }
  }
}

}  // namespace llama4::bf16
