// Tests for ModelConfig parsing: the published Scout and Maverick configs in both layouts,
// Hugging Face defaults, the alternative spellings (rope_parameters, integer flags, eos lists,
// quantization_config) and every validation error, whose message must name field and value.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "checkpoint/model_config.h"
#include "util/error.h"

namespace llama4 {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// meta-llama/Llama-4-Scout-17B-16E-Instruct config.json (text part; vision part abridged).
constexpr const char* kScoutMultimodal = R"json({
  "architectures": ["Llama4ForConditionalGeneration"],
  "boi_token_index": 200080,
  "eoi_token_index": 200081,
  "image_token_index": 200092,
  "model_type": "llama4",
  "text_config": {
    "_attn_implementation_autoset": true,
    "attention_bias": false,
    "attention_chunk_size": 8192,
    "attention_dropout": 0.0,
    "attn_scale": 0.1,
    "attn_temperature_tuning": 4,
    "bos_token_id": 200000,
    "eos_token_id": [200001, 200007, 200008],
    "floor_scale": 8192,
    "for_llm_compressor": false,
    "head_dim": 128,
    "hidden_act": "silu",
    "hidden_size": 5120,
    "initializer_range": 0.02,
    "interleave_moe_layer_step": 1,
    "intermediate_size": 8192,
    "intermediate_size_mlp": 16384,
    "max_position_embeddings": 10485760,
    "model_type": "llama4_text",
    "no_rope_layers": [],
    "num_attention_heads": 40,
    "num_experts_per_tok": 1,
    "num_hidden_layers": 48,
    "num_key_value_heads": 8,
    "num_local_experts": 16,
    "output_router_logits": false,
    "pad_token_id": 200018,
    "rms_norm_eps": 1e-05,
    "rope_scaling": {
      "factor": 16.0,
      "high_freq_factor": 1.0,
      "low_freq_factor": 1.0,
      "original_max_position_embeddings": 8192,
      "rope_type": "llama3"
    },
    "rope_theta": 500000.0,
    "router_aux_loss_coef": 0.001,
    "router_jitter_noise": 0.0,
    "torch_dtype": "bfloat16",
    "use_cache": true,
    "use_qk_norm": true,
    "vocab_size": 202048
  },
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.51.0.dev0",
  "vision_config": {"hidden_size": 1408, "num_hidden_layers": 34, "model_type": "llama4_vision_model"}
})json";

// meta-llama/Llama-4-Maverick-17B-128E-Instruct config.json (text part).
constexpr const char* kMaverickMultimodal = R"json({
  "architectures": ["Llama4ForConditionalGeneration"],
  "model_type": "llama4",
  "text_config": {
    "attention_chunk_size": 8192,
    "bos_token_id": 200000,
    "eos_token_id": [200001, 200007, 200008],
    "head_dim": 128,
    "hidden_size": 5120,
    "interleave_moe_layer_step": 2,
    "intermediate_size": 8192,
    "intermediate_size_mlp": 16384,
    "max_position_embeddings": 1048576,
    "model_type": "llama4_text",
    "no_rope_layers": [],
    "num_attention_heads": 40,
    "num_experts_per_tok": 1,
    "num_hidden_layers": 48,
    "num_key_value_heads": 8,
    "num_local_experts": 128,
    "pad_token_id": 200018,
    "rms_norm_eps": 1e-05,
    "rope_scaling": null,
    "rope_theta": 500000.0,
    "use_qk_norm": false,
    "vocab_size": 202048
  },
  "tie_word_embeddings": false
})json";

// A small text-only config with every field explicit, the base of the mutation tests.
json tiny_text_config() {
  return json::parse(R"json({
    "architectures": ["Llama4ForCausalLM"],
    "model_type": "llama4_text",
    "vocab_size": 256,
    "hidden_size": 64,
    "intermediate_size": 96,
    "intermediate_size_mlp": 128,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "num_local_experts": 4,
    "num_experts_per_tok": 1,
    "max_position_embeddings": 1024,
    "interleave_moe_layer_step": 2,
    "no_rope_layer_interval": 4,
    "attention_chunk_size": 8,
    "attn_temperature_tuning": true,
    "floor_scale": 16,
    "attn_scale": 0.1,
    "use_qk_norm": true,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "rope_scaling": null,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "tie_word_embeddings": false
  })json");
}

ModelConfig parse(const json& config) {
  return ModelConfig::from_json_text(config.dump(), "t");
}

// The message of the Error that parsing `text` throws, or a test failure when none is thrown.
std::string error_of_text(const std::string& text) {
  try {
    ModelConfig::from_json_text(text, "cfg.json");
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an Error for: " << text;
  return "";
}
std::string error_of(const json& config) {
  return error_of_text(config.dump());
}

void expect_scout_text_fields(const ModelConfig& c) {
  EXPECT_EQ(c.vocab_size, 202048);
  EXPECT_EQ(c.hidden_size, 5120);
  EXPECT_EQ(c.intermediate_size, 8192);
  EXPECT_EQ(c.intermediate_size_mlp, 16384);
  EXPECT_EQ(c.num_hidden_layers, 48);
  EXPECT_EQ(c.num_attention_heads, 40);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.kv_heads_per_group(), 5);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.num_local_experts, 16);
  EXPECT_EQ(c.num_experts_per_tok, 1);
  EXPECT_EQ(c.max_position_embeddings, 10485760);
  EXPECT_EQ(c.interleave_moe_layer_step, 1);
  EXPECT_FALSE(c.moe_layers_given);
  EXPECT_TRUE(c.no_rope_layers.empty());
  EXPECT_EQ(c.no_rope_layer_interval, 4);
  EXPECT_TRUE(c.layer_types.empty());
  EXPECT_EQ(c.attention_chunk_size, std::optional<std::int64_t>(8192));
  EXPECT_TRUE(c.attn_temperature_tuning);
  EXPECT_DOUBLE_EQ(c.floor_scale, 8192.0);
  EXPECT_DOUBLE_EQ(c.attn_scale, 0.1);
  EXPECT_TRUE(c.use_qk_norm);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.rope_scaling.type, RopeScaling::Type::kLlama3);
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 16.0);
  EXPECT_DOUBLE_EQ(c.rope_scaling.low_freq_factor, 1.0);
  EXPECT_DOUBLE_EQ(c.rope_scaling.high_freq_factor, 1.0);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.bos_token_id, std::optional<std::int64_t>(200000));
  EXPECT_EQ(c.eos_token_ids, (std::vector<std::int64_t>{200001, 200007, 200008}));
  EXPECT_EQ(c.pad_token_id, std::optional<std::int64_t>(200018));
  EXPECT_FALSE(c.quantization.has_value());
}

TEST(ModelConfigTest, ParsesScoutMultimodalLayout) {
  const ModelConfig c = ModelConfig::from_json_text(kScoutMultimodal, "scout/config.json");
  EXPECT_EQ(c.architecture, "Llama4ForConditionalGeneration");
  expect_scout_text_fields(c);
}

TEST(ModelConfigTest, ParsesScoutTextOnlyLayout) {
  json multimodal = json::parse(kScoutMultimodal);
  json text = multimodal["text_config"];
  text["architectures"] = {"Llama4ForCausalLM"};
  const ModelConfig c = parse(text);
  EXPECT_EQ(c.architecture, "Llama4ForCausalLM");
  expect_scout_text_fields(c);
}

TEST(ModelConfigTest, ModelTypeAloneSelectsTheLayout) {
  json multimodal = json::parse(kScoutMultimodal);
  multimodal.erase("architectures");
  const ModelConfig from_model_type = parse(multimodal);
  EXPECT_EQ(from_model_type.architecture, "Llama4ForConditionalGeneration");
  expect_scout_text_fields(from_model_type);

  json text = tiny_text_config();
  text.erase("architectures");
  const ModelConfig text_only = parse(text);
  EXPECT_EQ(text_only.architecture, "Llama4ForCausalLM");
  EXPECT_EQ(text_only.hidden_size, 64);
}

TEST(ModelConfigTest, ParsesMaverick) {
  const ModelConfig c = ModelConfig::from_json_text(kMaverickMultimodal, "maverick/config.json");
  EXPECT_EQ(c.num_local_experts, 128);
  EXPECT_EQ(c.interleave_moe_layer_step, 2);
  EXPECT_FALSE(c.use_qk_norm);
  EXPECT_EQ(c.rope_scaling.type, RopeScaling::Type::kNone);
  EXPECT_EQ(c.max_position_embeddings, 1048576);
  // Absent from the file: Hugging Face defaults.
  EXPECT_TRUE(c.attn_temperature_tuning);
  EXPECT_DOUBLE_EQ(c.floor_scale, 8192.0);
  EXPECT_DOUBLE_EQ(c.attn_scale, 0.1);
  EXPECT_EQ(c.no_rope_layer_interval, 4);
}

TEST(ModelConfigTest, AbsentFieldsTakeTransformersDefaults) {
  const ModelConfig c = ModelConfig::from_json_text(R"({"model_type": "llama4_text"})", "t");
  EXPECT_EQ(c.architecture, "Llama4ForCausalLM");
  EXPECT_EQ(c.vocab_size, 202048);
  EXPECT_EQ(c.hidden_size, 5120);
  EXPECT_EQ(c.intermediate_size, 8192);
  EXPECT_EQ(c.intermediate_size_mlp, 16384);
  EXPECT_EQ(c.num_hidden_layers, 48);
  EXPECT_EQ(c.num_attention_heads, 40);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.head_dim, 128);  // 5120 / 40
  EXPECT_EQ(c.num_local_experts, 16);
  EXPECT_EQ(c.num_experts_per_tok, 1);
  EXPECT_EQ(c.max_position_embeddings, 131072);
  EXPECT_EQ(c.interleave_moe_layer_step, 1);
  EXPECT_EQ(c.no_rope_layer_interval, 4);
  EXPECT_EQ(c.attention_chunk_size, std::optional<std::int64_t>(8192));
  EXPECT_TRUE(c.attn_temperature_tuning);
  EXPECT_TRUE(c.use_qk_norm);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.rope_scaling.type, RopeScaling::Type::kNone);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_FALSE(c.bos_token_id.has_value());
  EXPECT_TRUE(c.eos_token_ids.empty());
  EXPECT_FALSE(c.pad_token_id.has_value());
}

TEST(ModelConfigTest, HeadDimAbsentOrNullIsHiddenOverHeads) {
  json config = tiny_text_config();
  config.erase("head_dim");
  EXPECT_EQ(parse(config).head_dim, 16);  // 64 / 4
  config["head_dim"] = nullptr;
  EXPECT_EQ(parse(config).head_dim, 16);
}

TEST(ModelConfigTest, HeadDimMayDifferFromHiddenOverHeads) {
  json config = tiny_text_config();
  config["head_dim"] = 32;  // 4 heads x 32 = 128 != hidden 64: allowed in Llama 4
  EXPECT_EQ(parse(config).head_dim, 32);
}

TEST(ModelConfigTest, HeadDimThatCannotBeDerivedIsAnError) {
  json config = tiny_text_config();
  config.erase("head_dim");
  config["num_attention_heads"] = 3;
  config["num_key_value_heads"] = 1;
  const std::string message = error_of(config);
  EXPECT_THAT(message, HasSubstr("field 'head_dim' = (missing)"));
  EXPECT_THAT(message, HasSubstr("hidden_size 64 is not a multiple of num_attention_heads 3"));
}

TEST(ModelConfigTest, NullKeyValueHeadsMeansOnePerQueryHead) {
  json config = tiny_text_config();
  config["num_key_value_heads"] = nullptr;
  EXPECT_EQ(parse(config).num_key_value_heads, 4);
}

TEST(ModelConfigTest, ReadsRopeParametersOfTransformersV5) {
  json config = tiny_text_config();
  config.erase("rope_theta");
  config.erase("rope_scaling");
  config["rope_parameters"] = {
      {"rope_type", "llama3"},   {"rope_theta", 500000.0},
      {"factor", 8.0},           {"low_freq_factor", 1.0},
      {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
  ModelConfig c = parse(config);
  EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.rope_scaling.type, RopeScaling::Type::kLlama3);
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 8.0);
  EXPECT_DOUBLE_EQ(c.rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 8192);

  config["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 250000.0}};
  c = parse(config);
  EXPECT_DOUBLE_EQ(c.rope_theta, 250000.0);
  EXPECT_EQ(c.rope_scaling.type, RopeScaling::Type::kNone);

  // Without a theta inside, the top-level rope_theta (or the default) applies.
  config["rope_theta"] = 1234.0;
  config["rope_parameters"] = {{"rope_type", "default"}};
  EXPECT_DOUBLE_EQ(parse(config).rope_theta, 1234.0);
}

TEST(ModelConfigTest, RopeScalingSpellings) {
  json config = tiny_text_config();
  config["rope_scaling"] = {{"rope_type", "default"}};
  EXPECT_EQ(parse(config).rope_scaling.type, RopeScaling::Type::kNone);
  // Older files say "type" instead of "rope_type".
  config["rope_scaling"] = {{"type", "llama3"},
                            {"factor", 16.0},
                            {"low_freq_factor", 1.0},
                            {"high_freq_factor", 1.0},
                            {"original_max_position_embeddings", 8192}};
  const ModelConfig c = parse(config);
  EXPECT_EQ(c.rope_scaling.type, RopeScaling::Type::kLlama3);
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 16.0);
}

TEST(ModelConfigTest, TemperatureTuningAcceptsBoolsAndIntegers) {
  json config = tiny_text_config();
  const std::vector<std::pair<json, bool>> cases = {
      {4, true}, {true, true}, {false, false}, {0, false}, {1, true}};
  for (const auto& [value, expected] : cases) {
    SCOPED_TRACE(value.dump());
    config["attn_temperature_tuning"] = value;
    EXPECT_EQ(parse(config).attn_temperature_tuning, expected);
  }
  config["attn_temperature_tuning"] = "yes";
  EXPECT_THAT(error_of(config),
              HasSubstr("field 'attn_temperature_tuning' = \"yes\": expected true, false or an "
                        "integer, found string"));
}

TEST(ModelConfigTest, EosTokenIdIsAnIntegerOrAList) {
  json config = tiny_text_config();
  config["eos_token_id"] = 7;
  EXPECT_EQ(parse(config).eos_token_ids, std::vector<std::int64_t>{7});
  config["eos_token_id"] = {7, 9};
  EXPECT_EQ(parse(config).eos_token_ids, (std::vector<std::int64_t>{7, 9}));
  config["eos_token_id"] = nullptr;
  EXPECT_TRUE(parse(config).eos_token_ids.empty());
  config["eos_token_id"] = {7, "x"};
  EXPECT_THAT(error_of(config), HasSubstr("field 'eos_token_id[1]' = \"x\""));
}

TEST(ModelConfigTest, TextConfigWinsOverTopLevelTokenFields) {
  json config = json::parse(kMaverickMultimodal);
  config["tie_word_embeddings"] = true;
  config["bos_token_id"] = 5;
  EXPECT_TRUE(parse(config).tie_word_embeddings);  // only at the top level
  EXPECT_EQ(parse(config).bos_token_id, std::optional<std::int64_t>(200000));
  config["text_config"]["tie_word_embeddings"] = false;
  EXPECT_FALSE(parse(config).tie_word_embeddings);
}

TEST(ModelConfigTest, AttentionChunkSizeNullMeansNoChunking) {
  json config = tiny_text_config();
  config["attention_chunk_size"] = nullptr;
  EXPECT_FALSE(parse(config).attention_chunk_size.has_value());
  config.erase("attention_chunk_size");
  EXPECT_EQ(parse(config).attention_chunk_size, std::optional<std::int64_t>(8192));
}

TEST(ModelConfigTest, ExplicitListsAreKept) {
  json config = tiny_text_config();
  config["moe_layers"] = json::array();
  config["no_rope_layers"] = {1, 0, 1, 0};
  config["layer_types"] = {"chunked_attention", "full_attention", "full_attention",
                           "chunked_attention"};
  ModelConfig c = parse(config);
  EXPECT_TRUE(c.moe_layers_given);
  EXPECT_TRUE(c.moe_layers.empty());
  EXPECT_EQ(c.no_rope_layers, (std::vector<std::int64_t>{1, 0, 1, 0}));
  EXPECT_EQ(c.layer_types[1], "full_attention");

  config["moe_layers"] = {0, 3};
  c = parse(config);
  EXPECT_EQ(c.moe_layers, (std::vector<std::int64_t>{0, 3}));
  config["moe_layers"] = nullptr;
  EXPECT_FALSE(parse(config).moe_layers_given);
}

TEST(ModelConfigTest, ReadsMlxQuantization) {
  json config = tiny_text_config();
  config["quantization"] = {{"group_size", 64}, {"bits", 4}};
  ModelConfig c = parse(config);
  ASSERT_TRUE(c.quantization.has_value());
  EXPECT_EQ(c.quantization->group_size, 64);
  EXPECT_EQ(c.quantization->bits, 4);

  config.erase("quantization");
  config["quantization_config"] = {{"group_size", 32}, {"bits", 8}};
  c = parse(config);
  ASSERT_TRUE(c.quantization.has_value());
  EXPECT_EQ(c.quantization->group_size, 32);
  EXPECT_EQ(c.quantization->bits, 8);
}

TEST(ModelConfigTest, QuantizationErrors) {
  json config = tiny_text_config();
  config["quantization"] = {{"group_size", 64}, {"bits", 7}};
  EXPECT_THAT(error_of(config), HasSubstr("field 'quantization.bits' = 7: unsupported bit width "
                                          "(supported: {2, 3, 4, 5, 6, 8})"));
  config["quantization"] = {{"group_size", 48}, {"bits", 4}};
  EXPECT_THAT(error_of(config), HasSubstr("field 'quantization.group_size' = 48"));
  config["quantization"] = {{"group_size", 32}, {"bits", 4}, {"mode", "mxfp4"}};
  EXPECT_THAT(error_of(config), HasSubstr("field 'quantization.mode' = \"mxfp4\""));
  config.erase("quantization");
  config["quantization_config"] = {{"quant_method", "fbgemm_fp8"}};
  EXPECT_THAT(error_of(config), HasSubstr("field 'quantization_config.quant_method' = "
                                          "\"fbgemm_fp8\": unsupported quantization"));
}

TEST(ModelConfigTest, ReportsInvalidJsonWithPosition) {
  const std::string message = error_of_text("{\n  \"hidden_size\": 64,\n  oops\n}");
  EXPECT_THAT(message, HasSubstr("cfg.json: invalid JSON at byte"));
  EXPECT_THAT(message, HasSubstr("line 3, column"));
  EXPECT_THAT(error_of_text("[1, 2]"),
              HasSubstr("cfg.json: expected a JSON object at the top level, found array"));
}

TEST(ModelConfigTest, RejectsOtherArchitectures) {
  json config = tiny_text_config();
  config["architectures"] = {"LlamaForCausalLM"};
  EXPECT_THAT(error_of(config),
              HasSubstr("field 'architectures' = [\"LlamaForCausalLM\"]: not a Llama 4 model"));
  config = tiny_text_config();
  config["model_type"] = "llama";
  EXPECT_THAT(error_of(config), HasSubstr("field 'model_type' = \"llama\": not a Llama 4 model"));
  EXPECT_THAT(error_of_text(R"({"architectures": ["Llama4ForConditionalGeneration"]})"),
              HasSubstr("field 'text_config' = (missing)"));
}

TEST(ModelConfigTest, WrongJsonTypesNameFieldAndValue) {
  json config = tiny_text_config();
  config["hidden_size"] = "64";
  EXPECT_THAT(
      error_of(config),
      HasSubstr("cfg.json: field 'hidden_size' = \"64\": expected an integer, found string"));
  config["hidden_size"] = 64.5;
  EXPECT_THAT(error_of(config), HasSubstr("field 'hidden_size' = 64.5: expected an integer"));
  config["hidden_size"] = 64.0;  // integral floats are fine
  EXPECT_EQ(parse(config).hidden_size, 64);
  config["hidden_size"] = 18446744073709551615ULL;
  EXPECT_THAT(error_of(config), HasSubstr("out of range for a 64-bit integer"));

  config = tiny_text_config();
  config["rms_norm_eps"] = "1e-5";
  EXPECT_THAT(error_of(config),
              HasSubstr("field 'rms_norm_eps' = \"1e-5\": expected a number, found string"));
  config = tiny_text_config();
  config["use_qk_norm"] = 1;
  EXPECT_THAT(error_of(config), HasSubstr("field 'use_qk_norm' = 1: expected true or false"));
  config = tiny_text_config();
  config["no_rope_layers"] = "1,1,1,0";
  EXPECT_THAT(error_of(config), HasSubstr("field 'no_rope_layers' = \"1,1,1,0\": expected a list"));
  config = tiny_text_config();
  config["layer_types"] = {"full_attention", 3, "x", "y"};
  EXPECT_THAT(error_of(config), HasSubstr("field 'layer_types[1]' = 3: expected a string"));
  config = tiny_text_config();
  config["rope_scaling"] = "llama3";
  EXPECT_THAT(error_of(config), HasSubstr("field 'rope_scaling' = \"llama3\": expected an object"));
}

TEST(ModelConfigTest, MultimodalMessagesNameTheNestedField) {
  json config = json::parse(kScoutMultimodal);
  config["text_config"]["hidden_size"] = -5;
  EXPECT_THAT(error_of(config),
              HasSubstr("cfg.json: field 'text_config.hidden_size' = -5: must be positive"));
  config = json::parse(kScoutMultimodal);
  config["text_config"]["rope_scaling"].erase("factor");
  EXPECT_THAT(error_of(config), HasSubstr("field 'text_config.rope_scaling.factor' = (missing): "
                                          "required by llama3 rope scaling"));
}

TEST(ModelConfigTest, ScoutEqualFrequencyFactorsAreAccepted) {
  json config = tiny_text_config();
  config["rope_scaling"] = {{"rope_type", "llama3"},
                            {"factor", 16.0},
                            {"low_freq_factor", 1.0},
                            {"high_freq_factor", 1.0},
                            {"original_max_position_embeddings", 8192}};
  EXPECT_DOUBLE_EQ(parse(config).rope_scaling.high_freq_factor, 1.0);
}

// One mutation of the tiny config and the fragments its error message must contain.
struct InvalidCase {
  const char* key;
  json value;
  std::vector<std::string> fragments;
};

TEST(ModelConfigTest, ValidationErrorsNameFieldValueAndReason) {
  using namespace config_limits;
  const json llama3 = {{"rope_type", "llama3"},
                       {"factor", 16.0},
                       {"low_freq_factor", 1.0},
                       {"high_freq_factor", 1.0},
                       {"original_max_position_embeddings", 8192}};
  auto rope_with = [&](const char* key, json value) {
    json rope = llama3;
    if (value.is_null()) {
      rope.erase(key);
    } else {
      rope[key] = value;
    }
    return rope;
  };
  const std::vector<InvalidCase> cases = {
      {"vocab_size", 0, {"'vocab_size' = 0: must be positive"}},
      {"vocab_size", kMaxVocabSize + 1, {"'vocab_size' = 16777217: exceeds the limit of 16777216"}},
      {"hidden_size", -64, {"'hidden_size' = -64: must be positive"}},
      {"hidden_size", 65537, {"'hidden_size' = 65537: exceeds the limit of 65536"}},
      {"intermediate_size", 0, {"'intermediate_size' = 0: must be positive"}},
      {"intermediate_size_mlp", -1, {"'intermediate_size_mlp' = -1: must be positive"}},
      {"num_hidden_layers", 0, {"'num_hidden_layers' = 0: must be positive"}},
      {"num_hidden_layers", 1025, {"'num_hidden_layers' = 1025: exceeds the limit of 1024"}},
      {"num_attention_heads", 0, {"'num_attention_heads' = 0: must be positive"}},
      {"num_key_value_heads", 3, {"'num_key_value_heads' = 3: num_attention_heads (4) must be"}},
      {"num_key_value_heads", 0, {"'num_key_value_heads' = 0: must be positive"}},
      {"head_dim", 15, {"'head_dim' = 15: must be even (RoPE rotates pairs)"}},
      {"head_dim", 0, {"'head_dim' = 0: must be positive"}},
      {"head_dim", 2048, {"'head_dim' = 2048: exceeds the limit of 1024"}},
      {"max_position_embeddings", 0, {"'max_position_embeddings' = 0: must be positive"}},
      {"num_local_experts", -1, {"'num_local_experts' = -1: must be between 0 and 4096"}},
      {"num_experts_per_tok", 5, {"'num_experts_per_tok' = 5: must be between 1 and", "(4)"}},
      {"num_experts_per_tok", 0, {"'num_experts_per_tok' = 0: must be between 1 and"}},
      {"interleave_moe_layer_step", 0, {"'interleave_moe_layer_step' = 0: must be positive"}},
      {"no_rope_layer_interval", 0, {"'no_rope_layer_interval' = 0: must be positive"}},
      {"no_rope_layers",
       {1, 1, 0},
       {"'no_rope_layers' = [1,1,0]: has 3 entries, num_hidden_layers"}},
      {"no_rope_layers", {1, 2, 1, 0}, {"'no_rope_layers[1]' = 2: must be 1 (RoPE layer) or 0"}},
      {"layer_types",
       json::array({"full_attention", "full_attention"}),
       {"'layer_types' = [\"full_attention\",\"full_attention\"]: has 2 entries"}},
      {"layer_types",
       json::array({"full_attention", "sliding_attention", "full_attention", "full_attention"}),
       {"'layer_types[1]' = \"sliding_attention\": must be \"chunked_attention\" or"}},
      {"moe_layers", {1, 4}, {"'moe_layers[1]' = 4: layer index out of range [0, 4)"}},
      {"moe_layers", {-1}, {"'moe_layers[0]' = -1: layer index out of range"}},
      {"moe_layers", {1, 3, 1}, {"'moe_layers[2]' = 1: listed twice"}},
      {"attention_chunk_size", 0, {"'attention_chunk_size' = 0: must be positive"}},
      {"floor_scale", 0, {"'floor_scale' = 0: must be positive"}},
      {"floor_scale", -8192.0, {"'floor_scale' = -8192: must be positive"}},
      {"rms_norm_eps", 0.0, {"'rms_norm_eps' = 0: must be positive"}},
      {"rms_norm_eps", -1e-5, {"'rms_norm_eps' = -1e-05: must be positive"}},
      {"rope_theta", 0.0, {"'rope_theta' = 0: must be positive"}},
      {"rope_scaling",
       {{"rope_type", "yarn"}, {"factor", 4.0}},
       {"'rope_scaling.rope_type' = \"yarn\": unsupported rope type"}},
      {"rope_scaling",
       {{"factor", 4.0}},
       {"'rope_scaling.rope_type' = (missing): required to interpret"}},
      {"rope_scaling",
       rope_with("factor", nullptr),
       {"'rope_scaling.factor' = (missing): required by llama3 rope scaling"}},
      {"rope_scaling",
       rope_with("original_max_position_embeddings", nullptr),
       {"'rope_scaling.original_max_position_embeddings' = (missing)"}},
      {"rope_scaling", rope_with("factor", 0.0), {"'rope_scaling.factor' = 0: must be positive"}},
      {"rope_scaling",
       rope_with("low_freq_factor", 2.0),
       {"'rope_scaling.low_freq_factor' = 2: must not exceed high_freq_factor (1)"}},
      {"rope_scaling",
       rope_with("original_max_position_embeddings", -8192),
       {"'rope_scaling.original_max_position_embeddings' = -8192: must be between 1 and"}},
      {"rope_parameters",
       {{"rope_type", "linear"}, {"factor", 2.0}},
       {"'rope_parameters.rope_type' = \"linear\": unsupported rope type"}},
  };
  for (const InvalidCase& c : cases) {
    json config = tiny_text_config();
    config[c.key] = c.value;
    SCOPED_TRACE(std::string(c.key) + " = " + c.value.dump());
    const std::string message = error_of(config);
    EXPECT_THAT(message, HasSubstr("cfg.json: field "));
    for (const std::string& fragment : c.fragments) EXPECT_THAT(message, HasSubstr(fragment));
  }
}

TEST(ModelConfigTest, ExpertCountZeroSkipsTheTopKCheck) {
  json config = tiny_text_config();
  config["num_local_experts"] = 0;
  config["num_experts_per_tok"] = 0;
  EXPECT_EQ(parse(config).num_local_experts, 0);
}

TEST(ModelConfigTest, ValidateChecksConfigsBuiltInCode) {
  ModelConfig config;
  EXPECT_NO_THROW(config.validate("built"));
  config.no_rope_layers = {1, 0};
  try {
    config.validate("built", "text_config.");
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()),
                HasSubstr("built: field 'text_config.no_rope_layers' = [1,0]: has 2 entries, "
                          "num_hidden_layers is 48"));
  }
}

TEST(ModelConfigTest, ReadsFromDirectoryOrFile) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("llama4_model_config_test_" +
       std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream out(dir / "config.json");
    out << kMaverickMultimodal;
  }
  EXPECT_EQ(ModelConfig::from_file(dir).num_local_experts, 128);
  EXPECT_EQ(ModelConfig::from_file(dir / "config.json").interleave_moe_layer_step, 2);
  {
    std::ofstream out(dir / "config.json");
    out << R"({"hidden_size": true})";
  }
  try {
    ModelConfig::from_file(dir);
    ADD_FAILURE() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()),
                HasSubstr((dir / "config.json").string() +
                          ": field 'hidden_size' = true: expected an integer"));
  }
  std::filesystem::remove_all(dir);
  try {
    ModelConfig::from_file(dir);
    ADD_FAILURE() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr(dir.string() + ": cannot open: "));
  }
}

}  // namespace
}  // namespace llama4
