// aligned_row_block (aligned_rows.h): one buffer per thread, grown to the largest block asked for.
#include "kernels/aligned_rows.h"

#include <hwy/aligned_allocator.h>

#include <cstddef>
#include <cstring>

#include "kernels/prefetch.h"

namespace llama4 {

const Matrix* aligned_row_block(const Matrix& w, std::int64_t begin, std::int64_t end) {
  const auto pitch = static_cast<std::int64_t>(w.row_stride * dtype_size(w.dtype));
  const auto* first = static_cast<const std::byte*>(w.data) + begin * pitch;
  if (reinterpret_cast<std::uintptr_t>(first) % kCacheLineBytes == 0 ||
      pitch % kCacheLineBytes != 0)
    return nullptr;
  thread_local hwy::AlignedFreeUniquePtr<std::byte[]> buffer;
  thread_local std::int64_t capacity = 0;
  const std::int64_t bytes = (end - begin) * pitch;
  if (bytes > capacity) {
    buffer = hwy::AllocateAligned<std::byte>(static_cast<std::size_t>(bytes));
    capacity = bytes;
  }
  const auto row_bytes = static_cast<std::size_t>(w.in_features) * dtype_size(w.dtype);
  for (std::int64_t r = 0; r < end - begin; ++r)
    std::memcpy(buffer.get() + r * pitch, first + r * pitch, row_bytes);
  thread_local Matrix block;
  block = w;
  block.data = buffer.get();
  return &block;
}

}  // namespace llama4
