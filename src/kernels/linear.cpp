// Linear layers on stored weights; see linear.h.
//
// The work goes to the SIMD kernels of linear_simd.h: a streaming kernel for small batches
// (decode reads each weight once and is bound by memory bandwidth), and for larger ones the same
// kernel over tiles of tokens with rows blocked for L2, so that a token's result is bit-identical
// whatever batch it is in. Quantized weights whose model asked for int8 activations go to
// int8_activations.h, bf16 weights whose model asked for bf16 activations to bf16_activations.h.
// Quantized layouts without a SIMD fast path (bit widths other than 4 and 8) go through a blocked,
// packed product, which dequantizes while packing.
#include "kernels/linear.h"

#include <algorithm>

#include "kernels/bf16_activations.h"
#include "kernels/int8_activations.h"
#include "kernels/linear_simd.h"
#include "kernels/mlx_quant.h"
#include "kernels/part_profile.h"

namespace llama4 {

void widen_to_f32(const void* src, DType dtype, std::int64_t count, float* dst) {
  switch (dtype) {
    case DType::F32:
      std::copy_n(static_cast<const float*>(src), count, dst);
      return;
    case DType::BF16: {
      const auto* s = static_cast<const std::uint16_t*>(src);
#pragma omp simd
      for (std::int64_t i = 0; i < count; ++i) dst[i] = bf16_to_f32(s[i]);
      return;
    }
    case DType::F16: {
      const auto* s = static_cast<const std::uint16_t*>(src);
      for (std::int64_t i = 0; i < count; ++i) dst[i] = f16_to_f32(s[i]);
      return;
    }
    default:
      std::fill_n(dst, count, 0.0f);  // bind_weights admits only float types here
  }
}

void matrix_row_f32(const Matrix& w, std::int64_t row, float* dst) {
  if (w.quantized()) {
    const QuantizedData& q = w.quant;
    const std::int64_t groups = w.in_features / q.group_size;
    const std::size_t scale_bytes = dtype_size(q.scale_dtype);
    mlx_dequantize_range(q.packed + row * mlx_packed_words(w.in_features, q.bits),
                         static_cast<const std::byte*>(q.scales) + row * groups * scale_bytes,
                         static_cast<const std::byte*>(q.biases) + row * groups * scale_bytes,
                         q.scale_dtype, q.bits, q.group_size, 0, w.in_features, dst);
    return;
  }
  const void* src = static_cast<const std::byte*>(w.data) +
                    static_cast<std::size_t>(row * w.row_stride) * dtype_size(w.dtype);
  widen_to_f32(src, w.dtype, w.in_features, dst);
}

void linear(const Matrix& w, const float* x, std::int64_t n_tokens, float* y) {
  if (n_tokens <= 0) return;
  count_product(w, n_tokens);
  if (w.quantized() && w.quant.activation_bits != 0 && int8_activations_supported(w))
    return linear_int8_activations(w, x, n_tokens, y);
  if (w.bf16_activations && bf16_activations_supported(w))
    return linear_bf16_activations(w, x, n_tokens, y);
  const bool small = n_tokens <= simd::kSmallBatchMaxTokens;
  if (w.layout == Matrix::Layout::kInMajor && !w.quantized())
    return small ? simd::in_major_small_batch(w, x, n_tokens, y)
                 : simd::in_major_token_tiles(w, x, n_tokens, y);
  if (w.layout == Matrix::Layout::kOutMajor &&
      (!w.quantized() || simd::quantized_fast_path(w.quant)))
    return small ? simd::out_major_small_batch(w, x, n_tokens, y)
                 : simd::out_major_token_tiles(w, x, n_tokens, y);
  simd::blocked_matmul(w, x, n_tokens, y);
}

}  // namespace llama4
