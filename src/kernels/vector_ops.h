// Small element-wise kernels used between the matrix products: additions, RMS normalisation,
// SiLU gating (attention's own loops, softmax included, are in attention_ops.h). All compute in f32
// (sums of squares in f64 for stability).
#pragma once

#include <cstdint>

#include "tensor/matrix.h"

namespace llama4 {

// Element-wise loops over fewer values than this run on the calling thread: a decode step's
// vectors are done before the thread pool would wake. Longer ones (a prompt's) are split among
// the threads; each value is computed alike either way.
constexpr std::int64_t kParallelElements = std::int64_t{1} << 15;

// y += a · x (the residual stream's additions).
void axpy(float a, const float* x, float* y, std::int64_t n);

// y = x · rsqrt(mean(x²) + eps) · weight. `weight` may be null for the weightless (qk) norm.
// x and y may alias.
void rms_norm(const float* x, std::int64_t n, double eps, const Vector* weight, float* y);

// rms_norm of each of `rows` consecutive vectors of n values: y[r] = rms_norm(x[r]).
void rms_norm_rows(const float* x, std::int64_t rows, std::int64_t n, double eps,
                   const Vector* weight, float* y);

// gate[i] = silu(gate[i]) · up[i], silu(z) = z / (1 + e^-z)
void silu_mul(float* gate, const float* up, std::int64_t n);

}  // namespace llama4
