// Model: a loaded Llama 4 text model (config, layer plan, weights mapped in place) and its forward
// pass. InferenceState holds everything that belongs to one sequence — the KV caches of every layer
// and the position reached — so one Model can serve many sequences.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "checkpoint/model_config.h"
#include "checkpoint/safetensors.h"
#include "kernels/rope.h"
#include "kernels/row_group_scales.h"
#include "model/kv_cache.h"
#include "model/layer_plan.h"
#include "model/numerics_check.h"
#include "model/weights.h"

namespace llama4 {

class Model;

class InferenceState {
 public:
  // Caches for `context_size` positions (≤ 0: the model's max_position_embeddings) holding
  // elements of `kv_type`.
  InferenceState(const Model& model, std::int64_t context_size, KvType kv_type = KvType::kF32);

  std::int64_t position() const { return position_; }  // tokens processed so far
  std::int64_t context_size() const { return context_size_; }
  KvType kv_type() const { return caches_.empty() ? KvType::kF32 : caches_.front().type(); }
  void reset();
  // Rewinds to `position` if every cache still holds what that needs; false otherwise.
  bool rewind(std::int64_t position);
  std::size_t cache_bytes() const;

  std::vector<KvCache>& caches() { return caches_; }
  void advance(std::int64_t n) { position_ += n; }

 private:
  std::int64_t context_size_;
  std::int64_t position_ = 0;
  std::vector<KvCache> caches_;  // one per layer
};

// The precision of activations entering weight products: f32 (exact); int8 or 16-bit integers per
// block of 64 (or 32) inputs for 4/8-bit weights (kernels/int8_activations.h); or bf16 for bf16
// weights (kernels/bf16_activations.h). The rounded forms are faster and approximate; other
// weights keep f32 activations. kAuto is a request, not a precision: int16 where the model has
// 4/8-bit weights and int16_activations_pay_off(), otherwise f32 (see
// Model::set_quantized_activations).
enum class QuantizedActivations { kAuto, kF32, kInt8, kInt16, kBf16 };
std::string_view quantized_activations_name(QuantizedActivations precision);
std::optional<QuantizedActivations> quantized_activations_from_name(std::string_view name);

// Which positions of a forward call need logits.
enum class LogitsFor { kAllPositions, kLastPosition, kNone };

// One sequence's share of a batched forward call.
struct SequenceStep {
  std::span<const std::int32_t> tokens;  // processed at positions state->position()…
  InferenceState* state;
  LogitsFor which = LogitsFor::kLastPosition;
  std::vector<float>* logits = nullptr;  // [rows, vocab_size] for the requested positions
};

class Model {
 public:
  // Reads config.json, maps the safetensors files and binds every weight. Throws Error.
  static std::unique_ptr<Model> load(const std::filesystem::path& dir);

  const ModelConfig& config() const { return config_; }
  const LayerPlan& plan() const { return plan_; }
  const Checkpoint& checkpoint() const { return checkpoint_; }
  const ModelWeights& weights() const { return weights_; }

  // Processes `tokens` at positions state.position()… and advances the state. Writes logits
  // ([rows, vocab_size]) for the requested positions into `logits` (resized).
  void forward(std::span<const std::int32_t> tokens, InferenceState& state, LogitsFor which,
               std::vector<float>& logits) const;

  // Several sequences in one pass: every weight is read once for all their tokens (this is what
  // makes batched decoding faster), while positions, attention and caches stay per sequence, so a
  // sequence's logits do not depend on what else is in the batch.
  void forward_batch(std::span<const SequenceStep> steps) const;

  // With the check on, forward calls stop with an Error naming the first layer and tensor whose
  // activations hold NaN/Inf (see model/numerics_check.h). On by default in Debug builds.
  void set_check_numerics(bool on) { check_numerics_ = on; }
  bool check_numerics() const { return check_numerics_; }

  // Applies to every matrix of the weight format it names from the next forward call on
  // (default kF32); kAuto is resolved here, once, to the precision quantized_activations() then
  // reports. Not to be changed while a forward call runs.
  void set_quantized_activations(QuantizedActivations precision);
  QuantizedActivations quantized_activations() const { return quantized_activations_; }
  // Whether the precision set acts on any matrix (the model has weights of its format).
  bool rounds_activations() const;

 private:
  Model(ModelConfig config, Checkpoint checkpoint);
  // Gives the quantized matrices their scale tables (kernels/row_group_scales.h).
  void make_scale_tables();

  ModelConfig config_;
  LayerPlan plan_;
  Checkpoint checkpoint_;
  ModelWeights weights_;
  std::unique_ptr<RowGroupScaleSet> scale_tables_;  // the quantized matrices' (weights_ point in)
  RopeTable rope_;
  bool check_numerics_ = kCheckNumericsByDefault;
  QuantizedActivations quantized_activations_ = QuantizedActivations::kF32;
};

}  // namespace llama4
