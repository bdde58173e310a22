// Model loading and the decoder forward pass; see model.h.
//
// Per layer (pre-norm residual blocks, as in every Llama):
//   h = h + Attention(RMSNorm(h))      — RoPE/chunked or NoPE/global as the LayerPlan says
//   h = h + FeedForward(RMSNorm(h))    — MoE or dense SwiGLU as the LayerPlan says
// then logits = lm_head(RMSNorm(h)) for the positions that need them.
#include "model/model.h"

#include <algorithm>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>

#include "kernels/int8_activations.h"
#include "kernels/linear.h"
#include "kernels/part_profile.h"
#include "kernels/vector_ops.h"
#include "model/attention.h"
#include "model/feed_forward.h"
#include "model/memory_check.h"
#include "model/scratch.h"
#include "util/error.h"
#include "util/progress.h"

namespace llama4 {

InferenceState::InferenceState(const Model& model, std::int64_t context_size, KvType kv_type)
    : context_size_(context_size > 0 ? context_size : model.config().max_position_embeddings) {
  const ModelConfig& config = model.config();
  caches_.reserve(model.plan().size());
  for (const LayerSpec& spec : model.plan().layers())
    caches_.emplace_back(spec.window, context_size_, config.num_key_value_heads, config.head_dim,
                         kv_type);
}

void InferenceState::reset() {
  for (KvCache& cache : caches_) cache.clear();
  position_ = 0;
}

bool InferenceState::rewind(std::int64_t position) {
  if (position > position_) return false;
  for (const KvCache& cache : caches_)
    if (position < cache.end() && position < cache.begin()) return false;
  for (KvCache& cache : caches_) cache.truncate(position);
  position_ = position;
  return true;
}

std::size_t InferenceState::cache_bytes() const {
  std::size_t total = 0;
  for (const KvCache& cache : caches_) total += cache.bytes();
  return total;
}

std::string_view quantized_activations_name(QuantizedActivations precision) {
  switch (precision) {
    case QuantizedActivations::kInt8:
      return "int8";
    case QuantizedActivations::kInt16:
      return "int16";
    case QuantizedActivations::kBf16:
      return "bf16";
    case QuantizedActivations::kAuto:
      return "auto";
    case QuantizedActivations::kF32:
      break;
  }
  return "f32";
}

std::optional<QuantizedActivations> quantized_activations_from_name(std::string_view name) {
  for (const auto precision :
       {QuantizedActivations::kAuto, QuantizedActivations::kF32, QuantizedActivations::kInt8,
        QuantizedActivations::kInt16, QuantizedActivations::kBf16})
    if (name == quantized_activations_name(precision)) return precision;
  return std::nullopt;
}

void Model::set_quantized_activations(QuantizedActivations precision) {
  if (precision == QuantizedActivations::kAuto) {
    // 16-bit rounding moves the logits ~1e-4 of their largest, far below what 4/8-bit weights
    // themselves move them (~1e-2), and where it pays off it is the faster path by far.
    const bool quantized = any_matrix(weights_, [](const Matrix& m) { return m.quantized(); });
    precision = quantized && int16_activations_pay_off() ? QuantizedActivations::kInt16
                                                         : QuantizedActivations::kF32;
  }
  quantized_activations_ = precision;
  for_each_matrix(weights_, [precision](Matrix& m) {
    const int bits = precision == QuantizedActivations::kInt8    ? 8
                     : precision == QuantizedActivations::kInt16 ? 16
                                                                 : 0;
    m.quant.activation_bits = m.quantized() ? bits : 0;
    m.bf16_activations =
        !m.quantized() && m.dtype == DType::BF16 && precision == QuantizedActivations::kBf16;
  });
}

bool Model::rounds_activations() const {
  return any_matrix(
      weights_, [](const Matrix& m) { return m.quant.activation_bits != 0 || m.bf16_activations; });
}

Model::Model(ModelConfig config, Checkpoint checkpoint)
    : config_(std::move(config)),
      plan_(LayerPlan::from_config(config_)),
      checkpoint_(std::move(checkpoint)),
      weights_(bind_weights(checkpoint_, config_, plan_)),
      rope_(config_.head_dim, config_.rope_theta, config_.rope_scaling) {}

void Model::make_scale_tables() {
  std::vector<Matrix*> matrices;
  for_each_matrix(weights_, [&](Matrix& m) { matrices.push_back(&m); });
  scale_tables_ = std::make_unique<RowGroupScaleSet>(
      matrices, [this](const void* where, void* into, std::size_t count) {
        return checkpoint_.read_without_map(where, into, count);
      });
}

namespace {

// Load stages the progress bar counts. The weights are mapped, not read, so these stages are what
// loading actually spends time on; pages come in later, on first use.
enum LoadStage : std::uint64_t { kReadConfig, kMapFiles, kCheckMemory, kBindWeights, kLoadStages };

bool has_safetensors(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir / "model.safetensors.index.json", ec)) return true;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.path().extension() == ".safetensors") return true;
  return false;
}

}  // namespace

std::unique_ptr<Model> Model::load(const std::filesystem::path& dir) {
  if (!std::filesystem::exists(dir)) throw Error("model folder not found: " + dir.string());
  if (!std::filesystem::is_directory(dir))
    throw Error("not a model folder: " + dir.string() + " is a file (pass the folder holding " +
                "config.json and the *.safetensors weights)");
  const bool has_config = std::filesystem::exists(dir / "config.json");
  const bool has_weights = has_safetensors(dir);
  if (!has_config && !has_weights)
    throw Error("not a model folder: " + dir.string() +
                " has neither config.json nor *.safetensors weights");
  if (!has_weights)
    throw Error("model folder " + dir.string() +
                " has no weights: expected model.safetensors, model.safetensors.index.json with "
                "its shards, or other *.safetensors files");
  const std::string name =
      dir.filename().empty() ? dir.parent_path().filename().string() : dir.filename().string();
  ProgressBar progress = ProgressBar::for_stderr(kLoadStages);
  progress.update(kReadConfig, "reading " + name + "/config.json");
  ModelConfig config = ModelConfig::from_file(dir / "config.json");
  progress.update(kMapFiles, "mapping " + name + " weights");
  Checkpoint checkpoint = Checkpoint::open(dir);
  std::uint64_t weight_bytes = 0;
  for (const auto& [tensor_name, info] : checkpoint.tensors()) weight_bytes += info.nbytes;
  progress.update(kCheckMemory, "checking memory");
  const std::string warning = memory_warning(weight_bytes, read_meminfo(), name);
  progress.update(kBindWeights,
                  "binding " + std::to_string(checkpoint.tensors().size()) + " tensors");
  auto model = std::unique_ptr<Model>(new Model(std::move(config), std::move(checkpoint)));
  // A checkpoint larger than the memory available streams from disk at the disk's pace, which the
  // tables would not change; their memory, which cannot be evicted, would only crowd the pages.
  if (warning.empty()) model->make_scale_tables();
  progress.finish("loaded " + name + " (" + format_bytes(weight_bytes) + " mapped from " +
                  std::to_string(model->checkpoint().files().size()) + " file(s))");
  if (!warning.empty()) std::fprintf(stderr, "%s\n", warning.c_str());
  return model;
}

void Model::forward(std::span<const std::int32_t> tokens, InferenceState& state, LogitsFor which,
                    std::vector<float>& logits) const {
  const SequenceStep step{tokens, &state, which, &logits};
  forward_batch(std::span(&step, 1));
}

void Model::forward_batch(std::span<const SequenceStep> steps) const {
  const std::int64_t hidden = config_.hidden_size;
  std::int64_t rows = 0;
  for (const SequenceStep& step : steps) {
    const auto n = static_cast<std::int64_t>(step.tokens.size());
    const std::int64_t start = step.state->position();
    if (start + n > step.state->context_size())
      throw Error("context size exceeded: " + std::to_string(start) + " tokens in the cache + " +
                  std::to_string(n) + " new > context size " +
                  std::to_string(step.state->context_size()));
    for (std::int32_t token : step.tokens)
      if (token < 0 || token >= config_.vocab_size)
        throw Error("token id " + std::to_string(token) + " is outside the vocabulary [0, " +
                    std::to_string(config_.vocab_size) + ")");
    rows += n;
  }

  // The activations come from this thread's scratch arena, whose pages stay mapped between calls.
  ScratchFrame scratch;
  const std::span<float> h = scratch.take(rows * hidden);
  std::int64_t row = 0;
  for (const SequenceStep& step : steps)
    for (std::int32_t token : step.tokens)
      matrix_row_f32(weights_.embed_tokens, token, h.data() + row++ * hidden);
  // Checks one [rows, hidden] activation matrix when the numerics guard is on.
  const auto check = [&](std::span<const float> values, std::int64_t layer,
                         std::string_view tensor) {
    if (check_numerics_) check_activations_finite(values, hidden, layer, tensor);
  };
  check(h, kNoLayer, "token embeddings");

  std::vector<AttentionSegment> segments(steps.size());
  const std::span<float> normed = scratch.take(rows * hidden);
  const std::span<float> block_out = scratch.take(rows * hidden);
  for (std::size_t i = 0; i < plan_.size(); ++i) {
    const LayerSpec& spec = plan_[i];
    const LayerWeights& layer = weights_.layers[i];
    std::int64_t first_row = 0;
    for (std::size_t s = 0; s < steps.size(); ++s) {
      const auto n = static_cast<std::int64_t>(steps[s].tokens.size());
      segments[s] = {first_row, n, steps[s].state->position(), &steps[s].state->caches()[i]};
      first_row += n;
    }
    rms_norm_rows(h.data(), rows, hidden, config_.rms_norm_eps, &layer.input_norm, normed.data());
    attention_block(config_, spec, layer, rope_, segments, normed.data(), rows, block_out.data());
    check(block_out, static_cast<std::int64_t>(i), "attention output");
    axpy(1.0f, block_out.data(), h.data(), rows * hidden);

    rms_norm_rows(h.data(), rows, hidden, config_.rms_norm_eps, &layer.post_attention_norm,
                  normed.data());
    if (spec.moe)
      moe_block(*layer.moe, config_.num_experts_per_tok, normed.data(), rows, hidden,
                block_out.data());
    else {
      const PartScope part("dense MLP");
      swiglu_block(*layer.dense, normed.data(), rows, block_out.data());
    }
    check(block_out, static_cast<std::int64_t>(i), spec.moe ? "MoE output" : "feed-forward output");
    axpy(1.0f, block_out.data(), h.data(), rows * hidden);
    check(h, static_cast<std::int64_t>(i), "residual stream");
  }

  // Output head only for the rows that need logits: with a 202,048-token vocabulary it is the
  // largest matrix of the model.
  std::vector<std::int64_t> logit_rows;
  std::int64_t first_row = 0;
  for (const SequenceStep& step : steps) {
    const auto n = static_cast<std::int64_t>(step.tokens.size());
    step.state->advance(n);
    if (step.which == LogitsFor::kAllPositions)
      for (std::int64_t t = 0; t < n; ++t) logit_rows.push_back(first_row + t);
    else if (step.which == LogitsFor::kLastPosition && n > 0)
      logit_rows.push_back(first_row + n - 1);
    first_row += n;
  }
  const auto n_logit_rows = static_cast<std::int64_t>(logit_rows.size());
  for (std::int64_t r = 0; r < n_logit_rows; ++r)
    rms_norm(h.data() + logit_rows[static_cast<std::size_t>(r)] * hidden, hidden,
             config_.rms_norm_eps, &weights_.final_norm, normed.data() + r * hidden);
  std::vector<float> all_logits(static_cast<std::size_t>(n_logit_rows * config_.vocab_size));
  if (n_logit_rows > 0) {
    const PartScope part("output head");
    linear(weights_.lm_head, normed.data(), n_logit_rows, all_logits.data());
  }
  if (check_numerics_)
    check_activations_finite(all_logits, config_.vocab_size, kNoLayer, "output logits");

  const auto vocab = static_cast<std::size_t>(config_.vocab_size);
  std::size_t next = 0;
  for (const SequenceStep& step : steps) {
    const auto n = step.tokens.size();
    const std::size_t count = step.which == LogitsFor::kAllPositions            ? n
                              : step.which == LogitsFor::kLastPosition && n > 0 ? 1
                                                                                : 0;
    if (step.logits != nullptr)
      step.logits->assign(all_logits.begin() + static_cast<std::ptrdiff_t>(next * vocab),
                          all_logits.begin() + static_cast<std::ptrdiff_t>((next + count) * vocab));
    next += count;
  }
}

}  // namespace llama4
