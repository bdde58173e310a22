// Rotary position embedding as Llama 4 uses it: interleaved pairs (x[2k], x[2k+1]) rotated by
// angle p·θ_k, with θ_k = base^(-2k/D) optionally rescaled by Llama 3's frequency-dependent rule.
// (Not the half-split `rotate_half` convention of Llama 2/3 checkpoints: Llama 4 weights are
// unpermuted, so consecutive elements form the pairs.)
#pragma once

#include <cstdint>
#include <vector>

#include "checkpoint/model_config.h"

namespace llama4 {

class RopeTable {
 public:
  RopeTable(std::int64_t head_dim, double base, const RopeScaling& scaling);

  // Rotates n_heads consecutive head vectors of length head_dim at absolute position `position`.
  void apply(float* heads, std::int64_t n_heads, std::int64_t position) const;
  const std::vector<double>& inverse_frequencies() const { return inv_freq_; }

 private:
  std::int64_t head_dim_;
  std::vector<double> inv_freq_;  // θ'_k, k in [0, D/2)
};

// Llama 3 scaling of one inverse frequency θ: unchanged for short wavelengths, divided by `factor`
// for long ones, and smoothly interpolated in between. The band is empty when low == high (Scout).
double llama3_scaled_inverse_frequency(double inv_freq, const RopeScaling& scaling);

}  // namespace llama4
