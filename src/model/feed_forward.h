// Feed-forward blocks: the dense SwiGLU MLP and the mixture of experts with a shared expert.
#pragma once

#include <cstdint>

#include "model/weights.h"

namespace llama4 {

// out = down( silu(gate x) ⊙ up x ) for n tokens; x, out: [n, H].
void swiglu_block(const SwiGluWeights& weights, const float* x, std::int64_t n, float* out);

// Llama 4 MoE for n tokens:
//   router logits r = W_r x; the top_k experts by raw logit are chosen (ties → lower index);
//   each chosen expert e sees its input scaled by g_e = sigmoid(r_e) — the gate scales the expert's
//   INPUT, and since SwiGLU is not homogeneous this differs from scaling its output;
//   out = shared_expert(x) + Σ_e expert_e(g_e · x).
// Tokens are grouped by expert so each expert runs one batched product.
void moe_block(const MoeWeights& weights, std::int64_t top_k, const float* x, std::int64_t n,
               std::int64_t hidden, float* out);

}  // namespace llama4
