// The rounding of activations to int8 (int8::round_token) against its scalar definition, on
// every SIMD target this CPU runs: per block of 32 inputs, scale = max|x| / 127 in f32 and
// level = x / scale rounded to nearest with ties to even, stored in quad order for 4-bit rows;
// exact f32 sums of x per weight group; NaN scale and zero levels for a non-finite block.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/int8_kernels.h"
#include "kernels/simd_targets.h"

namespace llama4::int8 {
namespace {

struct Rounded {
  std::vector<std::int8_t> levels;
  std::vector<float> block_scales, group_sums;
};

Rounded round_all(const std::vector<float>& x, int bits, int group_size) {
  const auto in = static_cast<std::int64_t>(x.size());
  Rounded r{std::vector<std::int8_t>(x.size()),
            std::vector<float>(static_cast<std::size_t>(in / kActivationBlock)),
            std::vector<float>(static_cast<std::size_t>(in / group_size))};
  round_token(x.data(), in, bits, group_size, r.levels.data(), r.block_scales.data(),
              r.group_sums.data());
  return r;
}

// Inputs with an all-zero block, a block holding an exact tie (0.5 step) in both directions, a
// block with an infinity and one with a NaN; the rest normal.
std::vector<float> test_inputs(std::int64_t in, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> x(static_cast<std::size_t>(in));
  for (float& v : x) v = normal(rng);
  for (int j = 0; j < kActivationBlock; ++j) x[static_cast<std::size_t>(j)] = 0.0f;
  // Block 1: max 127 so the scale is 1, then ±2.5 and ±3.5 are ties rounding to even.
  x[32] = 127.0f;
  x[33] = 2.5f;
  x[34] = -2.5f;
  x[35] = 3.5f;
  x[36] = -3.5f;
  x[64 + 5] = std::numeric_limits<float>::infinity();
  x[96 + 31] = std::numeric_limits<float>::quiet_NaN();
  return x;
}

TEST(Int8RoundingTest, MatchesTheScalarDefinitionOnEveryTarget) {
  std::mt19937 rng(21);
  for (int bits : {4, 8})
    for (int group : {32, 64, 128}) {
      const std::int64_t in = 640;
      const std::vector<float> x = test_inputs(in, rng);
      test::for_each_target([&](const std::string& target) {
        const std::string what =
            std::to_string(bits) + "-bit g" + std::to_string(group) + " " + target;
        const Rounded r = round_all(x, bits, group);
        for (std::int64_t b = 0; b < in / kActivationBlock; ++b) {
          float max_abs = 0.0f;
          bool finite = true;
          for (std::int64_t j = b * kActivationBlock; j < (b + 1) * kActivationBlock; ++j) {
            finite = finite && std::isfinite(x[static_cast<std::size_t>(j)]);
            max_abs = std::max(max_abs, std::abs(x[static_cast<std::size_t>(j)]));
          }
          const float scale = max_abs / 127.0f;
          const float got_scale = r.block_scales[static_cast<std::size_t>(b)];
          if (finite)
            ASSERT_EQ(got_scale, scale) << what << " block " << b;
          else
            ASSERT_TRUE(std::isnan(got_scale)) << what << " block " << b;
          for (std::int64_t j = b * kActivationBlock; j < (b + 1) * kActivationBlock; ++j) {
            const float level = !finite || scale == 0.0f
                                    ? 0.0f
                                    : std::nearbyint(x[static_cast<std::size_t>(j)] / scale);
            ASSERT_EQ(r.levels[static_cast<std::size_t>(quad_order(bits, j))],
                      static_cast<std::int8_t>(level))
                << what << " input " << j;
          }
        }
        EXPECT_EQ(r.levels[static_cast<std::size_t>(quad_order(bits, 33))], 2) << what;
        EXPECT_EQ(r.levels[static_cast<std::size_t>(quad_order(bits, 34))], -2) << what;
        EXPECT_EQ(r.levels[static_cast<std::size_t>(quad_order(bits, 35))], 4) << what;
        EXPECT_EQ(r.levels[static_cast<std::size_t>(quad_order(bits, 36))], -4) << what;
        for (std::int64_t g = 0; g < in / group; ++g) {
          double sum = 0.0;
          for (std::int64_t j = g * group; j < (g + 1) * group; ++j)
            sum += x[static_cast<std::size_t>(j)];
          const float got = r.group_sums[static_cast<std::size_t>(g)];
          if (!std::isfinite(sum))
            EXPECT_FALSE(std::isfinite(got)) << what << " group " << g;
          else
            EXPECT_NEAR(got, sum, 1e-5 * (1.0 + std::abs(sum))) << what << " group " << g;
        }
      });
    }
}

}  // namespace
}  // namespace llama4::int8
