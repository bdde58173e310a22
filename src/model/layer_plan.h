// LayerPlan: what each decoder layer is, decided once from the config and nowhere else.
// Llama 4 interleaves two kinds of attention layer and two kinds of feed-forward layer:
//  - RoPE layers use rotary positions, chunked local attention and (if use_qk_norm) qk-norm;
//  - NoPE layers (every `no_rope_layer_interval`-th, or as `no_rope_layers` says) use no rotary
//    positions, global causal attention and query temperature tuning;
//  - MoE layers (every `interleave_moe_layer_step`-th, or `moe_layers`) route to experts,
//    the others are dense SwiGLU MLPs of width intermediate_size_mlp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "checkpoint/model_config.h"
#include "model/attention_window.h"

namespace llama4 {

struct LayerSpec {
  bool use_rope = true;
  AttentionWindow window;           // chunked for RoPE layers (when chunking is configured)
  bool qk_norm = false;             // weightless per-head RMS norm of q and k after RoPE
  bool temperature_tuning = false;  // scale q by 1 + attn_scale·ln(1 + floor((p+1)/floor_scale))
  bool moe = false;                 // mixture of experts (else dense SwiGLU)
};

class LayerPlan {
 public:
  // Validates the config's lists (length, values, indices) and throws Error naming the field.
  static LayerPlan from_config(const ModelConfig& config);

  const std::vector<LayerSpec>& layers() const { return layers_; }
  const LayerSpec& operator[](std::size_t i) const { return layers_[i]; }
  std::size_t size() const { return layers_.size(); }

  // A human-readable table: layer, rope, attention window, qk-norm, temperature, ffn.
  std::string to_table() const;

 private:
  std::vector<LayerSpec> layers_;
  // Feed-forward shapes, kept for to_table().
  std::int64_t num_experts_ = 0;
  std::int64_t experts_per_token_ = 0;
  std::int64_t dense_width_ = 0;
};

}  // namespace llama4
