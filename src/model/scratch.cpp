// The per-thread scratch arena; see scratch.h.
#include "model/scratch.h"

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <vector>

namespace llama4 {

namespace {

constexpr std::int64_t kAlignFloats = 16;                        // a 64-byte cache line
constexpr std::int64_t kMinChunkFloats = std::int64_t{1} << 18;  // 1 MiB

struct AlignedDelete {
  void operator()(float* p) const { ::operator delete[](p, std::align_val_t{64}); }
};
using Floats = std::unique_ptr<float[], AlignedDelete>;

Floats allocate(std::int64_t count) {
  return Floats(static_cast<float*>(
      ::operator new[](static_cast<std::size_t>(count) * sizeof(float), std::align_val_t{64})));
}

struct Chunk {
  Floats data;
  std::int64_t size = 0;
};

// Buffers are taken from chunks[current] at `offset`; when one does not fit there, the next
// chunk takes it (allocated for it if need be). Once the outermost frame closes, an arena that
// needed several chunks is replaced by one that holds its peak, `most_in_use`, so that from the
// next call on it grows no more.
struct Arena {
  std::vector<Chunk> chunks;
  std::int64_t current = 0, offset = 0;
  std::int64_t in_use = 0, most_in_use = 0;  // floats taken and not given back, with the gaps
  int open_frames = 0;

  float* take(std::int64_t count) {
    count = (count + kAlignFloats - 1) / kAlignFloats * kAlignFloats;
    if (chunks.empty() || offset + count > chunks[static_cast<std::size_t>(current)].size) {
      if (!chunks.empty()) {  // on to the next chunk, leaving a gap in this one
        in_use += chunks[static_cast<std::size_t>(current)].size - offset;
        ++current;
        offset = 0;
      }
      const auto next = static_cast<std::size_t>(current);
      if (next == chunks.size() || chunks[next].size < count) {
        chunks.resize(next);  // those after it are free: the frames that used them have closed
        const std::int64_t size = std::max(count, kMinChunkFloats);
        chunks.push_back({allocate(size), size});
      }
    }
    float* p = chunks[static_cast<std::size_t>(current)].data.get() + offset;
    offset += count;
    in_use += count;
    most_in_use = std::max(most_in_use, in_use);
    return p;
  }

  // After the outermost frame: one chunk of the peak for the next call, or nothing when the peak
  // was past the kept limit.
  void settle() {
    const std::int64_t peak = most_in_use;
    most_in_use = 0;
    if (peak * static_cast<std::int64_t>(sizeof(float)) > kScratchKeptBytes) {
      chunks.clear();
      return;
    }
    if (chunks.size() > 1) {
      chunks.clear();
      chunks.push_back({allocate(peak), peak});
    }
  }
};

Arena& thread_arena() {
  thread_local Arena arena;
  return arena;
}

}  // namespace

ScratchFrame::ScratchFrame() {
  Arena& arena = thread_arena();
  chunk_ = arena.current;
  offset_ = arena.offset;
  in_use_ = arena.in_use;
  ++arena.open_frames;
}

ScratchFrame::~ScratchFrame() {
  Arena& arena = thread_arena();
  arena.current = chunk_;
  arena.offset = offset_;
  arena.in_use = in_use_;
  if (--arena.open_frames == 0) arena.settle();
}

std::span<float> ScratchFrame::take(std::int64_t count) {
  return {thread_arena().take(count), static_cast<std::size_t>(count)};
}

std::int64_t scratch_bytes_held() {
  std::int64_t floats = 0;
  for (const Chunk& chunk : thread_arena().chunks) floats += chunk.size;
  return floats * static_cast<std::int64_t>(sizeof(float));
}

}  // namespace llama4
