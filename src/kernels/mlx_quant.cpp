// mlx affine quantization reference; see mlx_quant.h.
#include "kernels/mlx_quant.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace llama4 {
namespace {

constexpr float kMinScale = 1e-7f;  // mlx's floor on |scale| (a constant group)
constexpr int kWordBits = 32;

}  // namespace

float load_float_element(const void* data, DType dtype, std::int64_t index) {
  switch (dtype) {
    case DType::BF16:
      return bf16_to_f32(static_cast<const std::uint16_t*>(data)[index]);
    case DType::F16:
      return f16_to_f32(static_cast<const std::uint16_t*>(data)[index]);
    default:
      return static_cast<const float*>(data)[index];
  }
}

float round_to_stored(float value, DType dtype) {
  switch (dtype) {
    case DType::BF16:
      return bf16_to_f32(f32_to_bf16(value));
    case DType::F16:
      return f16_to_f32(f32_to_f16(value));
    default:
      return value;
  }
}

void mlx_quantize_row(const float* w, std::int64_t in, int bits, int group_size, DType stored,
                      std::uint32_t* packed, float* scales, float* biases) {
  const float n_bins = static_cast<float>((1u << bits) - 1u);
  std::fill_n(packed, mlx_packed_words(in, bits), 0u);
  for (std::int64_t g = 0; g * group_size < in; ++g) {
    const float* group = w + g * group_size;
    float w_min = std::numeric_limits<float>::infinity(), w_max = -w_min;
    for (int j = 0; j < group_size; ++j) {
      w_min = std::min(w_min, group[j]);
      w_max = std::max(w_max, group[j]);
    }
    // Snap the larger-magnitude edge onto a level so that it is represented exactly.
    const bool min_is_edge = std::abs(w_min) > std::abs(w_max);
    float scale = std::max((w_max - w_min) / n_bins, kMinScale);
    scale = min_is_edge ? scale : -scale;
    const float edge = min_is_edge ? w_min : w_max;
    const float q0 = std::rint(edge / scale);
    float bias = 0.0f;
    if (q0 != 0.0f) {
      scale = edge / q0;
      bias = edge;
    }
    // The levels are chosen against the scale and bias as they will be stored, not against
    // their f32 values: rounding the scale to bf16 moves level q by up to q·2^-9 steps, which
    // for 8-bit levels is as much as the quantization error itself.
    scale = round_to_stored(scale, stored);
    bias = round_to_stored(bias, stored);
    scales[g] = scale;
    biases[g] = bias;
    for (int j = 0; j < group_size; ++j) {
      const float level = scale != 0.0f ? std::rint((group[j] - bias) / scale) : 0.0f;
      const float q = std::clamp(level, 0.0f, n_bins);
      const std::int64_t bit = (g * group_size + j) * bits;
      const auto value = static_cast<std::uint64_t>(q) << (bit % kWordBits);
      packed[bit / kWordBits] |= static_cast<std::uint32_t>(value);
      if ((bit % kWordBits) + bits > kWordBits)  // 3/5/6-bit fields may straddle two words
        packed[bit / kWordBits + 1] |= static_cast<std::uint32_t>(value >> kWordBits);
    }
  }
}

std::uint32_t mlx_unpack(const std::uint32_t* packed, std::int64_t j, int bits) {
  const std::int64_t bit = j * bits;
  const std::int64_t word = bit / kWordBits;
  const int shift = static_cast<int>(bit % kWordBits);
  std::uint64_t window = packed[word] >> shift;
  if (shift + bits > kWordBits)
    window |= static_cast<std::uint64_t>(packed[word + 1]) << (kWordBits - shift);
  return static_cast<std::uint32_t>(window & ((1u << bits) - 1u));
}

void mlx_dequantize_range(const std::uint32_t* packed, const void* scales, const void* biases,
                          DType scale_dtype, int bits, int group_size, std::int64_t begin,
                          std::int64_t end, float* dst) {
  for (std::int64_t j = begin; j < end; ++j) {
    const std::int64_t g = j / group_size;
    dst[j - begin] = load_float_element(scales, scale_dtype, g) *
                         static_cast<float>(mlx_unpack(packed, j, bits)) +
                     load_float_element(biases, scale_dtype, g);
  }
}

}  // namespace llama4
