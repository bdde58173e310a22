// RoPE tables and rotation; see rope.h. Angles are computed in double precision: at positions in
// the millions an f32 product p·θ loses whole radians.
#include "kernels/rope.h"

#include <cmath>
#include <numbers>

namespace llama4 {

double llama3_scaled_inverse_frequency(double inv_freq, const RopeScaling& s) {
  const double old_context = static_cast<double>(s.original_max_position_embeddings);
  const double low_freq_wavelength = old_context / s.low_freq_factor;
  const double high_freq_wavelength = old_context / s.high_freq_factor;
  const double wavelength = 2.0 * std::numbers::pi / inv_freq;
  if (wavelength < high_freq_wavelength) return inv_freq;
  if (wavelength > low_freq_wavelength) return inv_freq / s.factor;
  // Only reachable when high_freq_factor > low_freq_factor, so the division is safe.
  const double smooth =
      (old_context / wavelength - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
  return (1.0 - smooth) * inv_freq / s.factor + smooth * inv_freq;
}

RopeTable::RopeTable(std::int64_t head_dim, double base, const RopeScaling& scaling)
    : head_dim_(head_dim) {
  const std::int64_t pairs = head_dim / 2;
  inv_freq_.resize(static_cast<std::size_t>(pairs));
  for (std::int64_t k = 0; k < pairs; ++k) {
    double inv_freq =
        1.0 / std::pow(base, static_cast<double>(2 * k) / static_cast<double>(head_dim));
    if (scaling.type == RopeScaling::Type::kLlama3)
      inv_freq = llama3_scaled_inverse_frequency(inv_freq, scaling);
    inv_freq_[static_cast<std::size_t>(k)] = inv_freq;
  }
}

void RopeTable::apply(float* heads, std::int64_t n_heads, std::int64_t position) const {
  const std::int64_t pairs = head_dim_ / 2;
  thread_local std::vector<float> cos_table, sin_table;
  cos_table.resize(static_cast<std::size_t>(pairs));
  sin_table.resize(static_cast<std::size_t>(pairs));
  for (std::int64_t k = 0; k < pairs; ++k) {
    const double angle = static_cast<double>(position) * inv_freq_[static_cast<std::size_t>(k)];
    cos_table[static_cast<std::size_t>(k)] = static_cast<float>(std::cos(angle));
    sin_table[static_cast<std::size_t>(k)] = static_cast<float>(std::sin(angle));
  }
  for (std::int64_t h = 0; h < n_heads; ++h) {
    float* x = heads + h * head_dim_;
    for (std::int64_t k = 0; k < pairs; ++k) {
      const float c = cos_table[static_cast<std::size_t>(k)],
                  s = sin_table[static_cast<std::size_t>(k)];
      const float even = x[2 * k], odd = x[2 * k + 1];
      x[2 * k] = even * c - odd * s;
      x[2 * k + 1] = even * s + odd * c;
    }
  }
}

}  // namespace llama4
