// PartProfile and PartScope: a part's time, the weight bytes and FLOPs of the products run in it,
// nesting, and nothing recorded without a profile on the thread.
#include "kernels/part_profile.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "kernels/linear.h"
#include "kernels/test_matrices.h"
#include "util/error.h"

namespace llama4 {
namespace {

using test::make_float_matrix;
using test::TestMatrix;

constexpr auto kPause = std::chrono::milliseconds(2);
constexpr double kPauseSeconds = 0.002;

class PartProfileTest : public testing::Test {
 protected:
  // 24 × 40 bf16 weights: 1920 bytes, 2 · 960 FLOPs per token.
  PartProfileTest()
      : rng_(7),
        w_(make_float_matrix(DType::BF16, Matrix::Layout::kOutMajor, 24, 40, 0, rng_)),
        x_(3 * 40, 0.5f),
        y_(3 * 24) {}

  void product(std::int64_t tokens) { linear(w_.m, x_.data(), tokens, y_.data()); }

  std::mt19937 rng_;
  TestMatrix w_;
  std::vector<float> x_, y_;
};

TEST_F(PartProfileTest, APartHoldsItsTimeAndItsProductsBytesAndFlops) {
  const PartProfile profile;
  {
    const PartScope part("experts");
    product(3);
    product(1);
    std::this_thread::sleep_for(kPause);
  }
  {
    const PartScope part("head");
    product(2);
  }
  {
    const PartScope again("experts");  // adds to the part of that name
    product(1);
  }
  product(3);  // outside every part: not counted
  ASSERT_EQ(profile.parts().size(), 2u);
  const PartTotals& experts = profile.parts()[0];
  const PartTotals& head = profile.parts()[1];
  EXPECT_EQ(experts.name, "experts");
  EXPECT_EQ(head.name, "head");
  EXPECT_EQ(experts.weight_bytes, 3 * 24 * 40 * 2);
  EXPECT_DOUBLE_EQ(experts.flops, 2.0 * 24 * 40 * (3 + 1 + 1));
  EXPECT_EQ(head.weight_bytes, 24 * 40 * 2);
  EXPECT_DOUBLE_EQ(head.flops, 2.0 * 24 * 40 * 2);
  EXPECT_GE(experts.seconds, kPauseSeconds);
  EXPECT_GE(head.seconds, 0.0);
}

TEST_F(PartProfileTest, NestedPartsShareTimeButProductsCountInTheInnermost) {
  const PartProfile profile;
  {
    const PartScope outer("layer");
    product(1);
    {
      const PartScope inner("attention");
      product(2);
      std::this_thread::sleep_for(kPause);
    }
    product(1);  // back in the outer part
  }
  ASSERT_EQ(profile.parts().size(), 2u);
  const PartTotals& layer = profile.parts()[0];
  const PartTotals& attention = profile.parts()[1];
  EXPECT_DOUBLE_EQ(layer.flops, 2.0 * 24 * 40 * 2);
  EXPECT_DOUBLE_EQ(attention.flops, 2.0 * 24 * 40 * 2);
  EXPECT_GE(attention.seconds, kPauseSeconds);
  EXPECT_GE(layer.seconds, attention.seconds);
}

TEST_F(PartProfileTest, NothingIsRecordedWithoutAProfileOnTheThread) {
  {
    const PartScope part("unseen");
    product(1);
  }
  const PartProfile profile;
  EXPECT_TRUE(profile.parts().empty());
  // A profile records the thread that made it only.
  std::thread other([&] {
    const PartScope part("elsewhere");
    product(1);
  });
  other.join();
  EXPECT_TRUE(profile.parts().empty());
}

TEST_F(PartProfileTest, OneProfileAtATimePerThread) {
  const PartProfile profile;
  EXPECT_THROW(PartProfile second, Error);
  // The refused one leaves the first recording.
  {
    const PartScope part("still");
    product(1);
  }
  ASSERT_EQ(profile.parts().size(), 1u);
  EXPECT_EQ(profile.parts()[0].weight_bytes, 24 * 40 * 2);
}

}  // namespace
}  // namespace llama4
