// The rounding of activations to int8 (int8::round_token) against its scalar definition, on
// every SIMD target this CPU runs: per block of 32 or 64 inputs, scale = max|x| / 127 in f32 and
// level = x / scale rounded to nearest with ties to even, stored in quad order for 4-bit rows;
// exact f32 sums of x per weight group; NaN scale and zero levels for a non-finite block. For
// 16-bit activations the same with max|x| / 32512, each level split into two int8 planes with
// level = 256 · high + low, high = ⌊(level + 128) / 256⌋.
#include <gtest/gtest.h>

#include <algorithm>
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
  std::vector<std::int8_t> levels, low_levels;
  std::vector<float> block_scales, group_sums;

  // Input j's level (of either plane count), read from its place in quad order.
  int level(int bits, std::int64_t j) const {
    const auto at = static_cast<std::size_t>(quad_order(bits, j));
    return low_levels.empty() ? levels[at] : levels[at] * 256 + low_levels[at];
  }
};

Rounded round_all(const std::vector<float>& x, int bits, std::int64_t block, int group_size,
                  int planes) {
  const auto in = static_cast<std::int64_t>(x.size());
  Rounded r{std::vector<std::int8_t>(x.size()),
            std::vector<std::int8_t>(planes == 2 ? x.size() : 0),
            std::vector<float>(static_cast<std::size_t>(in / block)),
            std::vector<float>(static_cast<std::size_t>(in / group_size))};
  round_token(x.data(), in, bits, block, group_size, r.levels.data(),
              planes == 2 ? r.low_levels.data() : nullptr, r.block_scales.data(),
              r.group_sums.data());
  return r;
}

// Where test_inputs puts its block of ties: it starts a block of 32 and one of 64.
constexpr std::int64_t kTies = 64;

// Inputs with an all-zero block, a block holding an exact tie (0.5 step) in both directions, a
// block with an infinity and one with a NaN (for blocks of 32 or 64); the rest normal.
std::vector<float> test_inputs(std::int64_t in, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> x(static_cast<std::size_t>(in));
  for (float& v : x) v = normal(rng);
  for (std::int64_t j = 0; j < kTies; ++j) x[static_cast<std::size_t>(j)] = 0.0f;
  // Max 127 so the int8 scale is 1, then ±2.5 and ±3.5 are ties rounding to even. The 16-bit
  // scale is 1/256: 2.5/256 is a tie, and -0.5, 383/256 and 1.5 are the levels -128, 383 and 384,
  // whose low planes are -128, 127 and -128.
  const std::vector<float> ties = {127.0f,        2.5f,  -2.5f,           3.5f, -3.5f,
                                   2.5f / 256.0f, -0.5f, 383.0f / 256.0f, 1.5f};
  std::copy(ties.begin(), ties.end(), x.begin() + kTies);
  x[128 + 5] = std::numeric_limits<float>::infinity();
  x[192 + 31] = std::numeric_limits<float>::quiet_NaN();
  return x;
}

TEST(Int8RoundingTest, MatchesTheScalarDefinitionOnEveryTarget) {
  std::mt19937 rng(21);
  for (int planes : {1, 2})
    for (int bits : {4, 8})
      for (int group : {32, 64, 128}) {
        const std::int64_t in = 640, block = group == 32 ? 32 : 64;
        const std::vector<float> x = test_inputs(in, rng);
        const float top = planes == 2 ? 32512.0f : 127.0f;
        test::for_each_target([&](const std::string& target) {
          const std::string what = std::to_string(planes) + " plane(s) " + std::to_string(bits) +
                                   "-bit g" + std::to_string(group) + " " + target;
          const Rounded r = round_all(x, bits, block, group, planes);
          for (std::int64_t b = 0; b < in / block; ++b) {
            float max_abs = 0.0f;
            bool finite = true;
            for (std::int64_t j = b * block; j < (b + 1) * block; ++j) {
              finite = finite && std::isfinite(x[static_cast<std::size_t>(j)]);
              max_abs = std::max(max_abs, std::abs(x[static_cast<std::size_t>(j)]));
            }
            const float scale = max_abs / top;
            const float got_scale = r.block_scales[static_cast<std::size_t>(b)];
            if (finite)
              ASSERT_EQ(got_scale, scale) << what << " block " << b;
            else
              ASSERT_TRUE(std::isnan(got_scale)) << what << " block " << b;
            for (std::int64_t j = b * block; j < (b + 1) * block; ++j) {
              const float level = !finite || scale == 0.0f
                                      ? 0.0f
                                      : std::nearbyint(x[static_cast<std::size_t>(j)] / scale);
              ASSERT_EQ(r.level(bits, j), static_cast<int>(level)) << what << " input " << j;
              if (planes == 2) {
                const auto at = static_cast<std::size_t>(quad_order(bits, j));
                ASSERT_EQ(r.levels[at], static_cast<int>(std::floor((level + 128.0f) / 256.0f)))
                    << what << " input " << j;
              }
            }
          }
          if (planes == 1) {
            EXPECT_EQ(r.level(bits, kTies + 1), 2) << what;
            EXPECT_EQ(r.level(bits, kTies + 2), -2) << what;
            EXPECT_EQ(r.level(bits, kTies + 3), 4) << what;
            EXPECT_EQ(r.level(bits, kTies + 4), -4) << what;
          } else {
            EXPECT_EQ(r.level(bits, kTies), 32512) << what;
            EXPECT_EQ(r.level(bits, kTies + 5), 2) << what;
            const auto low = [&](std::int64_t j) {
              return r.low_levels[static_cast<std::size_t>(quad_order(bits, j))];
            };
            EXPECT_EQ(r.level(bits, kTies + 6), -128) << what;
            EXPECT_EQ(low(kTies + 6), -128) << what;
            EXPECT_EQ(r.level(bits, kTies + 7), 383) << what;
            EXPECT_EQ(low(kTies + 7), 127) << what;
            EXPECT_EQ(r.level(bits, kTies + 8), 384) << what;
            EXPECT_EQ(low(kTies + 8), -128) << what;
          }
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
