// prefetch_to_l2: asks for a cache line ahead of a streaming kernel's loads.
// prefetch_to_l1: asks for one a few loads ahead.
// rows_apart_for_streams: how far apart the rows a kernel reads side by side should lie.
//
// The streaming kernels call it for the weights one tile ahead: a core's own demand loads and the
// hardware prefetchers do not keep enough misses in flight while the core also computes. On one
// core of the test machine (bench_kernels, Scout's expert shape) it lifted bf16 rows from 17 to
// 20-21 GB/s, 8-bit rows from 10 to 17 GB/s and 4-bit rows from 8 to 11 GB/s (a plain sum of the
// same bytes: 22-26 GB/s). L2 rather than L1: the line is needed a whole tile later.
//
// always_inline is load-bearing: without it GCC 12 emitted no prefetch at all in the kernels that
// are themselves force-inlined Highway tile functions (FloatRowTile, QuantRowTile) — the call
// disappeared — while keeping those of the other kernels. `objdump -d` of the kernels library
// shows a `prefetcht1` in every streaming loop.
#pragma once

#include <cstdint>

namespace llama4 {

inline constexpr std::int64_t kCacheLineBytes = 64;

// Rows a kernel that reads several rows side by side should take apart (1, 2 or 4), so that each
// row it reads lies in a 4 KiB page of its own: rows shorter than a page, read in consecutive
// order, put two or more streams in one page, and two threads reading 16 rows of 2560 bytes that
// way drew 27 GB/s where rows 5120 bytes apart drew 30.5 (a microbenchmark of the VNNI decode
// kernel's loads and dot products, with the next group's bytes asked for).
inline constexpr std::int64_t kStreamPageBytes = 4096;
// At most 4 apart, so that a block (4 groups of 16 rows) spans 64 rows; rows under 1 KiB then
// stay closer than a page.
inline constexpr std::int64_t kMaxRowsApart = 4;
constexpr std::int64_t rows_apart_for_streams(std::int64_t row_bytes) {
  std::int64_t step = 1;
  while (step < kMaxRowsApart && step * row_bytes < kStreamPageBytes) step *= 2;
  return step;
}

// `byte_offset` bytes from `base`; the address is formed as an integer because it may lie past
// the end of the matrix, which a prefetch tolerates (it never faults).
__attribute__((always_inline)) inline void prefetch_to_l2(const void* base,
                                                          std::int64_t byte_offset) {
  const auto address =
      reinterpret_cast<std::uintptr_t>(base) + static_cast<std::uintptr_t>(byte_offset);
  __builtin_prefetch(reinterpret_cast<const void*>(address), 0, 2);
}

// The same into L1, for a line needed a few loads later: a kernel whose lines wait in L2 (asked for
// by prefetch_to_l2) would otherwise wait for each as it loads it.
__attribute__((always_inline)) inline void prefetch_to_l1(const void* base,
                                                          std::int64_t byte_offset) {
  const auto address =
      reinterpret_cast<std::uintptr_t>(base) + static_cast<std::uintptr_t>(byte_offset);
  __builtin_prefetch(reinterpret_cast<const void*>(address), 0, 3);
}

// Every line of [base + byte_offset, base + byte_offset + bytes).
__attribute__((always_inline)) inline void prefetch_range_to_l2(const void* base,
                                                                std::int64_t byte_offset,
                                                                std::int64_t bytes) {
  for (std::int64_t b = 0; b < bytes; b += kCacheLineBytes) prefetch_to_l2(base, byte_offset + b);
}

}  // namespace llama4
