// One attention block of a decoder layer: projections, RoPE / qk-norm / temperature tuning as the
// layer's LayerSpec says, attention over the visible window only, output projection.
#pragma once

#include <cstdint>

#include "checkpoint/model_config.h"
#include "kernels/rope.h"
#include "model/kv_cache.h"
#include "model/layer_plan.h"
#include "model/weights.h"

namespace llama4 {

// Attention temperature of NoPE layers at absolute position p:
// 1 + attn_scale · ln(1 + floor((p + 1) / floor_scale)). Exactly 1 for p + 1 < floor_scale.
float attention_temperature(const ModelConfig& config, std::int64_t position);

// x: [n, H] normalised input at positions start…start+n-1; out: [n, H]. Appends the batch's keys
// and values to `cache`.
void attention_block(const ModelConfig& config, const LayerSpec& spec, const LayerWeights& weights,
                     const RopeTable& rope, KvCache& cache, const float* x, std::int64_t start,
                     std::int64_t n, float* out);

}  // namespace llama4
