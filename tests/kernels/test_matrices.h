// Test matrices for the kernel tests: random weights in every stored format with their exact f32
// values, linear() as a function, and the batch-invariance check every product must pass.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/linear.h"
#include "tensor/dtype.h"
#include "tensor/matrix.h"

namespace llama4::test {

// A weight matrix with its storage and its exact f32 values W(o, i).
struct TestMatrix {
  Matrix m;
  std::vector<float> values;  // [out, in]
  std::vector<std::uint16_t> half;
  std::vector<float> single;
  std::vector<std::uint32_t> packed;
  std::vector<std::uint16_t> scales, biases;  // bf16
  std::vector<float> scales_f32, biases_f32;
  std::vector<std::uint16_t> scales_f16, biases_f16;
};

inline float value_at(const TestMatrix& t, std::int64_t o, std::int64_t i) {
  return t.values[static_cast<std::size_t>(o * t.m.in_features + i)];
}

// Plain float matrix [out, in] stored as `dtype`, out-major or in-major, with `pad` extra elements
// per stored row.
inline TestMatrix make_float_matrix(DType dtype, Matrix::Layout layout, std::int64_t out,
                                    std::int64_t in, std::int64_t pad, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  TestMatrix t;
  t.m.dtype = dtype;
  t.m.layout = layout;
  t.m.out_features = out;
  t.m.in_features = in;
  const bool out_major = layout == Matrix::Layout::kOutMajor;
  const std::int64_t stored_rows = out_major ? out : in, row_len = out_major ? in : out;
  t.m.row_stride = row_len + pad;
  const std::size_t total = static_cast<std::size_t>(stored_rows * t.m.row_stride);
  t.values.assign(static_cast<std::size_t>(out * in), 0.0f);
  t.half.assign(total, 0);
  t.single.assign(total, 0.0f);
  for (std::int64_t r = 0; r < stored_rows; ++r)
    for (std::int64_t c = 0; c < t.m.row_stride; ++c) {
      const float v = normal(rng);
      const std::size_t k = static_cast<std::size_t>(r * t.m.row_stride + c);
      float stored = v;
      if (dtype == DType::BF16) {
        t.half[k] = f32_to_bf16(v);
        stored = bf16_to_f32(t.half[k]);
      } else if (dtype == DType::F16) {
        t.half[k] = f32_to_f16(v);
        stored = f16_to_f32(t.half[k]);
      } else {
        t.single[k] = v;
      }
      if (c >= row_len) continue;  // padding: never read
      const std::int64_t o = out_major ? r : c, i = out_major ? c : r;
      t.values[static_cast<std::size_t>(o * in + i)] = stored;
    }
  t.m.data = dtype == DType::F32 ? static_cast<const void*>(t.single.data()) : t.half.data();
  return t;
}

// Independent unpacking: element j sits at bit j·bits of the row's little-endian word stream.
inline std::uint32_t field(const std::uint32_t* row, std::int64_t j, int bits) {
  return (row[(j * bits) / 32] >> ((j * bits) % 32)) & ((1u << bits) - 1u);
}

inline TestMatrix make_quantized_matrix(int bits, int group_size, std::int64_t out, std::int64_t in,
                                        std::mt19937& rng) {
  std::uniform_int_distribution<std::uint32_t> word(0, 0xffffffffu);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  TestMatrix t;
  t.m.dtype = DType::U32;
  t.m.out_features = out;
  t.m.in_features = in;
  t.m.row_stride = in;
  const std::int64_t words = in * bits / 32, groups = in / group_size;
  t.packed.resize(static_cast<std::size_t>(out * words));
  for (auto& w : t.packed) w = word(rng);
  t.scales.resize(static_cast<std::size_t>(out * groups));
  t.biases.resize(t.scales.size());
  for (auto& s : t.scales) s = f32_to_bf16(0.01f * normal(rng));
  for (auto& b : t.biases) b = f32_to_bf16(normal(rng));
  t.values.resize(static_cast<std::size_t>(out * in));
  for (std::int64_t o = 0; o < out; ++o)
    for (std::int64_t i = 0; i < in; ++i) {
      const std::size_t g = static_cast<std::size_t>(o * groups + i / group_size);
      t.values[static_cast<std::size_t>(o * in + i)] =
          bf16_to_f32(t.scales[g]) *
              static_cast<float>(field(t.packed.data() + o * words, i, bits)) +
          bf16_to_f32(t.biases[g]);
    }
  t.m.data = t.packed.data();
  t.m.quant = {t.packed.data(), t.scales.data(), t.biases.data(), DType::BF16, bits, group_size};
  return t;
}

// Points the matrix at copies of its (bf16) scales and biases stored as `dtype` (F32 exactly,
// F16 rounded); its `values` then no longer apply.
inline void store_scales_as(TestMatrix& t, DType dtype) {
  t.m.quant.scale_dtype = dtype;
  if (dtype == DType::BF16) {
    t.m.quant.scales = t.scales.data();
    t.m.quant.biases = t.biases.data();
    return;
  }
  t.scales_f32.clear();
  t.biases_f32.clear();
  t.scales_f16.clear();
  t.biases_f16.clear();
  for (std::size_t g = 0; g < t.scales.size(); ++g) {
    t.scales_f32.push_back(bf16_to_f32(t.scales[g]));
    t.biases_f32.push_back(bf16_to_f32(t.biases[g]));
    t.scales_f16.push_back(f32_to_f16(t.scales_f32.back()));
    t.biases_f16.push_back(f32_to_f16(t.biases_f32.back()));
  }
  const bool f32 = dtype == DType::F32;
  t.m.quant.scales = f32 ? static_cast<const void*>(t.scales_f32.data()) : t.scales_f16.data();
  t.m.quant.biases = f32 ? static_cast<const void*>(t.biases_f32.data()) : t.biases_f16.data();
}

// linear() into a fresh vector (NaN-filled, so an output left unwritten shows).
inline std::vector<float> linear_of(const Matrix& m, const std::vector<float>& x,
                                    std::int64_t n_tokens) {
  std::vector<float> y(static_cast<std::size_t>(n_tokens * m.out_features), NAN);
  linear(m, x.data(), n_tokens, y.data());
  return y;
}

// Every token of a batch gets bit-for-bit what it gets alone (decode), for every stored format and
// layout: the batched kernels may only reorder work across tokens, never within one. Sizes cross
// the batched kernels' blocks: several column blocks, row blocks and token groups, and ragged ends
// (37 tokens: more than one token group of the in-major kernel).
inline void expect_batch_invariant(const TestMatrix& t, std::mt19937& rng, const std::string& what,
                                   std::int64_t tokens = 37) {
  const std::int64_t in = t.m.in_features, out = t.m.out_features;
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<std::size_t>(tokens * in));
  for (float& v : x) v = normal(rng);
  const std::vector<float> batched = linear_of(t.m, x, tokens);
  for (std::int64_t tok = 0; tok < tokens; ++tok) {
    const std::vector<float> one(x.begin() + tok * in, x.begin() + (tok + 1) * in);
    const std::vector<float> alone = linear_of(t.m, one, 1);
    const bool same = std::equal(alone.begin(), alone.end(), batched.begin() + tok * out);
    ASSERT_TRUE(same) << what << ": token " << tok << " of " << tokens
                      << " differs from decoding it alone";
  }
}

}  // namespace llama4::test
