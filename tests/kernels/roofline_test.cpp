// ComputePeaks: the better of two measurements of each peak, a peak one of them lacks taken from
// the other, and a measurement that has the peaks this CPU's instructions allow.
#include "kernels/roofline.h"

#include <gtest/gtest.h>

namespace llama4 {
namespace {

constexpr double kGiga = 1e9;

TEST(ComputePeaks, EachPeakKeepsTheBetterOfTwoMeasurements) {
  ComputePeaks kept;
  kept.f32_fma = 300 * kGiga;
  kept.bf16_dot = 170 * kGiga;
  kept.int8_dot = 774 * kGiga;
  kept.amx_int8 = 7900 * kGiga;
  ComputePeaks later;
  later.f32_fma = 350 * kGiga;
  later.bf16_dot = 160 * kGiga;
  later.int8_dot = 1285 * kGiga;
  later.amx_int8 = 7800 * kGiga;
  kept.keep_best(later);
  EXPECT_EQ(kept.f32_fma, 350 * kGiga);
  EXPECT_EQ(kept.bf16_dot, 170 * kGiga);
  EXPECT_EQ(kept.int8_dot, 1285 * kGiga);
  EXPECT_EQ(kept.amx_int8, 7900 * kGiga);
  EXPECT_FALSE(kept.amx_bf16.has_value());
}

TEST(ComputePeaks, APeakOnlyOneMeasurementHasIsKept) {
  ComputePeaks kept;
  kept.int8_dot = 800 * kGiga;
  ComputePeaks later;
  later.amx_bf16 = 5300 * kGiga;
  kept.keep_best(later);
  EXPECT_EQ(kept.int8_dot, 800 * kGiga);
  EXPECT_EQ(kept.amx_bf16, 5300 * kGiga);
}

TEST(ComputePeaks, AMeasurementHasThePeaksOfThisCpu) {
  const ComputePeaks peaks = measure_compute_peaks(1);
  EXPECT_GT(peaks.f32_fma, 0.0);
  EXPECT_EQ(peaks.bf16_dot.has_value(), measure_bf16_dot_peak(1).has_value());
  EXPECT_EQ(peaks.int8_dot.has_value(), measure_int8_dot_peak(1).has_value());
  EXPECT_EQ(peaks.amx_int8.has_value(), measure_amx_int8_peak(1).has_value());
  EXPECT_EQ(peaks.amx_bf16.has_value(), measure_amx_bf16_peak(1).has_value());
  if (peaks.int8_dot) {
    EXPECT_GT(*peaks.int8_dot, 0.0);
  }
}

}  // namespace
}  // namespace llama4
