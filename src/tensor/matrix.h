// Matrix and Vector: non-owning views of weight tensors as they lie in a checkpoint's memory map.
// A Matrix knows its storage order, because Llama 4 checkpoints store linear layers both ways:
// nn.Linear weights are [out, in] (y = W x), while the fused HF expert tensors are [in, out]
// (y = x W) and are used in place through a row stride (gate and up share one [H, 2I] block).
#pragma once

#include <cstdint>

#include "tensor/dtype.h"

namespace llama4 {

// mlx affine quantization of a matrix stored out-major: w = scale · q + bias per group of inputs.
class RowGroupScales;  // kernels/row_group_scales.h

struct QuantizedData {
  const std::uint32_t* packed = nullptr;  // [out, in·bits/32]
  const void* scales = nullptr;           // [out, in/group_size], dtype scale_dtype
  const void* biases = nullptr;           // [out, in/group_size], dtype scale_dtype
  DType scale_dtype = DType::BF16;
  int bits = 0;  // 0: not quantized
  int group_size = 0;
  // Products round the activations per block of 64 or 32 inputs (kernels/int8_activations.h) to
  // int8 (8) or to 16 bits (16): faster on CPUs with AVX-512 VNNI, at the cost of that rounding. 0:
  // f32.
  int activation_bits = 0;
  // The scales and biases laid out once for the AVX-512 int8 kernels, where the model made such a
  // table (kernels/row_group_scales.h); null: the kernels lay them out as they go.
  const RowGroupScales* row_group_scales = nullptr;
};

struct Matrix {
  enum class Layout {
    kOutMajor,  // stored [out, in]: row o holds the weights of output o (nn.Linear)
    kInMajor,   // stored [in, out]: row i holds the weights from input i (x @ W)
  };
  const void* data = nullptr;
  DType dtype = DType::F32;
  Layout layout = Layout::kOutMajor;
  std::int64_t out_features = 0;
  std::int64_t in_features = 0;
  std::int64_t row_stride = 0;  // elements between consecutive stored rows
  QuantizedData quant;          // bits != 0 → data/dtype unused
  // Products round the activations to bf16 (kernels/bf16_activations.h): twice the arithmetic
  // rate on CPUs with AVX-512 BF16, at the cost of that rounding. bf16 weights only; off: f32.
  bool bf16_activations = false;

  bool quantized() const { return quant.bits != 0; }
};

struct Vector {
  const void* data = nullptr;
  DType dtype = DType::F32;
  std::int64_t size = 0;
};

}  // namespace llama4
