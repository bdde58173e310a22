// Attention block; see attention.h. Per query the loop runs only over the keys its window makes
// visible, so a chunked layer costs O(chunk) per token at any context length and no T×T mask exists.
#include "model/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/linear.h"
#include "kernels/vector_ops.h"

namespace llama4 {

float attention_temperature(const ModelConfig& config, std::int64_t position) {
  const double steps = std::floor(static_cast<double>(position + 1) / config.floor_scale);
  return static_cast<float>(1.0 + config.attn_scale * std::log1p(steps));
}

void attention_block(const ModelConfig& config, const LayerSpec& spec, const LayerWeights& weights,
                     const RopeTable& rope, KvCache& cache, const float* x, std::int64_t start,
                     std::int64_t n, float* out) {
  const std::int64_t head_dim = config.head_dim;
  const std::int64_t n_heads = config.num_attention_heads, n_kv = config.num_key_value_heads;
  const std::int64_t q_width = n_heads * head_dim, kv_width = n_kv * head_dim;
  const std::int64_t group = config.kv_heads_per_group();

  std::vector<float> q(static_cast<std::size_t>(n * q_width));
  std::vector<float> k(static_cast<std::size_t>(n * kv_width));
  std::vector<float> v(static_cast<std::size_t>(n * kv_width));
  linear(weights.q, x, n, q.data());
  linear(weights.k, x, n, k.data());
  linear(weights.v, x, n, v.data());

  // Position-dependent transforms, in the order of the reference: RoPE, then qk-norm, then the
  // temperature (which touches q only, so the cache holds untempered keys).
#pragma omp parallel for schedule(static)
  for (std::int64_t t = 0; t < n; ++t) {
    float* qt = q.data() + t * q_width;
    float* kt = k.data() + t * kv_width;
    const std::int64_t position = start + t;
    if (spec.use_rope) {
      rope.apply(qt, n_heads, position);
      rope.apply(kt, n_kv, position);
    }
    if (spec.qk_norm) {
      for (std::int64_t h = 0; h < n_heads; ++h)
        rms_norm(qt + h * head_dim, head_dim, config.rms_norm_eps, nullptr, qt + h * head_dim);
      for (std::int64_t h = 0; h < n_kv; ++h)
        rms_norm(kt + h * head_dim, head_dim, config.rms_norm_eps, nullptr, kt + h * head_dim);
    }
    if (spec.temperature_tuning) {
      const float temperature = attention_temperature(config, position);
      for (std::int64_t i = 0; i < q_width; ++i) qt[i] *= temperature;
    }
  }

  // Scaled dot-product attention over the visible window. Keys before the batch come from the
  // cache, the batch's own keys from k/v.
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  std::vector<float> context(static_cast<std::size_t>(n * q_width));
#pragma omp parallel
  {
    std::vector<float> scores;
#pragma omp for collapse(2) schedule(dynamic, 1)
    for (std::int64_t t = 0; t < n; ++t) {
      for (std::int64_t h = 0; h < n_heads; ++h) {
        const std::int64_t position = start + t;
        const std::int64_t first = spec.window.first_visible(position);
        const std::int64_t kv_head = h / group;
        const float* qh = q.data() + t * q_width + h * head_dim;
        const auto key_at = [&](std::int64_t p) {
          return p < start ? cache.key(p, kv_head) : k.data() + (p - start) * kv_width + kv_head * head_dim;
        };
        const auto value_at = [&](std::int64_t p) {
          return p < start ? cache.value(p, kv_head)
                           : v.data() + (p - start) * kv_width + kv_head * head_dim;
        };
        const std::int64_t count = position - first + 1;
        scores.resize(static_cast<std::size_t>(count));
        for (std::int64_t p = first; p <= position; ++p)
          scores[static_cast<std::size_t>(p - first)] = dot(qh, key_at(p), head_dim) * scale;
        softmax(scores.data(), count);
        float* ctx = context.data() + t * q_width + h * head_dim;
        std::fill_n(ctx, head_dim, 0.0f);
        for (std::int64_t p = first; p <= position; ++p)
          axpy(scores[static_cast<std::size_t>(p - first)], value_at(p), ctx, head_dim);
      }
    }
  }
  cache.append(k.data(), v.data(), start, n);
  linear(weights.o, context.data(), n, out);
}

}  // namespace llama4
