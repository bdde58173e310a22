// Per-target grouped attention; see attention_ops.h. Compiled once per Highway target
// (foreach_target.h re-includes this file); the HWY_ONCE section dispatches at run time.
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4)
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/attention_simd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels/attention_ops.h"
#include "kernels/vector_ops.h"
#include "tensor/dtype.h"

HWY_BEFORE_NAMESPACE();
namespace llama4 {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

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

// q · k: two accumulators over alternate vectors, added and reduced; a scalar tail.
template <typename T>
HWY_INLINE float Dot(const float* q, const T* k, std::int64_t n) {
  const DF df;
  const auto lanes = static_cast<std::int64_t>(hn::Lanes(df));
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
  return sum;
}

// ctx += w · v for one query and one value: a vector multiply-add per element, then the tail with
// the target's own multiply-add on broadcast vectors, so that it rounds as the vector part does
// (fused on AVX2/AVX-512; a multiply and an add on the portable baseline).
template <typename T>
HWY_INLINE void AddWeighted(float w, const T* v, std::int64_t n, float* ctx) {
  const DF df;
  const auto lanes = static_cast<std::int64_t>(hn::Lanes(df));
  const VF wv = hn::Set(df, w);
  std::int64_t i = 0;
  for (; i + lanes <= n; i += lanes)
    hn::StoreU(hn::MulAdd(wv, LoadAsF32(df, v + i), hn::LoadU(df, ctx + i)), df, ctx + i);
  for (; i < n; ++i)
    ctx[i] = hn::GetLane(hn::MulAdd(wv, hn::Set(df, ScalarAsF32(v + i)), hn::Set(df, ctx[i])));
}

// Keys and values in the outer loops, so each is read once for the whole group; each query's
// scores and sums run in its own fixed order (see attention_ops.h).
template <typename T>
void AttendGroupOf(const AttentionQuery* queries, std::int64_t n_queries, const T* const* keys,
                   const T* const* values, std::int64_t n_keys, std::int64_t head_dim,
                   float scale) {
  thread_local std::vector<float> scores;
  scores.resize(static_cast<std::size_t>(n_queries * n_keys));
  for (std::int64_t p = 0; p < n_keys; ++p)
    for (std::int64_t i = 0; i < n_queries; ++i) {
      const AttentionQuery& query = queries[i];
      if (p >= query.first && p <= query.last)
        scores[static_cast<std::size_t>(i * n_keys + p)] = Dot(query.q, keys[p], head_dim) * scale;
    }
  for (std::int64_t i = 0; i < n_queries; ++i) {
    const AttentionQuery& query = queries[i];
    softmax(scores.data() + i * n_keys + query.first, query.last - query.first + 1);
    std::fill_n(query.ctx, head_dim, 0.0f);
  }
  for (std::int64_t p = 0; p < n_keys; ++p)
    for (std::int64_t i = 0; i < n_queries; ++i) {
      const AttentionQuery& query = queries[i];
      if (p >= query.first && p <= query.last)
        AddWeighted(scores[static_cast<std::size_t>(i * n_keys + p)], values[p], head_dim,
                    query.ctx);
    }
}

void AttendGroupF32(const AttentionQuery* queries, std::int64_t n_queries, const float* const* keys,
                    const float* const* values, std::int64_t n_keys, std::int64_t head_dim,
                    float scale) {
  AttendGroupOf(queries, n_queries, keys, values, n_keys, head_dim, scale);
}
void AttendGroupBf16(const AttentionQuery* queries, std::int64_t n_queries,
                     const std::uint16_t* const* keys, const std::uint16_t* const* values,
                     std::int64_t n_keys, std::int64_t head_dim, float scale) {
  AttendGroupOf(queries, n_queries, keys, values, n_keys, head_dim, scale);
}

}  // namespace HWY_NAMESPACE
}  // namespace llama4
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace llama4 {

HWY_EXPORT(AttendGroupF32);
HWY_EXPORT(AttendGroupBf16);

void attend_group(const AttentionQuery* queries, std::int64_t n_queries, const float* const* keys,
                  const float* const* values, std::int64_t n_keys, std::int64_t head_dim,
                  float scale) {
  HWY_DYNAMIC_DISPATCH(AttendGroupF32)(queries, n_queries, keys, values, n_keys, head_dim, scale);
}
void attend_group(const AttentionQuery* queries, std::int64_t n_queries,
                  const std::uint16_t* const* keys, const std::uint16_t* const* values,
                  std::int64_t n_keys, std::int64_t head_dim, float scale) {
  HWY_DYNAMIC_DISPATCH(AttendGroupBf16)(queries, n_queries, keys, values, n_keys, head_dim, scale);
}

}  // namespace llama4
#endif  // HWY_ONCE
