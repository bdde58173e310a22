// Element-wise and reduction kernels; see vector_ops.h.
#include "kernels/vector_ops.h"

#include <algorithm>
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

void silu_mul(float* gate, const float* up, std::int64_t n) {
#pragma omp parallel for schedule(static) if (n >= kParallelElements)
  for (std::int64_t i = 0; i < n; ++i) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void softmax(float* scores, std::int64_t n) {
  const float max_score = *std::max_element(scores, scores + n);
  float sum = 0.0f;
  for (std::int64_t i = 0; i < n; ++i) {
    scores[i] = std::exp(scores[i] - max_score);
    sum += scores[i];
  }
  const float inv_sum = 1.0f / sum;
  for (std::int64_t i = 0; i < n; ++i) scores[i] *= inv_sum;
}

}  // namespace llama4
