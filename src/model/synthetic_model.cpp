// Synthetic checkpoints; see synthetic_model.h.
#include "model/synthetic_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "checkpoint/safetensors_writer.h"
#include "model/layer_plan.h"
#include "util/error.h"

namespace llama4 {
namespace {

// Published Llama 4 layer sizes (architecture notes §c).
constexpr std::int64_t kHidden = 5120;
constexpr std::int64_t kHeads = 40;
constexpr std::int64_t kKvHeads = 8;
constexpr std::int64_t kHeadDim = 128;
constexpr std::int64_t kExpertWidth = 8192;
constexpr std::int64_t kDenseWidth = 16384;
constexpr std::int64_t kScoutExperts = 16;
constexpr std::int64_t kMaverickExperts = 128;

// splitmix64: tiny, fast, and good enough for random test weights.
struct Random {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [-1, 1).
  float uniform() { return static_cast<float>(static_cast<double>(next() >> 11) * 0x1.0p-52 - 1.0); }
};

struct TensorPlan {
  std::string name;
  std::vector<std::int64_t> shape;
  float scale;   // values uniform in [center - scale, center + scale)
  float center;
};

// Uniform values with variance 1/fan_in keep activations of order one through the layers.
float init_scale(std::int64_t fan_in) { return std::sqrt(3.0f / static_cast<float>(fan_in)); }

std::vector<TensorPlan> plan_tensors(const ModelConfig& c) {
  const LayerPlan plan = LayerPlan::from_config(c);
  const std::int64_t H = c.hidden_size, D = c.head_dim, I = c.intermediate_size;
  const std::string prefix = "language_model.model.";
  constexpr float kNormJitter = 0.1f;
  std::vector<TensorPlan> tensors;
  tensors.push_back({prefix + "embed_tokens.weight", {c.vocab_size, H}, 1.0f, 0.0f});
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const std::string layer = prefix + "layers." + std::to_string(i) + ".";
    tensors.push_back({layer + "input_layernorm.weight", {H}, kNormJitter, 1.0f});
    tensors.push_back({layer + "self_attn.q_proj.weight", {c.num_attention_heads * D, H}, init_scale(H), 0.0f});
    tensors.push_back({layer + "self_attn.k_proj.weight", {c.num_key_value_heads * D, H}, init_scale(H), 0.0f});
    tensors.push_back({layer + "self_attn.v_proj.weight", {c.num_key_value_heads * D, H}, init_scale(H), 0.0f});
    tensors.push_back({layer + "self_attn.o_proj.weight", {H, c.num_attention_heads * D},
                       init_scale(c.num_attention_heads * D), 0.0f});
    tensors.push_back({layer + "post_attention_layernorm.weight", {H}, kNormJitter, 1.0f});
    const std::string ff = layer + "feed_forward.";
    if (plan[i].moe) {
      const std::int64_t E = c.num_local_experts;
      tensors.push_back({ff + "router.weight", {E, H}, init_scale(H), 0.0f});
      tensors.push_back({ff + "experts.gate_up_proj", {E, H, 2 * I}, init_scale(H), 0.0f});
      tensors.push_back({ff + "experts.down_proj", {E, I, H}, init_scale(I), 0.0f});
      tensors.push_back({ff + "shared_expert.gate_proj.weight", {I, H}, init_scale(H), 0.0f});
      tensors.push_back({ff + "shared_expert.up_proj.weight", {I, H}, init_scale(H), 0.0f});
      tensors.push_back({ff + "shared_expert.down_proj.weight", {H, I}, init_scale(I), 0.0f});
    } else {
      const std::int64_t W = c.intermediate_size_mlp;
      tensors.push_back({ff + "gate_proj.weight", {W, H}, init_scale(H), 0.0f});
      tensors.push_back({ff + "up_proj.weight", {W, H}, init_scale(H), 0.0f});
      tensors.push_back({ff + "down_proj.weight", {H, W}, init_scale(W), 0.0f});
    }
  }
  tensors.push_back({prefix + "norm.weight", {H}, kNormJitter, 1.0f});
  if (!c.tie_word_embeddings)
    tensors.push_back({"language_model.lm_head.weight", {c.vocab_size, H}, init_scale(H), 0.0f});
  return tensors;
}

void stream_random_tensor(SafetensorsWriter& writer, const TensorPlan& t, DType dtype, Random& random) {
  constexpr std::int64_t kChunkElements = 1 << 20;
  std::int64_t remaining = 1;
  for (std::int64_t d : t.shape) remaining *= d;
  std::vector<std::byte> buffer(static_cast<std::size_t>(kChunkElements) * dtype_size(dtype));
  while (remaining > 0) {
    const std::int64_t count = std::min(remaining, kChunkElements);
    for (std::int64_t i = 0; i < count; ++i) {
      const float value = t.center + t.scale * random.uniform();
      if (dtype == DType::F32) {
        std::memcpy(buffer.data() + i * 4, &value, 4);
      } else {
        const std::uint16_t half = dtype == DType::BF16 ? f32_to_bf16(value) : f32_to_f16(value);
        std::memcpy(buffer.data() + i * 2, &half, 2);
      }
    }
    writer.write(std::span(buffer.data(), static_cast<std::size_t>(count) * dtype_size(dtype)));
    remaining -= count;
  }
}

}  // namespace

ModelConfig synthetic_config(const std::string& preset, std::int64_t layers, std::int64_t vocab) {
  ModelConfig c;
  c.architecture = "Llama4ForConditionalGeneration";
  c.vocab_size = vocab;
  c.num_hidden_layers = layers;
  c.max_position_embeddings = 10485760;
  c.rope_theta = 500000.0;
  c.bos_token_id = 0;
  c.eos_token_ids = {1};
  if (preset == "scout" || preset == "maverick") {
    c.hidden_size = kHidden;
    c.num_attention_heads = kHeads;
    c.num_key_value_heads = kKvHeads;
    c.head_dim = kHeadDim;
    c.intermediate_size = kExpertWidth;
    c.intermediate_size_mlp = kDenseWidth;
  } else if (preset == "tiny") {
    c.hidden_size = 256;
    c.num_attention_heads = 8;
    c.num_key_value_heads = 2;
    c.head_dim = 32;
    c.intermediate_size = 512;
    c.intermediate_size_mlp = 1024;
    c.attention_chunk_size = 64;  // small, so chunked attention matters in a demo
  } else {
    throw Error("unknown model preset '" + preset + "' (expected tiny, scout or maverick)");
  }
  if (preset == "maverick") {
    c.num_local_experts = kMaverickExperts;
    c.interleave_moe_layer_step = 2;
    c.use_qk_norm = false;
  } else {
    c.num_local_experts = preset == "tiny" ? 4 : kScoutExperts;
    c.interleave_moe_layer_step = 1;
    c.use_qk_norm = true;
    c.rope_scaling = {RopeScaling::Type::kLlama3, 16.0, 1.0, 1.0, 8192};
  }
  return c;
}

std::string config_to_json(const ModelConfig& c) {
  nlohmann::ordered_json text;
  text["model_type"] = "llama4_text";
  text["vocab_size"] = c.vocab_size;
  text["hidden_size"] = c.hidden_size;
  text["intermediate_size"] = c.intermediate_size;
  text["intermediate_size_mlp"] = c.intermediate_size_mlp;
  text["num_hidden_layers"] = c.num_hidden_layers;
  text["num_attention_heads"] = c.num_attention_heads;
  text["num_key_value_heads"] = c.num_key_value_heads;
  text["head_dim"] = c.head_dim;
  text["num_local_experts"] = c.num_local_experts;
  text["num_experts_per_tok"] = c.num_experts_per_tok;
  text["interleave_moe_layer_step"] = c.interleave_moe_layer_step;
  text["no_rope_layer_interval"] = c.no_rope_layer_interval;
  text["max_position_embeddings"] = c.max_position_embeddings;
  text["attention_chunk_size"] = c.attention_chunk_size ? nlohmann::ordered_json(*c.attention_chunk_size)
                                                        : nlohmann::ordered_json(nullptr);
  text["attn_temperature_tuning"] = c.attn_temperature_tuning;
  text["floor_scale"] = c.floor_scale;
  text["attn_scale"] = c.attn_scale;
  text["use_qk_norm"] = c.use_qk_norm;
  text["rms_norm_eps"] = c.rms_norm_eps;
  text["rope_theta"] = c.rope_theta;
  if (c.rope_scaling.type == RopeScaling::Type::kLlama3)
    text["rope_scaling"] = {{"rope_type", "llama3"},
                            {"factor", c.rope_scaling.factor},
                            {"low_freq_factor", c.rope_scaling.low_freq_factor},
                            {"high_freq_factor", c.rope_scaling.high_freq_factor},
                            {"original_max_position_embeddings", c.rope_scaling.original_max_position_embeddings}};
  else
    text["rope_scaling"] = nullptr;
  text["tie_word_embeddings"] = c.tie_word_embeddings;
  text["hidden_act"] = "silu";
  text["attention_bias"] = false;
  if (c.bos_token_id) text["bos_token_id"] = *c.bos_token_id;
  if (!c.eos_token_ids.empty()) text["eos_token_id"] = c.eos_token_ids;
  if (c.pad_token_id) text["pad_token_id"] = *c.pad_token_id;

  nlohmann::ordered_json root;
  root["architectures"] = {"Llama4ForConditionalGeneration"};
  root["model_type"] = "llama4";
  root["text_config"] = text;
  root["tie_word_embeddings"] = c.tie_word_embeddings;
  if (c.quantization)
    root["quantization"] = {{"group_size", c.quantization->group_size}, {"bits", c.quantization->bits}};
  return root.dump(2) + "\n";
}

void write_synthetic_model(const std::filesystem::path& dir, const ModelConfig& config,
                           const SyntheticOptions& options) {
  std::filesystem::create_directories(dir);
  {
    std::ofstream out(dir / "config.json");
    out << config_to_json(config);
    if (!out) throw Error("cannot write " + (dir / "config.json").string());
  }
  const auto tensors = plan_tensors(config);
  SafetensorsWriter writer(dir / "model.safetensors");
  writer.set_metadata("format", "pt");
  for (const TensorPlan& t : tensors) writer.declare(t.name, options.dtype, t.shape);
  Random random{options.seed};
  for (const TensorPlan& t : tensors) stream_random_tensor(writer, t, options.dtype, random);
  writer.finish();
}

}  // namespace llama4
