// Per-target attention loops; see attention_ops.h. Compiled once per Highway target
// (foreach_target.h re-includes this file); the HWY_ONCE section dispatches at run time.
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4)
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/attention_simd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <cstdint>
#include <type_traits>

#include "kernels/attention_ops.h"
#include "tensor/dtype.h"

HWY_BEFORE_NAMESPACE();
namespace llama4 {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// Output vectors of weighted_sum kept in registers while the values stream by (128 f32 of a
// Llama 4 head are 8 AVX-512 vectors).
constexpr int kSumVectors = 8;

// Lanes(df) stored elements, widened exactly to f32.
template <typename T>
HWY_INLINE VF LoadAsF32(DF df, const T* p) {
  if constexpr (std::is_same_v<T, float>) {
    return hn::LoadU(df, p);
  } else {
    const hn::Rebind<std::uint16_t, DF> d16;
    const hn::Rebind<std::uint32_t, DF> d32;
    return hn::BitCast(df, hn::ShiftLeft<16>(hn::PromoteTo(d32, hn::LoadU(d16, p))));
  }
}

template <typename T>
HWY_INLINE float ScalarAsF32(const T* p) {
  if constexpr (std::is_same_v<T, float>)
    return *p;
  else
    return bf16_to_f32(*p);
}

// Two accumulators over alternate vectors of the key, added and reduced; a scalar tail.
template <typename T>
void ScaledDotsOf(const float* q, const T* const* keys, std::int64_t count, std::int64_t n,
                  float scale, float* scores) {
  const DF df;
  const auto lanes = static_cast<std::int64_t>(hn::Lanes(df));
  for (std::int64_t j = 0; j < count; ++j) {
    const T* k = keys[j];
    VF even = hn::Zero(df), odd = hn::Zero(df);
    std::int64_t i = 0;
    for (; i + 2 * lanes <= n; i += 2 * lanes) {
      even = hn::MulAdd(hn::LoadU(df, q + i), LoadAsF32(df, k + i), even);
      odd = hn::MulAdd(hn::LoadU(df, q + i + lanes), LoadAsF32(df, k + i + lanes), odd);
    }
    if (i + lanes <= n) {
      even = hn::MulAdd(hn::LoadU(df, q + i), LoadAsF32(df, k + i), even);
      i += lanes;
    }
    float sum = hn::GetLane(hn::SumOfLanes(df, hn::Add(even, odd)));
    for (; i < n; ++i) sum += q[i] * ScalarAsF32(k + i);
    scores[j] = sum * scale;
  }
}

// out[c, c + kVectors·lanes) over every value, the sums in registers; then the scalar tail.
template <int kVectors, typename T>
HWY_INLINE void WeightedSumColumns(const float* weights, const T* const* values, std::int64_t count,
                                   std::int64_t c, float* out) {
  const DF df;
  const auto lanes = static_cast<std::int64_t>(hn::Lanes(df));
  VF acc[kVectors];
  for (int v = 0; v < kVectors; ++v) acc[v] = hn::Zero(df);
  for (std::int64_t j = 0; j < count; ++j) {
    const VF w = hn::Set(df, weights[j]);
    for (int v = 0; v < kVectors; ++v)
      acc[v] = hn::MulAdd(w, LoadAsF32(df, values[j] + c + v * lanes), acc[v]);
  }
  for (int v = 0; v < kVectors; ++v) hn::StoreU(acc[v], df, out + c + v * lanes);
}

template <typename T>
void WeightedSumOf(const float* weights, const T* const* values, std::int64_t count, std::int64_t n,
                   float* out) {
  const DF df;
  const auto lanes = static_cast<std::int64_t>(hn::Lanes(df));
  std::int64_t c = 0;
  for (; c + kSumVectors * lanes <= n; c += kSumVectors * lanes)
    WeightedSumColumns<kSumVectors>(weights, values, count, c, out);
  for (; c + lanes <= n; c += lanes) WeightedSumColumns<1>(weights, values, count, c, out);
  for (; c < n; ++c) {
    float sum = 0.0f;
    // The target's own multiply-add on broadcast vectors, so that the tail rounds exactly as the
    // vector columns do (fused on AVX2/AVX-512; a multiply and an add on the portable baseline).
    for (std::int64_t j = 0; j < count; ++j)
      sum = hn::GetLane(hn::MulAdd(hn::Set(df, weights[j]), hn::Set(df, ScalarAsF32(values[j] + c)),
                                   hn::Set(df, sum)));
    out[c] = sum;
  }
}

void ScaledDotsF32(const float* q, const float* const* keys, std::int64_t count, std::int64_t n,
                   float scale, float* scores) {
  ScaledDotsOf(q, keys, count, n, scale, scores);
}
void ScaledDotsBf16(const float* q, const std::uint16_t* const* keys, std::int64_t count,
                    std::int64_t n, float scale, float* scores) {
  ScaledDotsOf(q, keys, count, n, scale, scores);
}
void WeightedSumF32(const float* weights, const float* const* values, std::int64_t count,
                    std::int64_t n, float* out) {
  WeightedSumOf(weights, values, count, n, out);
}
void WeightedSumBf16(const float* weights, const std::uint16_t* const* values, std::int64_t count,
                     std::int64_t n, float* out) {
  WeightedSumOf(weights, values, count, n, out);
}

}  // namespace HWY_NAMESPACE
}  // namespace llama4
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace llama4 {

HWY_EXPORT(ScaledDotsF32);
HWY_EXPORT(ScaledDotsBf16);
HWY_EXPORT(WeightedSumF32);
HWY_EXPORT(WeightedSumBf16);

void scaled_dots(const float* q, const float* const* keys, std::int64_t count, std::int64_t n,
                 float scale, float* scores) {
  HWY_DYNAMIC_DISPATCH(ScaledDotsF32)(q, keys, count, n, scale, scores);
}
void scaled_dots(const float* q, const std::uint16_t* const* keys, std::int64_t count,
                 std::int64_t n, float scale, float* scores) {
  HWY_DYNAMIC_DISPATCH(ScaledDotsBf16)(q, keys, count, n, scale, scores);
}
void weighted_sum(const float* weights, const float* const* values, std::int64_t count,
                  std::int64_t n, float* out) {
  HWY_DYNAMIC_DISPATCH(WeightedSumF32)(weights, values, count, n, out);
}
void weighted_sum(const float* weights, const std::uint16_t* const* values, std::int64_t count,
                  std::int64_t n, float* out) {
  HWY_DYNAMIC_DISPATCH(WeightedSumBf16)(weights, values, count, n, out);
}

}  // namespace llama4
#endif  // HWY_ONCE
