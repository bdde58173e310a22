// Tests for LayerPlan: the per-layer kinds of the published Scout and Maverick models, the
// explicit config lists that override the interval rules, and the printed table.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "checkpoint/model_config.h"
#include "model/layer_plan.h"
#include "util/error.h"

namespace llama4 {
namespace {

using ::testing::HasSubstr;

constexpr std::int64_t kChunk = 8192;

ModelConfig scout_config() {
  ModelConfig config;  // ModelConfig defaults are the Llama4TextConfig defaults: Scout's shape
  config.num_hidden_layers = 48;
  config.num_local_experts = 16;
  config.num_experts_per_tok = 1;
  config.interleave_moe_layer_step = 1;
  config.no_rope_layer_interval = 4;
  config.attention_chunk_size = kChunk;
  config.use_qk_norm = true;
  config.attn_temperature_tuning = true;
  return config;
}

ModelConfig maverick_config() {
  ModelConfig config = scout_config();
  config.num_local_experts = 128;
  config.interleave_moe_layer_step = 2;
  config.use_qk_norm = false;
  return config;
}

// Four layers, small enough to spell out every expectation.
ModelConfig tiny_config() {
  ModelConfig config;
  config.hidden_size = 64;
  config.num_attention_heads = 4;
  config.num_key_value_heads = 2;
  config.head_dim = 16;
  config.intermediate_size = 96;
  config.intermediate_size_mlp = 128;
  config.num_hidden_layers = 4;
  config.num_local_experts = 4;
  config.interleave_moe_layer_step = 2;
  config.attention_chunk_size = 8;
  return config;
}

// The plan's layers by value: range-for over `from_config(...).layers()` would read a
// destroyed temporary.
std::vector<LayerSpec> layers_of(const ModelConfig& config) {
  return LayerPlan::from_config(config).layers();
}

// The NoPE layers of both shipped models: every fourth layer counting from 1.
const std::set<std::size_t> kShippedNopeLayers = {3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47};

TEST(LayerPlanTest, Scout) {
  const LayerPlan plan = LayerPlan::from_config(scout_config());
  ASSERT_EQ(plan.size(), 48u);
  for (std::size_t i = 0; i < plan.size(); ++i) {
    SCOPED_TRACE("layer " + std::to_string(i));
    const bool nope = kShippedNopeLayers.count(i) == 1;
    EXPECT_EQ(plan[i].use_rope, !nope);
    EXPECT_TRUE(plan[i].moe);
    EXPECT_EQ(plan[i].window.chunk_size, nope ? AttentionWindow::kGlobal : kChunk);
    EXPECT_EQ(plan[i].qk_norm, !nope);
    EXPECT_EQ(plan[i].temperature_tuning, nope);
  }
}

TEST(LayerPlanTest, Maverick) {
  const LayerPlan plan = LayerPlan::from_config(maverick_config());
  ASSERT_EQ(plan.size(), 48u);
  for (std::size_t i = 0; i < plan.size(); ++i) {
    SCOPED_TRACE("layer " + std::to_string(i));
    const bool nope = kShippedNopeLayers.count(i) == 1;
    EXPECT_EQ(plan[i].use_rope, !nope);
    EXPECT_EQ(plan[i].moe, i % 2 == 1);  // MoE on odd layers, dense on even ones
    EXPECT_EQ(plan[i].window.is_global(), nope);
    EXPECT_FALSE(plan[i].qk_norm);
    EXPECT_EQ(plan[i].temperature_tuning, nope);
  }
}

TEST(LayerPlanTest, ExplicitNoRopeLayersDecideRopeAndAttention) {
  ModelConfig config = tiny_config();
  config.no_rope_layers = {0, 1, 1, 0};  // 1 = RoPE
  const LayerPlan plan = LayerPlan::from_config(config);
  EXPECT_FALSE(plan[0].use_rope);
  EXPECT_TRUE(plan[1].use_rope);
  EXPECT_TRUE(plan[2].use_rope);
  EXPECT_FALSE(plan[3].use_rope);
  EXPECT_TRUE(plan[0].window.is_global());
  EXPECT_EQ(plan[1].window.chunk_size, 8);
  EXPECT_TRUE(plan[0].temperature_tuning);
  EXPECT_FALSE(plan[0].qk_norm);
  EXPECT_TRUE(plan[1].qk_norm);
}

TEST(LayerPlanTest, ExplicitLayerTypesOverrideTheRopeDerivedKind) {
  ModelConfig config = tiny_config();  // interval 4: layer 3 is NoPE
  config.layer_types = {"full_attention", "chunked_attention", "chunked_attention",
                        "chunked_attention"};
  const LayerPlan plan = LayerPlan::from_config(config);
  EXPECT_TRUE(plan[0].use_rope);
  EXPECT_TRUE(plan[0].window.is_global());  // RoPE layer with global attention
  EXPECT_FALSE(plan[3].use_rope);
  EXPECT_EQ(plan[3].window.chunk_size, 8);  // NoPE layer with chunked attention
  EXPECT_TRUE(plan[3].temperature_tuning);  // temperature follows rope, not the window
}

TEST(LayerPlanTest, IntervalRuleEdges) {
  ModelConfig config = tiny_config();
  config.no_rope_layer_interval = 1;  // every layer NoPE
  for (const LayerSpec& spec : layers_of(config)) {
    EXPECT_FALSE(spec.use_rope);
    EXPECT_TRUE(spec.window.is_global());
  }
  config.no_rope_layer_interval = 5;  // longer than the model: every layer RoPE
  for (const LayerSpec& spec : layers_of(config)) {
    EXPECT_TRUE(spec.use_rope);
    EXPECT_FALSE(spec.window.is_global());
  }
}

TEST(LayerPlanTest, MoeLayerSelection) {
  ModelConfig config = tiny_config();
  config.num_hidden_layers = 7;
  config.interleave_moe_layer_step = 3;  // HF: range(2, 7, 3) = {2, 5}
  LayerPlan plan = LayerPlan::from_config(config);
  for (std::size_t i = 0; i < plan.size(); ++i) EXPECT_EQ(plan[i].moe, i == 2 || i == 5) << i;

  config.moe_layers = {0, 6};
  config.moe_layers_given = true;  // the list wins over the step
  plan = LayerPlan::from_config(config);
  for (std::size_t i = 0; i < plan.size(); ++i) EXPECT_EQ(plan[i].moe, i == 0 || i == 6) << i;

  config.moe_layers.clear();  // given as []: no MoE layer at all
  for (const LayerSpec& spec : layers_of(config)) EXPECT_FALSE(spec.moe);

  config.moe_layers_given = false;
  config.interleave_moe_layer_step = 1;
  config.num_local_experts = 0;  // no experts: every layer dense whatever the step says
  for (const LayerSpec& spec : layers_of(config)) EXPECT_FALSE(spec.moe);
}

TEST(LayerPlanTest, NullChunkSizeMakesEveryLayerGlobal) {
  ModelConfig config = scout_config();
  config.attention_chunk_size = std::nullopt;
  for (const LayerSpec& spec : layers_of(config)) {
    EXPECT_TRUE(spec.window.is_global());
  }
  config.layer_types.assign(48, std::string(kChunkedAttentionLayer));
  for (const LayerSpec& spec : layers_of(config)) {
    EXPECT_TRUE(spec.window.is_global());
  }
}

TEST(LayerPlanTest, FlagsOffDisableQkNormAndTemperature) {
  ModelConfig config = scout_config();
  config.use_qk_norm = false;
  config.attn_temperature_tuning = false;
  for (const LayerSpec& spec : layers_of(config)) {
    EXPECT_FALSE(spec.qk_norm);
    EXPECT_FALSE(spec.temperature_tuning);
  }
}

TEST(LayerPlanTest, RejectsInvalidLists) {
  ModelConfig config = tiny_config();
  config.moe_layers = {1, 9};
  config.moe_layers_given = true;
  try {
    LayerPlan::from_config(config);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()),
                HasSubstr("model config: field 'moe_layers[1]' = 9: layer index out of range"));
  }
  config = tiny_config();
  config.layer_types = {"chunked_attention"};
  EXPECT_THROW(LayerPlan::from_config(config), Error);
}

TEST(LayerPlanTest, TableShowsEveryLayer) {
  const std::string expected =
      "layer  rope  attention  qk-norm  temperature  ffn\n"
      "0      yes   chunked 8  yes      no           dense 128\n"
      "1      yes   chunked 8  yes      no           moe 4x top-1\n"
      "2      yes   chunked 8  yes      no           dense 128\n"
      "3      no    global     no       yes          moe 4x top-1\n";
  EXPECT_EQ(LayerPlan::from_config(tiny_config()).to_table(), expected);
}

TEST(LayerPlanTest, ScoutTableRows) {
  const std::string table = LayerPlan::from_config(scout_config()).to_table();
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 49);  // header + 48 layers
  EXPECT_THAT(table,
              HasSubstr("\n0      yes   chunked 8192  yes      no           moe 16x top-1\n"));
  EXPECT_THAT(table,
              HasSubstr("\n47     no    global        no       yes          moe 16x top-1\n"));
}

}  // namespace
}  // namespace llama4
