// SiLU gating (silu_mul) against silu(z)·u in double on every SIMD target this CPU runs: within a
// few f32 rounding steps over the whole range of a hidden activation, the right limits at the
// extremes, NaN kept, and every value computed alike wherever it lies in the vector (tails and
// the threads' chunks included), so a token's result does not depend on its batch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/simd_targets.h"
#include "kernels/vector_ops.h"

namespace llama4 {
namespace {

using test::for_each_target;

double silu_times(double z, double u) {
  return z / (1.0 + std::exp(-z)) * u;
}

TEST(SiluTest, MatchesTheDoubleFormulaOnEveryTarget) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> z_of(-30.0f, 30.0f), u_of(-2.0f, 2.0f);
  for_each_target([&](const std::string& target) {
    for (std::int64_t n : {1, 7, 16, 33, 40000}) {  // 40000: split among threads
      std::vector<float> gate(static_cast<std::size_t>(n)), up(gate.size());
      for (std::size_t i = 0; i < gate.size(); ++i) {
        gate[i] = z_of(rng);
        up[i] = u_of(rng);
      }
      std::vector<float> got = gate;
      silu_mul(got.data(), up.data(), n);
      for (std::size_t i = 0; i < gate.size(); ++i) {
        const double expected = silu_times(gate[i], up[i]);
        ASSERT_NEAR(got[i], expected, 4e-7 * std::abs(expected) + 1e-30)
            << target << " n " << n << " z " << gate[i] << " u " << up[i];
      }
    }
  });
}

TEST(SiluTest, ExtremesAndNaN) {
  for_each_target([&](const std::string& target) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    std::vector<float> gate = {-200.0f, -90.0f, -88.0f, 0.0f, 90.0f, 200.0f, inf, nan};
    const std::vector<float> up(gate.size(), 1.0f);
    silu_mul(gate.data(), up.data(), static_cast<std::int64_t>(gate.size()));
    EXPECT_EQ(gate[0], 0.0f) << target;  // e^200 and e^90 overflow: z / ∞
    EXPECT_TRUE(std::signbit(gate[0])) << target;
    EXPECT_EQ(gate[1], 0.0f) << target;
    EXPECT_NEAR(gate[2], -88.0 * std::exp(-88.0), 1e-42) << target;  // e^88 is still finite
    EXPECT_EQ(gate[3], 0.0f) << target;
    EXPECT_EQ(gate[4], 90.0f) << target;
    EXPECT_EQ(gate[5], 200.0f) << target;
    EXPECT_EQ(gate[6], inf) << target;
    EXPECT_TRUE(std::isnan(gate[7])) << target;
  });
}

TEST(SiluTest, AValueGivesTheSameBitsAtEveryPosition) {
  std::mt19937 rng(6);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> values(50000), up(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] = normal(rng);
    up[i] = normal(rng);
  }
  std::vector<float> whole = values;
  silu_mul(whole.data(), up.data(), static_cast<std::int64_t>(whole.size()));
  for (std::size_t i = 0; i < values.size(); i += 997) {  // each value alone, a 1-value tail
    float one = values[i];
    silu_mul(&one, &up[i], 1);
    ASSERT_EQ(one, whole[i]) << "position " << i;
  }
}

}  // namespace
}  // namespace llama4
