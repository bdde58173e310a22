// Builds the per-layer plan from a validated ModelConfig, following Hugging Face's
// `Llama4TextConfig.__post_init__` and `Llama4TextDecoderLayer` exactly. This file is the only
// place in the engine that turns layer indices into layer kinds.
#include "model/layer_plan.h"

#include <algorithm>
#include <array>

namespace llama4 {
namespace {

// Prefix of validation errors for configs that were built in code rather than parsed.
constexpr const char* kPlanSource = "model config";

// Spaces between table columns.
constexpr std::size_t kColumnGap = 2;

// HF: `no_rope_layers[i]` when the list is given (1 = RoPE); otherwise every
// `no_rope_layer_interval`-th layer, counting from 1, is a NoPE layer.
bool uses_rope(const ModelConfig& config, std::int64_t layer) {
  if (!config.no_rope_layers.empty()) return config.no_rope_layers[layer] == 1;
  return (layer + 1) % config.no_rope_layer_interval != 0;
}

// HF: `layer_types[i]` when given; otherwise RoPE layers attend in chunks, NoPE layers globally.
bool chunked_attention(const ModelConfig& config, std::int64_t layer, bool use_rope) {
  if (!config.layer_types.empty()) return config.layer_types[layer] == kChunkedAttentionLayer;
  return use_rope;
}

// HF: `moe_layers` when given (an explicit [] means none); otherwise layers step-1, 2·step-1, …
std::vector<bool> moe_layer_flags(const ModelConfig& config) {
  std::vector<bool> moe(static_cast<std::size_t>(config.num_hidden_layers), false);
  if (config.num_local_experts == 0) return moe;  // no experts: every layer is dense
  if (config.moe_layers_given) {
    for (std::int64_t layer : config.moe_layers) moe[layer] = true;
    return moe;
  }
  const std::int64_t step = config.interleave_moe_layer_step;
  for (std::int64_t layer = step - 1; layer < config.num_hidden_layers; layer += step) {
    moe[layer] = true;
  }
  return moe;
}

std::string yes_no(bool value) {
  return value ? "yes" : "no";
}

}  // namespace

LayerPlan LayerPlan::from_config(const ModelConfig& config) {
  config.validate(kPlanSource);
  LayerPlan plan;
  plan.num_experts_ = config.num_local_experts;
  plan.experts_per_token_ = config.num_experts_per_tok;
  plan.dense_width_ = config.intermediate_size_mlp;

  const std::vector<bool> moe = moe_layer_flags(config);
  plan.layers_.reserve(moe.size());
  for (std::int64_t i = 0; i < config.num_hidden_layers; ++i) {
    LayerSpec spec;
    spec.use_rope = uses_rope(config, i);
    if (chunked_attention(config, i, spec.use_rope) && config.attention_chunk_size) {
      spec.window = AttentionWindow{*config.attention_chunk_size};
    }
    spec.qk_norm = config.use_qk_norm && spec.use_rope;
    spec.temperature_tuning = config.attn_temperature_tuning && !spec.use_rope;
    spec.moe = moe[static_cast<std::size_t>(i)];
    plan.layers_.push_back(spec);
  }
  return plan;
}

std::string LayerPlan::to_table() const {
  using Row = std::array<std::string, 6>;
  std::vector<Row> rows = {{"layer", "rope", "attention", "qk-norm", "temperature", "ffn"}};
  const std::string moe_text =
      "moe " + std::to_string(num_experts_) + "x top-" + std::to_string(experts_per_token_);
  const std::string dense_text = "dense " + std::to_string(dense_width_);
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const LayerSpec& spec = layers_[i];
    const std::string attention =
        spec.window.is_global() ? "global" : "chunked " + std::to_string(spec.window.chunk_size);
    rows.push_back({std::to_string(i), yes_no(spec.use_rope), attention, yes_no(spec.qk_norm),
                    yes_no(spec.temperature_tuning), spec.moe ? moe_text : dense_text});
  }

  std::array<std::size_t, 6> widths{};
  for (const Row& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string table;
  for (const Row& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      // Pad every column but the last, so lines carry no trailing spaces.
      if (c + 1 < row.size()) line.append(widths[c] - row[c].size() + kColumnGap, ' ');
    }
    table += line + "\n";
  }
  return table;
}

}  // namespace llama4
