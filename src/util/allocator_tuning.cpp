// Allocator settings for inference; see allocator_tuning.h.
#include "util/allocator_tuning.h"

#include <cstdlib>  // defines __GLIBC__ where it applies

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace llama4 {

void keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  constexpr int kMiB = 1 << 20;
  mallopt(M_MMAP_THRESHOLD, 32 * kMiB);  // glibc's largest: bigger blocks are still mapped
  mallopt(M_TRIM_THRESHOLD, -1);         // never return the top of the heap
  mallopt(M_TOP_PAD, 64 * kMiB);         // fewer, larger extensions of the heap
#endif
}

}  // namespace llama4
