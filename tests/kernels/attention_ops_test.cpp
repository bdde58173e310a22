// The attention loops (kernels/attention_ops.h) on every SIMD target this CPU runs: scores against
// a double-precision dot product, the weighted sum bit for bit against one scalar (fused where
// the target has FMA) multiply-add per element and value in order, and bf16 storage giving what f32
// storage of the same values gives.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/attention_ops.h"
#include "kernels/linear_simd.h"
#include "tensor/dtype.h"

namespace llama4 {
namespace {

// `count` rows of n random values, stored as bf16 and as f32 copies of the same values.
struct Rows {
  std::vector<std::vector<std::uint16_t>> bf16;
  std::vector<std::vector<float>> f32;
  std::vector<const std::uint16_t*> bf16_pointers;
  std::vector<const float*> f32_pointers;
};

Rows make_rows(std::int64_t count, std::int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Rows rows;
  for (std::int64_t j = 0; j < count; ++j) {
    std::vector<std::uint16_t> b(static_cast<std::size_t>(n));
    std::vector<float> f(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      b[static_cast<std::size_t>(i)] = f32_to_bf16(normal(rng));
      f[static_cast<std::size_t>(i)] = bf16_to_f32(b[static_cast<std::size_t>(i)]);
    }
    rows.bf16.push_back(std::move(b));
    rows.f32.push_back(std::move(f));
  }
  for (std::int64_t j = 0; j < count; ++j) {
    rows.bf16_pointers.push_back(rows.bf16[static_cast<std::size_t>(j)].data());
    rows.f32_pointers.push_back(rows.f32[static_cast<std::size_t>(j)].data());
  }
  return rows;
}

template <typename Body>
void for_each_target(Body body) {
  for (std::int64_t target : simd::available_targets()) {
    simd::force_target(target);
    body(simd::target_name(target));
  }
  simd::force_target(0);
}

TEST(AttentionOpsTest, ScoresMatchADoublePrecisionDotProduct) {
  std::mt19937 rng(31);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for_each_target([&](const std::string& target) {
    for (std::int64_t n : {5, 16, 64, 128, 131})
      for (std::int64_t count : {1, 7, 37}) {
        const Rows keys = make_rows(count, n, rng);
        std::vector<float> q(static_cast<std::size_t>(n));
        for (float& v : q) v = normal(rng);
        const float scale = 0.125f;
        std::vector<float> from_f32(static_cast<std::size_t>(count), NAN), from_bf16 = from_f32;
        scaled_dots(q.data(), keys.f32_pointers.data(), count, n, scale, from_f32.data());
        scaled_dots(q.data(), keys.bf16_pointers.data(), count, n, scale, from_bf16.data());
        for (std::int64_t j = 0; j < count; ++j) {
          double expected = 0.0, magnitude = 0.0;
          for (std::int64_t i = 0; i < n; ++i) {
            const double term = static_cast<double>(q[static_cast<std::size_t>(i)]) *
                                keys.f32[static_cast<std::size_t>(j)][static_cast<std::size_t>(i)];
            expected += term;
            magnitude += std::abs(term);
          }
          const auto k = static_cast<std::size_t>(j);
          EXPECT_NEAR(from_f32[k], scale * expected, 1e-6 * scale * magnitude)
              << target << " n " << n << " key " << j;
          EXPECT_EQ(from_bf16[k], from_f32[k]) << target << " n " << n << " key " << j;
        }
      }
  });
}

TEST(AttentionOpsTest, WeightedSumIsOneFusedMultiplyAddPerValueInOrder) {
  std::mt19937 rng(32);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for_each_target([&](const std::string& target) {
    for (std::int64_t n : {5, 16, 128, 131, 300})
      for (std::int64_t count : {1, 7, 37}) {
        const Rows values = make_rows(count, n, rng);
        std::vector<float> weights(static_cast<std::size_t>(count));
        for (float& w : weights) w = std::abs(normal(rng));
        std::vector<float> from_f32(static_cast<std::size_t>(n), NAN), from_bf16 = from_f32;
        weighted_sum(weights.data(), values.f32_pointers.data(), count, n, from_f32.data());
        weighted_sum(weights.data(), values.bf16_pointers.data(), count, n, from_bf16.data());
        // Highway's portable baseline (SCALAR with GCC, EMU128 with clang) has no fused
        // multiply-add: it multiplies, rounds, then adds.
        const bool fused = target != "SCALAR" && target != "EMU128";
        for (std::int64_t i = 0; i < n; ++i) {
          float expected = 0.0f;
          for (std::int64_t j = 0; j < count; ++j) {
            const float w = weights[static_cast<std::size_t>(j)];
            const float v = values.f32[static_cast<std::size_t>(j)][static_cast<std::size_t>(i)];
            if (fused) {
              expected = std::fma(w, v, expected);
            } else {
              const volatile float product = w * v;  // rounded before the addition
              expected = product + expected;
            }
          }
          const auto k = static_cast<std::size_t>(i);
          EXPECT_EQ(from_f32[k], expected) << target << " n " << n << " element " << i;
          EXPECT_EQ(from_bf16[k], expected) << target << " n " << n << " element " << i;
        }
      }
  });
}

}  // namespace
}  // namespace llama4
