// ForcedKernel: the kernel a test or benchmark asked a family of bit-identical kernels (int8 or
// bf16 activations) to use instead of the fastest one the CPU runs. Set rarely, read on every
// product, so it is a relaxed atomic.
#pragma once

#include <atomic>
#include <optional>

namespace llama4 {

template <typename Kernel>
class ForcedKernel {
 public:
  // The forced kernel, or `fastest` when none is forced.
  Kernel or_else(Kernel fastest) const {
    const int forced = forced_.load(std::memory_order_relaxed);
    return forced < 0 ? fastest : static_cast<Kernel>(forced);
  }
  // std::nullopt: back to the fastest.
  void set(std::optional<Kernel> kernel) {
    forced_.store(kernel ? static_cast<int>(*kernel) : -1, std::memory_order_relaxed);
  }

 private:
  std::atomic<int> forced_{-1};
};

}  // namespace llama4
