// Linear layers on stored weights; see linear.h.
//
// Out-major weights ([out, in], nn.Linear) are processed one output row at a time: the row is widened
// to f32 once and dotted with every token of the batch, so a prefill reads each weight once.
// In-major weights ([in, out], HF's fused expert tensors) are processed in blocks of output columns:
// each input row's slice of the block is widened once and accumulated into every token's outputs.
#include "kernels/linear.h"

#include <algorithm>
#include <vector>

#include "kernels/vector_ops.h"

namespace llama4 {
namespace {

// Output columns per work item for in-major matrices: wide enough to stream, small enough to
// balance across threads and keep the per-token accumulators in cache.
constexpr std::int64_t kInMajorColumnBlock = 256;

template <typename T>
const T* element_ptr(const void* base, std::int64_t offset) {
  return static_cast<const T*>(base) + offset;
}

// mlx affine quantization: within each row, element j is the bits-wide field at bit j·bits of the
// little-endian uint32 stream; w = scale[j / group] · q + bias[j / group].
void dequantize_row(const Matrix& w, std::int64_t row, float* dst) {
  const QuantizedData& q = w.quant;
  const std::int64_t in = w.in_features;
  const std::int64_t words_per_row = in * q.bits / 32;
  const std::int64_t groups_per_row = in / q.group_size;
  const std::uint32_t* words = q.packed + row * words_per_row;
  thread_local std::vector<float> scales, biases;
  scales.resize(static_cast<std::size_t>(groups_per_row));
  biases.resize(static_cast<std::size_t>(groups_per_row));
  widen_to_f32(static_cast<const std::byte*>(q.scales) + row * groups_per_row * dtype_size(q.scale_dtype),
               q.scale_dtype, groups_per_row, scales.data());
  widen_to_f32(static_cast<const std::byte*>(q.biases) + row * groups_per_row * dtype_size(q.scale_dtype),
               q.scale_dtype, groups_per_row, biases.data());
  const std::uint32_t mask = (1u << q.bits) - 1u;
  const int per_word = 32 / q.bits;
  for (std::int64_t j = 0; j < in; ++j) {
    const std::uint32_t word = words[j / per_word];
    const std::uint32_t value = (word >> ((j % per_word) * q.bits)) & mask;
    const std::int64_t g = j / q.group_size;
    dst[j] = scales[static_cast<std::size_t>(g)] * static_cast<float>(value) +
             biases[static_cast<std::size_t>(g)];
  }
}

void linear_out_major(const Matrix& w, const float* x, std::int64_t n_tokens, float* y) {
  const std::int64_t in = w.in_features, out = w.out_features;
#pragma omp parallel
  {
    std::vector<float> row(static_cast<std::size_t>(in));
#pragma omp for schedule(static)
    for (std::int64_t o = 0; o < out; ++o) {
      const float* weights = row.data();
      if (!w.quantized() && w.dtype == DType::F32)
        weights = element_ptr<float>(w.data, o * w.row_stride);
      else
        matrix_row_f32(w, o, row.data());
      for (std::int64_t t = 0; t < n_tokens; ++t) y[t * out + o] = dot(weights, x + t * in, in);
    }
  }
}

void linear_in_major(const Matrix& w, const float* x, std::int64_t n_tokens, float* y) {
  const std::int64_t in = w.in_features, out = w.out_features;
  const std::int64_t n_blocks = (out + kInMajorColumnBlock - 1) / kInMajorColumnBlock;
  const std::size_t element_bytes = dtype_size(w.dtype);
#pragma omp parallel
  {
    std::vector<float> slice(static_cast<std::size_t>(kInMajorColumnBlock));
#pragma omp for schedule(static)
    for (std::int64_t b = 0; b < n_blocks; ++b) {
      const std::int64_t c0 = b * kInMajorColumnBlock;
      const std::int64_t width = std::min(kInMajorColumnBlock, out - c0);
      for (std::int64_t t = 0; t < n_tokens; ++t) std::fill_n(y + t * out + c0, width, 0.0f);
      for (std::int64_t i = 0; i < in; ++i) {
        const void* src = static_cast<const std::byte*>(w.data) +
                          static_cast<std::size_t>(i * w.row_stride + c0) * element_bytes;
        widen_to_f32(src, w.dtype, width, slice.data());
        for (std::int64_t t = 0; t < n_tokens; ++t) axpy(x[t * in + i], slice.data(), y + t * out + c0, width);
      }
    }
  }
}

}  // namespace

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
    dequantize_row(w, row, dst);
    return;
  }
  const void* src = static_cast<const std::byte*>(w.data) +
                    static_cast<std::size_t>(row * w.row_stride) * dtype_size(w.dtype);
  widen_to_f32(src, w.dtype, w.in_features, dst);
}

void linear(const Matrix& w, const float* x, std::int64_t n_tokens, float* y) {
  if (w.layout == Matrix::Layout::kOutMajor)
    linear_out_major(w, x, n_tokens, y);
  else
    linear_in_major(w, x, n_tokens, y);
}

}  // namespace llama4
