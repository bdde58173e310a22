// Small element-wise and reduction kernels used between the matrix products: dot products, RMS
// normalisation, SiLU gating, softmax. All compute in f32 (sums of squares in f64 for stability).
#pragma once

#include <cstdint>

#include "tensor/matrix.h"

namespace llama4 {

// a · b, with b in f32 or bf16 (its raw 16 bits, as a bf16 KV cache stores it). Both run the same
// fixed order of operations, so equal values give bit-equal results whatever their storage.
float dot(const float* a, const float* b, std::int64_t n);
float dot(const float* a, const std::uint16_t* b_bf16, std::int64_t n);
// y += a · x, x in f32 or bf16.
void axpy(float a, const float* x, float* y, std::int64_t n);
void axpy(float a, const std::uint16_t* x_bf16, float* y, std::int64_t n);

// y = x · rsqrt(mean(x²) + eps) · weight. `weight` may be null for the weightless (qk) norm.
// x and y may alias.
void rms_norm(const float* x, std::int64_t n, double eps, const Vector* weight, float* y);

// gate[i] = silu(gate[i]) · up[i], silu(z) = z / (1 + e^-z)
void silu_mul(float* gate, const float* up, std::int64_t n);

// In-place softmax over n scores.
void softmax(float* scores, std::int64_t n);

}  // namespace llama4
