// ModelConfig: the text-model hyper-parameters read from a Hugging Face `config.json`.
// Accepts both the multimodal layout (`Llama4ForConditionalGeneration`, fields under `text_config`)
// and the text-only layout (`Llama4ForCausalLM`, fields at top level). Absent fields take the
// defaults of current transformers' `Llama4TextConfig`; invalid values throw an Error naming field,
// value and reason. Nothing here decides per-layer behaviour: that is LayerPlan's job.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llama4 {

// The two `layer_types` values Hugging Face writes for Llama 4.
inline constexpr std::string_view kChunkedAttentionLayer = "chunked_attention";
inline constexpr std::string_view kFullAttentionLayer = "full_attention";

// Upper bounds that reject absurd (typo'd or corrupted) values before anything is allocated from
// them. Each is far above every published model, so no real checkpoint comes near one.
namespace config_limits {
// 64x the largest published vocabularies (~262K); token ids also stay exact in float32 (2^24).
inline constexpr std::int64_t kMaxVocabSize = std::int64_t{1} << 24;
// 4x the widest published dense models (16384); Llama 4 uses 5120.
inline constexpr std::int64_t kMaxHiddenSize = 65536;
// Feed-forward widths: 64x Llama 4's dense width of 16384.
inline constexpr std::int64_t kMaxIntermediateSize = std::int64_t{1} << 20;
// 8x the deepest published models (~126 layers); Llama 4 uses 48.
inline constexpr std::int64_t kMaxLayers = 1024;
// Query or key/value heads per layer; Llama 4 uses 40 / 8.
inline constexpr std::int64_t kMaxHeads = 1024;
// 4x the widest published heads (256); Llama 4 uses 128.
inline constexpr std::int64_t kMaxHeadDim = 1024;
// 8x the largest published expert counts (~512); Maverick uses 128.
inline constexpr std::int64_t kMaxExperts = 4096;
// Positions must fit a signed 32-bit index; Scout declares 10,485,760.
inline constexpr std::int64_t kMaxPositions = (std::int64_t{1} << 31) - 1;
}  // namespace config_limits

// Frequency scaling applied to the RoPE inverse frequencies.
struct RopeScaling {
  enum class Type { kNone, kLlama3 };
  Type type = Type::kNone;
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 1.0;
  std::int64_t original_max_position_embeddings = 0;
};

// mlx-style affine quantization ("quantization": {"group_size": G, "bits": B}).
struct QuantizationConfig {
  int group_size = 64;
  int bits = 4;
};

struct ModelConfig {
  std::string architecture;  // e.g. "Llama4ForConditionalGeneration"
  std::int64_t vocab_size = 202048;
  std::int64_t hidden_size = 5120;
  std::int64_t intermediate_size = 8192;       // expert and shared-expert width
  std::int64_t intermediate_size_mlp = 16384;  // dense feed-forward width
  std::int64_t num_hidden_layers = 48;
  std::int64_t num_attention_heads = 40;
  std::int64_t num_key_value_heads = 8;
  std::int64_t head_dim = 128;  // absent → hidden_size / num_attention_heads
  std::int64_t num_local_experts = 16;
  std::int64_t num_experts_per_tok = 1;
  std::int64_t max_position_embeddings = 4096 * 32;

  // Layer-kind inputs, resolved by LayerPlan. Empty lists mean "derive from the interval".
  std::int64_t interleave_moe_layer_step = 1;
  std::vector<std::int64_t> moe_layers;  // explicit MoE layer indices
  bool moe_layers_given = false;         // moe_layers present in config.json
  std::int64_t no_rope_layer_interval = 4;
  std::vector<std::int64_t> no_rope_layers;  // per layer: 1 = RoPE, 0 = NoPE (HF convention)
  std::vector<std::string> layer_types;      // "chunked_attention" | "full_attention" per layer
  std::optional<std::int64_t> attention_chunk_size = 8192;  // nullopt: plain causal everywhere

  bool attn_temperature_tuning = true;
  double floor_scale = 8192.0;
  double attn_scale = 0.1;
  bool use_qk_norm = true;
  double rms_norm_eps = 1e-5;
  double rope_theta = 500000.0;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;

  std::optional<std::int64_t> bos_token_id;
  std::vector<std::int64_t> eos_token_ids;
  std::optional<std::int64_t> pad_token_id;
  std::optional<QuantizationConfig> quantization;

  // Parses JSON text; `source` (usually the file path) prefixes every error message.
  static ModelConfig from_json_text(const std::string& text, const std::string& source);
  // Reads `<dir>/config.json` (or the file itself when `path` is a file).
  static ModelConfig from_file(const std::filesystem::path& path);

  // Checks every field (sizes, limits, list lengths and entries, rope scaling, quantization) and
  // throws Error "<source>: field '<field_prefix><name>' = <value>: <why>" for the first problem.
  // from_json_text calls it; LayerPlan calls it again for configs built in code.
  void validate(const std::string& source, const std::string& field_prefix = "") const;

  std::int64_t kv_heads_per_group() const { return num_attention_heads / num_key_value_heads; }
};

}  // namespace llama4
