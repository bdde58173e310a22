// Rounding of activations to int8, or to 16 bits in two int8 planes (see int8_kernels.h for the
// layout), compiled once per Highway target (foreach_target.h re-includes this file); the HWY_ONCE
// section dispatches at run time.
// Every product with int8 activations rounds its whole input first, so done one value at a time
// this took about a tenth of a 4-bit prompt.
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4)
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/int8_rounding_simd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/int8_kernels.h"

HWY_BEFORE_NAMESPACE();
namespace llama4::int8 {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Stores the 32 levels of one unit in quad order for 4-bit rows: per 8 inputs, the 4 even ones
// then the 4 odd ones (the same byte shuffle in each 16-byte half).
HWY_INLINE void StoreQuadOrder4(const std::int8_t* in_order, std::int8_t* out) {
#if HWY_TARGET == HWY_SCALAR  // no 16-byte vectors
  for (std::int64_t j = 0; j < kActivationUnit; ++j) out[quad_order(4, j)] = in_order[j];
#else
  const hn::Full128<std::int8_t> d16;
  alignas(16) static constexpr std::int8_t kEvenThenOdd[16] = {0, 2,  4,  6,  1, 3,  5,  7,
                                                               8, 10, 12, 14, 9, 11, 13, 15};
  const auto shuffle = hn::Load(d16, kEvenThenOdd);
  for (std::int64_t half = 0; half < 2; ++half)
    hn::StoreU(hn::TableLookupBytes(hn::LoadU(d16, in_order + 16 * half), shuffle), d16,
               out + 16 * half);
#endif
}

// A block's `block` levels in the order `bits`-bit rows read them (see int8_kernels.h).
HWY_INLINE void StoreBlock(const std::int8_t* in_order, int bits, std::int64_t block,
                           std::int8_t* out) {
  if (bits != 4) {
    std::memcpy(out, in_order, static_cast<std::size_t>(block));
    return;
  }
  for (std::int64_t unit = 0; unit < block; unit += kActivationUnit)
    StoreQuadOrder4(in_order + unit, out + unit);
}

// One token: levels[in] (and low_levels[in] when given) in quad order, block_scales[in / block]
// and group_sums[in / group_size] (each group's values added lane by lane, then across the
// lanes).
void RoundToken(const float* x, std::int64_t in, int bits, std::int64_t block, int group_size,
                std::int8_t* levels, std::int8_t* low_levels, float* block_scales,
                float* group_sums) {
  const hn::ScalableTag<float> d;
  const hn::Rebind<std::int32_t, decltype(d)> di;
  const hn::Rebind<std::int8_t, decltype(d)> d8;
  const auto lanes = static_cast<std::int64_t>(hn::Lanes(d));
  const bool two_planes = low_levels != nullptr;
  const float top = static_cast<float>(two_planes ? kMaxLevel16 : kMaxLevel);
  const auto max_level = hn::Set(d, top);
  const auto half_radix = hn::Set(di, kPlaneRadix / 2);
  for (std::int64_t b = 0; b < in / block; ++b) {
    const float* xb = x + b * block;
    auto max_abs = hn::Zero(d);
    bool finite = true;
    for (std::int64_t j = 0; j < block; j += lanes) {
      const auto v = hn::LoadU(d, xb + j);
      finite = finite && hn::AllTrue(d, hn::IsFinite(v));
      max_abs = hn::Max(max_abs, hn::Abs(v));
    }
    // A block holding Inf or NaN gets a NaN scale and zero levels: its outputs become NaN, as
    // they would with f32 activations, and no non-finite value is ever converted to an integer.
    const float scale = finite ? hn::GetLane(hn::MaxOfLanes(d, max_abs)) / top
                               : std::numeric_limits<float>::quiet_NaN();
    block_scales[b] = scale;
    alignas(16) std::int8_t high[kWideActivationBlock] = {}, low[kWideActivationBlock] = {};
    if (finite && scale != 0.0f) {
      // x / scale rounded to nearest (ties to even), as std::nearbyint does; |x| ≤ max|x| keeps
      // it within ±top but for the division's own rounding, which the clamp absorbs.
      const auto divisor = hn::Set(d, scale);
      for (std::int64_t j = 0; j < block; j += lanes) {
        const auto level = hn::ConvertTo(
            di,
            hn::Min(hn::Max(hn::Round(hn::Div(hn::LoadU(d, xb + j), divisor)), hn::Neg(max_level)),
                    max_level));
        if (!two_planes) {
          hn::StoreU(hn::DemoteTo(d8, level), d8, high + j);
          continue;
        }
        // high = ⌊(level + 128) / 256⌋ ∈ [-127, 127], low = level − 256 · high ∈ [-128, 127].
        const auto level_high = hn::ShiftRight<kPlaneShift>(hn::Add(level, half_radix));
        hn::StoreU(hn::DemoteTo(d8, level_high), d8, high + j);
        hn::StoreU(hn::DemoteTo(d8, hn::Sub(level, hn::ShiftLeft<kPlaneShift>(level_high))), d8,
                   low + j);
      }
    }
    StoreBlock(high, bits, block, levels + b * block);
    if (two_planes) StoreBlock(low, bits, block, low_levels + b * block);
  }
  for (std::int64_t g = 0; g < in / group_size; ++g) {
    auto sum = hn::Zero(d);
    for (std::int64_t j = g * group_size; j < (g + 1) * group_size; j += lanes)
      sum = hn::Add(sum, hn::LoadU(d, x + j));
    group_sums[g] = hn::GetLane(hn::SumOfLanes(d, sum));
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace llama4::int8
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace llama4::int8 {

HWY_EXPORT(RoundToken);

void round_token(const float* x, std::int64_t in, int bits, std::int64_t block, int group_size,
                 std::int8_t* levels, std::int8_t* low_levels, float* block_scales,
                 float* group_sums) {
  HWY_DYNAMIC_DISPATCH(RoundToken)
  (x, in, bits, block, group_size, levels, low_levels, block_scales, group_sums);
}

}  // namespace llama4::int8
#endif  // HWY_ONCE
