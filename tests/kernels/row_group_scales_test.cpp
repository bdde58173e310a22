// Row-group scale tables (kernels/row_group_scales.h): the AVX-512 int8 kernels give bit for bit
// the results they give without a table, in decoding and in prompts, for every stored scale dtype;
// the table's values are the ones read without the map; matrices sharing stored scales share a
// table.
#include "kernels/row_group_scales.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/int8_activations.h"
#include "kernels/test_matrices.h"

namespace llama4 {
namespace {

using test::linear_of;
using test::make_quantized_matrix;
using test::store_scales_as;
using test::TestMatrix;

// The kernels that read the tables: AMX and VNNI (the others never see one).
std::vector<Int8Kernel> table_kernels() {
  std::vector<Int8Kernel> kernels;
  for (Int8Kernel kernel : int8_kernels_available())
    if (kernel == Int8Kernel::kAmx || kernel == Int8Kernel::kVnni) kernels.push_back(kernel);
  return kernels;
}

std::vector<float> random_inputs(std::int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<std::size_t>(n));
  for (float& v : x) v = normal(rng);
  return x;
}

// Decoding batches of 1, 3 and 4 tokens and a prompt of 37 (AMX tiles of 16, VNNI ones of 8).
constexpr std::int64_t kTokenCounts[] = {1, 3, 4, 37};

// 229 rows: split between two threads in units of 64 rows (4-bit rows under 1 KiB are read in
// groups of every fourth row) or 32, then a partial group. Rows of 2176 inputs take two windows of
// 16 weight groups at g64 and g128 (the second partial) and three at g32 (68 groups).
TEST(RowGroupScalesTest, TheKernelsGiveTheirOwnResultsBitForBit) {
  if (table_kernels().empty()) GTEST_SKIP() << "this CPU runs no AVX-512 int8 kernel";
  std::mt19937 rng(21);
  for (int activation_bits : {8, 16})
    for (int bits : {4, 8})
      for (int group : {32, 64, 128})
        for (std::int64_t in : {5 * std::int64_t{group}, std::int64_t{2176}}) {
          TestMatrix t = make_quantized_matrix(bits, group, 229, in, rng);
          t.m.quant.activation_bits = activation_bits;
          for (DType scale_dtype : {DType::BF16, DType::F16, DType::F32}) {
            store_scales_as(t, scale_dtype);
            const std::string what = std::to_string(bits) + "-bit g" + std::to_string(group) +
                                     " in " + std::to_string(in) + ", int" +
                                     std::to_string(activation_bits) + ", scales " +
                                     std::string(dtype_name(scale_dtype));
            for (Int8Kernel kernel : table_kernels()) {
              int8_kernel_force(kernel);
              for (std::int64_t tokens : kTokenCounts) {
                const std::vector<float> x = random_inputs(tokens * in, rng);
                t.m.quant.row_group_scales = nullptr;
                const std::vector<float> laid_out_as_they_go = linear_of(t.m, x, tokens);
                const RowGroupScaleSet tables({&t.m}, nullptr);
                ASSERT_EQ(tables.tables(), 1u) << what;
                const std::vector<float> from_table = linear_of(t.m, x, tokens);
                t.m.quant.row_group_scales = nullptr;
                EXPECT_TRUE(
                    std::equal(from_table.begin(), from_table.end(), laid_out_as_they_go.begin()))
                    << what << ", " << int8_kernel_name(kernel) << ", " << tokens << " tokens";
              }
            }
            int8_kernel_force(std::nullopt);
          }
        }
}

// The table is laid out from what `read` returns, once, whatever the number of products; where
// `read` fails it reads the stored values where they are.
TEST(RowGroupScalesTest, LaysOutWhatItReadsWithoutTheMapOnce) {
  if (table_kernels().empty()) GTEST_SKIP() << "this CPU runs no AVX-512 int8 kernel";
  std::mt19937 rng(22);
  TestMatrix t = make_quantized_matrix(4, 64, 64, 512, rng);
  t.m.quant.activation_bits = 16;
  const std::vector<float> x = random_inputs(512, rng);
  const std::vector<float> expected = linear_of(t.m, x, 1);
  const std::size_t bytes = t.scales.size() * sizeof(std::uint16_t);

  // A reader that doubles every scale (bf16: one more in the exponent) and counts its calls.
  int reads = 0;
  const ReadWithoutMap doubling = [&](const void* where, void* into, std::size_t count) {
    ++reads;
    EXPECT_TRUE(where == t.m.quant.scales || where == t.m.quant.biases);
    EXPECT_EQ(count, bytes);
    std::memcpy(into, where, count);
    if (where == t.m.quant.scales)
      for (std::size_t i = 0; i < count / 2; ++i)
        static_cast<std::uint16_t*>(into)[i] += 0x80;  // the exponent's lowest bit
    return true;
  };
  {
    const RowGroupScaleSet tables({&t.m}, doubling);
    const std::vector<float> read = linear_of(t.m, x, 1);
    linear_of(t.m, random_inputs(std::int64_t{3} * 512, rng), 3);
    EXPECT_EQ(reads, 2);  // the scales and the biases, once
    t.m.quant.row_group_scales = nullptr;
    EXPECT_FALSE(std::equal(read.begin(), read.end(), expected.begin()));
  }
  const ReadWithoutMap failing = [](const void*, void*, std::size_t) { return false; };
  const RowGroupScaleSet tables({&t.m}, failing);
  const std::vector<float> fallen_back = linear_of(t.m, x, 1);
  t.m.quant.row_group_scales = nullptr;
  EXPECT_TRUE(std::equal(fallen_back.begin(), fallen_back.end(), expected.begin()));
}

// A tied output head is the embeddings' matrix: the two share one table. Float matrices, which the
// int8 kernels never run, get none.
TEST(RowGroupScalesTest, MatricesSharingStoredScalesShareATable) {
  if (table_kernels().empty()) GTEST_SKIP() << "this CPU runs no AVX-512 int8 kernel";
  std::mt19937 rng(23);
  TestMatrix t = make_quantized_matrix(8, 64, 32, 256, rng);
  Matrix tied = t.m;
  TestMatrix f = test::make_float_matrix(DType::BF16, Matrix::Layout::kOutMajor, 16, 64, 0, rng);
  const RowGroupScaleSet tables({&t.m, &tied, &f.m}, nullptr);
  EXPECT_EQ(tables.tables(), 1u);
  EXPECT_NE(t.m.quant.row_group_scales, nullptr);
  EXPECT_EQ(tied.quant.row_group_scales, t.m.quant.row_group_scales);
  EXPECT_EQ(f.m.quant.row_group_scales, nullptr);
}

}  // namespace
}  // namespace llama4
