// Feed-forward blocks; see feed_forward.h.
#include "model/feed_forward.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "kernels/linear.h"
#include "kernels/part_profile.h"
#include "kernels/vector_ops.h"

namespace llama4 {

void swiglu_block(const SwiGluWeights& weights, const float* x, std::int64_t n, float* out) {
  const std::int64_t width = weights.gate.out_features;
  std::vector<float> gate(static_cast<std::size_t>(n * width)), up(gate.size());
  linear(weights.gate, x, n, gate.data());
  linear(weights.up, x, n, up.data());
  silu_mul(gate.data(), up.data(), n * width);
  linear(weights.down, gate.data(), n, out);
}

namespace {

struct Routing {
  std::int64_t token;
  float gate;
};

// For each expert, the tokens routed to it and their gates.
std::vector<std::vector<Routing>> route_tokens(const MoeWeights& weights, std::int64_t top_k,
                                               const float* x, std::int64_t n) {
  const auto n_experts = static_cast<std::int64_t>(weights.experts.size());
  std::vector<float> logits(static_cast<std::size_t>(n * n_experts));
  linear(weights.router, x, n, logits.data());
  std::vector<std::vector<Routing>> by_expert(static_cast<std::size_t>(n_experts));
  std::vector<std::int64_t> order(static_cast<std::size_t>(n_experts));
  for (std::int64_t t = 0; t < n; ++t) {
    const float* r = logits.data() + t * n_experts;
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [r](std::int64_t a, std::int64_t b) { return r[a] > r[b]; });
    for (std::int64_t j = 0; j < top_k; ++j) {
      const std::int64_t e = order[static_cast<std::size_t>(j)];
      const float gate = 1.0f / (1.0f + std::exp(-r[e]));
      by_expert[static_cast<std::size_t>(e)].push_back({t, gate});
    }
  }
  return by_expert;
}

}  // namespace

void moe_block(const MoeWeights& weights, std::int64_t top_k, const float* x, std::int64_t n,
               std::int64_t hidden, float* out) {
  {
    const PartScope part("shared expert");
    swiglu_block(weights.shared_expert, x, n, out);
  }
  const auto by_expert = [&] {
    const PartScope part("router");
    return route_tokens(weights, top_k, x, n);
  }();
  const PartScope part("routed experts");
  std::vector<float> inputs, outputs;
  for (std::size_t e = 0; e < by_expert.size(); ++e) {
    const std::vector<Routing>& routed = by_expert[e];
    if (routed.empty()) continue;
    const auto count = static_cast<std::int64_t>(routed.size());
    inputs.resize(static_cast<std::size_t>(count * hidden));
    outputs.resize(inputs.size());
    // A token is routed to an expert at most once, so its rows are gathered and added back in
    // parallel without two threads touching the same row.
#pragma omp parallel for schedule(static) if (count * hidden >= kParallelElements)
    for (std::int64_t i = 0; i < count; ++i) {
      const Routing& route = routed[static_cast<std::size_t>(i)];
      const float* src = x + route.token * hidden;
      float* dst = inputs.data() + i * hidden;
      for (std::int64_t d = 0; d < hidden; ++d) dst[d] = route.gate * src[d];
    }
    swiglu_block(weights.experts[e], inputs.data(), count, outputs.data());
#pragma omp parallel for schedule(static) if (count * hidden >= kParallelElements)
    for (std::int64_t i = 0; i < count; ++i)
      axpy(1.0f, outputs.data() + i * hidden,
           out + routed[static_cast<std::size_t>(i)].token * hidden, hidden);
  }
}

}  // namespace llama4
