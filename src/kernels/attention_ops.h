// The two loops of attention over one query's visible keys — the scores q · k and the weighted
// sum of the values — as SIMD kernels (Highway, dispatched at run time like linear()).
//
// Why SIMD kernels rather than a dot product and an axpy per key in plain C++: those were compiled
// for the x86-64 baseline (SSE2, no FMA) and called once per key, which made attention a third
// of a 2048-token prompt's time although it is a few percent of its arithmetic. Keys and values are
// passed as one pointer per position because they come from two places (the KV cache ring and the
// batch's own rows).
//
// Both loops run a fixed order of operations that depends only on the vector width of the CPU's
// target, never on the batch, and keys or values stored as bf16 are widened exactly before the
// same operations, so equal values give bit-equal results whatever their storage.
#pragma once

#include <cstdint>

namespace llama4 {

// scores[j] = scale · (q · keys[j]) for j < count; q and each key hold n elements (keys f32, or
// bf16 as their raw 16 bits).
void scaled_dots(const float* q, const float* const* keys, std::int64_t count, std::int64_t n,
                 float scale, float* scores);
void scaled_dots(const float* q, const std::uint16_t* const* keys, std::int64_t count,
                 std::int64_t n, float scale, float* scores);

// out = Σ_j weights[j] · values[j] over j = 0, 1, …, count − 1 in that order (one fused
// multiply-add per element and value; a multiply and an add on the portable baseline target,
// which has no FMA); each value holds n elements (f32 or bf16).
void weighted_sum(const float* weights, const float* const* values, std::int64_t count,
                  std::int64_t n, float* out);
void weighted_sum(const float* weights, const std::uint16_t* const* values, std::int64_t count,
                  std::int64_t n, float* out);

}  // namespace llama4
