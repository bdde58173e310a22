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
#include <atomic>
#include <bit>
#include <cstdint>
#include <limits>
#include <optional>
#include <type_traits>
#include <utility>
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

// ---- blocks of keys and values ----------------------------------------------------------------

// Keys per block: a block's keys or values (64 · 512 bytes for a Llama 4 head in f32) stay in L1
// while every query of the group passes over them.
constexpr std::int64_t kKeyBlock = 64;

// A block of keys or values copied to one contiguous f32 array, which stays in L1 while every
// query of the group passes over it. In the KV cache and the batch's buffers one head's positions
// lie a row of all KV heads apart (4 KiB for Scout in f32), so a block read in place maps all its
// rows to the same few L1 sets and comes from L2 again for every query; bf16 rows are widened
// here once (exactly) instead of once per query.
class BlockRows {
 public:
  // Pointers to rows[0 … count) as copied (count ≤ kKeyBlock).
  template <typename T>
  const float* const* copy(const T* const* rows, std::int64_t count, std::int64_t head_dim) {
    const DF df;
    const auto lanes = static_cast<std::int64_t>(hn::Lanes(df));
    data_.resize(static_cast<std::size_t>(kKeyBlock * head_dim));
    pointers_.resize(static_cast<std::size_t>(kKeyBlock));
    for (std::int64_t j = 0; j < count; ++j) {
      float* row = data_.data() + j * head_dim;
      std::int64_t d = 0;
      for (; d + lanes <= head_dim; d += lanes) hn::StoreU(LoadAsF32(df, rows[j] + d), df, row + d);
      for (; d < head_dim; ++d) row[d] = ScalarAsF32(rows[j] + d);
      pointers_[static_cast<std::size_t>(j)] = row;
    }
    return pointers_.data();
  }

 private:
  std::vector<float> data_;
  std::vector<const float*> pointers_;
};

// ---- scores --------------------------------------------------------------------------------
//
// A score tile forms the dot products of kSlots (query, key) pairs at once: pair s keeps one vector
// of partial sums (lane l: q[d] · k[d] over the head's d ≡ l modulo the lane count, by ascending d,
// one multiply-add each), and one transposing reduction turns the kSlots vectors into kSlots
// sums — where reducing each vector on its own spent more instructions than its multiply-adds, and
// each multiply-add loaded both operands. Every pair takes the same steps in the same order
// wherever it sits in a tile (the reduction adds each vector's lanes in one fixed tree), so a
// query's scores do not depend on the other queries of its group or on which keys share its tile.
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
constexpr int kSlots = 16;  // one vector of sums: 16 lanes
constexpr int kMaxTileQueries = 4;
#elif HWY_ARCH_X86 && HWY_TARGET == HWY_AVX2
constexpr int kSlots = 8;
constexpr int kMaxTileQueries = 2;
#else
constexpr int kSlots = 1;  // other targets: each pair reduced by SumOfLanes
constexpr int kMaxTileQueries = 1;
#endif

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
// Within each 128-bit block, the four lanes of a, b, c, d summed as (l0 + l2) + (l1 + l3): one
// vector holding, per block, [Σa, Σb, Σc, Σd]. (Interleave works block by block on x86.)
HWY_INLINE VF SumBlockLanes(VF a, VF b, VF c, VF d) {
  const DF df;
  const hn::Repartition<double, DF> dd;
  // [a0 + a2, b0 + b2, a1 + a3, b1 + b3] per block, and the same of c and d.
  const VF ab = hn::Add(hn::InterleaveLower(df, a, b), hn::InterleaveUpper(df, a, b));
  const VF cd = hn::Add(hn::InterleaveLower(df, c, d), hn::InterleaveUpper(df, c, d));
  const auto ab_pairs = hn::BitCast(dd, ab), cd_pairs = hn::BitCast(dd, cd);
  return hn::Add(hn::BitCast(df, hn::InterleaveLower(dd, ab_pairs, cd_pairs)),
                 hn::BitCast(df, hn::InterleaveUpper(dd, ab_pairs, cd_pairs)));
}
#endif

// out[s] = the sum of acc[s]'s lanes, for all kSlots vectors: the lanes of each 128-bit block
// first (SumBlockLanes), then the blocks.
HWY_INLINE void ReduceSlots(const VF (&acc)[kSlots], float* out) {
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
  __m512 blocks[4];  // blocks[g], block b: slots 4g … 4g + 3 summed over block b's lanes
  for (int g = 0; g < 4; ++g)
    blocks[g] = SumBlockLanes(acc[4 * g], acc[4 * g + 1], acc[4 * g + 2], acc[4 * g + 3]).raw;
  // Blocks added as (b0 + b1) + (b2 + b3); block g of the result holds slots 4g … 4g + 3.
  constexpr int kEvenBlocks = _MM_SHUFFLE(2, 0, 2, 0), kOddBlocks = _MM_SHUFFLE(3, 1, 3, 1);
  const auto add_adjacent = [](__m512 x, __m512 y) {
    return _mm512_add_ps(_mm512_shuffle_f32x4(x, y, kEvenBlocks),
                         _mm512_shuffle_f32x4(x, y, kOddBlocks));
  };
  const __m512 halves01 = add_adjacent(blocks[0], blocks[1]);
  const __m512 halves23 = add_adjacent(blocks[2], blocks[3]);
  _mm512_storeu_ps(out, add_adjacent(halves01, halves23));
#elif HWY_ARCH_X86 && HWY_TARGET == HWY_AVX2
  const DF df;
  const VF low = SumBlockLanes(acc[0], acc[1], acc[2], acc[3]);   // slots 0 … 3 per block
  const VF high = SumBlockLanes(acc[4], acc[5], acc[6], acc[7]);  // slots 4 … 7 per block
  // [low.b0, high.b0] + [low.b1, high.b1]
  hn::StoreU(hn::Add(hn::ConcatLowerLower(df, high, low), hn::ConcatUpperUpper(df, high, low)), df,
             out);
#else
  out[0] = hn::GetLane(hn::SumOfLanes(DF(), acc[0]));
#endif
}

// scores[qi · kKeys + j] = scale · (q[qi] · k[j]) for kQueries queries and kKeys = kSlots /
// kQueries keys: the vector part in one tile, then the elements past the last whole vector one
// multiply-add at a time, on broadcast vectors (so they round as the vector part does).
template <int kQueries>
HWY_INLINE void ScoreTile(const float* const* q, const float* const* k, std::int64_t head_dim,
                          float scale, float (&scores)[kSlots]) {
  constexpr int kKeys = kSlots / kQueries;
  const DF df;
  const auto lanes = static_cast<std::int64_t>(hn::Lanes(df));
  VF acc[kSlots];
  for (VF& a : acc) a = hn::Zero(df);
  std::int64_t d = 0;
  for (; d + lanes <= head_dim; d += lanes) {
    VF qv[kQueries];
    for (int qi = 0; qi < kQueries; ++qi) qv[qi] = hn::LoadU(df, q[qi] + d);
    for (int j = 0; j < kKeys; ++j) {
      const VF kv = hn::LoadU(df, k[j] + d);
      for (int qi = 0; qi < kQueries; ++qi)
        acc[qi * kKeys + j] = hn::MulAdd(qv[qi], kv, acc[qi * kKeys + j]);
    }
  }
  ReduceSlots(acc, scores);
  if (d == head_dim && lanes == kSlots) {  // no elements left: scale the tile as one vector
    hn::StoreU(hn::Mul(hn::LoadU(df, scores), hn::Set(df, scale)), df, scores);
    return;
  }
  for (int qi = 0; qi < kQueries; ++qi)
    for (int j = 0; j < kKeys; ++j) {
      float& sum = scores[qi * kKeys + j];
      for (std::int64_t e = d; e < head_dim; ++e)
        sum =
            hn::GetLane(hn::MulAdd(hn::Set(df, q[qi][e]), hn::Set(df, k[j][e]), hn::Set(df, sum)));
      sum *= scale;
    }
}

// The scores of `n` (1, 2 or 4, at most kMaxTileQueries) consecutive queries in the key block from
// p0 (keys[j]: key p0 + j), written to scores[i · score_stride + p] where key p is visible to
// query i (visible(query, p0): the part [begin, end) of the block that is). The tiles cover the
// union of the queries' visible parts; a tile's keys past it repeat its last key, and the scores
// no query sees are not kept.
template <typename Visible>
HWY_INLINE void ScoreBlock(const AttentionQuery* queries, std::int64_t n, const float* const* keys,
                           std::int64_t p0, std::int64_t head_dim, float scale, float* scores,
                           std::int64_t score_stride, const Visible& visible) {
  // [begin, end): keys some query sees; [whole_begin, whole_end): keys every query sees.
  std::int64_t begin = p0 + kKeyBlock, end = p0, whole_begin = p0, whole_end = p0 + kKeyBlock;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto [first, past] = visible(queries[i], p0);
    if (first < past) begin = std::min(begin, first), end = std::max(end, past);
    whole_begin = std::max(whole_begin, first), whole_end = std::min(whole_end, past);
  }
  const float* q[kMaxTileQueries];
  for (std::int64_t i = 0; i < n; ++i) q[i] = queries[i].q;
  const auto tile = [&]<int kQueries>(std::integral_constant<int, kQueries>) {
    constexpr int kKeys = kSlots / kQueries;
    alignas(64) float tile_scores[kSlots];
    for (std::int64_t p = begin; p < end; p += kKeys) {
      const float* k[kKeys];
      for (int j = 0; j < kKeys; ++j) k[j] = keys[std::min<std::int64_t>(p + j, end - 1) - p0];
      ScoreTile<kQueries>(q, k, head_dim, scale, tile_scores);
      if (p + kKeys <= whole_end && p >= whole_begin) {
        for (int qi = 0; qi < kQueries; ++qi)
          std::copy_n(tile_scores + std::ptrdiff_t{qi} * kKeys, kKeys,
                      scores + qi * score_stride + p);
        continue;
      }
      for (int qi = 0; qi < kQueries; ++qi) {
        const auto [first, past] = visible(queries[qi], p0);
        for (std::int64_t j = std::max(p, first); j < std::min(p + kKeys, past); ++j)
          scores[qi * score_stride + j] = tile_scores[std::int64_t{qi} * kKeys + (j - p)];
      }
    }
  };
  if constexpr (kMaxTileQueries >= 4)
    if (n == 4) return tile(std::integral_constant<int, 4>());
  if constexpr (kMaxTileQueries >= 2)
    if (n == 2) return tile(std::integral_constant<int, 2>());
  tile(std::integral_constant<int, 1>());
}

// ---- softmax -----------------------------------------------------------------------------------

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

// ---- weighted sums of values ------------------------------------------------------------------
//
// Queries whose weighted sums one pass over a block's values forms together (each value vector
// loaded once for all of them and each weight once for all its vectors), and the context vectors
// each keeps in registers per pass: 4 × 4 takes 16 of AVX-512's 32 registers, 4 × 2 8 of AVX2's
// 16. On one core (bench_kernels attention_prompt_*), 4 × 4 ran 7-11% faster than 2 queries × 8
// vectors (a whole Llama 4 head).
constexpr int kSumQueries = 4;
#if HWY_TARGET <= HWY_AVX3
constexpr int kSumVectors = 4;
#else
constexpr int kSumVectors = 2;
#endif

// The weighted sum of one query: its context and its weights for the values being passed.
struct WeightedSum {
  const float* weights;
  float* ctx;
};

// ctx[c, c + kVectors·lanes) += Σ_j weights[j] · values[j] over j < count in order, for each of
// kQueries queries, the sums in registers between one load and one store of ctx.
template <int kQueries, int kVectors>
HWY_INLINE void AddWeightedColumns(const WeightedSum* sums, const float* const* values,
                                   std::int64_t count, std::int64_t c) {
  const DF df;
  const auto lanes = static_cast<std::int64_t>(hn::Lanes(df));
  VF acc[kQueries][kVectors];
  for (int qi = 0; qi < kQueries; ++qi)
    for (int v = 0; v < kVectors; ++v) acc[qi][v] = hn::LoadU(df, sums[qi].ctx + c + v * lanes);
  for (std::int64_t j = 0; j < count; ++j) {
    VF w[kQueries];
    for (int qi = 0; qi < kQueries; ++qi) w[qi] = hn::Set(df, sums[qi].weights[j]);
    for (int v = 0; v < kVectors; ++v) {
      const VF value = hn::LoadU(df, values[j] + c + v * lanes);
      for (int qi = 0; qi < kQueries; ++qi) acc[qi][v] = hn::MulAdd(w[qi], value, acc[qi][v]);
    }
  }
  for (int qi = 0; qi < kQueries; ++qi)
    for (int v = 0; v < kVectors; ++v) hn::StoreU(acc[qi][v], df, sums[qi].ctx + c + v * lanes);
}

// ctx += Σ_j weights[j] · values[j] (j < count, in order) for each of kQueries queries: one
// multiply-add per element and value; the elements past the last whole vector use the target's
// own multiply-add on broadcast vectors, so they round as the vector part does (fused on
// AVX2/AVX-512; a multiply and an add on the portable baseline). A query's sums are the same
// whichever queries share its pass.
template <int kQueries>
HWY_INLINE void AddWeighted(const WeightedSum* sums, const float* const* values, std::int64_t count,
                            std::int64_t n) {
  const DF df;
  const auto lanes = static_cast<std::int64_t>(hn::Lanes(df));
  std::int64_t c = 0;
  for (; c + kSumVectors * lanes <= n; c += kSumVectors * lanes)
    AddWeightedColumns<kQueries, kSumVectors>(sums, values, count, c);
  for (; c + lanes <= n; c += lanes) AddWeightedColumns<kQueries, 1>(sums, values, count, c);
  for (int qi = 0; qi < kQueries; ++qi)
    for (std::int64_t e = c; e < n; ++e)
      for (std::int64_t j = 0; j < count; ++j)
        sums[qi].ctx[e] =
            hn::GetLane(hn::MulAdd(hn::Set(df, sums[qi].weights[j]), hn::Set(df, values[j][e]),
                                   hn::Set(df, sums[qi].ctx[e])));
}

// A query's weighted sum over its visible part [begin, end) of a block of values: its context,
// and its weights from the one for key `begin` on.
struct BlockSum {
  WeightedSum sum;
  std::int64_t begin, end;
};

// The weighted sums of `n` (at most kSumQueries) queries over a block (values[j]: key p0 + j).
// The keys all of them see go in one pass; each query takes the keys before those alone first and
// the keys after them alone last, so it still adds its keys in ascending order.
HWY_INLINE void AddBlockSums(const BlockSum* queries, std::int64_t n, const float* const* values,
                             std::int64_t p0, std::int64_t head_dim) {
  const auto alone = [&](const BlockSum& query, std::int64_t from, std::int64_t to) {
    if (from >= to) return;
    const WeightedSum sum{query.sum.weights + (from - query.begin), query.sum.ctx};
    AddWeighted<1>(&sum, values + (from - p0), to - from, head_dim);
  };
  std::int64_t shared_begin = p0, shared_end = p0 + kKeyBlock;
  for (std::int64_t i = 0; i < n; ++i)
    shared_begin = std::max(shared_begin, queries[i].begin),
    shared_end = std::min(shared_end, queries[i].end);
  if (n != kSumQueries || shared_begin >= shared_end) {
    for (std::int64_t i = 0; i < n; ++i) alone(queries[i], queries[i].begin, queries[i].end);
    return;
  }
  WeightedSum together[kSumQueries];
  for (std::int64_t i = 0; i < n; ++i) {
    alone(queries[i], queries[i].begin, shared_begin);
    together[i] = {queries[i].sum.weights + (shared_begin - queries[i].begin), queries[i].sum.ctx};
  }
  AddWeighted<kSumQueries>(together, values + (shared_begin - p0), shared_end - shared_begin,
                           head_dim);
  for (std::int64_t i = 0; i < n; ++i) alone(queries[i], shared_end, queries[i].end);
}

// Keys and values in blocks of kKeyBlock, each block read once for the whole group; each query's
// scores and sums run in its own fixed order (see attention_ops.h).
template <typename T>
void AttendQueries(const AttentionQuery* queries, std::int64_t n_queries, const T* const* keys,
                   const T* const* values, std::int64_t n_keys, std::int64_t head_dim,
                   float scale) {
  thread_local std::vector<float> scores;
  thread_local BlockRows block;
  scores.resize(static_cast<std::size_t>(n_queries * n_keys));
  // The visible part [begin, end) of block [p0, p0 + kKeyBlock) for query i (empty: begin ≥ end).
  const auto visible = [](const AttentionQuery& query, std::int64_t p0) {
    return std::pair{std::max(p0, query.first), std::min(p0 + kKeyBlock, query.last + 1)};
  };
  for (std::int64_t p0 = 0; p0 < n_keys; p0 += kKeyBlock) {
    const float* const* block_keys =
        block.copy(keys + p0, std::min(kKeyBlock, n_keys - p0), head_dim);
    for (std::int64_t i = 0; i < n_queries;) {
      const auto tile_queries = std::min<std::int64_t>(
          static_cast<std::int64_t>(std::bit_floor(static_cast<std::uint64_t>(n_queries - i))),
          kMaxTileQueries);
      ScoreBlock(queries + i, tile_queries, block_keys, p0, head_dim, scale,
                 scores.data() + i * n_keys, n_keys, visible);
      i += tile_queries;
    }
  }
  for (std::int64_t i = 0; i < n_queries; ++i) {
    const AttentionQuery& query = queries[i];
    Softmax(scores.data() + i * n_keys + query.first, query.last - query.first + 1);
    std::fill_n(query.ctx, head_dim, 0.0f);
  }
  for (std::int64_t p0 = 0; p0 < n_keys; p0 += kKeyBlock) {
    const float* const* block_values =
        block.copy(values + p0, std::min(kKeyBlock, n_keys - p0), head_dim);
    for (std::int64_t i0 = 0; i0 < n_queries; i0 += kSumQueries) {
      BlockSum sums[kSumQueries];
      const std::int64_t n = std::min<std::int64_t>(kSumQueries, n_queries - i0);
      for (std::int64_t i = 0; i < n; ++i) {
        const auto [begin, end] = visible(queries[i0 + i], p0);
        sums[i] = {{scores.data() + (i0 + i) * n_keys + begin, queries[i0 + i].ctx}, begin, end};
      }
      AddBlockSums(sums, n, block_values, p0, head_dim);
    }
  }
}

// The group's queries in parts whose scores fit attention_score_budget() floats (at least one
// query a part): the scores stay bounded at any context length, and a part's queries get what they
// would in any group.
template <typename T>
void AttendGroupOf(const AttentionQuery* queries, std::int64_t n_queries, const T* const* keys,
                   const T* const* values, std::int64_t n_keys, std::int64_t head_dim,
                   float scale) {
  const std::int64_t per_part =
      std::max<std::int64_t>(1, attention_score_budget() / std::max<std::int64_t>(n_keys, 1));
  for (std::int64_t i = 0; i < n_queries; i += per_part)
    AttendQueries(queries + i, std::min(per_part, n_queries - i), keys, values, n_keys, head_dim,
                  scale);
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

namespace {
std::atomic<std::int64_t> score_budget{kDefaultAttentionScoreBudget};
}  // namespace

std::int64_t attention_score_budget() {
  return score_budget.load(std::memory_order_relaxed);
}
void attention_set_score_budget(std::optional<std::int64_t> floats) {
  score_budget.store(floats.value_or(kDefaultAttentionScoreBudget), std::memory_order_relaxed);
}

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
