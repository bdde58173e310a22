// Asking the C library's allocator to keep freed memory for reuse (the `llama4` program does it
// first thing; a program embedding the library may call it too).
#pragma once

namespace llama4 {

// A prompt's activations are tens of megabytes per matrix product, allocated and freed layer
// after layer. By default glibc hands each such block back to the kernel when it is freed (blocks
// above its mmap threshold are unmapped, and free space at the top of the heap is trimmed), so
// the next layer takes page faults and has the kernel zero the same amount again: ~5% of a 4-bit
// int8-activation prompt's samples. This keeps blocks up to 32 MiB in the heap, never trims it,
// and grows it 64 MiB at a time. Peak resident memory is unchanged (freed memory is reused, not
// added); a long-running server keeps its peak. Process-wide; no-op with other C libraries.
void keep_freed_memory_for_reuse();

}  // namespace llama4
