// Synthetic checkpoints: random Llama 4 weights in the Hugging Face layout, written to a model
// folder. They give the demo a model that ships with the project, and benchmarks models with real
// Llama 4 layer sizes but fewer layers and a smaller vocabulary.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "checkpoint/model_config.h"
#include "tensor/dtype.h"

namespace llama4 {

// Real layer sizes of the published models (the layer count and vocabulary are the caller's choice):
//   "scout"    — hidden 5120, 40/8 heads of 128, 16 experts of 8192, MoE every layer, qk-norm, llama3 RoPE
//   "maverick" — as scout but 128 experts, MoE every 2nd layer (dense width 16384), no qk-norm
//   "tiny"     — a few-MB model with the same structure, for demos and quick checks
ModelConfig synthetic_config(const std::string& preset, std::int64_t layers, std::int64_t vocab);

struct SyntheticOptions {
  DType dtype = DType::BF16;
  std::uint64_t seed = 0;
};

// Writes config.json (multimodal layout) and model.safetensors (fused expert tensors as HF stores
// them) into `dir`, streaming the weights.
void write_synthetic_model(const std::filesystem::path& dir, const ModelConfig& config,
                           const SyntheticOptions& options);

// The config.json text describing `config` in the multimodal (text_config) layout.
std::string config_to_json(const ModelConfig& config);

}  // namespace llama4
