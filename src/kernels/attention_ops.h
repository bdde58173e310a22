// Attention over the visible keys for a group of queries that read the same keys and values — the
// query heads sharing one KV head (grouped-query attention), for one or a few consecutive query
// rows — as a SIMD kernel (Highway, dispatched at run time like linear()).
//
// Why a group: each query's scores and weighted sum read every visible key and value once; at long
// contexts those no longer fit in L2, and reading them once per query made attention a fifth of a
// 2048-token prompt. The group reads each key and value once for all its queries. (Before that,
// per-key dot and axpy calls compiled for the x86-64 baseline made it a third.) Inside, a block
// of keys or values is copied to L1 for all the group's queries, scores are formed 16 (query,
// key) pairs at a time with one reduction for all of them, and the weighted sums pass a block's
// values once for four queries (attention_simd.cpp says why each).
//
// Each query's arithmetic is fixed and its own: scores[p] = scale · (q · k_p) with a fixed
// summation order for the CPU's vector width, a softmax over its visible range, and
// ctx = Σ_p w_p · v_p over p ascending with one multiply-add per element and key (fused on
// AVX2/AVX-512). So a query gets bit-identical results whatever group it is in (prompt or
// decode), and keys or values stored as bf16 give what f32 storage of the same values gives.
#pragma once

#include <cstdint>
#include <optional>

namespace llama4 {

// One query of a group: its vector, where its context goes (both head_dim floats), and its
// visible keys: indices [first, last] of the group's key and value arrays.
struct AttentionQuery {
  const float* q;
  float* ctx;
  std::int64_t first;
  std::int64_t last;
};

// ctx of each query = softmax(scale · q · k over its visible keys) · v. keys[p] and values[p]
// point to head_dim elements each (f32, or bf16 as raw 16 bits); n_keys covers every query's
// range.
void attend_group(const AttentionQuery* queries, std::int64_t n_queries, const float* const* keys,
                  const float* const* values, std::int64_t n_keys, std::int64_t head_dim,
                  float scale);
void attend_group(const AttentionQuery* queries, std::int64_t n_queries,
                  const std::uint16_t* const* keys, const std::uint16_t* const* values,
                  std::int64_t n_keys, std::int64_t head_dim, float scale);

// Scores a thread keeps at once, in floats (the group's queries × its keys). A group over more
// keys than that allows is attended in parts, each reading the keys and values again, so that a
// very long context costs time rather than memory: 4 Mi floats (16 MiB) hold a work item of 80
// queries up to 52k keys.
inline constexpr std::int64_t kDefaultAttentionScoreBudget = std::int64_t{1} << 22;
std::int64_t attention_score_budget();
// For tests: a smaller budget; std::nullopt restores the default.
void attention_set_score_budget(std::optional<std::int64_t> floats);

}  // namespace llama4
