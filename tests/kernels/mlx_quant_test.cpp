// The mlx affine quantizer and bit layout: hand-computed groups, the bit positions of packed
// fields, and the round-trip error bound of 4 and 8 bits.
#include "kernels/mlx_quant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace llama4 {
namespace {

TEST(MlxQuantTest, SnapsTheLargerMagnitudeEdgeOntoALevel) {
  // Group [-1, 0.5, ...]: min -1 has the larger magnitude; scale (0.5 - -1)/15 = 0.1;
  // q0 = rint(-1/0.1) = -10 ≠ 0 → scale = -1/-10 = 0.1, bias = -1.
  std::vector<float> w(32, 0.0f);
  w[0] = -1.0f;
  w[1] = 0.5f;
  w[2] = 0.04f;  // (0.04 + 1)/0.1 = 10.4 → 10
  std::vector<std::uint32_t> packed(4);
  float scale = 0, bias = 0;
  mlx_quantize_row(w.data(), 32, 4, 32, DType::F32, packed.data(), &scale, &bias);
  EXPECT_FLOAT_EQ(scale, 0.1f);
  EXPECT_FLOAT_EQ(bias, -1.0f);
  EXPECT_EQ(mlx_unpack(packed.data(), 0, 4), 0u);
  EXPECT_EQ(mlx_unpack(packed.data(), 1, 4), 15u);
  EXPECT_EQ(mlx_unpack(packed.data(), 2, 4), 10u);
  EXPECT_EQ(mlx_unpack(packed.data(), 3, 4), 10u);  // 0 → (0 + 1)/0.1 = 10
  // Element j at bits 4j of word j/8: word 0 = 0xA A A A A A F 0 (elements 7..0).
  EXPECT_EQ(packed[0], 0xAAAAAAF0u);
}

TEST(MlxQuantTest, PositiveEdgeGivesNegativeScale) {
  // max 2 has the larger magnitude: scale = -(2 - -0.5)/255 and q0 = rint(2/scale) = -204, so
  // scale = 2/-204 and bias = 2: the levels run downwards from the edge.
  std::vector<float> w(32, 0.0f);
  w[0] = 2.0f;
  w[1] = -0.5f;
  std::vector<std::uint32_t> packed(8);
  float scale = 0, bias = 0;
  mlx_quantize_row(w.data(), 32, 8, 32, DType::F32, packed.data(), &scale, &bias);
  EXPECT_FLOAT_EQ(bias, 2.0f);
  EXPECT_FLOAT_EQ(scale, 2.0f / -204.0f);
  EXPECT_EQ(mlx_unpack(packed.data(), 0, 8), 0u);
  EXPECT_EQ(packed[0] & 0xffu, 0u);
  EXPECT_EQ(mlx_unpack(packed.data(), 1, 8), 255u);  // rint(-2.5 / scale) = 255
}

TEST(MlxQuantTest, ConstantGroupUsesTheMinimumScale) {
  std::vector<float> w(64, 0.0f);
  std::vector<std::uint32_t> packed(8);
  float scale = 0, bias = 0;
  mlx_quantize_row(w.data(), 64, 4, 64, DType::F32, packed.data(), &scale, &bias);
  EXPECT_FLOAT_EQ(std::abs(scale), 1e-7f);
  EXPECT_EQ(bias, 0.0f);
  for (std::uint32_t word : packed) EXPECT_EQ(word, 0u);
}

TEST(MlxQuantTest, ThreeBitFieldsStraddleWords) {
  std::vector<std::uint32_t> packed = {0xC0000000u, 0x00000001u, 0u};
  // Element 10 covers bits 30..32: low two bits from word 0 (0b11), the third from word 1 (1).
  EXPECT_EQ(mlx_unpack(packed.data(), 10, 3), 7u);
  EXPECT_EQ(mlx_unpack(packed.data(), 9, 3), 0u);
}

// Snapping the edge onto a level can stretch the other end of the range past the last level, so
// values there are clamped; every value quantized to an interior level is within half a step.
TEST(MlxQuantTest, InteriorLevelsAreWithinHalfAStep) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int bits : {4, 8})
    for (int group : {32, 64, 128}) {
      const std::int64_t in = 2 * group;
      const std::uint32_t top = (1u << bits) - 1u;
      std::vector<float> w(static_cast<std::size_t>(in)), back(w.size());
      for (float& v : w) v = normal(rng);
      std::vector<std::uint32_t> packed(static_cast<std::size_t>(mlx_packed_words(in, bits)));
      std::vector<float> scales(2), biases(2);
      mlx_quantize_row(w.data(), in, bits, group, DType::F32, packed.data(), scales.data(),
                       biases.data());
      mlx_dequantize_range(packed.data(), scales.data(), biases.data(), DType::F32, bits, group, 0,
                           in, back.data());
      int interior = 0;
      for (std::int64_t j = 0; j < in; ++j) {
        const std::uint32_t q = mlx_unpack(packed.data(), j, bits);
        if (q == 0 || q == top) continue;
        ++interior;
        const float step = std::abs(scales[static_cast<std::size_t>(j / group)]);
        EXPECT_LE(std::abs(back[static_cast<std::size_t>(j)] - w[static_cast<std::size_t>(j)]),
                  0.5f * step * 1.001f)
            << bits << "-bit group " << group << " element " << j;
      }
      EXPECT_GT(interior, in / 2) << bits << "-bit group " << group;
    }
}

// Scales and biases stored in bf16 or f16: the levels are chosen against the stored values, so
// interior levels stay within half a step of the original after the rounding. Choosing them
// against the f32 values first (mlx's order) leaves 8-bit levels up to q·2^-9 steps off.
TEST(MlxQuantTest, LevelsAreChosenAgainstTheStoredScaleAndBias) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const std::int64_t in = 4096;
  constexpr int kBits = 8, kGroup = 64;
  std::vector<float> w(static_cast<std::size_t>(in)), back(w.size());
  for (float& v : w) v = 0.02f * normal(rng);
  const std::int64_t groups = in / kGroup;
  std::vector<std::uint32_t> packed(static_cast<std::size_t>(mlx_packed_words(in, kBits)));
  std::vector<float> scales(static_cast<std::size_t>(groups)), biases(scales.size());
  for (DType stored : {DType::BF16, DType::F16}) {
    mlx_quantize_row(w.data(), in, kBits, kGroup, stored, packed.data(), scales.data(),
                     biases.data());
    for (std::size_t g = 0; g < scales.size(); ++g) {
      ASSERT_EQ(scales[g], round_to_stored(scales[g], stored)) << dtype_name(stored);
      ASSERT_EQ(biases[g], round_to_stored(biases[g], stored)) << dtype_name(stored);
    }
    mlx_dequantize_range(packed.data(), scales.data(), biases.data(), DType::F32, kBits, kGroup, 0,
                         in, back.data());
    for (std::int64_t j = 0; j < in; ++j) {
      const std::uint32_t q = mlx_unpack(packed.data(), j, kBits);
      if (q == 0 || q == 255u) continue;
      const float step = std::abs(scales[static_cast<std::size_t>(j / kGroup)]);
      ASSERT_LE(std::abs(back[static_cast<std::size_t>(j)] - w[static_cast<std::size_t>(j)]),
                0.5f * step * 1.001f)
          << dtype_name(stored) << " element " << j;
    }
  }
  // The other order: levels against f32 values, then scale and bias rounded to bf16.
  mlx_quantize_row(w.data(), in, kBits, kGroup, DType::F32, packed.data(), scales.data(),
                   biases.data());
  for (std::size_t g = 0; g < scales.size(); ++g) {
    scales[g] = round_to_stored(scales[g], DType::BF16);
    biases[g] = round_to_stored(biases[g], DType::BF16);
  }
  mlx_dequantize_range(packed.data(), scales.data(), biases.data(), DType::F32, kBits, kGroup, 0,
                       in, back.data());
  float worst_in_steps = 0.0f;
  for (std::int64_t j = 0; j < in; ++j)
    worst_in_steps =
        std::max(worst_in_steps,
                 std::abs(back[static_cast<std::size_t>(j)] - w[static_cast<std::size_t>(j)]) /
                     std::abs(scales[static_cast<std::size_t>(j / kGroup)]));
  EXPECT_GT(worst_in_steps, 0.6f);
}

}  // namespace
}  // namespace llama4
