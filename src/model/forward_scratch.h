// Buffers one forward call reuses from layer to layer. A prompt's intermediate activations run
// to megabytes per layer (512 tokens × Scout's 8192-wide expert: 16 MiB each for gate and up).
// Allocated afresh in every layer, each came from new pages that the kernel faults in and zeroes
// and that the allocator hands back at the end of the layer: a few percent of a prompt's time.
// Kept here, they are faulted in once per forward call and freed with it, so memory between calls
// is unchanged.
#pragma once

#include <cstddef>
#include <vector>

namespace llama4 {

struct ForwardScratch {
  std::vector<float> q, k, v, context;               // attention projections and output
  std::vector<float> gate, up;                       // SwiGLU hidden activations
  std::vector<float> router_logits;                  // MoE router, [tokens, experts]
  std::vector<float> expert_inputs, expert_outputs;  // one routed expert's tokens
};

// `buffer`'s data with room for at least n values. It grows but never shrinks, so a buffer that
// was large enough before is neither reallocated nor cleared: callers overwrite what they use.
inline float* scratch_of(std::vector<float>& buffer, std::size_t n) {
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

}  // namespace llama4
