// Linear layers: y = W x for a batch of token vectors, on weights in any stored format (f32, bf16,
// f16, mlx affine 4/8-bit) and either storage order. Rows are widened to f32 as they are read, so
// weights stay where they lie in the memory map. Threads split the output features.
#pragma once

#include <cstdint>

#include "tensor/matrix.h"

namespace llama4 {

// x: [n_tokens, w.in_features] row-major, y: [n_tokens, w.out_features] row-major (overwritten).
void linear(const Matrix& w, const float* x, std::int64_t n_tokens, float* y);

// Widens `count` stored elements starting at `src` (plain dtype) to f32.
void widen_to_f32(const void* src, DType dtype, std::int64_t count, float* dst);

// Row `row` of an out-major matrix (all in_features weights of output `row`), as f32.
void matrix_row_f32(const Matrix& w, std::int64_t row, float* dst);

// Inputs [k0, k0 + count) of row `row` of an out-major matrix, as f32.
void matrix_row_slice_f32(const Matrix& w, std::int64_t row, std::int64_t k0, std::int64_t count,
                          float* dst);

}  // namespace llama4
