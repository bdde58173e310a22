// Linear layers on stored weights; see linear.h.
//
// The work goes to the SIMD kernels of linear_simd.h: a streaming kernel for small batches
// (decode reads each weight once and is bound by memory bandwidth), and for larger ones the same
// kernel over tiles of tokens with rows blocked for L2, so that a token's result is bit-identical
// whatever batch it is in. Quantized weights whose model asked for int8 activations go to
// int8_activations.h, bf16 weights whose model asked for bf16 activations to bf16_activations.h.
// Quantized layouts without a SIMD fast path (bit widths other than 4 and 8) go through a blocked,
// packed product, which dequantizes while packing. Prompts with int8 or bf16 activations go
// through in strips of tokens whose activations fit in L2 (kStripActivationBytes); each token's
// result is the same in any strip.
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

void matrix_row_slice_f32(const Matrix& w, std::int64_t row, std::int64_t k0, std::int64_t count,
                          float* dst) {
  if (w.quantized()) {
    const QuantizedData& q = w.quant;
    const std::int64_t groups = w.in_features / q.group_size;
    const std::size_t scale_bytes = dtype_size(q.scale_dtype);
    mlx_dequantize_range(q.packed + row * mlx_packed_words(w.in_features, q.bits),
                         static_cast<const std::byte*>(q.scales) + row * groups * scale_bytes,
                         static_cast<const std::byte*>(q.biases) + row * groups * scale_bytes,
                         q.scale_dtype, q.bits, q.group_size, k0, k0 + count, dst);
    return;
  }
  const void* src = static_cast<const std::byte*>(w.data) +
                    static_cast<std::size_t>(row * w.row_stride + k0) * dtype_size(w.dtype);
  widen_to_f32(src, w.dtype, count, dst);
}

void matrix_row_f32(const Matrix& w, std::int64_t row, float* dst) {
  matrix_row_slice_f32(w, row, 0, w.in_features, dst);
}

namespace {

// Prompts whose activations the kernels round to integers or bf16 go through a product in strips
// of tokens, at most this many bytes of rounded activations each, so that a strip's stay in L2
// while every group of rows passes over it (those kernels take a group of 16 rows at a time and
// pass every token tile over it): a whole 512-token prompt's (5 MiB of 16-bit activations of 5120
// inputs) came from the last-level cache once per 16 rows. Two threads, 512 tokens of Scout's
// shapes (bench_kernels prefill_q4_int16_activations_prompt; llama4 bench --profile on the 2-layer
// models), against one strip: 4-bit weights 0.19-0.23 -> 0.38-0.43 GB/s of weights, the
// attention projections and shared expert 355 -> 605-812 GFLOP/s (4-bit), 415-500 -> 550-777
// (8-bit) and 610-710 -> 830-1122 (bf16 activations). Strips of 512 KiB and 1.25-1.5 MiB measured
// the same or slower, 2 MiB (a core's L2) slower still. The f32-activation kernels keep their rows
// in L2 instead and stream the tokens; strips only made them read the rows again (pp512 on the
// bf16 model 106-108 -> 99-109).
constexpr std::int64_t kStripActivationBytes = std::int64_t{1} << 20;
// Strips are whole token tiles of the AMX kernels (16 tokens) and the VNNI one (8).
constexpr std::int64_t kStripTokenUnit = 16;

// Which kernels a product goes to: int8 (or 16-bit) activations, bf16 ones, or f32 ones.
enum class ActivationPath { kInt8, kBf16, kFloat };
ActivationPath activation_path(const Matrix& w) {
  if (w.quantized() && w.quant.activation_bits != 0 && int8_activations_supported(w))
    return ActivationPath::kInt8;
  if (w.bf16_activations && bf16_activations_supported(w)) return ActivationPath::kBf16;
  return ActivationPath::kFloat;
}

// Tokens per strip: all of them for f32 activations.
std::int64_t prompt_strip_tokens(const Matrix& w, ActivationPath path, std::int64_t n_tokens) {
  if (path == ActivationPath::kFloat) return n_tokens;
  // Bytes of one token's rounded activations: int8 levels, or two bytes for the two planes of
  // 16-bit ones and for bf16 values.
  const std::int64_t bytes =
      w.in_features * (path == ActivationPath::kInt8 && w.quant.activation_bits == 8 ? 1 : 2);
  return std::max<std::int64_t>(1, kStripActivationBytes / (bytes * kStripTokenUnit)) *
         kStripTokenUnit;
}

// linear() for a strip of tokens.
void linear_strip(const Matrix& w, ActivationPath path, const float* x, std::int64_t n_tokens,
                  float* y) {
  if (path == ActivationPath::kInt8) return linear_int8_activations(w, x, n_tokens, y);
  if (path == ActivationPath::kBf16) return linear_bf16_activations(w, x, n_tokens, y);
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

}  // namespace

void linear(const Matrix& w, const float* x, std::int64_t n_tokens, float* y) {
  if (n_tokens <= 0) return;
  count_product(w, n_tokens);
  const ActivationPath path = activation_path(w);
  const std::int64_t strip = prompt_strip_tokens(w, path, n_tokens);
  for (std::int64_t t0 = 0; t0 < n_tokens; t0 += strip)
    linear_strip(w, path, x + t0 * w.in_features, std::min(strip, n_tokens - t0),
                 y + t0 * w.out_features);
}

}  // namespace llama4
