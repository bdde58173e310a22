// What reading a whole Matrix costs: its stored bytes (packed fields plus scales and biases for
// quantized ones) and its multiply-adds per token. Benchmarks sum these over the weights a token
// touches to get the bytes a decode step must stream and the FLOPs a prefill token needs.
#pragma once

#include <cstdint>

#include "tensor/matrix.h"

namespace llama4 {

inline std::int64_t matrix_parameters(const Matrix& w) {
  return w.out_features * w.in_features;
}

inline std::int64_t matrix_bytes(const Matrix& w) {
  const std::int64_t params = matrix_parameters(w);
  if (!w.quantized()) return params * static_cast<std::int64_t>(dtype_size(w.dtype));
  constexpr std::int64_t kBitsPerByte = 8;
  constexpr std::int64_t kScaleAndBias = 2;
  const std::int64_t groups = params / w.quant.group_size;
  return params * w.quant.bits / kBitsPerByte +
         kScaleAndBias * groups * static_cast<std::int64_t>(dtype_size(w.quant.scale_dtype));
}

}  // namespace llama4
