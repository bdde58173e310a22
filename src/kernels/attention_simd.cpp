// Per-target grouped attention; see attention_ops.h. Compiled once per Highway target
// (foreach_target.h re-includes this file); the HWY_ONCE section dispatches at run time.
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4)
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/attention_simd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
// clang-format off: the math functions must follow highway.h, for each target
#include <hwy/contrib/math/math-inl.h>
// clang-format on

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels/attention_ops.h"
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

// Context vectors a weighted-sum pass keeps in registers (128 f32 of a Llama 4 head are 8
// AVX-512 vectors), and keys per block: a block's keys and values (64 · 512 bytes each for that
// head) stay in L1 while every query of the group passes over them.
constexpr int kSumVectors = 8;
constexpr std::int64_t kKeyBlock = 64;

// ctx[c, c + kVectors·lanes) += Σ_j weights[j] · values[j] over j < count in order, the sums in
// registers between one load and one store of ctx.
template <int kVectors, typename T>
HWY_INLINE void AddWeightedColumns(const float* weights, const T* const* values, std::int64_t count,
                                   std::int64_t c, float* ctx) {
  const DF df;
  const auto lanes = static_cast<std::int64_t>(hn::Lanes(df));
  VF acc[kVectors];
  for (int v = 0; v < kVectors; ++v) acc[v] = hn::LoadU(df, ctx + c + v * lanes);
  for (std::int64_t j = 0; j < count; ++j) {
    const VF w = hn::Set(df, weights[j]);
    for (int v = 0; v < kVectors; ++v)
      acc[v] = hn::MulAdd(w, LoadAsF32(df, values[j] + c + v * lanes), acc[v]);
  }
  for (int v = 0; v < kVectors; ++v) hn::StoreU(acc[v], df, ctx + c + v * lanes);
}

// ctx += Σ_j weights[j] · values[j] (j < count, in order): one multiply-add per element and
// value; the elements past the last whole vector use the target's own multiply-add on broadcast
// vectors, so they round as the vector part does (fused on AVX2/AVX-512; a multiply and an add
// on the portable baseline).
template <typename T>
HWY_INLINE void AddWeighted(const float* weights, const T* const* values, std::int64_t count,
                            std::int64_t n, float* ctx) {
  const DF df;
  const auto lanes = static_cast<std::int64_t>(hn::Lanes(df));
  std::int64_t c = 0;
  for (; c + kSumVectors * lanes <= n; c += kSumVectors * lanes)
    AddWeightedColumns<kSumVectors>(weights, values, count, c, ctx);
  for (; c + lanes <= n; c += lanes) AddWeightedColumns<1>(weights, values, count, c, ctx);
  for (; c < n; ++c)
    for (std::int64_t j = 0; j < count; ++j)
      ctx[c] = hn::GetLane(hn::MulAdd(
          hn::Set(df, weights[j]), hn::Set(df, ScalarAsF32(values[j] + c)), hn::Set(df, ctx[c])));
}

// In-place softmax over a query's n scores: the maximum, e^(s - max) with Highway's Exp and the
// sum lane by lane, then one multiplication by the sum's inverse. Values past the last whole
// vector take the same Exp one at a time. The order depends only on n, so a query's weights do
// not depend on the group it is in.
HWY_INLINE void Softmax(float* scores, std::int64_t n) {
  const DF df;
  const auto lanes = static_cast<std::int64_t>(hn::Lanes(df));
  const std::int64_t whole = n / lanes * lanes;
  VF max_lanes = hn::Set(df, -std::numeric_limits<float>::infinity());
  for (std::int64_t i = 0; i < whole; i += lanes)
    max_lanes = hn::Max(max_lanes, hn::LoadU(df, scores + i));
  float max_score = hn::GetLane(hn::MaxOfLanes(df, max_lanes));
  for (std::int64_t i = whole; i < n; ++i) max_score = std::max(max_score, scores[i]);
  const VF max_vector = hn::Set(df, max_score);
  VF sum_lanes = hn::Zero(df);
  for (std::int64_t i = 0; i < whole; i += lanes) {
    const VF e = hn::Exp(df, hn::Sub(hn::LoadU(df, scores + i), max_vector));
    hn::StoreU(e, df, scores + i);
    sum_lanes = hn::Add(sum_lanes, e);
  }
  float sum = hn::GetLane(hn::SumOfLanes(df, sum_lanes));
  for (std::int64_t i = whole; i < n; ++i) {
    scores[i] = hn::GetLane(hn::Exp(df, hn::Set(df, scores[i] - max_score)));
    sum += scores[i];
  }
  const float inv_sum = 1.0f / sum;
  for (std::int64_t i = 0; i < whole; i += lanes)
    hn::StoreU(hn::Mul(hn::LoadU(df, scores + i), hn::Set(df, inv_sum)), df, scores + i);
  for (std::int64_t i = whole; i < n; ++i) scores[i] *= inv_sum;
}

// Keys and values in blocks of kKeyBlock, each block read once for the whole group; each query's
// scores and sums run in its own fixed order (see attention_ops.h).
template <typename T>
void AttendGroupOf(const AttentionQuery* queries, std::int64_t n_queries, const T* const* keys,
                   const T* const* values, std::int64_t n_keys, std::int64_t head_dim,
                   float scale) {
  thread_local std::vector<float> scores;
  scores.resize(static_cast<std::size_t>(n_queries * n_keys));
  // The visible part [begin, end) of block [p0, p0 + kKeyBlock) for query i (empty: begin ≥ end).
  const auto visible = [&](std::int64_t i, std::int64_t p0) {
    const AttentionQuery& query = queries[i];
    return std::pair{std::max(p0, query.first), std::min(p0 + kKeyBlock, query.last + 1)};
  };
  for (std::int64_t p0 = 0; p0 < n_keys; p0 += kKeyBlock)
    for (std::int64_t i = 0; i < n_queries; ++i) {
      const auto [begin, end] = visible(i, p0);
      for (std::int64_t p = begin; p < end; ++p)
        scores[static_cast<std::size_t>(i * n_keys + p)] =
            Dot(queries[i].q, keys[p], head_dim) * scale;
    }
  for (std::int64_t i = 0; i < n_queries; ++i) {
    const AttentionQuery& query = queries[i];
    Softmax(scores.data() + i * n_keys + query.first, query.last - query.first + 1);
    std::fill_n(query.ctx, head_dim, 0.0f);
  }
  for (std::int64_t p0 = 0; p0 < n_keys; p0 += kKeyBlock)
    for (std::int64_t i = 0; i < n_queries; ++i) {
      const auto [begin, end] = visible(i, p0);
      if (begin < end)
        AddWeighted(scores.data() + i * n_keys + begin, values + begin, end - begin, head_dim,
                    queries[i].ctx);
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
