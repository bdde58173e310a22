// linear() against a plain scalar product, for every SIMD target this CPU runs, every stored
// format (f32, bf16, f16, mlx 4/8-bit with group sizes 16-128), both storage orders, row
// strides, odd sizes and the batch sizes of both the streaming and the blocked kernels; the
// int8-activation products of 4/8-bit weights against a scalar model of their rounding, on every
// int8 kernel; and long prompts, which go through the products in strips of tokens.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kernels/bf16_activations.h"
#include "kernels/int8_activations.h"
#include "kernels/linear.h"
#include "kernels/linear_simd.h"
#include "kernels/mlx_quant.h"
#include "kernels/simd_targets.h"
#include "kernels/test_matrices.h"

namespace llama4 {
namespace {

using test::expect_batch_invariant;
using test::field;
using test::for_each_target;
using test::linear_of;
using test::make_float_matrix;
using test::make_quantized_matrix;
using test::store_scales_as;
using test::TestMatrix;
using test::value_at;

constexpr double kRelativeTolerance = 1e-5;  // of Σ|x·w|: f32 sums in a different order
const std::int64_t kTokenCounts[] = {1, 2, 3, 4, 5, 9, 17};

void expect_matches_reference(const TestMatrix& t, std::int64_t n_tokens, std::mt19937& rng,
                              const std::string& what) {
  const std::int64_t in = t.m.in_features, out = t.m.out_features;
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<std::size_t>(n_tokens * in));
  for (float& v : x) v = normal(rng);
  std::vector<float> y(static_cast<std::size_t>(n_tokens * out), NAN);
  linear(t.m, x.data(), n_tokens, y.data());
  int failures = 0;
  for (std::int64_t tok = 0; tok < n_tokens && failures < 3; ++tok)
    for (std::int64_t o = 0; o < out && failures < 3; ++o) {
      double expected = 0.0, magnitude = 0.0;
      for (std::int64_t i = 0; i < in; ++i) {
        const double term =
            static_cast<double>(x[static_cast<std::size_t>(tok * in + i)]) * value_at(t, o, i);
        expected += term;
        magnitude += std::abs(term);
      }
      const double got = y[static_cast<std::size_t>(tok * out + o)];
      if (!(std::abs(got - expected) <= kRelativeTolerance * magnitude + 1e-6)) {
        ADD_FAILURE() << what << " target " << simd::current_target_name() << " tokens " << n_tokens
                      << " token " << tok << " output " << o << ": got " << got << ", expected "
                      << expected;
        ++failures;
      }
    }
}

TEST(LinearTest, CompilesAVX2AndAVX512TargetsAndABaseline) {
  std::vector<std::string> names;
  for (std::int64_t target : simd::available_targets()) names.push_back(simd::target_name(target));
  ASSERT_GE(names.size(), 2u);  // the best target and the portable baseline at least
  // Highway's portable baseline is SCALAR with GCC and EMU128 with clang.
  EXPECT_TRUE(names.back() == "SCALAR" || names.back() == "EMU128")
      << "the baseline target should always be available (last is " << names.back() << ")";
}

TEST(LinearTest, FloatOutMajorMatchesScalarProduct) {
  std::mt19937 rng(1);
  for_each_target([&](const std::string&) {
    for (DType dtype : {DType::F32, DType::BF16, DType::F16})
      for (auto [out, in, pad] :
           // 2245 inputs: prompts take them in spans (the last one partial).
           {std::tuple{7, 37, 0}, std::tuple{33, 64, 5}, std::tuple{9, 131, 3},
            std::tuple{7, 2245, 1}}) {
        const TestMatrix t = make_float_matrix(dtype, Matrix::Layout::kOutMajor, out, in, pad, rng);
        for (std::int64_t n : kTokenCounts)
          expect_matches_reference(t, n, rng,
                                   std::string(dtype_name(dtype)) + " out-major " +
                                       std::to_string(out) + "x" + std::to_string(in));
      }
  });
}

TEST(LinearTest, FloatInMajorWithRowStrideMatchesScalarProduct) {
  std::mt19937 rng(2);
  for_each_target([&](const std::string&) {
    for (DType dtype : {DType::F32, DType::BF16, DType::F16})
      for (auto [out, in, pad] :
           {std::tuple{37, 7, 0}, std::tuple{70, 33, 70}, std::tuple{129, 10, 1}}) {
        const TestMatrix t = make_float_matrix(dtype, Matrix::Layout::kInMajor, out, in, pad, rng);
        for (std::int64_t n : kTokenCounts)
          expect_matches_reference(t, n, rng,
                                   std::string(dtype_name(dtype)) + " in-major " +
                                       std::to_string(out) + "x" + std::to_string(in));
      }
  });
}

TEST(LinearTest, QuantizedRowsMatchScalarDequantization) {
  std::mt19937 rng(3);
  for_each_target([&](const std::string&) {
    for (int bits : {4, 8})
      for (int group : {16, 32, 64, 128})
        for (std::int64_t out : {1, 6, 13})
          // 3 or 5 groups: for 4-bit rows, no whole chunk of 8 words per lane, or some, with
          // several groups per chunk or several chunks per group, and a remainder.
          for (std::int64_t groups : {3, 5}) {
            const std::int64_t in = groups * group;
            const TestMatrix t = make_quantized_matrix(bits, group, out, in, rng);
            for (std::int64_t n : kTokenCounts)
              expect_matches_reference(t, n, rng,
                                       std::to_string(bits) + "-bit g" + std::to_string(group) +
                                           " in " + std::to_string(in));
          }
  });
}

TEST(LinearTest, BatchedResultsEqualEachTokenAloneBitForBit) {
  std::mt19937 rng(5);
  for_each_target([&](const std::string&) {
    for (DType dtype : {DType::F32, DType::BF16}) {
      // In-major: 4100 columns (3 column blocks; prompt tiles leave a few columns over) by 302
      // inputs (several row blocks; 6 inputs past the last group of 8).
      expect_batch_invariant(make_float_matrix(dtype, Matrix::Layout::kInMajor, 4100, 302, 3, rng),
                             rng, std::string(dtype_name(dtype)) + " in-major");
      expect_batch_invariant(make_float_matrix(dtype, Matrix::Layout::kOutMajor, 75, 301, 0, rng),
                             rng, std::string(dtype_name(dtype)) + " out-major");
      // Prompts split 2245 inputs into spans of 1024, the last with inputs past its last whole
      // vector.
      expect_batch_invariant(make_float_matrix(dtype, Matrix::Layout::kOutMajor, 75, 2245, 0, rng),
                             rng, std::string(dtype_name(dtype)) + " out-major, input spans");
    }
    for (int bits : {4, 8}) {
      expect_batch_invariant(make_quantized_matrix(bits, 64, 75, 256, rng), rng,
                             std::to_string(bits) + "-bit");
      // Prompts split 2240 inputs into spans of 1024 (a 4-bit row's last group is past its last
      // whole chunk of words).
      expect_batch_invariant(make_quantized_matrix(bits, 64, 75, 2240, rng), rng,
                             std::to_string(bits) + "-bit, input spans");
    }
  });
}

// t with its stored rows moved to start `offset` bytes past a cache line (bf16 or f16 weights).
TestMatrix off_the_line(TestMatrix t, std::uintptr_t offset) {
  constexpr std::uintptr_t kLine = 64;
  std::vector<std::uint16_t> moved(t.half.size() + kLine);
  const auto address = reinterpret_cast<std::uintptr_t>(moved.data());
  const std::size_t shift = (kLine + offset - address % kLine) % kLine / sizeof(std::uint16_t);
  std::copy(t.half.begin(), t.half.end(), moved.begin() + static_cast<std::ptrdiff_t>(shift));
  t.half = std::move(moved);
  t.m.data = t.half.data() + shift;
  return t;
}

// `aligned` moved 32 bytes off the cache line gives its results bit for bit for 1, 5 and 37
// tokens, and each token what it gets alone. 2240 inputs: rows of 70 cache lines; 75 rows: blocks
// of rows and a remainder.
void expect_the_same_off_the_line(const TestMatrix& aligned, std::mt19937& rng,
                                  const std::string& what) {
  const TestMatrix moved = off_the_line(aligned, 32);
  ASSERT_EQ(reinterpret_cast<std::uintptr_t>(moved.m.data) % 64, 32u);
  for (std::int64_t n : {1, 5, 37}) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> x(static_cast<std::size_t>(n * aligned.m.in_features));
    for (float& v : x) v = normal(rng);
    EXPECT_EQ(linear_of(moved.m, x, n), linear_of(aligned.m, x, n))
        << what << ", " << n << " tokens";
  }
  expect_batch_invariant(moved, rng, what + " off the line");
}

// A checkpoint whose header length is not a multiple of 64 puts every row off the cache line;
// prompts then work on an aligned copy of each block of rows. The results are those of the rows
// in place, bit for bit, for every batch size.
TEST(LinearTest, RowsOffTheCacheLineGiveTheSameResultsBitForBit) {
  std::mt19937 rng(7);
  for_each_target([&](const std::string&) {
    for (DType dtype : {DType::BF16, DType::F16})
      expect_the_same_off_the_line(
          make_float_matrix(dtype, Matrix::Layout::kOutMajor, 75, 2240, 0, rng), rng,
          std::string(dtype_name(dtype)));
  });
}

// The same with bf16 activations, on every bf16 kernel, which read the rows where they lie.
TEST(LinearTest, RowsOffTheCacheLineWithBf16ActivationsGiveTheSameResultsBitForBit) {
  std::mt19937 rng(8);
  TestMatrix aligned = make_float_matrix(DType::BF16, Matrix::Layout::kOutMajor, 75, 2240, 0, rng);
  aligned.m.bf16_activations = true;
  for (Bf16Kernel kernel : bf16_kernels_available()) {
    bf16_kernel_force(kernel);
    expect_the_same_off_the_line(aligned, rng, std::string(bf16_kernel_name(kernel)));
  }
  bf16_kernel_force(std::nullopt);
}

// A long prompt with bf16 activations goes through a product in strips of tokens (1 MiB of
// activations each): rows of 8192 inputs make strips of 64 tokens, so 131 tokens end in a strip
// of 3, which takes the decoding kernels. Every token still gets what it gets alone, on every
// bf16 kernel. (Int8ActivationsTest has the same for int8 and 16-bit activations.)
TEST(LinearTest, LongPromptsWithBf16ActivationsGoInStripsAndEachTokenGetsWhatItGetsAlone) {
  constexpr std::int64_t kLongPrompt = 131, kWideRow = 8192;
  std::mt19937 rng(6);
  TestMatrix t = make_float_matrix(DType::BF16, Matrix::Layout::kOutMajor, 19, kWideRow, 0, rng);
  t.m.bf16_activations = true;
  for (Bf16Kernel kernel : bf16_kernels_available()) {
    bf16_kernel_force(kernel);
    expect_batch_invariant(t, rng, std::string(bf16_kernel_name(kernel)), kLongPrompt);
  }
  bf16_kernel_force(std::nullopt);
}

TEST(LinearTest, OtherBitWidthsGoThroughTheBlockedProduct) {
  std::mt19937 rng(4);
  for (int bits : {2, 3, 6}) {
    const TestMatrix t = [&] {
      TestMatrix q;
      std::normal_distribution<float> normal(0.0f, 1.0f);
      const std::int64_t out = 5, in = 64, group = 32, groups = in / group;
      std::vector<float> w(static_cast<std::size_t>(out * in));
      for (float& v : w) v = normal(rng);
      q.packed.resize(static_cast<std::size_t>(out * mlx_packed_words(in, bits)));
      q.scales.resize(static_cast<std::size_t>(out * groups));
      q.biases.resize(q.scales.size());
      std::vector<float> s(static_cast<std::size_t>(groups)), b(s.size());
      for (std::int64_t o = 0; o < out; ++o) {
        mlx_quantize_row(w.data() + o * in, in, bits, group, DType::BF16,
                         q.packed.data() + o * mlx_packed_words(in, bits), s.data(), b.data());
        for (std::int64_t g = 0; g < groups; ++g) {
          q.scales[static_cast<std::size_t>(o * groups + g)] =
              f32_to_bf16(s[static_cast<std::size_t>(g)]);
          q.biases[static_cast<std::size_t>(o * groups + g)] =
              f32_to_bf16(b[static_cast<std::size_t>(g)]);
        }
      }
      q.m = Matrix{q.packed.data(),
                   DType::U32,
                   Matrix::Layout::kOutMajor,
                   out,
                   in,
                   in,
                   {q.packed.data(), q.scales.data(), q.biases.data(), DType::BF16, bits,
                    static_cast<int>(group)}};
      q.values.resize(w.size());
      for (std::int64_t o = 0; o < out; ++o) matrix_row_f32(q.m, o, q.values.data() + o * in);
      return q;
    }();
    for (std::int64_t n : {1, 6})
      expect_matches_reference(t, n, rng, std::to_string(bits) + "-bit");
  }
}

// ---- int8 activations ----------------------------------------------------------------------

// Scalar model of the integer-activation product (kernels/int8_activations.h), in double: per
// block of 64 inputs (32 where the group size is not a multiple of 64), scale = max|x| / top (in
// f32, as specified; top = 127 for int8, 32512 for 16-bit activations) and level =
// round-half-even(x / scale); y = Σ_j level_j · scale_b(j) · q_j · s_g(j) + Σ_g b_g · Σ_{j∈g} x_j.
// Also returns Σ|terms|.
std::pair<double, double> int8_model(const TestMatrix& t, const float* x, std::int64_t o) {
  const float top = t.m.quant.activation_bits == 16 ? 32512.0f : 127.0f;
  const std::int64_t in = t.m.in_features, group = t.m.quant.group_size, groups = in / group;
  const int bits = t.m.quant.bits;
  const std::int64_t words = in * bits / 32;
  const std::int64_t block = group % 64 == 0 ? 64 : 32;
  double y = 0.0, magnitude = 0.0;
  for (std::int64_t b = 0; b < in / block; ++b) {
    float max_abs = 0.0f;
    for (std::int64_t j = b * block; j < (b + 1) * block; ++j)
      max_abs = std::max(max_abs, std::abs(x[j]));
    const float scale = max_abs / top;
    for (std::int64_t j = b * block; j < (b + 1) * block; ++j) {
      const double level = scale == 0.0f ? 0.0 : std::nearbyint(x[j] / scale);
      const std::size_t g = static_cast<std::size_t>(o * groups + j / group);
      const double term =
          level * scale * field(t.packed.data() + o * words, j, bits) * bf16_to_f32(t.scales[g]);
      y += term;
      magnitude += std::abs(term);
    }
  }
  for (std::int64_t g = 0; g < groups; ++g) {
    double sum = 0.0;
    for (std::int64_t j = g * group; j < (g + 1) * group; ++j) sum += x[j];
    const double term = bf16_to_f32(t.biases[static_cast<std::size_t>(o * groups + g)]) * sum;
    y += term;
    magnitude += std::abs(term);
  }
  return {y, magnitude};
}

// Runs `body(name)` with every int8 kernel this CPU runs (AMX, AVX-512 VNNI, AVX2, portable).
template <typename Body>
void for_each_int8_kernel(Body body) {
  for (Int8Kernel kernel : int8_kernels_available()) {
    int8_kernel_force(kernel);
    body(std::string(int8_kernel_name(kernel)).c_str());
  }
  int8_kernel_force(std::nullopt);
}

constexpr int kActivationBits[] = {8, 16};

TEST(Int8ActivationsTest, MatchTheScalarModelOfTheirRounding) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for_each_int8_kernel([&](const char* kernel) {
    for (int activation_bits : kActivationBits)
      for (int bits : {4, 8})
        for (int group : {32, 64, 128})
          for (std::int64_t in : {32, 64, 128, 320, 640}) {  // 32, 64, 320: partial chunks
            if (in % group != 0) continue;
            TestMatrix t = make_quantized_matrix(bits, group, 53, in, rng);
            t.m.quant.activation_bits = activation_bits;
            ASSERT_TRUE(int8_activations_supported(t.m));
            for (std::int64_t n_tokens : kTokenCounts) {
              std::vector<float> x(static_cast<std::size_t>(n_tokens * in));
              for (float& v : x) v = normal(rng);
              x[3] = 0.0f;                                                   // an exact zero
              std::fill_n(x.begin(), std::min<std::int64_t>(in, 32), 0.0f);  // an all-zero block
              const std::vector<float> y = linear_of(t.m, x, n_tokens);
              for (std::int64_t tok = 0; tok < n_tokens; ++tok)
                for (std::int64_t o = 0; o < t.m.out_features; ++o) {
                  const auto [expected, magnitude] = int8_model(t, x.data() + tok * in, o);
                  const double got = y[static_cast<std::size_t>(tok * t.m.out_features + o)];
                  ASSERT_NEAR(got, expected, kRelativeTolerance * magnitude + 1e-6)
                      << kernel << " int" << activation_bits << " " << bits << "-bit g" << group
                      << " in " << in << " tokens " << n_tokens << " token " << tok << " output "
                      << o;
                }
            }
          }
  });
}

// Every kernel gives the portable kernel's results bit for bit, whatever the batch. The VNNI
// kernel reads scales and biases in their stored dtype, the others widen them first. Group sizes
// 32…128 cover one to four groups per 64-byte chunk and a partial last chunk; 8-bit levels up to
// 255 against activations of ±127 would saturate the AVX2 kernel's 16-bit pair sums if it did not
// split them into nibbles. A prompt of 37 tokens takes the AMX kernel's tiles of 16 tokens (two
// full, one partial) and the VNNI kernel's of 8. Rows of 2176 inputs take the prompt kernels'
// slices of 1024 bytes or inputs (two whole, one partial). 229 rows end in a partial group; split
// between two threads, each decodes blocks of 32 or 64 rows as groups of every second or fourth
// row (rows under 4 KiB), then groups of consecutive rows. 16-bit activations (on AMX a pair of
// tile products per block, one per plane) with the top 8-bit levels reach 255 · 32512 · 32 in a
// block's sum.
TEST(Int8ActivationsTest, EveryKernelAgreesWithThePortableOneBitForBitAndTheBatchDoesNotMatter) {
  constexpr std::int64_t kPrompt = 37, kLongRow = 2176;
  std::mt19937 rng(12);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int activation_bits : kActivationBits)
    for (int bits : {4, 8})
      for (int group : {32, 64, 128})
        for (std::int64_t in : {5 * std::int64_t{group}, kLongRow}) {
          TestMatrix t = make_quantized_matrix(bits, group, 229, in, rng);
          t.m.quant.activation_bits = activation_bits;
          const std::string what = std::to_string(bits) + "-bit g" + std::to_string(group) +
                                   " in " + std::to_string(in) + ", int" +
                                   std::to_string(activation_bits) + " activations";
          for_each_int8_kernel(
              [&](const char* kernel) { expect_batch_invariant(t, rng, what + ", " + kernel); });
          std::vector<float> x(static_cast<std::size_t>(kPrompt * t.m.in_features));
          for (float& v : x) v = normal(rng);
          x[0] = x[1] = 40.0f;  // levels 127 in a block whose other inputs round to small ones
          std::fill_n(t.packed.begin(), 4,
                      0xffffffffu);  // top levels in the first row's first bytes
          for (DType scale_dtype : {DType::BF16, DType::F16, DType::F32}) {
            store_scales_as(t, scale_dtype);
            int8_kernel_force(Int8Kernel::kPortable);
            const std::vector<float> portable = linear_of(t.m, x, kPrompt);
            ASSERT_TRUE(std::none_of(portable.begin(), portable.end(),
                                     [](float v) { return std::isnan(v); }));
            for_each_int8_kernel([&](const char* kernel) {
              const std::vector<float> y = linear_of(t.m, x, kPrompt);
              EXPECT_TRUE(std::equal(y.begin(), y.end(), portable.begin()))
                  << what << ", scales " << dtype_name(scale_dtype) << ", kernel " << kernel;
            });
          }
        }
}

// A long prompt is taken in strips of tokens (1 MiB of rounded activations each): rows of 8192
// inputs make strips of 64 tokens with 16-bit activations and 128 with int8 ones, so 259 tokens
// end in a strip of 3, which takes the decoding path. Every token still gets what it gets alone.
TEST(Int8ActivationsTest, LongPromptsTakeStripsOfTokensAndEachTokenGetsWhatItGetsAlone) {
  constexpr std::int64_t kLongPrompt = 259, kWideRow = 8192;
  std::mt19937 rng(13);
  for (int activation_bits : kActivationBits) {
    TestMatrix t = make_quantized_matrix(4, 64, 19, kWideRow, rng);
    t.m.quant.activation_bits = activation_bits;
    for_each_int8_kernel([&](const char* kernel) {
      expect_batch_invariant(
          t, rng, "int" + std::to_string(activation_bits) + " activations, " + kernel, kLongPrompt);
    });
  }
}

// Gaussian inputs: int8 activations move the outputs by under 1% of the largest, 16-bit ones by
// under 2^-15 of it — and both do move them (the rounding happens).
TEST(Int8ActivationsTest, StayCloseToF32ActivationsButDifferFromThem) {
  std::mt19937 rng(13);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  TestMatrix t = make_quantized_matrix(4, 64, 64, 512, rng);
  std::vector<float> x(512);
  for (float& v : x) v = normal(rng);
  const std::vector<float> exact = linear_of(t.m, x, 1);
  const auto max_error_of = [&](int activation_bits) {
    t.m.quant.activation_bits = activation_bits;
    const std::vector<float> rounded = linear_of(t.m, x, 1);
    double max_error = 0.0, max_value = 0.0;
    for (std::size_t o = 0; o < exact.size(); ++o) {
      max_error = std::max(max_error, static_cast<double>(std::abs(rounded[o] - exact[o])));
      max_value = std::max(max_value, static_cast<double>(std::abs(exact[o])));
    }
    return max_error / max_value;
  };
  const double int8_error = max_error_of(8), int16_error = max_error_of(16);
  EXPECT_GT(int8_error, 1e-6);
  EXPECT_LT(int8_error, 1e-2);
  EXPECT_GT(int16_error, 1e-8);
  EXPECT_LT(int16_error, 1.0 / 32768.0);
  EXPECT_LT(int16_error, int8_error / 64.0);
}

// Inf or NaN among the inputs makes every output NaN (f32 activations give Inf or NaN too) and is
// never converted to an integer (undefined behaviour the sanitized build would report).
TEST(Int8ActivationsTest, NonFiniteInputsGiveNaNOutputs) {
  std::mt19937 rng(15);
  TestMatrix t = make_quantized_matrix(4, 64, 20, 256, rng);
  for (int activation_bits : kActivationBits)
    for (const float bad :
         {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()})
      for_each_int8_kernel([&](const char* kernel) {
        t.m.quant.activation_bits = activation_bits;
        std::vector<float> x(2 * 256, 0.25f);
        x[100] = bad;  // token 0 only
        const std::vector<float> y = linear_of(t.m, x, 2);
        for (std::int64_t o = 0; o < 20; ++o) {
          EXPECT_TRUE(std::isnan(y[static_cast<std::size_t>(o)])) << kernel << " output " << o;
          EXPECT_TRUE(std::isfinite(y[static_cast<std::size_t>(20 + o)])) << kernel << " token 1";
        }
      });
}

TEST(Int8ActivationsTest, NotForFloatWeightsOrOddGroupSizes) {
  std::mt19937 rng(14);
  EXPECT_FALSE(int8_activations_supported(
      make_float_matrix(DType::BF16, Matrix::Layout::kOutMajor, 4, 64, 0, rng).m));
  EXPECT_FALSE(int8_activations_supported(make_quantized_matrix(4, 16, 4, 64, rng).m));
  EXPECT_TRUE(int8_activations_supported(make_quantized_matrix(8, 128, 4, 256, rng).m));
}

}  // namespace
}  // namespace llama4
