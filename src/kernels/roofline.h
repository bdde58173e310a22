// Machine limits for roofline figures, measured rather than looked up: the multi-threaded read
// bandwidth of main memory (decode is bound by it) and the arithmetic peaks of the instructions
// the kernels use or could use (prefill is bound by them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "util/huge_pages.h"

namespace llama4 {

// A buffer large enough that the last-level cache cannot serve a sizeable part of a streaming
// read of it: 8 times that cache, at least 1 GiB, at most a quarter of the RAM. On a machine with a
// 480 MB cache a 1 GiB buffer was not enough: decoding kernels cycling through 1 GiB of weights
// read 23-27 GB/s where 4 GiB gave 17-20, and the probe read 26-29 against 22-25 GB/s.
std::size_t uncached_read_bytes();

// Bytes per second of a streaming read (sum) of a `bytes`-sized buffer by `threads` threads, the
// best of `repeats` passes after one warm-up pass. The buffer lies in huge pages, as the engine
// asks for its weights (util/huge_pages.h), or in 4 KiB pages, to show what those would cost.
double measure_read_bandwidth(std::size_t bytes, int threads, int repeats,
                              PageSize pages = PageSize::kHuge);

// Floating-point operations per second (an FMA counts 2) of independent f32 FMA chains on the
// best SIMD target, all `threads` threads busy: the best of several passes.
double measure_f32_fma_peak(int threads);

// Same for the AVX-512 BF16 dot product (vdpbf16ps: 2 products and 2 adds per f32 lane) and the
// VNNI int8 dot product (vpdpbusd: 4 products and 4 adds per i32 lane), when the CPU has them.
std::optional<double> measure_bf16_dot_peak(int threads);
std::optional<double> measure_int8_dot_peak(int threads);
// And of AMX-INT8's tile product (tdpbsud on full 16 × 64-byte tiles: 16 · 16 · 64 products and
// adds), when the CPU and the OS let this process use it.
std::optional<double> measure_amx_int8_peak(int threads);
// And of AMX-BF16's (tdpbf16ps on full tiles: 16 · 16 · 32 products and adds).
std::optional<double> measure_amx_bf16_peak(int threads);

// All of the peaks above, as one measurement. A shared host's arithmetic speed drifts over
// seconds: two `llama4 bench` runs minutes apart measured the int8 dot peak at 774 and 1285 GOP/s.
// A peak measured in a slow moment overstates how close the kernels come to it, so bench measures
// before and after its tests and keeps the better of the two (keep_best), for each peak on its own.
struct ComputePeaks {
  double f32_fma = 0.0;
  std::optional<double> bf16_dot, int8_dot, amx_int8, amx_bf16;

  void keep_best(const ComputePeaks& other);
};
ComputePeaks measure_compute_peaks(int threads);

}  // namespace llama4
