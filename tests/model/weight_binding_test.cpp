// Tests of bind_weights on tiny models written as safetensors: every expert element read through
// the bound Matrix views (storage order and row stride) equals the logical weight in all three
// expert layouts and all float dtypes, mlx-quantized experts are sliced per expert, tied embeddings
// bind the embedding matrix, quantized matrices take scale tables read from the file, and all
// problems of a mismatched checkpoint arrive in one error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "checkpoint/model_config.h"
#include "checkpoint/safetensors.h"
#include "checkpoint/test_tensor_files.h"
#include "kernels/int8_activations.h"
#include "kernels/row_group_scales.h"
#include "model/layer_plan.h"
#include "model/weights.h"
#include "util/error.h"

namespace llama4 {
namespace {

using test_support::round_to;
using test_support::TempDir;
using test_support::TensorFileBuilder;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

enum class ExpertLayout { kFused, kPerExpert, kStacked };
enum Projection { kGate, kUp, kDown };

constexpr int kBits = 4;
constexpr int kGroupSize = 32;

// Llama 4 in miniature: layer 0 dense, layer 1 MoE (interleave step 2).
ModelConfig tiny_config() {
  ModelConfig config;
  config.vocab_size = 16;
  config.hidden_size = 8;
  config.intermediate_size = 6;
  config.intermediate_size_mlp = 10;
  config.num_hidden_layers = 2;
  config.num_attention_heads = 2;
  config.num_key_value_heads = 1;
  config.head_dim = 4;
  config.num_local_experts = 2;
  config.num_experts_per_tok = 1;
  config.interleave_moe_layer_step = 2;
  config.attention_chunk_size = 8;
  config.max_position_embeddings = 64;
  return config;
}

// Sizes every quantized input dimension to a multiple of the smallest mlx group size.
ModelConfig tiny_quantized_config() {
  ModelConfig config = tiny_config();
  config.vocab_size = 4;
  config.hidden_size = 32;
  config.head_dim = 16;
  config.intermediate_size = 32;
  config.intermediate_size_mlp = 32;
  config.quantization = QuantizationConfig{kGroupSize, kBits};
  return config;
}

// One tensor to write: float values from `value(flat index)`, or packed words when U32.
struct TensorSpec {
  TensorSpec() = default;
  TensorSpec(std::vector<std::int64_t> shape, std::function<float(std::int64_t)> value,
             DType dtype = DType::F32, std::vector<std::uint32_t> words = {})
      : shape(std::move(shape)), value(std::move(value)), dtype(dtype), words(std::move(words)) {}

  std::vector<std::int64_t> shape;
  std::function<float(std::int64_t)> value;
  DType dtype = DType::F32;  // F32 means "in the test's float dtype"
  std::vector<std::uint32_t> words;
};

// Writes a model's tensors and knows the logical value of every weight element, so a test can
// compare what it reads through a bound view with what was meant.
class TinyModel {
 public:
  TinyModel(const ModelConfig& config, const LayerPlan& plan, ExpertLayout layout)
      : config_(config) {
    const std::int64_t hidden = config.hidden_size, vocab = config.vocab_size;
    linear("model.embed_tokens", 0, vocab, hidden);
    norm("model.norm.weight");
    if (!config.tie_word_embeddings) linear("lm_head", 0, vocab, hidden);
    for (std::size_t l = 0; l < plan.size(); ++l) add_layer(l, plan[l].moe, layout);
  }

  std::map<std::string, TensorSpec>& specs() { return specs_; }

  // Logical weight (out o, in i) of expert e (0 for plain linears) of the matrix `logical_name`.
  float weight(const std::string& logical_name, std::int64_t e, std::int64_t o,
               std::int64_t i) const {
    const auto it = ids_.find(logical_name);
    if (it == ids_.end()) throw std::out_of_range("no logical matrix " + logical_name);
    if (config_.quantization) {
      return scale(it->second, e, o, i / kGroupSize) *
                 static_cast<float>(level(it->second, e, o, i)) +
             bias(it->second, e, o, i / kGroupSize);
    }
    // Integers in [-125, 125]: exact in F32, BF16 and F16, and different for neighbouring
    // elements, experts and matrices, so any wrong offset, stride or order shows.
    constexpr std::int64_t kPrime = 251, kHalf = 125;
    return static_cast<float>((it->second * 31 + e * 17 + o * 7 + i * 3) % kPrime - kHalf);
  }

  void write(const std::filesystem::path& path, DType float_dtype) const {
    TensorFileBuilder builder;
    for (const auto& [name, spec] : specs_) {
      if (spec.dtype == DType::U32) {
        builder.add_u32(name, spec.shape, spec.words);
        continue;
      }
      std::int64_t count = 1;
      for (std::int64_t d : spec.shape) count *= d;
      std::vector<float> values(static_cast<std::size_t>(count));
      for (std::int64_t k = 0; k < count; ++k) values[static_cast<std::size_t>(k)] = spec.value(k);
      const DType dtype = spec.dtype == DType::F32 ? float_dtype : spec.dtype;
      builder.add(name, dtype, spec.shape, values);
    }
    builder.write(path);
  }

 private:
  int id(const std::string& logical_name) {
    return ids_.emplace(logical_name, static_cast<int>(ids_.size()) + 1).first->second;
  }

  // Quantized model: integer levels, per-group scales and biases (all exact in BF16).
  static std::uint32_t level(int id, std::int64_t e, std::int64_t o, std::int64_t i) {
    return static_cast<std::uint32_t>((id * 5 + e * 7 + o * 3 + i) % (1 << kBits));
  }
  static float scale(int id, std::int64_t e, std::int64_t o, std::int64_t g) {
    return 0.25f * static_cast<float>(1 + (id + e + o + g) % 8);
  }
  static float bias(int id, std::int64_t e, std::int64_t o, std::int64_t g) {
    return -0.5f * static_cast<float>((id + 2 * e + o + 3 * g) % 5);
  }

  void norm(const std::string& name) {
    const float offset = static_cast<float>(id(name));
    specs_[name] = {{config_.hidden_size}, [offset](std::int64_t k) { return offset + 0.25f * k; }};
  }

  // `base`.weight as [out, in] (experts == 0) or [experts, out, in], out-major.
  void linear(const std::string& base, std::int64_t experts, std::int64_t out, std::int64_t in) {
    const int n = id(base);
    std::vector<std::int64_t> shape{out, in};
    if (experts > 0) shape.insert(shape.begin(), experts);
    if (!config_.quantization) {
      specs_[base + ".weight"] = {shape, [this, base, out, in](std::int64_t k) {
                                    return weight(base, k / (out * in), k / in % out, k % in);
                                  }};
      return;
    }
    const std::int64_t lead = std::max<std::int64_t>(experts, 1);
    const std::int64_t words_per_row = in * kBits / 32, groups = in / kGroupSize;
    std::vector<std::uint32_t> words(static_cast<std::size_t>(lead * out * words_per_row), 0);
    for (std::int64_t e = 0; e < lead; ++e)
      for (std::int64_t o = 0; o < out; ++o)
        for (std::int64_t i = 0; i < in; ++i) {
          const std::int64_t bit = i * kBits;
          words[static_cast<std::size_t>((e * out + o) * words_per_row + bit / 32)] |=
              level(n, e, o, i) << (bit % 32);
        }
    shape.back() = words_per_row;
    specs_[base + ".weight"] = {shape, nullptr, DType::U32, std::move(words)};
    shape.back() = groups;
    specs_[base + ".scales"] = {shape,
                                [n, out, groups](std::int64_t k) {
                                  return scale(n, k / (out * groups), k / groups % out, k % groups);
                                },
                                DType::BF16};
    specs_[base + ".biases"] = {shape,
                                [n, out, groups](std::int64_t k) {
                                  return bias(n, k / (out * groups), k / groups % out, k % groups);
                                },
                                DType::BF16};
  }

  void add_layer(std::size_t l, bool moe, ExpertLayout layout) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    const std::int64_t hidden = config_.hidden_size;
    const std::int64_t q_width = config_.num_attention_heads * config_.head_dim;
    const std::int64_t kv_width = config_.num_key_value_heads * config_.head_dim;
    norm(p + "input_layernorm.weight");
    norm(p + "post_attention_layernorm.weight");
    linear(p + "self_attn.q_proj", 0, q_width, hidden);
    linear(p + "self_attn.k_proj", 0, kv_width, hidden);
    linear(p + "self_attn.v_proj", 0, kv_width, hidden);
    linear(p + "self_attn.o_proj", 0, hidden, q_width);
    const std::string ffn = p + "feed_forward.";
    if (!moe) {
      swiglu(ffn, 0, config_.intermediate_size_mlp);
      return;
    }
    linear(ffn + "router", 0, config_.num_local_experts, hidden);
    swiglu(ffn + "shared_expert.", 0, config_.intermediate_size);
    add_experts(ffn + "experts.", layout);
  }

  void swiglu(const std::string& prefix, std::int64_t experts, std::int64_t width) {
    linear(prefix + "gate_proj", experts, width, config_.hidden_size);
    linear(prefix + "up_proj", experts, width, config_.hidden_size);
    linear(prefix + "down_proj", experts, config_.hidden_size, width);
  }

  // The logical matrices are always named `<prefix>{gate,up,down}_proj` (expert index apart), so
  // tests compare every layout against the same numbers.
  void add_experts(const std::string& prefix, ExpertLayout layout) {
    const std::int64_t experts = config_.num_local_experts;
    const std::int64_t hidden = config_.hidden_size, width = config_.intermediate_size;
    switch (layout) {
      case ExpertLayout::kStacked:
        swiglu(prefix, experts, width);
        return;
      case ExpertLayout::kPerExpert:
        for (const char* proj : {"gate_proj", "up_proj", "down_proj"}) id(prefix + proj);
        for (std::int64_t e = 0; e < experts; ++e) {
          const std::string own = prefix + std::to_string(e) + ".";
          for (const char* proj : {"gate_proj", "up_proj", "down_proj"}) {
            const bool down = std::string(proj) == "down_proj";
            const std::int64_t out = down ? hidden : width, in = down ? width : hidden;
            const std::string logical = prefix + proj;
            specs_[own + proj + ".weight"] = {{out, in}, [this, logical, e, in](std::int64_t k) {
                                                return weight(logical, e, k / in, k % in);
                                              }};
          }
        }
        return;
      case ExpertLayout::kFused: {
        const std::string gate = prefix + "gate_proj", up = prefix + "up_proj",
                          down = prefix + "down_proj";
        id(gate), id(up), id(down);
        // [E, H, 2I]: element (e, h, c) is gate (out c, in h) for c < I, else up (out c - I).
        specs_[prefix + "gate_up_proj"] = {
            {experts, hidden, 2 * width}, [=, this](std::int64_t k) {
              const std::int64_t c = k % (2 * width), h = k / (2 * width) % hidden,
                                 e = k / (2 * width * hidden);
              return c < width ? weight(gate, e, c, h) : weight(up, e, c - width, h);
            }};
        // [E, I, H]: element (e, i, o) is down (out o, in i).
        specs_[prefix + "down_proj"] = {{experts, width, hidden}, [=, this](std::int64_t k) {
                                          return weight(down, k / (width * hidden), k % hidden,
                                                        k / hidden % width);
                                        }};
        return;
      }
    }
  }

  ModelConfig config_;
  std::map<std::string, TensorSpec> specs_;
  std::map<std::string, int> ids_;
};

float read_float(const void* base, DType dtype, std::int64_t index) {
  const auto* p =
      static_cast<const std::byte*>(base) + index * static_cast<std::int64_t>(dtype_size(dtype));
  std::uint16_t half = 0;
  float value = 0;
  if (dtype == DType::F32) {
    std::memcpy(&value, p, sizeof(value));
    return value;
  }
  std::memcpy(&half, p, sizeof(half));
  return dtype == DType::BF16 ? bf16_to_f32(half) : f16_to_f32(half);
}

// Element (out o, in i) of a bound matrix, following its storage order, stride or quantization.
float element(const Matrix& m, std::int64_t o, std::int64_t i) {
  if (m.quantized()) {
    const QuantizedData& q = m.quant;
    const std::int64_t words_per_row = m.in_features * q.bits / 32;
    const std::int64_t groups = m.in_features / q.group_size;
    const std::int64_t bit = i * q.bits;
    const std::uint32_t word = q.packed[o * words_per_row + bit / 32];
    const std::uint32_t level = (word >> (bit % 32)) & ((1u << q.bits) - 1u);
    const float scale = read_float(q.scales, q.scale_dtype, o * groups + i / q.group_size);
    const float bias = read_float(q.biases, q.scale_dtype, o * groups + i / q.group_size);
    return scale * static_cast<float>(level) + bias;
  }
  const std::int64_t index =
      m.layout == Matrix::Layout::kOutMajor ? o * m.row_stride + i : i * m.row_stride + o;
  return read_float(m.data, m.dtype, index);
}

// Every element of `m` equals the logical weight (rounded to the stored dtype).
void expect_matrix(const Matrix& m, const TinyModel& model, const std::string& logical,
                   std::int64_t e, std::int64_t out, std::int64_t in, DType dtype) {
  ASSERT_EQ(m.out_features, out) << logical;
  ASSERT_EQ(m.in_features, in) << logical;
  for (std::int64_t o = 0; o < out; ++o)
    for (std::int64_t i = 0; i < in; ++i)
      ASSERT_EQ(element(m, o, i), round_to(dtype, model.weight(logical, e, o, i)))
          << logical << " expert " << e << " out " << o << " in " << i;
}

// `error` of running `action`, or "" if it throws none.
std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::size_t moe_layer_of(const LayerPlan& plan) {
  for (std::size_t l = 0; l < plan.size(); ++l)
    if (plan[l].moe) return l;
  ADD_FAILURE() << "plan has no MoE layer";
  return 0;
}

std::string layout_test_name(
    const ::testing::TestParamInfo<std::tuple<ExpertLayout, DType>>& info) {
  static const char* const kLayoutNames[] = {"Fused", "PerExpert", "Stacked"};
  return std::string(kLayoutNames[static_cast<int>(std::get<0>(info.param))]) +
         std::string(dtype_name(std::get<1>(info.param)));
}

class ExpertLayoutTest : public ::testing::TestWithParam<std::tuple<ExpertLayout, DType>> {};

TEST_P(ExpertLayoutTest, EveryElementMatchesTheLogicalWeight) {
  const auto [layout, dtype] = GetParam();
  const ModelConfig config = tiny_config();
  const LayerPlan plan = LayerPlan::from_config(config);
  ASSERT_EQ(plan.size(), 2u);
  ASSERT_FALSE(plan[0].moe);
  ASSERT_TRUE(plan[1].moe);
  TinyModel model(config, plan, layout);
  TempDir dir;
  model.write(dir.path() / "model.safetensors", dtype);
  const Checkpoint checkpoint = Checkpoint::open(dir.path());

  const ModelWeights weights = bind_weights(checkpoint, config, plan);
  const std::int64_t H = 8, I = 6, I_mlp = 10, E = 2, V = 16;

  // Views point into the map: no copies.
  EXPECT_EQ(weights.embed_tokens.data, checkpoint.find("model.embed_tokens.weight")->data);
  EXPECT_EQ(weights.lm_head.data, checkpoint.find("lm_head.weight")->data);
  EXPECT_EQ(weights.final_norm.data, checkpoint.find("model.norm.weight")->data);
  EXPECT_EQ(weights.final_norm.size, H);
  EXPECT_EQ(weights.final_norm.dtype, dtype);
  EXPECT_EQ(weights.embed_tokens.dtype, dtype);
  expect_matrix(weights.embed_tokens, model, "model.embed_tokens", 0, V, H, dtype);
  expect_matrix(weights.lm_head, model, "lm_head", 0, V, H, dtype);

  ASSERT_EQ(weights.layers.size(), 2u);
  const LayerWeights& dense = weights.layers[0];
  ASSERT_TRUE(dense.dense.has_value());
  EXPECT_FALSE(dense.moe.has_value());
  expect_matrix(dense.q, model, "model.layers.0.self_attn.q_proj", 0, 8, H, dtype);
  expect_matrix(dense.k, model, "model.layers.0.self_attn.k_proj", 0, 4, H, dtype);
  expect_matrix(dense.o, model, "model.layers.0.self_attn.o_proj", 0, H, 8, dtype);
  expect_matrix(dense.dense->up, model, "model.layers.0.feed_forward.up_proj", 0, I_mlp, H, dtype);
  expect_matrix(dense.dense->down, model, "model.layers.0.feed_forward.down_proj", 0, H, I_mlp,
                dtype);
  EXPECT_EQ(dense.input_norm.data, checkpoint.find("model.layers.0.input_layernorm.weight")->data);
  EXPECT_EQ(dense.post_attention_norm.data,
            checkpoint.find("model.layers.0.post_attention_layernorm.weight")->data);
  EXPECT_EQ(dense.input_norm.size, H);

  const LayerWeights& layer = weights.layers[1];
  ASSERT_TRUE(layer.moe.has_value());
  EXPECT_FALSE(layer.dense.has_value());
  const std::string ffn = "model.layers.1.feed_forward.";
  expect_matrix(layer.moe->router, model, ffn + "router", 0, E, H, dtype);
  expect_matrix(layer.moe->shared_expert.gate, model, ffn + "shared_expert.gate_proj", 0, I, H,
                dtype);
  expect_matrix(layer.moe->shared_expert.down, model, ffn + "shared_expert.down_proj", 0, H, I,
                dtype);
  ASSERT_EQ(layer.moe->experts.size(), 2u);
  for (std::int64_t e = 0; e < E; ++e) {
    const SwiGluWeights& expert = layer.moe->experts[static_cast<std::size_t>(e)];
    expect_matrix(expert.gate, model, ffn + "experts.gate_proj", e, I, H, dtype);
    expect_matrix(expert.up, model, ffn + "experts.up_proj", e, I, H, dtype);
    expect_matrix(expert.down, model, ffn + "experts.down_proj", e, H, I, dtype);
  }
  if (layout == ExpertLayout::kFused) {  // used in place: [H, 2I] blocks read x @ W
    const Matrix& gate = layer.moe->experts[1].gate;
    EXPECT_EQ(gate.layout, Matrix::Layout::kInMajor);
    EXPECT_EQ(gate.row_stride, 2 * I);
    EXPECT_EQ(layer.moe->experts[1].down.layout, Matrix::Layout::kInMajor);
    EXPECT_EQ(layer.moe->experts[1].down.row_stride, H);
    EXPECT_EQ(static_cast<const std::byte*>(gate.data),
              checkpoint.find(ffn + "experts.gate_up_proj")->data + H * 2 * I * dtype_size(dtype));
  } else {
    EXPECT_EQ(layer.moe->experts[1].gate.layout, Matrix::Layout::kOutMajor);
    EXPECT_EQ(layer.moe->experts[1].down.row_stride, I);
  }
}

INSTANTIATE_TEST_SUITE_P(AllLayoutsAndDtypes, ExpertLayoutTest,
                         ::testing::Combine(::testing::Values(ExpertLayout::kFused,
                                                              ExpertLayout::kPerExpert,
                                                              ExpertLayout::kStacked),
                                            ::testing::Values(DType::F32, DType::BF16, DType::F16)),
                         layout_test_name);

// The tiny quantized model with stacked experts, written with float tensors of `float_dtype` and
// opened as a checkpoint.
struct QuantizedCheckpoint {
  explicit QuantizedCheckpoint(DType float_dtype)
      : checkpoint([&] {
          model.write(dir.path() / "model.safetensors", float_dtype);
          return Checkpoint::open(dir.path());
        }()) {}
  ModelConfig config = tiny_quantized_config();
  LayerPlan plan = LayerPlan::from_config(config);
  TinyModel model{config, plan, ExpertLayout::kStacked};
  TempDir dir;
  Checkpoint checkpoint;
};

TEST(BindWeightsTest, QuantizedStackedExpertsAreSlicedPerExpert) {
  const QuantizedCheckpoint written(DType::F32);
  const TinyModel& model = written.model;
  const Checkpoint& checkpoint = written.checkpoint;
  const ModelWeights weights = bind_weights(checkpoint, written.config, written.plan);
  EXPECT_TRUE(weights.embed_tokens.quantized());
  EXPECT_EQ(weights.embed_tokens.quant.bits, kBits);
  EXPECT_EQ(weights.embed_tokens.quant.group_size, kGroupSize);
  EXPECT_EQ(weights.embed_tokens.quant.scale_dtype, DType::BF16);
  expect_matrix(weights.embed_tokens, model, "model.embed_tokens", 0, 4, 32, DType::F32);
  expect_matrix(weights.layers[0].o, model, "model.layers.0.self_attn.o_proj", 0, 32, 32,
                DType::F32);
  const std::string ffn = "model.layers.1.feed_forward.";
  const MoeWeights& moe = *weights.layers[1].moe;
  expect_matrix(moe.router, model, ffn + "router", 0, 2, 32, DType::F32);
  for (std::int64_t e = 0; e < 2; ++e) {
    const SwiGluWeights& expert = moe.experts[static_cast<std::size_t>(e)];
    EXPECT_TRUE(expert.gate.quantized());
    expect_matrix(expert.gate, model, ffn + "experts.gate_proj", e, 32, 32, DType::F32);
    expect_matrix(expert.up, model, ffn + "experts.up_proj", e, 32, 32, DType::F32);
    expect_matrix(expert.down, model, ffn + "experts.down_proj", e, 32, 32, DType::F32);
  }
  // Expert 1 starts one expert's worth of words (32 rows · 4 words) into the stack.
  EXPECT_EQ(moe.experts[1].gate.quant.packed,
            reinterpret_cast<const std::uint32_t*>(
                checkpoint.find(ffn + "experts.gate_proj.weight")->data) +
                32 * 4);
}

// A loaded model gives each quantized matrix a scale table for the AVX-512 int8 kernels, laid out
// from its scales and biases as read from the file (not the map): the entry of row 0's first
// weight group holds that row's stored scale and bias.
TEST(BindWeightsTest, QuantizedMatricesTakeScaleTablesReadFromTheFile) {
  const std::vector<Int8Kernel> kernels = int8_kernels_available();
  if (std::find(kernels.begin(), kernels.end(), Int8Kernel::kVnni) == kernels.end())
    GTEST_SKIP() << "this CPU runs no AVX-512 int8 kernel";
  const QuantizedCheckpoint written(DType::BF16);
  const Checkpoint& checkpoint = written.checkpoint;
  ModelWeights weights = bind_weights(checkpoint, written.config, written.plan);
  std::vector<Matrix*> matrices;
  for_each_matrix(weights, [&](Matrix& m) { matrices.push_back(&m); });
  int reads = 0;
  const RowGroupScaleSet tables(matrices, [&](const void* where, void* into, std::size_t count) {
    const bool read = checkpoint.read_without_map(where, into, count);
    reads += read ? 1 : 0;
    return read;
  });
  const Matrix& o = weights.layers[0].o;
  ASSERT_NE(o.quant.row_group_scales, nullptr);
  EXPECT_NE(weights.layers[1].moe->experts[1].down.quant.row_group_scales, nullptr);
  const std::uint32_t first = o.quant.row_group_scales->entries()[0];
  EXPECT_EQ(reads, 2);  // its scales and its biases
  ASSERT_EQ(o.quant.scale_dtype, DType::BF16);
  const std::uint32_t scale = static_cast<const std::uint16_t*>(o.quant.scales)[0];
  const std::uint32_t bias = static_cast<const std::uint16_t*>(o.quant.biases)[0];
  EXPECT_EQ(first, scale | bias << 16);
}

TEST(BindWeightsTest, QuantizedWeightNeedsAQuantizationConfig) {
  QuantizedCheckpoint written(DType::F32);
  written.config.quantization.reset();
  EXPECT_THAT(error_of([&] { bind_weights(written.checkpoint, written.config, written.plan); }),
              AllOf(HasSubstr("tensor 'model.embed_tokens.weight': U32 (quantized) weight but the "
                              "config has no 'quantization'"),
                    HasSubstr("unexpected tensor 'model.embed_tokens.scales'")));
}

TEST(BindWeightsTest, TiedEmbeddingsBindTheEmbeddingMatrix) {
  ModelConfig config = tiny_config();
  config.tie_word_embeddings = true;
  const LayerPlan plan = LayerPlan::from_config(config);
  TinyModel model(config, plan, ExpertLayout::kFused);
  ASSERT_EQ(model.specs().count("lm_head.weight"), 0u);
  TempDir dir;
  model.write(dir.path() / "model.safetensors", DType::BF16);
  const Checkpoint checkpoint = Checkpoint::open(dir.path());
  const ModelWeights weights = bind_weights(checkpoint, config, plan);
  EXPECT_EQ(weights.lm_head.data, checkpoint.find("model.embed_tokens.weight")->data);
  expect_matrix(weights.lm_head, model, "model.embed_tokens", 0, 16, 8, DType::BF16);

  config.tie_word_embeddings = false;  // now lm_head.weight is required
  EXPECT_THAT(error_of([&] { bind_weights(checkpoint, config, plan); }),
              AllOf(HasSubstr("1 problem(s)"),
                    HasSubstr("missing tensor 'lm_head.weight' (expected [16,8])")));
}

TEST(BindWeightsTest, OneErrorListsEveryProblem) {
  const ModelConfig config = tiny_config();
  const LayerPlan plan = LayerPlan::from_config(config);
  const std::string moe = "model.layers." + std::to_string(moe_layer_of(plan)) + ".";
  TinyModel model(config, plan, ExpertLayout::kFused);
  auto& specs = model.specs();
  specs.erase("model.layers.0.self_attn.q_proj.weight");
  specs[moe + "self_attn.k_proj.weight"].shape = {3, 8};
  specs[moe + "feed_forward.gate_proj.weight"] = {{10, 8}, [](std::int64_t) { return 1.0f; }};
  specs["model.norm.weight"].dtype = DType::U32;  // an integer norm: written as raw words
  specs["model.norm.weight"].words = std::vector<std::uint32_t>(8, 1);
  specs[moe + "feed_forward.experts.down_proj"].shape = {2, 8, 6};
  TempDir dir;
  model.write(dir.path() / "model.safetensors", DType::F32);

  const std::string message =
      error_of([&] { bind_weights(Checkpoint::open(dir.path()), config, plan); });
  EXPECT_THAT(message, HasSubstr(dir.path().string() + ": 5 problem(s)"));
  EXPECT_THAT(
      message,
      HasSubstr("missing tensor 'model.layers.0.self_attn.q_proj.weight' (expected [8,8])"));
  EXPECT_THAT(message,
              HasSubstr("tensor '" + moe + "self_attn.k_proj.weight': expected [4,8] found [3,8]"));
  EXPECT_THAT(message, HasSubstr("unexpected tensor '" + moe +
                                 "feed_forward.gate_proj.weight' (F32 [10,8])"));
  EXPECT_THAT(
      message,
      HasSubstr("tensor 'model.norm.weight': dtype U32 not supported (expected F32, BF16 or F16)"));
  EXPECT_THAT(message,
              HasSubstr("tensor '" + moe +
                        "feed_forward.experts.down_proj': expected [2,6,8] found [2,8,6]"));
}

TEST(BindWeightsTest, LongListsAreCapped) {
  ModelConfig config = tiny_config();
  config.num_hidden_layers = 8;
  const LayerPlan plan = LayerPlan::from_config(config);
  TempDir dir;
  TensorFileBuilder()
      .add("unrelated", DType::F32, {1}, {0})
      .write(dir.path() / "model.safetensors");
  const std::string message =
      error_of([&] { bind_weights(Checkpoint::open(dir.path()), config, plan); });
  // 3 global + 8 layers × 6 attention tensors + 4 dense × 3 + 4 MoE × (router, 3 shared, experts)
  // + 1 unexpected = 3 + 48 + 12 + 20 + 1 = 84.
  EXPECT_THAT(message, HasSubstr("84 problem(s)"));
  EXPECT_THAT(message, HasSubstr("\n  and 34 more"));
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 51);
  EXPECT_THAT(message, HasSubstr("missing experts of model.layers.1: expected "
                                 "'model.layers.1.feed_forward.experts.gate_up_proj'"));
  EXPECT_THAT(message, Not(HasSubstr("unexpected tensor 'unrelated'")));  // past the cap
}

TEST(BindWeightsTest, PlanMustMatchTheConfig) {
  ModelConfig config = tiny_config();
  const LayerPlan plan = LayerPlan::from_config(config);
  TempDir dir;
  TinyModel(config, plan, ExpertLayout::kFused).write(dir.path() / "model.safetensors", DType::F32);
  config.num_hidden_layers = 3;
  EXPECT_THAT(error_of([&] { bind_weights(Checkpoint::open(dir.path()), config, plan); }),
              HasSubstr("layer plan has 2 layers but num_hidden_layers is 3"));
}

}  // namespace
}  // namespace llama4
