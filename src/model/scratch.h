// Activation buffers that forward passes reuse from one call to the next on the thread that runs
// them: the residual stream, the queries, keys, values and contexts of attention, the gate and up
// products of the feed-forward blocks.
//
// Why: a 512-token prompt of a Scout-sized model takes ~60 MiB of such buffers at a time, and
// took them afresh for every block. Each came from the operating system as new pages, so every
// 4 KiB of it took a page fault and was zeroed twice (by the kernel, then by std::vector): on a
// 2-vCPU virtual machine that was 10–17% of a 4-bit prompt's time, and it showed as "other" in
// `llama4 bench --profile`. Here they come from one arena per thread whose pages stay mapped.
//
// The arena is a stack: a block opens a ScratchFrame, takes its buffers from it, and when the
// frame closes they go back, so the blocks of a layer use the same memory one after another and
// the arena holds no more than the old per-block allocations did at their peak. A buffer's
// contents are whatever an earlier use left there: every caller writes each value before reading
// it.
#pragma once

#include <cstdint>
#include <span>

namespace llama4 {

// When the outermost frame of a thread closes with its arena grown past this (a prompt of
// thousands of tokens), the arena is freed rather than kept for the next call.
constexpr std::int64_t kScratchKeptBytes = std::int64_t{512} << 20;

// Buffers taken from the thread's arena, given back when the frame closes. Frames nest (a block
// within a layer within a forward call) and close in reverse order of opening, as scopes do.
class ScratchFrame {
 public:
  ScratchFrame();
  ~ScratchFrame();
  ScratchFrame(const ScratchFrame&) = delete;
  ScratchFrame& operator=(const ScratchFrame&) = delete;

  // `count` floats, aligned to a cache line, their values unspecified.
  std::span<float> take(std::int64_t count);

 private:
  std::int64_t chunk_;  // where the arena stood when the frame opened
  std::int64_t offset_;
  std::int64_t in_use_;
};

// The bytes this thread's arena holds.
std::int64_t scratch_bytes_held();

}  // namespace llama4
