// The bf16-activation products of bf16 weights (kernels/bf16_activations.h): against a scalar
// model of their rounding in double precision, every kernel against the portable one bit for bit
// (but AMX on out-major rows, which rounds its sums its own way) whatever the batch, and the
// rounding's edge cases (ties, subnormals, NaN).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/bf16_activations.h"
#include "kernels/bf16_kernels.h"
#include "kernels/linear.h"
#include "kernels/test_matrices.h"

namespace llama4 {
namespace {

using test::expect_batch_invariant;
using test::linear_of;
using test::make_float_matrix;
using test::TestMatrix;
using test::value_at;

constexpr double kRelativeTolerance = 1e-5;  // of Σ|x·w|: f32 sums in another order
const std::int64_t kTokenCounts[] = {1, 2, 3, 4, 5, 9, 17, 37};

// The activation as the products see it: bf16, nearest even, computed here from the bits.
double rounded(float x) {
  const auto bits = std::bit_cast<std::uint32_t>(x);
  const std::uint32_t kept = (bits + 0x7fffu + ((bits >> 16) & 1u)) & 0xffff0000u;
  const float value = std::bit_cast<float>(kept);
  return std::fabs(value) < std::numeric_limits<float>::min() ? 0.0 : value;
}

template <typename Body>
void for_each_bf16_kernel(Body body) {
  for (Bf16Kernel kernel : bf16_kernels_available()) {
    bf16_kernel_force(kernel);
    body(std::string(bf16_kernel_name(kernel)));
  }
  bf16_kernel_force(std::nullopt);
}

TEST(Bf16ActivationsTest, MatchTheScalarModelOfTheirRounding) {
  std::mt19937 rng(21);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for_each_bf16_kernel([&](const std::string& kernel) {
    for (auto layout : {Matrix::Layout::kOutMajor, Matrix::Layout::kInMajor})
      // Odd input counts (a lone last pair), partial chunks of 32, padded rows, 2+ column blocks.
      for (auto [out, in, pad] : {std::tuple{7, 37, 0}, std::tuple{33, 64, 5},
                                  std::tuple{75, 131, 3}, std::tuple{70, 33, 70}}) {
        TestMatrix t = make_float_matrix(DType::BF16, layout, out, in, pad, rng);
        t.m.bf16_activations = true;
        ASSERT_TRUE(bf16_activations_supported(t.m));
        for (std::int64_t n_tokens : kTokenCounts) {
          std::vector<float> x(static_cast<std::size_t>(n_tokens * in));
          for (float& v : x) v = normal(rng);
          const std::vector<float> y = linear_of(t.m, x, n_tokens);
          for (std::int64_t tok = 0; tok < n_tokens; ++tok)
            for (std::int64_t o = 0; o < out; ++o) {
              double expected = 0.0, magnitude = 0.0;
              for (std::int64_t i = 0; i < in; ++i) {
                const double term =
                    rounded(x[static_cast<std::size_t>(tok * in + i)]) * value_at(t, o, i);
                expected += term;
                magnitude += std::abs(term);
              }
              ASSERT_NEAR(y[static_cast<std::size_t>(tok * out + o)], expected,
                          kRelativeTolerance * magnitude + 1e-6)
                  << kernel << (layout == Matrix::Layout::kInMajor ? " in" : " out") << "-major "
                  << out << "x" << in << " tokens " << n_tokens << " token " << tok << " output "
                  << o;
            }
        }
      }
  });
}

// Sizes cross every block of the kernels: out-major row tiles and blocks of 48 rows with a partial
// last chunk; in-major column blocks (4100 columns: two work items of 2048 and a ragged block of
// 32), strips of pairs (303 inputs: 152 pairs, a strip of 128 and a short one), an odd input
// count, and more tokens than one token tile. The AMX kernel's sums of out-major rows round
// differently (the scalar model above bounds them); the batch must not matter to it either.
TEST(Bf16ActivationsTest, EveryKernelAgreesWithThePortableOneBitForBitAndTheBatchDoesNotMatter) {
  std::mt19937 rng(22);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto [layout, out, in, pad] : {std::tuple{Matrix::Layout::kOutMajor, 101, 301, 0},
                                      std::tuple{Matrix::Layout::kInMajor, 4100, 303, 3}}) {
    TestMatrix t = make_float_matrix(DType::BF16, layout, out, in, pad, rng);
    t.m.bf16_activations = true;
    const std::string what = layout == Matrix::Layout::kInMajor ? "in-major" : "out-major";
    // The AMX kernel's own rounding (a copy: clang 14 does not capture structured bindings).
    const bool amx_rounds_alone = layout == Matrix::Layout::kOutMajor;
    for_each_bf16_kernel([&](const std::string& kernel) {
      expect_batch_invariant(t, rng, what + ", bf16 activations, " + kernel);
    });
    for (std::int64_t n_tokens : {3, 37}) {
      std::vector<float> x(static_cast<std::size_t>(n_tokens * in));
      for (float& v : x) v = normal(rng);
      bf16_kernel_force(Bf16Kernel::kPortable);
      const std::vector<float> portable = linear_of(t.m, x, n_tokens);
      for_each_bf16_kernel([&](const std::string& kernel) {
        if (bf16_kernel_in_use() == Bf16Kernel::kAmx && amx_rounds_alone) return;
        const std::vector<float> y = linear_of(t.m, x, n_tokens);
        EXPECT_TRUE(std::equal(y.begin(), y.end(), portable.begin()))
            << what << " tokens " << n_tokens << ", kernel " << kernel;
      });
    }
  }
}

TEST(Bf16ActivationsTest, RoundToNearestEvenAndFlushSubnormals) {
  EXPECT_EQ(bf16::round_activation(1.0f + 0x1p-8f), f32_to_bf16(1.0f));  // tie: down to even
  EXPECT_EQ(bf16::round_activation(1.0f + 3 * 0x1p-8f), f32_to_bf16(1.015625f));  // tie: up
  EXPECT_EQ(bf16::round_activation(1.0f + 0x1p-8f + 0x1p-20f), f32_to_bf16(1.0078125f));
  EXPECT_EQ(bf16::round_activation(1e-39f), 0);                                  // subnormal: +0
  EXPECT_EQ(bf16::round_activation(-1e-39f), 0x8000);                            // -0
  EXPECT_EQ(bf16::round_activation(std::numeric_limits<float>::max()), 0x7f80);  // rounds to inf
  EXPECT_TRUE(std::isnan(bf16_to_f32(bf16::round_activation(NAN))));
  EXPECT_EQ(bf16::read_weight(0x0001), 0.0f);                // a subnormal weight reads as zero
  EXPECT_EQ(bf16::add_product(0.0f, 1e-20f, 1e-20f), 0.0f);  // a subnormal sum is flushed
}

// What the instruction does at the edges, on both kernels alike: a subnormal weight or activation
// counts as zero, NaN among a token's inputs makes that token's outputs NaN.
TEST(Bf16ActivationsTest, SubnormalsCountAsZeroAndNaNPropagates) {
  for (auto layout : {Matrix::Layout::kOutMajor, Matrix::Layout::kInMajor}) {
    const std::int64_t out = 3, in = 40;
    std::vector<std::uint16_t> weights(static_cast<std::size_t>(out * in), f32_to_bf16(1.0f));
    weights[5] = 0x0001;  // subnormal
    const bool out_major = layout == Matrix::Layout::kOutMajor;
    Matrix m;
    m.data = weights.data();
    m.dtype = DType::BF16;
    m.layout = layout;
    m.out_features = out;
    m.in_features = in;
    m.row_stride = out_major ? in : out;
    m.bf16_activations = true;
    std::vector<float> x(static_cast<std::size_t>(2 * in), 0.5f);
    x[7] = 1e-39f;    // token 0: a subnormal activation
    x[in + 9] = NAN;  // token 1
    for_each_bf16_kernel([&](const std::string& kernel) {
      const std::vector<float> y = linear_of(m, x, 2);
      for (std::int64_t o = 0; o < out; ++o) {
        // Token 0 sums 0.5 over every input but the subnormal one; the subnormal weight (stored
        // element 5: output 0, input 5 out-major; input 1, output 2 in-major) takes 0.5 more off.
        const std::int64_t subnormal_output = out_major ? 0 : 2;
        const float expected = 0.5f * (in - 1) - (o == subnormal_output ? 0.5f : 0.0f);
        EXPECT_EQ(y[static_cast<std::size_t>(o)], expected) << kernel << " output " << o;
        EXPECT_TRUE(std::isnan(y[static_cast<std::size_t>(out + o)])) << kernel << " output " << o;
      }
    });
  }
}

TEST(Bf16ActivationsTest, OnlyForBf16Weights) {
  std::mt19937 rng(23);
  for (DType dtype : {DType::F32, DType::F16})
    EXPECT_FALSE(bf16_activations_supported(
        make_float_matrix(dtype, Matrix::Layout::kOutMajor, 4, 64, 0, rng).m));
  EXPECT_FALSE(bf16_activations_supported(test::make_quantized_matrix(4, 32, 4, 64, rng).m));
  EXPECT_TRUE(bf16_activations_supported(
      make_float_matrix(DType::BF16, Matrix::Layout::kInMajor, 4, 64, 0, rng).m));
}

TEST(Bf16ActivationsTest, StayCloseToF32ActivationsButDifferFromThem) {
  std::mt19937 rng(24);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  TestMatrix t = make_float_matrix(DType::BF16, Matrix::Layout::kOutMajor, 64, 512, 0, rng);
  std::vector<float> x(512);
  for (float& v : x) v = normal(rng);
  const std::vector<float> exact = linear_of(t.m, x, 1);
  t.m.bf16_activations = true;
  const std::vector<float> approximate = linear_of(t.m, x, 1);
  double max_error = 0.0, max_value = 0.0;
  for (std::size_t o = 0; o < exact.size(); ++o) {
    max_error = std::max(max_error, static_cast<double>(std::abs(approximate[o] - exact[o])));
    max_value = std::max(max_value, static_cast<double>(std::abs(exact[o])));
  }
  EXPECT_GT(max_error, 1e-6 * max_value);  // the rounding happens
  EXPECT_LT(max_error, 1e-2 * max_value);  // and costs little
}

}  // namespace
}  // namespace llama4
