// Where a forward pass spends its time, part by part, for `llama4 bench --profile`: the model marks
// its parts (attention projections, attention, router, shared expert, routed experts, ...) with
// PartScope, and every matrix product adds the weight bytes it read and the FLOPs it did to the
// part it runs in. The totals turn "decoding reaches 65% of the measured bandwidth" into which
// products stream slower than the rest and where the time outside the products goes.
//
// Recording is per thread and off unless a PartProfile lives on the thread that runs the forward
// pass (products parallelize inside, on that thread's behalf); without one, a scope costs a
// thread-local read.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/matrix.h"

namespace llama4 {

struct PartTotals {
  std::string name;
  double seconds = 0.0;
  std::int64_t weight_bytes = 0;  // stored bytes of the weights the part's products read
  double flops = 0.0;             // 2 · in · out per token and product
};

// Records the parts entered on this thread while it lives. One at a time per thread.
class PartProfile {
 public:
  PartProfile();
  ~PartProfile();
  PartProfile(const PartProfile&) = delete;
  PartProfile& operator=(const PartProfile&) = delete;

  // The parts in the order first entered.
  const std::vector<PartTotals>& parts() const { return parts_; }

 private:
  friend class PartScope;
  friend void count_product(const Matrix& w, std::int64_t n_tokens);

  std::size_t index_of(const char* name);

  std::vector<PartTotals> parts_;
  std::int64_t current_ = -1;  // index of the part the thread is in, -1 outside every part
};

// Marks the code in its scope as part `name` (a string literal) of the forward pass. Scopes may
// nest: time then counts in both, products in the innermost.
class PartScope {
 public:
  explicit PartScope(const char* name);
  ~PartScope();
  PartScope(const PartScope&) = delete;
  PartScope& operator=(const PartScope&) = delete;

 private:
  PartProfile* profile_;
  std::int64_t outer_ = -1;
  std::size_t index_ = 0;
  std::chrono::steady_clock::time_point start_;
};

// Called by linear() for every product: adds its weight bytes and FLOPs to the current part.
void count_product(const Matrix& w, std::int64_t n_tokens);

}  // namespace llama4
