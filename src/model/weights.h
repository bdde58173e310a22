// Views of the model's weights as they lie in the memory-mapped checkpoint: no copies.
// A Matrix knows its storage order, because Llama 4 checkpoints store linear layers both ways:
// nn.Linear weights are [out, in] (y = W x), while the fused HF expert tensors are [in, out]
// (y = x W) and are used in place through a row stride (gate and up share one [H, 2I] block).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "checkpoint/model_config.h"
#include "checkpoint/safetensors.h"
#include "model/layer_plan.h"
#include "tensor/dtype.h"

namespace llama4 {

// mlx affine quantization of a matrix stored out-major: w = scale · q + bias per group of inputs.
struct QuantizedData {
  const std::uint32_t* packed = nullptr;  // [out, in·bits/32]
  const void* scales = nullptr;           // [out, in/group_size], dtype scale_dtype
  const void* biases = nullptr;           // [out, in/group_size], dtype scale_dtype
  DType scale_dtype = DType::BF16;
  int bits = 0;  // 0: not quantized
  int group_size = 0;
};

struct Matrix {
  enum class Layout {
    kOutMajor,  // stored [out, in]: row o holds the weights of output o (nn.Linear)
    kInMajor,   // stored [in, out]: row i holds the weights from input i (x @ W)
  };
  const void* data = nullptr;
  DType dtype = DType::F32;
  Layout layout = Layout::kOutMajor;
  std::int64_t out_features = 0;
  std::int64_t in_features = 0;
  std::int64_t row_stride = 0;  // elements between consecutive stored rows
  QuantizedData quant;          // bits != 0 → data/dtype unused

  bool quantized() const { return quant.bits != 0; }
};

struct Vector {
  const void* data = nullptr;
  DType dtype = DType::F32;
  std::int64_t size = 0;
};

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
  Matrix lm_head;       // [V, H]; the embedding matrix when tie_word_embeddings
  std::vector<LayerWeights> layers;
};

// Binds every tensor the config and plan require, accepting the three expert layouts
// (HF fused `experts.gate_up_proj`/`down_proj`, per-expert `experts.{e}.*_proj.weight`, and mlx's
// `experts.{gate,up,down}_proj.weight`) and mlx-quantized linears (weight/scales/biases).
// Missing, unexpected or mis-shaped tensors → one Error listing them all.
ModelWeights bind_weights(const Checkpoint& checkpoint, const ModelConfig& config,
                          const LayerPlan& plan);

}  // namespace llama4
