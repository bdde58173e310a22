// RoPE: interleaved-pair rotation and Llama 3 frequency scaling, checked on the published Scout
// values (architecture notes §a.3): with {factor 16, low 1, high 1, L0 8192, base 5e5, D 128}
// pairs 0…34 keep their frequency and 35…63 are divided by 16; with the original {8, 1, 4} pairs
// ≤ 28 are unchanged, 29…34 are smoothed and ≥ 35 are divided by 8.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "kernels/rope.h"
#include "model/attention.h"

namespace llama4 {
namespace {

constexpr std::int64_t kScoutHeadDim = 128;
constexpr double kScoutBase = 500000.0;

double plain_inverse_frequency(std::int64_t k) {
  return 1.0 / std::pow(kScoutBase, static_cast<double>(2 * k) / kScoutHeadDim);
}

TEST(Rope, ScoutCurrentScalingHasNoSmoothingBand) {
  const RopeTable table(kScoutHeadDim, kScoutBase, {RopeScaling::Type::kLlama3, 16.0, 1.0, 1.0, 8192});
  for (std::int64_t k = 0; k < kScoutHeadDim / 2; ++k) {
    const double expected = k <= 34 ? plain_inverse_frequency(k) : plain_inverse_frequency(k) / 16.0;
    EXPECT_DOUBLE_EQ(table.inverse_frequencies()[static_cast<std::size_t>(k)], expected) << "pair " << k;
  }
}

TEST(Rope, ScoutOriginalScalingSmoothsTheMiddleBand) {
  const RopeScaling scaling{RopeScaling::Type::kLlama3, 8.0, 1.0, 4.0, 8192};
  const RopeTable table(kScoutHeadDim, kScoutBase, scaling);
  const auto& f = table.inverse_frequencies();
  for (std::int64_t k = 0; k <= 28; ++k) EXPECT_DOUBLE_EQ(f[static_cast<std::size_t>(k)], plain_inverse_frequency(k));
  for (std::int64_t k = 29; k <= 34; ++k) {
    const double plain = plain_inverse_frequency(k);
    EXPECT_LT(f[static_cast<std::size_t>(k)], plain) << k;
    EXPECT_GT(f[static_cast<std::size_t>(k)], plain / 8.0) << k;
    const double wavelength = 2.0 * std::numbers::pi / plain;
    const double smooth = (8192.0 / wavelength - 1.0) / 3.0;
    EXPECT_NEAR(f[static_cast<std::size_t>(k)], (1 - smooth) * plain / 8.0 + smooth * plain, 1e-15);
  }
  for (std::int64_t k = 35; k < 64; ++k) EXPECT_DOUBLE_EQ(f[static_cast<std::size_t>(k)], plain_inverse_frequency(k) / 8.0);
}

TEST(Rope, RotatesConsecutivePairs) {
  const RopeTable table(4, 10000.0, {});
  std::vector<float> x{1.0f, 0.0f, 0.0f, 1.0f};
  table.apply(x.data(), 1, 3);
  // pair 0 has θ = 1: (1,0) rotated by 3 rad; pair 1 has θ = 0.01: (0,1) rotated by 0.03 rad.
  EXPECT_NEAR(x[0], std::cos(3.0), 1e-6);
  EXPECT_NEAR(x[1], std::sin(3.0), 1e-6);
  EXPECT_NEAR(x[2], -std::sin(0.03), 1e-6);
  EXPECT_NEAR(x[3], std::cos(0.03), 1e-6);
}

TEST(Rope, PositionZeroIsIdentity) {
  const RopeTable table(8, 500000.0, {RopeScaling::Type::kLlama3, 16.0, 1.0, 1.0, 8192});
  std::vector<float> x{1, 2, 3, 4, 5, 6, 7, 8};
  const auto original = x;
  table.apply(x.data(), 1, 0);
  EXPECT_EQ(x, original);
}

TEST(AttentionTemperature, StepsAtMultiplesOfFloorScale) {
  ModelConfig config;  // floor_scale 8192, attn_scale 0.1
  EXPECT_FLOAT_EQ(attention_temperature(config, 0), 1.0f);
  EXPECT_FLOAT_EQ(attention_temperature(config, 8190), 1.0f);
  EXPECT_FLOAT_EQ(attention_temperature(config, 8191), static_cast<float>(1.0 + 0.1 * std::log(2.0)));
  EXPECT_FLOAT_EQ(attention_temperature(config, 16382), static_cast<float>(1.0 + 0.1 * std::log(2.0)));
  EXPECT_FLOAT_EQ(attention_temperature(config, 16383), static_cast<float>(1.0 + 0.1 * std::log(3.0)));
}

}  // namespace
}  // namespace llama4
