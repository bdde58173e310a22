// Feed-forward blocks; see feed_forward.h.
#include "model/feed_forward.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <optional>
#include <span>
#include <vector>

#include "kernels/linear.h"
#include "kernels/part_profile.h"
#include "kernels/vector_ops.h"
#include "model/scratch.h"

namespace llama4 {

namespace {

// Gate and up as one [H, 2I] matrix when they are the two column halves of HF's fused
// `gate_up_proj` (in-major, gate = columns [0, I), up = [I, 2I), one row stride). One product then
// reads each row of the block in one pass instead of two passes over its halves: decoding the
// gate half of Scout's 32 KiB rows read 14.0–24.3 GB/s (median 19.4) on two threads, whole rows
// 22.3–23.8 (bench_kernels, six alternated runs); in the decode profile of the 2-layer bf16 model
// the routed experts went from 77–78% to 80–84% of the probe. Each column's sum is the same
// either way, so results do not change. Prompts keep the two products: they gained nothing (bf16
// activations pp512 177–183 against 152–182 tokens/s, f32 129 against 127), their weights being
// read once per strip of tokens rather than once per token.
constexpr std::int64_t kGateUpBlockMaxTokens = 4;
std::optional<Matrix> gate_up_block(const SwiGluWeights& weights, std::int64_t n) {
  if (n > kGateUpBlockMaxTokens) return std::nullopt;
  const Matrix& gate = weights.gate;
  const Matrix& up = weights.up;
  const bool halves =
      gate.layout == Matrix::Layout::kInMajor && up.layout == Matrix::Layout::kInMajor &&
      !gate.quantized() && !up.quantized() && gate.dtype == up.dtype &&
      gate.in_features == up.in_features && gate.out_features == up.out_features &&
      gate.row_stride == up.row_stride && gate.row_stride >= 2 * gate.out_features &&
      gate.bf16_activations == up.bf16_activations &&
      static_cast<const std::byte*>(gate.data) +
              gate.out_features * static_cast<std::int64_t>(dtype_size(gate.dtype)) ==
          up.data;
  if (!halves) return std::nullopt;
  Matrix both = gate;
  both.out_features = 2 * gate.out_features;
  return both;
}

}  // namespace

void swiglu_block(const SwiGluWeights& weights, const float* x, std::int64_t n, float* out) {
  const std::int64_t width = weights.gate.out_features;
  ScratchFrame scratch;
  const std::span<float> gate = scratch.take(n * width);
  const std::span<float> up = scratch.take(n * width);
  if (const std::optional<Matrix> both = gate_up_block(weights, n)) {
    const std::span<float> gate_up = scratch.take(2 * n * width);
    linear(*both, x, n, gate_up.data());
    for (std::int64_t t = 0; t < n; ++t) {
      const float* row = gate_up.data() + 2 * t * width;
      std::copy_n(row, width, gate.data() + t * width);
      std::copy_n(row + width, width, up.data() + t * width);
    }
  } else {
    linear(weights.gate, x, n, gate.data());
    linear(weights.up, x, n, up.data());
  }
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
  for (std::size_t e = 0; e < by_expert.size(); ++e) {
    const std::vector<Routing>& routed = by_expert[e];
    if (routed.empty()) continue;
    const auto count = static_cast<std::int64_t>(routed.size());
    ScratchFrame scratch;  // this expert's buffers, given back before the next one's
    const std::span<float> inputs = scratch.take(count * hidden);
    const std::span<float> outputs = scratch.take(count * hidden);
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
