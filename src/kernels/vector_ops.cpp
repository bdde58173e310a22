// Element-wise and reduction kernels; see vector_ops.h (SiLU gating is in silu_simd.cpp).
#include "kernels/vector_ops.h"

#include <cmath>
#include <vector>

#include "kernels/linear.h"
#include "tensor/dtype.h"

namespace llama4 {

void axpy(float a, const float* x, float* y, std::int64_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelElements)
  for (std::int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void rms_norm(const float* x, std::int64_t n, double eps, const Vector* weight, float* y) {
  double sum_squares = 0.0;
  for (std::int64_t i = 0; i < n; ++i) sum_squares += static_cast<double>(x[i]) * x[i];
  const float inv_rms =
      static_cast<float>(1.0 / std::sqrt(sum_squares / static_cast<double>(n) + eps));
  if (weight == nullptr) {
    for (std::int64_t i = 0; i < n; ++i) y[i] = x[i] * inv_rms;
    return;
  }
  if (weight->dtype == DType::F32) {
    const float* w = static_cast<const float*>(weight->data);
    for (std::int64_t i = 0; i < n; ++i) y[i] = x[i] * inv_rms * w[i];
    return;
  }
  thread_local std::vector<float> w;
  w.resize(static_cast<std::size_t>(n));
  widen_to_f32(weight->data, weight->dtype, n, w.data());
  for (std::int64_t i = 0; i < n; ++i) y[i] = x[i] * inv_rms * w[i];
}

void rms_norm_rows(const float* x, std::int64_t rows, std::int64_t n, double eps,
                   const Vector* weight, float* y) {
#pragma omp parallel for schedule(static) if (rows * n >= kParallelElements)
  for (std::int64_t r = 0; r < rows; ++r) rms_norm(x + r * n, n, eps, weight, y + r * n);
}

}  // namespace llama4
