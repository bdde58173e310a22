// The per-thread scratch arena of model/scratch.h: buffers of the size asked for, apart from one
// another, given back when their frame closes so that the next frame reuses the memory, settled
// into one allocation of the peak after a call, and freed after a call that grew it past the kept
// limit. Each test runs on a thread of its own, whose arena starts out empty.
#include "model/scratch.h"

#include <gtest/gtest.h>

#include <thread>

namespace llama4 {
namespace {

template <typename Body>
void on_new_thread(Body body) {
  std::thread(body).join();
}

TEST(Scratch, BuffersHaveTheirSizeAlignmentAndDoNotOverlap) {
  on_new_thread([] {
    ScratchFrame frame;
    const std::span<float> a = frame.take(1000);
    const std::span<float> b = frame.take(3);
    EXPECT_EQ(a.size(), 1000u);
    EXPECT_EQ(b.size(), 3u);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.data()) % 64, 0u);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b.data()) % 64, 0u);
    EXPECT_TRUE(a.data() + a.size() <= b.data() || b.data() + b.size() <= a.data());
  });
}

TEST(Scratch, AClosedFramesMemoryServesTheNextFrame) {
  on_new_thread([] {
    ScratchFrame call;
    const float* residual = call.take(100).data();
    const float* first = nullptr;
    {
      ScratchFrame block;
      first = block.take(5000).data();
    }
    ScratchFrame next_block;
    EXPECT_EQ(next_block.take(4000).data(), first);
    EXPECT_NE(first, residual);
  });
}

TEST(Scratch, SettlesIntoOneAllocationOfThePeak) {
  on_new_thread([] {
    const std::int64_t large = std::int64_t{1} << 20;  // floats: past the first chunk
    {
      ScratchFrame call;
      call.take(large);
      call.take(large);
      call.take(large);
    }
    EXPECT_EQ(scratch_bytes_held(), 3 * large * 4);
    // The next call of the same shape takes all three from that one allocation.
    ScratchFrame call;
    const float* a = call.take(large).data();
    const float* b = call.take(large).data();
    const float* c = call.take(large).data();
    EXPECT_EQ(b, a + large);
    EXPECT_EQ(c, b + large);
    EXPECT_EQ(scratch_bytes_held(), 3 * large * 4);
  });
}

TEST(Scratch, FreesAnArenaGrownPastTheKeptLimit) {
  on_new_thread([] {
    {
      ScratchFrame call;
      call.take(1024);
    }
    const std::int64_t kept = scratch_bytes_held();
    EXPECT_GT(kept, 0);
    {
      ScratchFrame call;
      // Past the limit; its pages are never touched, so never mapped in.
      call.take(kScratchKeptBytes / 4 + 1);
      EXPECT_GT(scratch_bytes_held(), kScratchKeptBytes);
    }
    EXPECT_EQ(scratch_bytes_held(), 0);
  });
}

}  // namespace
}  // namespace llama4
