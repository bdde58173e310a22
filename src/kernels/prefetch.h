// prefetch_to_l2: asks for a cache line ahead of a streaming kernel's loads.
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

// `byte_offset` bytes from `base`; the address is formed as an integer because it may lie past
// the end of the matrix, which a prefetch tolerates (it never faults).
__attribute__((always_inline)) inline void prefetch_to_l2(const void* base,
                                                          std::int64_t byte_offset) {
  const auto address =
      reinterpret_cast<std::uintptr_t>(base) + static_cast<std::uintptr_t>(byte_offset);
  __builtin_prefetch(reinterpret_cast<const void*>(address), 0, 2);
}

// Every line of [base + byte_offset, base + byte_offset + bytes).
__attribute__((always_inline)) inline void prefetch_range_to_l2(const void* base,
                                                                std::int64_t byte_offset,
                                                                std::int64_t bytes) {
  for (std::int64_t b = 0; b < bytes; b += kCacheLineBytes) prefetch_to_l2(base, byte_offset + b);
}

}  // namespace llama4
