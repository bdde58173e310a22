// Model loading and the decoder forward pass; see model.h.
//
// Per layer (pre-norm residual blocks, as in every Llama):
//   h = h + Attention(RMSNorm(h))      — RoPE/chunked or NoPE/global as the LayerPlan says
//   h = h + FeedForward(RMSNorm(h))    — MoE or dense SwiGLU as the LayerPlan says
// then logits = lm_head(RMSNorm(h)) for the positions that need them.
#include "model/model.h"

#include <algorithm>
#include <string>

#include "kernels/linear.h"
#include "kernels/vector_ops.h"
#include "model/attention.h"
#include "model/feed_forward.h"
#include "util/error.h"

namespace llama4 {

InferenceState::InferenceState(const Model& model, std::int64_t context_size)
    : context_size_(context_size > 0 ? context_size : model.config().max_position_embeddings) {
  const ModelConfig& config = model.config();
  caches_.reserve(model.plan().size());
  for (const LayerSpec& spec : model.plan().layers())
    caches_.emplace_back(spec.window, context_size_, config.num_key_value_heads, config.head_dim);
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

Model::Model(ModelConfig config, Checkpoint checkpoint)
    : config_(std::move(config)),
      plan_(LayerPlan::from_config(config_)),
      checkpoint_(std::move(checkpoint)),
      weights_(bind_weights(checkpoint_, config_, plan_)),
      rope_(config_.head_dim, config_.rope_theta, config_.rope_scaling) {}

std::unique_ptr<Model> Model::load(const std::filesystem::path& dir) {
  if (!std::filesystem::exists(dir)) throw Error("model folder not found: " + dir.string());
  if (!std::filesystem::is_directory(dir)) throw Error("not a model folder: " + dir.string());
  ModelConfig config = ModelConfig::from_file(dir / "config.json");
  Checkpoint checkpoint = Checkpoint::open(dir);
  return std::unique_ptr<Model>(new Model(std::move(config), std::move(checkpoint)));
}

void Model::forward(std::span<const std::int32_t> tokens, InferenceState& state, LogitsFor which,
                    std::vector<float>& logits) const {
  const auto n = static_cast<std::int64_t>(tokens.size());
  const std::int64_t hidden = config_.hidden_size;
  const std::int64_t start = state.position();
  if (n == 0) {
    logits.clear();
    return;
  }
  if (start + n > state.context_size())
    throw Error("context size exceeded: " + std::to_string(start) + " tokens in the cache + " +
                std::to_string(n) + " new > context size " + std::to_string(state.context_size()));
  for (std::int32_t token : tokens)
    if (token < 0 || token >= config_.vocab_size)
      throw Error("token id " + std::to_string(token) + " is outside the vocabulary [0, " +
                  std::to_string(config_.vocab_size) + ")");

  std::vector<float> h(static_cast<std::size_t>(n * hidden));
  for (std::int64_t t = 0; t < n; ++t)
    matrix_row_f32(weights_.embed_tokens, tokens[static_cast<std::size_t>(t)], h.data() + t * hidden);

  std::vector<float> normed(h.size()), block_out(h.size());
  for (std::size_t i = 0; i < plan_.size(); ++i) {
    const LayerSpec& spec = plan_[i];
    const LayerWeights& layer = weights_.layers[i];
    for (std::int64_t t = 0; t < n; ++t)
      rms_norm(h.data() + t * hidden, hidden, config_.rms_norm_eps, &layer.input_norm, normed.data() + t * hidden);
    attention_block(config_, spec, layer, rope_, state.caches()[i], normed.data(), start, n, block_out.data());
    axpy(1.0f, block_out.data(), h.data(), n * hidden);

    for (std::int64_t t = 0; t < n; ++t)
      rms_norm(h.data() + t * hidden, hidden, config_.rms_norm_eps, &layer.post_attention_norm,
               normed.data() + t * hidden);
    if (spec.moe)
      moe_block(*layer.moe, config_.num_experts_per_tok, normed.data(), n, hidden, block_out.data());
    else
      swiglu_block(*layer.dense, normed.data(), n, block_out.data());
    axpy(1.0f, block_out.data(), h.data(), n * hidden);
  }
  state.advance(n);

  if (which == LogitsFor::kNone) {
    logits.clear();
    return;
  }
  const std::int64_t first_row = which == LogitsFor::kLastPosition ? n - 1 : 0;
  const std::int64_t rows = n - first_row;
  for (std::int64_t t = 0; t < rows; ++t)
    rms_norm(h.data() + (first_row + t) * hidden, hidden, config_.rms_norm_eps, &weights_.final_norm,
             normed.data() + t * hidden);
  logits.resize(static_cast<std::size_t>(rows * config_.vocab_size));
  linear(weights_.lm_head, normed.data(), rows, logits.data());
}

}  // namespace llama4
