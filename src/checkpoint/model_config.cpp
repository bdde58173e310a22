// Reads the text-model hyper-parameters of a Llama 4 `config.json` into ModelConfig and validates
// them. Two layouts exist: the multimodal one (`Llama4ForConditionalGeneration`, model_type
// "llama4") nests the text fields under `text_config`; the text-only one (`Llama4ForCausalLM`,
// model_type "llama4_text") keeps them at the top level. Quantization is always top-level.
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "checkpoint/json_fields.h"
#include "checkpoint/model_config.h"

namespace llama4 {
namespace {

using nlohmann::json;

constexpr const char* kMultimodalArchitecture = "Llama4ForConditionalGeneration";
constexpr const char* kTextArchitecture = "Llama4ForCausalLM";
constexpr const char* kMultimodalModelType = "llama4";
constexpr const char* kTextModelType = "llama4_text";
constexpr const char* kConfigFileName = "config.json";

// Rope types: "default" means plain RoPE (no frequency scaling).
constexpr const char* kRopeTypeDefault = "default";
constexpr const char* kRopeTypeLlama3 = "llama3";

// mlx affine quantization: the bit widths and group sizes mlx can write.
constexpr int kQuantizationBits[] = {2, 3, 4, 5, 6, 8};
constexpr int kQuantizationGroupSizes[] = {32, 64, 128};
constexpr const char* kAffineQuantizationMode = "affine";

// ---- layout ----------------------------------------------------------------------------------

// Decides where the text fields live and records the architecture name. Rejects configs that
// name a different model family, since their tensors would not match ours.
bool read_layout(const JsonFields& top, ModelConfig& config) {
  bool multimodal_declared = false;
  if (const json* architectures = top.find("architectures");
      architectures != nullptr && !architectures->is_null()) {
    const auto names = top.string_list("architectures");
    if (names->empty()) top.fail("architectures", *architectures, "expected at least one name");
    config.architecture = names->front();
    if (config.architecture == kMultimodalArchitecture) {
      multimodal_declared = true;
    } else if (config.architecture != kTextArchitecture) {
      top.fail("architectures", *architectures,
               std::string("not a Llama 4 model (expected ") + kMultimodalArchitecture + " or " +
                   kTextArchitecture + ")");
    }
  }
  if (const auto model_type = top.string("model_type")) {
    if (*model_type == kMultimodalModelType) {
      multimodal_declared = true;
    } else if (*model_type != kTextModelType) {
      top.fail("model_type", *top.find("model_type"),
               std::string("not a Llama 4 model (expected \"") + kMultimodalModelType + "\" or \"" +
                   kTextModelType + "\")");
    }
  }
  const bool has_text_config = !top.absent_or_null("text_config");
  if (multimodal_declared && !has_text_config) {
    throw field_error(top.source(), "text_config", kMissingValue,
                      "a multimodal Llama 4 config keeps the text model's fields there");
  }
  if (config.architecture.empty()) {
    config.architecture = has_text_config ? kMultimodalArchitecture : kTextArchitecture;
  }
  return has_text_config;
}

// ---- text fields -----------------------------------------------------------------------------

void read_sizes(const JsonFields& text, ModelConfig& config) {
  config.vocab_size = text.integer("vocab_size", config.vocab_size);
  config.hidden_size = text.integer("hidden_size", config.hidden_size);
  config.intermediate_size = text.integer("intermediate_size", config.intermediate_size);
  config.intermediate_size_mlp =
      text.integer("intermediate_size_mlp", config.intermediate_size_mlp);
  config.num_hidden_layers = text.integer("num_hidden_layers", config.num_hidden_layers);
  config.num_attention_heads = text.integer("num_attention_heads", config.num_attention_heads);
  // Hugging Face: an explicit null means "one kv head per query head" (no grouping).
  config.num_key_value_heads =
      text.nullable_integer("num_key_value_heads", config.num_key_value_heads)
          .value_or(config.num_attention_heads);
  config.num_local_experts = text.integer("num_local_experts", config.num_local_experts);
  config.num_experts_per_tok = text.integer("num_experts_per_tok", config.num_experts_per_tok);
  config.max_position_embeddings =
      text.integer("max_position_embeddings", config.max_position_embeddings);

  // head_dim may differ from hidden_size / heads in Llama 4; only when it is not given is it
  // derived (Hugging Face's class default of 128 would silently mis-size small test models).
  if (const auto head_dim = text.nullable_integer("head_dim", std::nullopt)) {
    config.head_dim = *head_dim;
  } else if (config.num_attention_heads > 0) {
    if (config.hidden_size % config.num_attention_heads != 0) {
      throw field_error(text.source(), text.path("head_dim"), kMissingValue,
                        "cannot be derived: hidden_size " + std::to_string(config.hidden_size) +
                            " is not a multiple of num_attention_heads " +
                            std::to_string(config.num_attention_heads) + "; set it explicitly");
    }
    config.head_dim = config.hidden_size / config.num_attention_heads;
  }
}

void read_layer_kinds(const JsonFields& text, ModelConfig& config) {
  config.interleave_moe_layer_step =
      text.integer("interleave_moe_layer_step", config.interleave_moe_layer_step);
  if (auto moe_layers = text.integer_list("moe_layers")) {
    config.moe_layers = std::move(*moe_layers);
    config.moe_layers_given = true;  // even when empty: [] means "no MoE layers"
  }
  config.no_rope_layer_interval =
      text.integer("no_rope_layer_interval", config.no_rope_layer_interval);
  // An empty no_rope_layers / layer_types list counts as unset, as in Hugging Face.
  config.no_rope_layers = text.integer_list("no_rope_layers").value_or(std::vector<std::int64_t>{});
  config.layer_types = text.string_list("layer_types").value_or(std::vector<std::string>{});
  config.attention_chunk_size =
      text.nullable_integer("attention_chunk_size", config.attention_chunk_size);
}

void read_attention(const JsonFields& text, ModelConfig& config) {
  config.attn_temperature_tuning =
      text.truthy("attn_temperature_tuning", config.attn_temperature_tuning);
  config.floor_scale = text.number("floor_scale", config.floor_scale);
  config.attn_scale = text.number("attn_scale", config.attn_scale);
  config.use_qk_norm = text.boolean("use_qk_norm", config.use_qk_norm);
  config.rms_norm_eps = text.number("rms_norm_eps", config.rms_norm_eps);
}

// Value checks of llama3 scaling; `prefix` names the object, e.g. "text_config.rope_scaling.".
void check_rope_scaling(const std::string& source, const std::string& prefix,
                        const RopeScaling& rope) {
  if (rope.type != RopeScaling::Type::kLlama3) return;
  const auto require_positive = [&](const char* key, double value) {
    // Written as !(value > 0) so that NaN is rejected too.
    if (!(value > 0.0)) {
      throw field_error(source, prefix + key, describe_number(value), "must be positive");
    }
  };
  require_positive("factor", rope.factor);
  require_positive("low_freq_factor", rope.low_freq_factor);
  require_positive("high_freq_factor", rope.high_freq_factor);
  // Equal factors (Scout ships 1 and 1) leave no smoothing band, which the formula handles; a
  // low factor above the high one would turn the band inside out.
  if (rope.low_freq_factor > rope.high_freq_factor) {
    throw field_error(
        source, prefix + "low_freq_factor", describe_number(rope.low_freq_factor),
        "must not exceed high_freq_factor (" + describe_number(rope.high_freq_factor) + ")");
  }
  const std::int64_t original = rope.original_max_position_embeddings;
  if (original <= 0 || original > config_limits::kMaxPositions) {
    throw field_error(source, prefix + "original_max_position_embeddings", std::to_string(original),
                      "must be between 1 and " + std::to_string(config_limits::kMaxPositions));
  }
}

// Reads one rope-scaling object (`rope_scaling`, or v5 `rope_parameters`). `default_type` is used
// when the object names no type; nullptr makes a missing type an error.
RopeScaling read_rope_scaling(const JsonFields& rope, const char* default_type) {
  std::optional<std::string> type = rope.string("rope_type");
  if (!type) type = rope.string("type");
  if (!type) {
    if (default_type == nullptr) {
      throw field_error(rope.source(), rope.path("rope_type"), kMissingValue,
                        "required to interpret the rope scaling (\"default\" or \"llama3\")");
    }
    type = default_type;
  }
  RopeScaling scaling;
  if (*type == kRopeTypeDefault) return scaling;
  if (*type != kRopeTypeLlama3) {
    const std::string key = rope.find("rope_type") != nullptr ? "rope_type" : "type";
    rope.fail(key, json(*type), "unsupported rope type (supported: \"default\", \"llama3\")");
  }
  scaling.type = RopeScaling::Type::kLlama3;
  for (const char* key :
       {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"}) {
    if (rope.absent_or_null(key)) {
      throw field_error(rope.source(), rope.path(key), kMissingValue,
                        "required by llama3 rope scaling");
    }
  }
  scaling.factor = rope.number("factor", scaling.factor);
  scaling.low_freq_factor = rope.number("low_freq_factor", scaling.low_freq_factor);
  scaling.high_freq_factor = rope.number("high_freq_factor", scaling.high_freq_factor);
  scaling.original_max_position_embeddings = rope.integer("original_max_position_embeddings", 0);
  check_rope_scaling(rope.source(), rope.prefix(), scaling);
  return scaling;
}

// Transformers v5 writes `rope_parameters` (theta inside); older files `rope_theta` +
// `rope_scaling`. When both appear, `rope_parameters` is the newer, authoritative one.
void read_rope(const JsonFields& text, ModelConfig& config) {
  config.rope_theta = text.number("rope_theta", config.rope_theta);
  if (const auto parameters = text.object("rope_parameters")) {
    config.rope_theta = parameters->number("rope_theta", config.rope_theta);
    config.rope_scaling = read_rope_scaling(*parameters, kRopeTypeDefault);
  } else if (const auto scaling = text.object("rope_scaling")) {
    config.rope_scaling = read_rope_scaling(*scaling, nullptr);
  }
}

// Token ids and weight tying may sit at the top level of a multimodal config, inside
// text_config, or both; the text_config value wins because it describes the text model.
void read_tokens(const JsonFields& top, const JsonFields& text, ModelConfig& config) {
  for (const JsonFields* fields : {&top, &text}) {
    config.tie_word_embeddings = fields->boolean("tie_word_embeddings", config.tie_word_embeddings);
    if (fields->find("bos_token_id") != nullptr) {
      config.bos_token_id = fields->nullable_integer("bos_token_id", std::nullopt);
    }
    if (fields->find("eos_token_id") != nullptr) {
      config.eos_token_ids = fields->integer_or_list("eos_token_id");
    }
    if (fields->find("pad_token_id") != nullptr) {
      config.pad_token_id = fields->nullable_integer("pad_token_id", std::nullopt);
    }
  }
}

// ---- quantization ----------------------------------------------------------------------------

template <std::size_t N>
bool contains(const int (&allowed)[N], std::int64_t value) {
  for (int entry : allowed) {
    if (entry == value) return true;
  }
  return false;
}

template <std::size_t N>
std::string list_text(const int (&allowed)[N]) {
  std::string text;
  for (int entry : allowed) text += (text.empty() ? "" : ", ") + std::to_string(entry);
  return "{" + text + "}";
}

// `prefix` names the object in messages, e.g. "quantization.".
void check_quantization(const std::string& source, const std::string& prefix, std::int64_t bits,
                        std::int64_t group_size) {
  if (!contains(kQuantizationBits, bits)) {
    throw field_error(source, prefix + "bits", std::to_string(bits),
                      "unsupported bit width (supported: " + list_text(kQuantizationBits) + ")");
  }
  if (!contains(kQuantizationGroupSizes, group_size)) {
    throw field_error(
        source, prefix + "group_size", std::to_string(group_size),
        "unsupported group size (supported: " + list_text(kQuantizationGroupSizes) + ")");
  }
}

// mlx writes `quantization` (and often the same object as `quantization_config`). Other tools
// use `quantization_config` with a `quant_method` (e.g. fp8) whose weights we cannot read.
void read_quantization(const JsonFields& top, ModelConfig& config) {
  std::optional<JsonFields> fields = top.object("quantization");
  if (!fields) fields = top.object("quantization_config");
  if (!fields) return;
  if (fields->absent_or_null("bits") && fields->absent_or_null("group_size")) {
    const json* method = fields->find("quant_method");
    throw field_error(top.source(), fields->path("quant_method"),
                      method != nullptr ? describe_json(*method) : kMissingValue,
                      "unsupported quantization (supported: mlx affine {group_size, bits})");
  }
  if (const auto mode = fields->string("mode"); mode && *mode != kAffineQuantizationMode) {
    fields->fail("mode", json(*mode), "unsupported quantization mode (supported: \"affine\")");
  }
  QuantizationConfig quantization;
  const std::int64_t bits = fields->integer("bits", quantization.bits);
  const std::int64_t group_size = fields->integer("group_size", quantization.group_size);
  check_quantization(top.source(), fields->prefix(), bits, group_size);
  quantization.bits = static_cast<int>(bits);
  quantization.group_size = static_cast<int>(group_size);
  config.quantization = quantization;
}

// ---- validation ------------------------------------------------------------------------------

// Throws field errors for one ModelConfig; keeps source and prefix so each check is one line.
class Checker {
 public:
  Checker(const std::string& source, const std::string& prefix)
      : source_(source), prefix_(prefix) {}

  const std::string& source() const { return source_; }
  const std::string& prefix() const { return prefix_; }

  [[noreturn]] void fail(const std::string& field, const std::string& value,
                         const std::string& why) const {
    throw field_error(source_, prefix_ + field, value, why);
  }
  void positive(const std::string& field, std::int64_t value, std::int64_t max) const {
    if (value <= 0) fail(field, std::to_string(value), "must be positive");
    if (value > max) {
      fail(field, std::to_string(value), "exceeds the limit of " + std::to_string(max));
    }
  }
  void positive(const std::string& field, double value) const {
    // Written as !(value > 0) so that NaN is rejected too.
    if (!(value > 0.0)) fail(field, describe_number(value), "must be positive");
  }

 private:
  const std::string& source_;
  const std::string& prefix_;
};

std::string list_text(const std::vector<std::int64_t>& list) {
  json array = list;
  return describe_json(array);
}

void check_sizes(const ModelConfig& c, const Checker& check) {
  using namespace config_limits;
  check.positive("vocab_size", c.vocab_size, kMaxVocabSize);
  check.positive("hidden_size", c.hidden_size, kMaxHiddenSize);
  check.positive("intermediate_size", c.intermediate_size, kMaxIntermediateSize);
  check.positive("intermediate_size_mlp", c.intermediate_size_mlp, kMaxIntermediateSize);
  check.positive("num_hidden_layers", c.num_hidden_layers, kMaxLayers);
  check.positive("num_attention_heads", c.num_attention_heads, kMaxHeads);
  check.positive("num_key_value_heads", c.num_key_value_heads, kMaxHeads);
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    check.fail("num_key_value_heads", std::to_string(c.num_key_value_heads),
               "num_attention_heads (" + std::to_string(c.num_attention_heads) +
                   ") must be a multiple of it");
  }
  // head_dim need not equal hidden_size / heads in Llama 4, but RoPE rotates pairs of values.
  check.positive("head_dim", c.head_dim, kMaxHeadDim);
  if (c.head_dim % 2 != 0) {
    check.fail("head_dim", std::to_string(c.head_dim), "must be even (RoPE rotates pairs)");
  }
  check.positive("max_position_embeddings", c.max_position_embeddings, kMaxPositions);
  if (c.num_local_experts < 0 || c.num_local_experts > kMaxExperts) {
    check.fail("num_local_experts", std::to_string(c.num_local_experts),
               "must be between 0 and " + std::to_string(kMaxExperts));
  }
  if (c.num_local_experts > 0 &&
      (c.num_experts_per_tok < 1 || c.num_experts_per_tok > c.num_local_experts)) {
    check.fail(
        "num_experts_per_tok", std::to_string(c.num_experts_per_tok),
        "must be between 1 and num_local_experts (" + std::to_string(c.num_local_experts) + ")");
  }
}

void check_layer_lists(const ModelConfig& c, const Checker& check) {
  const auto layers = static_cast<std::size_t>(c.num_hidden_layers);
  check.positive("interleave_moe_layer_step", c.interleave_moe_layer_step,
                 config_limits::kMaxLayers);
  check.positive("no_rope_layer_interval", c.no_rope_layer_interval, config_limits::kMaxLayers);
  if (!c.no_rope_layers.empty() && c.no_rope_layers.size() != layers) {
    check.fail("no_rope_layers", list_text(c.no_rope_layers),
               "has " + std::to_string(c.no_rope_layers.size()) +
                   " entries, num_hidden_layers is " + std::to_string(layers));
  }
  for (std::size_t i = 0; i < c.no_rope_layers.size(); ++i) {
    if (c.no_rope_layers[i] != 0 && c.no_rope_layers[i] != 1) {
      check.fail("no_rope_layers[" + std::to_string(i) + "]", std::to_string(c.no_rope_layers[i]),
                 "must be 1 (RoPE layer) or 0 (NoPE layer)");
    }
  }
  if (!c.layer_types.empty() && c.layer_types.size() != layers) {
    check.fail("layer_types", describe_json(json(c.layer_types)),
               "has " + std::to_string(c.layer_types.size()) + " entries, num_hidden_layers is " +
                   std::to_string(layers));
  }
  for (std::size_t i = 0; i < c.layer_types.size(); ++i) {
    if (c.layer_types[i] != kChunkedAttentionLayer && c.layer_types[i] != kFullAttentionLayer) {
      check.fail("layer_types[" + std::to_string(i) + "]", json(c.layer_types[i]).dump(),
                 "must be \"chunked_attention\" or \"full_attention\"");
    }
  }
  std::set<std::int64_t> seen;
  for (std::size_t i = 0; i < c.moe_layers.size(); ++i) {
    const std::int64_t layer = c.moe_layers[i];
    const std::string field = "moe_layers[" + std::to_string(i) + "]";
    if (layer < 0 || layer >= c.num_hidden_layers) {
      check.fail(field, std::to_string(layer),
                 "layer index out of range [0, " + std::to_string(layers) + ")");
    }
    if (!seen.insert(layer).second) check.fail(field, std::to_string(layer), "listed twice");
  }
}

void check_attention_and_rope(const ModelConfig& c, const Checker& check) {
  if (c.attention_chunk_size) {
    check.positive("attention_chunk_size", *c.attention_chunk_size, config_limits::kMaxPositions);
  }
  check.positive("floor_scale", c.floor_scale);
  if (!std::isfinite(c.attn_scale)) {
    check.fail("attn_scale", describe_number(c.attn_scale), "must be finite");
  }
  check.positive("rms_norm_eps", c.rms_norm_eps);
  check.positive("rope_theta", c.rope_theta);
  check_rope_scaling(check.source(), check.prefix() + "rope_scaling.", c.rope_scaling);
}

}  // namespace

void ModelConfig::validate(const std::string& source, const std::string& field_prefix) const {
  const Checker check(source, field_prefix);
  check_sizes(*this, check);
  check_layer_lists(*this, check);
  check_attention_and_rope(*this, check);
  if (quantization) {
    check_quantization(source, "quantization.", quantization->bits, quantization->group_size);
  }
}

ModelConfig ModelConfig::from_json_text(const std::string& text, const std::string& source) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error(source + ": invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const json::exception& e) {  // e.g. out_of_range for a number like 1e10000
    throw Error(source + ": invalid JSON: " + e.what());
  }
  if (!root.is_object()) {
    throw Error(source + ": expected a JSON object at the top level, found " + root.type_name());
  }
  ModelConfig config;
  const JsonFields top(root, source, "");
  const bool multimodal = read_layout(top, config);
  const JsonFields text_fields = multimodal ? *top.object("text_config") : top;
  read_sizes(text_fields, config);
  read_layer_kinds(text_fields, config);
  read_attention(text_fields, config);
  read_rope(text_fields, config);
  read_tokens(top, text_fields, config);
  read_quantization(top, config);
  config.validate(source, text_fields.prefix());
  return config;
}

ModelConfig ModelConfig::from_file(const std::filesystem::path& path) {
  std::error_code ec;
  const bool folder = std::filesystem::is_directory(path, ec) && path.filename() != kConfigFileName;
  const std::filesystem::path file = folder ? path / kConfigFileName : path;
  if (std::filesystem::is_directory(file, ec))
    throw Error(file.string() + ": is a folder, expected the model's JSON configuration file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(file.string() + ": cannot open: " + std::strerror(errno));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) throw Error(file.string() + ": read failed: " + std::strerror(errno));
  return from_json_text(contents.str(), file.string());
}

}  // namespace llama4
