// SiLU gating (silu_mul of vector_ops.h), compiled once per Highway target (foreach_target.h
// re-includes this file); the HWY_ONCE section splits the work among threads and dispatches at
// run time. One exponential per hidden activation of every feed-forward block: computed one
// value at a time with the C library's expf it took about 2% of a prompt.
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4)
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/silu_simd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
// clang-format off: the math functions must follow highway.h, for each target
#include <hwy/contrib/math/math-inl.h>
// clang-format on

#include <algorithm>
#include <cstdint>

#include "kernels/vector_ops.h"

HWY_BEFORE_NAMESPACE();
namespace llama4 {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// gate[i] = gate[i] / (1 + e^-gate[i]) · up[i]. Highway's Exp is defined up to 104 and
// overflows to infinity above ~88.7, as expf does, so the exponent is capped at 104: silu(z) of
// z < -88.7 is then -0, as with expf. A tail shorter than a vector goes through the same vector
// code, so every value is computed alike wherever it lies (a token's result does not depend on
// its batch).
void SiluMul(float* gate, const float* up, std::int64_t n) {
  const hn::ScalableTag<float> d;
  const auto lanes = static_cast<std::int64_t>(hn::Lanes(d));
  const auto one = hn::Set(d, 1.0f);
  const auto max_exponent = hn::Set(d, 104.0f);
  const auto silu_times = [&](auto g, auto u) {
    const auto e = hn::Exp(d, hn::Min(hn::Neg(g), max_exponent));
    return hn::Mul(hn::Div(g, hn::Add(one, e)), u);
  };
  std::int64_t i = 0;
  for (; i + lanes <= n; i += lanes)
    hn::StoreU(silu_times(hn::LoadU(d, gate + i), hn::LoadU(d, up + i)), d, gate + i);
  if (i == n) return;
  HWY_ALIGN float g[hn::MaxLanes(d)] = {}, u[hn::MaxLanes(d)] = {};
  std::copy(gate + i, gate + n, g);
  std::copy(up + i, up + n, u);
  hn::Store(silu_times(hn::Load(d, g), hn::Load(d, u)), d, g);
  std::copy(g, g + (n - i), gate + i);
}

}  // namespace HWY_NAMESPACE
}  // namespace llama4
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace llama4 {

HWY_EXPORT(SiluMul);

void silu_mul(float* gate, const float* up, std::int64_t n) {
  constexpr std::int64_t kChunk = 4096;  // values per work item
  const std::int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (n >= kParallelElements)
  for (std::int64_t c = 0; c < chunks; ++c) {
    const std::int64_t begin = c * kChunk;
    HWY_DYNAMIC_DISPATCH(SiluMul)(gate + begin, up + begin, std::min(kChunk, n - begin));
  }
}

}  // namespace llama4
#endif  // HWY_ONCE
