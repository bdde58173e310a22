// Element-wise and reduction kernels; see vector_ops.h.
#include "kernels/vector_ops.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/linear.h"
#include "tensor/dtype.h"

namespace llama4 {

namespace {

float widen(float value) {
  return value;
}
float widen(std::uint16_t bf16) {
  return bf16_to_f32(bf16);
}

// Partial sums a dot product keeps: independent chains the compiler turns into one vector, and a
// summation order fixed by the source rather than by how it was vectorised.
constexpr std::int64_t kDotLanes = 8;

template <typename T>
float dot_of(const float* a, const T* b, std::int64_t n) {
  float partial[kDotLanes] = {};
  std::int64_t i = 0;
  for (; i + kDotLanes <= n; i += kDotLanes)
    for (std::int64_t lane = 0; lane < kDotLanes; ++lane)
      partial[lane] += a[i + lane] * widen(b[i + lane]);
  for (; i < n; ++i) partial[0] += a[i] * widen(b[i]);
  return ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
         ((partial[4] + partial[5]) + (partial[6] + partial[7]));
}

template <typename T>
void axpy_of(float a, const T* x, float* y, std::int64_t n) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) y[i] += a * widen(x[i]);
}

}  // namespace

float dot(const float* a, const float* b, std::int64_t n) {
  return dot_of(a, b, n);
}
float dot(const float* a, const std::uint16_t* b_bf16, std::int64_t n) {
  return dot_of(a, b_bf16, n);
}
void axpy(float a, const float* x, float* y, std::int64_t n) {
  axpy_of(a, x, y, n);
}
void axpy(float a, const std::uint16_t* x_bf16, float* y, std::int64_t n) {
  axpy_of(a, x_bf16, y, n);
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

void silu_mul(float* gate, const float* up, std::int64_t n) {
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
