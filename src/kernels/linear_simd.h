// The SIMD matrix kernels behind linear(), compiled once per instruction-set target (Highway) and
// chosen at run time, so one binary runs on any x86-64 with AVX2 and uses AVX-512 where present.
//   - small batches (decode, ≤ kSmallBatchMaxTokens tokens): weights streamed once, each stored
//     row widened or dequantized in registers and dotted with every token;
//   - larger batches (prefill): the same row tiles over tiles of tokens, with rows blocked for L2,
//     so a token's result never depends on the batch it is in (continuous batching needs that);
//   - a blocked, packed matrix product for the formats the tiles do not cover (2/3/5/6-bit).
// Threads (OpenMP) split the output features.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tensor/matrix.h"

namespace llama4::simd {

inline constexpr std::int64_t kSmallBatchMaxTokens = 4;

// y: [n_tokens, w.out_features] (overwritten); x: [n_tokens, w.in_features].
// Out-major matrices: f32/bf16/f16 rows, and mlx 4/8-bit rows whose group size is a multiple of
// 32. n_tokens ≤ kSmallBatchMaxTokens.
void out_major_small_batch(const Matrix& w, const float* x, std::int64_t n_tokens, float* y);
// In-major (f32/bf16/f16) matrices, n_tokens ≤ kSmallBatchMaxTokens.
void in_major_small_batch(const Matrix& w, const float* x, std::int64_t n_tokens, float* y);
// Any batch size, computing every output with exactly the arithmetic of the small-batch kernels
// (so results never depend on the batch): out-major f32/bf16/f16 and fast-path quantized rows,
// and in-major f32/bf16/f16 matrices.
void out_major_token_tiles(const Matrix& w, const float* x, std::int64_t n_tokens, float* y);
void in_major_token_tiles(const Matrix& w, const float* x, std::int64_t n_tokens, float* y);
// Any matrix and batch size (quantized rows of any bit width are dequantized while packing).
void blocked_matmul(const Matrix& w, const float* x, std::int64_t n_tokens, float* y);

// Whether out_major_small_batch handles this quantized layout.
bool quantized_fast_path(const QuantizedData& q);

// Dispatch control, for tests and benchmarks: the targets this CPU supports among those compiled
// (best first), restricting dispatch to one of them (0 restores the default), and the name of
// the target in use.
std::vector<std::int64_t> available_targets();
void force_target(std::int64_t target);
std::string target_name(std::int64_t target);
std::string current_target_name();

}  // namespace llama4::simd
