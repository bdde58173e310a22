// mlx affine quantization, scalar reference: the quantizer behind `llama4 quantize` (mlx's scales
// and biases, with levels chosen against their stored values; the files are in mlx's format) and
// the bit-stream unpacking every quantized kernel must agree with.
//
// Layout of one quantized row of `in` weights: element j is the `bits`-wide field at bit j·bits
// of the row's little-endian uint32 stream (in·bits/32 words); group g = j / group_size has a
// scale s_g and a bias b_g and w_j ≈ s_g · q_j + b_g.
#pragma once

#include <cstdint>

#include "tensor/dtype.h"

namespace llama4 {

// Number of uint32 words holding one quantized row.
constexpr std::int64_t mlx_packed_words(std::int64_t in, int bits) {
  return in * bits / 32;
}

// Quantizes one row (in % group_size == 0, in·bits % 32 == 0) with mlx's scales: per group,
// scale = max((max-min)/(2^bits-1), 1e-7), signed towards the larger-magnitude edge, the edge
// snapped to an exact level (scale = edge/round(edge/scale), bias = edge) unless that level is 0.
// Scale and bias are then rounded to `stored` (the dtype they will be written in: F32, BF16 or
// F16) and the levels chosen against those rounded values, q = clamp(rint((w - bias)/scale), 0,
// 2^bits-1) (0 where the scale rounds to 0). mlx chooses the levels against the f32 values and
// rounds afterwards; the file layout is the same, the dequantized weights are closer. Scales and
// biases are returned as f32 values exactly representable in `stored`.
void mlx_quantize_row(const float* w, std::int64_t in, int bits, int group_size, DType stored,
                      std::uint32_t* packed, float* scales, float* biases);

// `value` rounded to the nearest value of `dtype` (F32, BF16 or F16), as f32.
float round_to_stored(float value, DType dtype);

// Field j of a packed row.
std::uint32_t mlx_unpack(const std::uint32_t* packed, std::int64_t j, int bits);

// Dequantizes elements [begin, end) of one row whose scales/biases are stored as `scale_dtype`.
void mlx_dequantize_range(const std::uint32_t* packed, const void* scales, const void* biases,
                          DType scale_dtype, int bits, int group_size, std::int64_t begin,
                          std::int64_t end, float* dst);

// Element `index` of a float array stored as `dtype` (F32, BF16 or F16), as f32.
float load_float_element(const void* data, DType dtype, std::int64_t index);

}  // namespace llama4
