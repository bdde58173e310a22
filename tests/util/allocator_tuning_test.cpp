// keep_freed_memory_for_reuse: once the process has held a prompt's worth of large blocks, freeing
// and allocating them again takes no page faults (with glibc's defaults it faults on every page
// again, as the heap's free top is trimmed back to the kernel).
#include "util/allocator_tuning.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <array>
#include <cstdlib>
#include <cstring>

namespace llama4 {
namespace {

long minor_page_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

constexpr std::size_t kBlockBytes = std::size_t{24} << 20;  // like a 512-token activation matrix
constexpr long kPagesPerRound = 3 * static_cast<long>(kBlockBytes / 4096);

// Allocates three blocks, writes every page of each, frees them; returns the page faults taken.
long round_of_blocks() {
  const long before = minor_page_faults();
  std::array<char*, 3> blocks{};
  for (char*& block : blocks) {
    block = static_cast<char*>(std::malloc(kBlockBytes));
    std::memset(block, 1, kBlockBytes);
  }
  long sum = 0;
  for (char* block : blocks) sum += block[kBlockBytes / 2];
  for (char* block : blocks) std::free(block);
  EXPECT_EQ(sum, 3);
  return minor_page_faults() - before;
}

TEST(AllocatorTuningTest, FreedBlocksAreReusedWithoutPageFaults) {
  if (std::getenv("LLAMA4_SANITIZED") != nullptr)
    GTEST_SKIP() << "the sanitizers' allocator replaces glibc's";
#if !defined(__GLIBC__)
  GTEST_SKIP() << "the settings are glibc's";
#endif
  keep_freed_memory_for_reuse();
  EXPECT_GT(round_of_blocks(), kPagesPerRound / 2);  // the heap grows: every page is new
  round_of_blocks();
  EXPECT_LT(round_of_blocks(), kPagesPerRound / 100);
}

}  // namespace
}  // namespace llama4
