// Peak-measuring micro-kernels; see roofline.h. The f32 kernel is compiled per Highway target and
// dispatched like the matrix kernels (so it measures what they can reach); the bf16 and int8 dot
// kernels use the one instruction each exists for, behind a CPU feature check.
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4)
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/roofline_simd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include "kernels/amx.h"
#include "kernels/bf16_kernels.h"
#include "kernels/int8_kernels.h"
#include "kernels/roofline.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Outside the per-target namespace, so defined once although this file is included per target.
#ifndef LLAMA4_KERNELS_ROOFLINE_CONSTANTS
#define LLAMA4_KERNELS_ROOFLINE_CONSTANTS
namespace llama4 {
namespace roofline_detail {

// Independent accumulator chains: enough to cover FMA latency × throughput on current cores.
inline constexpr int kChains = 12;
// Iterations of one timed pass (each iteration issues kChains instructions; ~15 ms per pass),
// and passes per peak: the best pass counts, so a pass another process slowed does not lower it.
inline constexpr std::int64_t kComputeIterations = 5'000'000;
inline constexpr int kPeakPasses = 5;

}  // namespace roofline_detail
}  // namespace llama4
#endif

HWY_BEFORE_NAMESPACE();
namespace llama4 {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Returns the number of floating-point operations done by this thread.
double FmaChains(std::int64_t iterations, float* sink) {
  using roofline_detail::kChains;
  const hn::ScalableTag<float> df;
  using V = hn::Vec<decltype(df)>;
  V acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = hn::Set(df, static_cast<float>(c));
  const V a = hn::Set(df, 0.999999f), b = hn::Set(df, 1e-7f);
  for (std::int64_t i = 0; i < iterations; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = hn::MulAdd(acc[c], a, b);
  V total = acc[0];
  for (int c = 1; c < kChains; ++c) total = hn::Add(total, acc[c]);
  *sink = hn::GetLane(hn::SumOfLanes(df, total));
  return 2.0 * static_cast<double>(iterations) * kChains * static_cast<double>(hn::Lanes(df));
}

// Sums `count` floats (the read-bandwidth probe); four accumulators keep loads in flight.
float SumFloats(const float* data, std::int64_t count) {
  const hn::ScalableTag<float> df;
  const auto n = static_cast<std::int64_t>(hn::Lanes(df));
  auto s0 = hn::Zero(df), s1 = hn::Zero(df), s2 = hn::Zero(df), s3 = hn::Zero(df);
  std::int64_t i = 0;
  for (; i + 4 * n <= count; i += 4 * n) {
    s0 = hn::Add(s0, hn::LoadU(df, data + i));
    s1 = hn::Add(s1, hn::LoadU(df, data + i + n));
    s2 = hn::Add(s2, hn::LoadU(df, data + i + 2 * n));
    s3 = hn::Add(s3, hn::LoadU(df, data + i + 3 * n));
  }
  float total = hn::GetLane(hn::SumOfLanes(df, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3))));
  for (; i < count; ++i) total += data[i];
  return total;
}

}  // namespace HWY_NAMESPACE
}  // namespace llama4
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace llama4 {
HWY_EXPORT(FmaChains);
HWY_EXPORT(SumFloats);

namespace {

using Clock = std::chrono::steady_clock;
using roofline_detail::kChains;
using roofline_detail::kComputeIterations;

// Runs `per_thread` (returning the operations it did) on `threads` threads kPeakPasses times;
// operations per second of the fastest pass.
template <typename PerThread>
double run_threads(int threads, PerThread per_thread) {
  double best = 0.0;
  for (int pass = 0; pass < roofline_detail::kPeakPasses; ++pass) {
    double total_ops = 0.0;
    const auto start = Clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : total_ops)
    total_ops += per_thread();
    const std::chrono::duration<double> elapsed = Clock::now() - start;
    best = std::max(best, total_ops / elapsed.count());
  }
  return best;
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f,avx512bf16"))) double bf16_dot_chains(std::int64_t iterations,
                                                                     float* sink) {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(static_cast<float>(c));
  const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80);  // bf16 1.0
  const __m512bh b = (__m512bh)_mm512_set1_epi16(0x3380);  // bf16 ≈ 6e-8
  for (std::int64_t i = 0; i < iterations; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_dpbf16_ps(acc[c], a, b);
  __m512 total = acc[0];
  for (int c = 1; c < kChains; ++c) total = _mm512_add_ps(total, acc[c]);
  *sink = _mm512_reduce_add_ps(total);
  constexpr double kOpsPerLane = 4.0;  // two products, two additions
  constexpr double kLanes = 16.0;
  return kOpsPerLane * kLanes * static_cast<double>(iterations) * kChains;
}

__attribute__((target("avx512f,avx512vnni"))) double int8_dot_chains(std::int64_t iterations,
                                                                     int* sink) {
  __m512i acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_epi32(c);
  const __m512i a = _mm512_set1_epi8(1), b = _mm512_set1_epi8(1);
  for (std::int64_t i = 0; i < iterations; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_dpbusd_epi32(acc[c], a, b);
  __m512i total = acc[0];
  for (int c = 1; c < kChains; ++c) total = _mm512_add_epi32(total, acc[c]);
  *sink = _mm512_reduce_add_epi32(total);
  constexpr double kOpsPerLane = 8.0;  // four products, four additions
  constexpr double kLanes = 16.0;
  return kOpsPerLane * kLanes * static_cast<double>(iterations) * kChains;
}
#endif

}  // namespace

std::size_t uncached_read_bytes() {
  constexpr std::size_t kMinimum = std::size_t{1} << 30;
  constexpr std::size_t kCacheMultiple = 8, kRamFraction = 4;
  const long cache = ::sysconf(_SC_LEVEL3_CACHE_SIZE);
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  std::size_t bytes =
      std::max(kMinimum, kCacheMultiple * static_cast<std::size_t>(std::max(0L, cache)));
  if (pages > 0 && page > 0)
    bytes = std::min(bytes, std::max(kMinimum, static_cast<std::size_t>(pages) *
                                                   static_cast<std::size_t>(page) / kRamFraction));
  return bytes;
}

double measure_read_bandwidth(std::size_t bytes, int threads, int repeats, PageSize pages) {
  const std::size_t count = bytes / sizeof(float);
  const std::size_t bytes_allocated = count * sizeof(float);
  const auto release = [bytes_allocated](float* p) { free_pages(p, bytes_allocated); };
  std::unique_ptr<float[], decltype(release)> buffer(
      static_cast<float*>(allocate_pages(bytes_allocated, pages)), release);
  // First touch from the threads that will read, so pages are spread the same way.
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::size_t i = 0; i < count; ++i) buffer[i] = 1.0f;
  double best = 0.0;
  volatile float sink = 0.0f;
  for (int pass = 0; pass <= repeats; ++pass) {  // pass 0 warms up
    float total = 0.0f;
    const auto start = Clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
      const std::size_t id = static_cast<std::size_t>(omp_get_thread_num());
      const std::size_t n = static_cast<std::size_t>(omp_get_num_threads());
      const std::size_t begin = count * id / n, end = count * (id + 1) / n;
      total += HWY_DYNAMIC_DISPATCH(SumFloats)(buffer.get() + begin,
                                               static_cast<std::int64_t>(end - begin));
    }
    const std::chrono::duration<double> elapsed = Clock::now() - start;
    sink = sink + total;
    if (pass > 0)
      best = std::max(best, static_cast<double>(count * sizeof(float)) / elapsed.count());
  }
  return best;
}

double measure_f32_fma_peak(int threads) {
  return run_threads(threads, [] {
    float sink = 0.0f;
    const double ops = HWY_DYNAMIC_DISPATCH(FmaChains)(kComputeIterations, &sink);
    return sink == 12345.0f ? 0.0 : ops;  // uses the result so the loop cannot be removed
  });
}

std::optional<double> measure_bf16_dot_peak(int threads) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (!__builtin_cpu_supports("avx512bf16")) return std::nullopt;
  return run_threads(threads, [] {
    float sink = 0.0f;
    const double ops = bf16_dot_chains(kComputeIterations, &sink);
    return sink == 12345.0f ? 0.0 : ops;
  });
#else
  (void)threads;
  return std::nullopt;
#endif
}

std::optional<double> measure_int8_dot_peak(int threads) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (!__builtin_cpu_supports("avx512vnni")) return std::nullopt;
  return run_threads(threads, [] {
    int sink = 0;
    const double ops = int8_dot_chains(kComputeIterations, &sink);
    return sink == 12345 ? 0.0 : ops;
  });
#else
  (void)threads;
  return std::nullopt;
#endif
}

std::optional<double> measure_amx_int8_peak(int threads) {
  if (!int8::cpu_runs_amx_kernel()) return std::nullopt;
  return run_threads(
      threads, [] { return amx::product_chains(amx::Product::kInt8, kComputeIterations / 16); });
}

std::optional<double> measure_amx_bf16_peak(int threads) {
  if (!bf16::cpu_runs_amx_kernel()) return std::nullopt;
  return run_threads(
      threads, [] { return amx::product_chains(amx::Product::kBf16, kComputeIterations / 16); });
}

namespace {

void keep_larger(std::optional<double>& kept, const std::optional<double>& other) {
  if (other && (!kept || *other > *kept)) kept = other;
}

}  // namespace

void ComputePeaks::keep_best(const ComputePeaks& other) {
  f32_fma = std::max(f32_fma, other.f32_fma);
  keep_larger(bf16_dot, other.bf16_dot);
  keep_larger(int8_dot, other.int8_dot);
  keep_larger(amx_int8, other.amx_int8);
  keep_larger(amx_bf16, other.amx_bf16);
}

ComputePeaks measure_compute_peaks(int threads) {
  ComputePeaks peaks;
  peaks.f32_fma = measure_f32_fma_peak(threads);
  peaks.bf16_dot = measure_bf16_dot_peak(threads);
  peaks.int8_dot = measure_int8_dot_peak(threads);
  peaks.amx_int8 = measure_amx_int8_peak(threads);
  peaks.amx_bf16 = measure_amx_bf16_peak(threads);
  return peaks;
}

}  // namespace llama4
#endif  // HWY_ONCE
