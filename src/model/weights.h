// ModelWeights: every weight the forward pass reads, as views into the memory-mapped checkpoint
// (no copies), grouped the way the model uses them. bind_weights() builds it from a Checkpoint and
// checks that the tensors match what the config and layer plan require.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "checkpoint/model_config.h"
#include "checkpoint/safetensors.h"
#include "model/layer_plan.h"
#include "tensor/dtype.h"
#include "tensor/matrix.h"

namespace llama4 {

// SwiGLU feed-forward: down( silu(gate x) ⊙ up x ).
struct SwiGluWeights {
  Matrix gate, up, down;
};

struct MoeWeights {
  Matrix router;                       // [E, H] out-major
  std::vector<SwiGluWeights> experts;  // E entries, each of width intermediate_size
  SwiGluWeights shared_expert;
};

struct LayerWeights {
  Vector input_norm;           // input_layernorm
  Vector post_attention_norm;  // post_attention_layernorm
  Matrix q, k, v, o;
  std::optional<SwiGluWeights> dense;  // set on dense layers
  std::optional<MoeWeights> moe;       // set on MoE layers
};

struct ModelWeights {
  Matrix embed_tokens;  // [V, H] out-major; row t is the embedding of token t
  Vector final_norm;
  Matrix lm_head;  // [V, H]; the embedding matrix when tie_word_embeddings
  std::vector<LayerWeights> layers;
};

// Binds every tensor the config and plan require, accepting the three expert layouts
// (HF fused `experts.gate_up_proj`/`down_proj`, per-expert `experts.{e}.*_proj.weight`, and mlx's
// `experts.{gate,up,down}_proj.weight`) and mlx-quantized linears (weight/scales/biases).
// Missing, unexpected or mis-shaped tensors → one Error listing them all.
ModelWeights bind_weights(const Checkpoint& checkpoint, const ModelConfig& config,
                          const LayerPlan& plan);

// Calls visit(Matrix&) on every matrix of the model, const or not (the lm_head too when it is the
// embedding's view).
template <typename Weights, typename Visit>
void for_each_matrix(Weights& weights, Visit&& visit) {
  const auto visit_swiglu = [&](auto& mlp) {
    visit(mlp.gate);
    visit(mlp.up);
    visit(mlp.down);
  };
  visit(weights.embed_tokens);
  visit(weights.lm_head);
  for (auto& layer : weights.layers) {
    visit(layer.q);
    visit(layer.k);
    visit(layer.v);
    visit(layer.o);
    if (layer.dense) visit_swiglu(*layer.dense);
    if (layer.moe) {
      visit(layer.moe->router);
      for (auto& expert : layer.moe->experts) visit_swiglu(expert);
      visit_swiglu(layer.moe->shared_expert);
    }
  }
}

// Whether `holds(const Matrix&)` is true of any matrix of the model.
template <typename Predicate>
bool any_matrix(const ModelWeights& weights, Predicate holds) {
  bool any = false;
  for_each_matrix(weights, [&](const Matrix& m) { any = any || holds(m); });
  return any;
}

}  // namespace llama4
