// One attention block of a decoder layer: projections, RoPE / qk-norm / temperature tuning as the
// layer's LayerSpec says, attention over the visible window only, output projection.
#pragma once

#include <cstdint>
#include <span>

#include "checkpoint/model_config.h"
#include "kernels/rope.h"
#include "model/kv_cache.h"
#include "model/layer_plan.h"
#include "model/weights.h"

namespace llama4 {

// Attention temperature of NoPE layers at absolute position p:
// 1 + attn_scale · ln(1 + floor((p + 1) / floor_scale)). Exactly 1 for p + 1 < floor_scale.
float attention_temperature(const ModelConfig& config, std::int64_t position);

// Consecutive rows of a batch that belong to one sequence: rows [first_row, first_row + n) are
// that sequence's tokens at positions start…start+n-1, attending through `cache`.
struct AttentionSegment {
  std::int64_t first_row;
  std::int64_t n;
  std::int64_t start;
  KvCache* cache;
};

// x: [rows, H] normalised input of every segment; out: [rows, H]. The projections run once over
// all rows (one pass over the weights for the whole batch); positions, attention and caches are
// per segment, so a sequence's result does not depend on what else is in the batch. Appends each
// segment's keys and values to its cache.
void attention_block(const ModelConfig& config, const LayerSpec& spec, const LayerWeights& weights,
                     const RopeTable& rope, std::span<const AttentionSegment> segments,
                     const float* x, std::int64_t rows, float* out);

}  // namespace llama4
