// Attention block; see attention.h. Per query the loop runs only over the keys its window makes
// visible, so a chunked layer costs O(chunk) per token at any context length and no T×T mask
// exists.
#include "model/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/attention_ops.h"
#include "kernels/linear.h"
#include "kernels/vector_ops.h"
#include "tensor/dtype.h"

namespace llama4 {

float attention_temperature(const ModelConfig& config, std::int64_t position) {
  const double steps = std::floor(static_cast<double>(position + 1) / config.floor_scale);
  return static_cast<float>(1.0 + config.attn_scale * std::log1p(steps));
}

namespace {

// RoPE, then qk-norm, then the temperature (which touches q only, so the cache holds untempered
// keys) — the order of the reference implementation.
void apply_position_transforms(const ModelConfig& config, const LayerSpec& spec,
                               const RopeTable& rope, float* q, float* k, std::int64_t position) {
  const std::int64_t head_dim = config.head_dim;
  const std::int64_t n_heads = config.num_attention_heads, n_kv = config.num_key_value_heads;
  if (spec.use_rope) {
    rope.apply(q, n_heads, position);
    rope.apply(k, n_kv, position);
  }
  if (spec.qk_norm) {
    for (std::int64_t h = 0; h < n_heads; ++h)
      rms_norm(q + h * head_dim, head_dim, config.rms_norm_eps, nullptr, q + h * head_dim);
    for (std::int64_t h = 0; h < n_kv; ++h)
      rms_norm(k + h * head_dim, head_dim, config.rms_norm_eps, nullptr, k + h * head_dim);
  }
  if (spec.temperature_tuning) {
    const float temperature = attention_temperature(config, position);
    for (std::int64_t i = 0; i < n_heads * head_dim; ++i) q[i] *= temperature;
  }
}

// One work item of the attention loop: query row `row` (of a segment) and head `head`.
struct QueryHead {
  const AttentionSegment* segment;
  std::int64_t row;
  std::int64_t head;
};

// The keys and values one segment's queries see, as elements of its cache's type T: positions
// before the batch from the cache, the batch's own from `batch_k` / `batch_v` ([rows, kv_width],
// already rounded to T so a key reads the same from either place).
template <typename T>
struct SegmentKv {
  const AttentionSegment& segment;
  const T* batch_k;
  const T* batch_v;
  std::int64_t kv_width;
  std::int64_t head_dim;

  std::int64_t batch_offset(std::int64_t position, std::int64_t kv_head) const {
    return (segment.first_row + position - segment.start) * kv_width + kv_head * head_dim;
  }
  const T* key(std::int64_t position, std::int64_t kv_head) const {
    return position < segment.start ? segment.cache->template key<T>(position, kv_head)
                                    : batch_k + batch_offset(position, kv_head);
  }
  const T* value(std::int64_t position, std::int64_t kv_head) const {
    return position < segment.start ? segment.cache->template value<T>(position, kv_head)
                                    : batch_v + batch_offset(position, kv_head);
  }
};

// Scaled dot-product attention of one query head over positions [first, position]: softmax of
// q·k · scale in f32, then the weighted sum of the values into ctx.
template <typename T>
void attend(const float* q, const SegmentKv<T>& kv, std::int64_t kv_head, std::int64_t first,
            std::int64_t position, float scale, std::vector<float>& scores, float* ctx) {
  const std::int64_t count = position - first + 1;
  thread_local std::vector<const T*> keys, values;
  keys.resize(static_cast<std::size_t>(count));
  values.resize(static_cast<std::size_t>(count));
  for (std::int64_t p = first; p <= position; ++p) {
    keys[static_cast<std::size_t>(p - first)] = kv.key(p, kv_head);
    values[static_cast<std::size_t>(p - first)] = kv.value(p, kv_head);
  }
  scores.resize(static_cast<std::size_t>(count));
  scaled_dots(q, keys.data(), count, kv.head_dim, scale, scores.data());
  softmax(scores.data(), count);
  weighted_sum(scores.data(), values.data(), count, kv.head_dim, ctx);
}

std::vector<std::uint16_t> to_bf16(const std::vector<float>& values) {
  std::vector<std::uint16_t> out(values.size());
  std::transform(values.begin(), values.end(), out.begin(), f32_to_bf16);
  return out;
}

}  // namespace

void attention_block(const ModelConfig& config, const LayerSpec& spec, const LayerWeights& weights,
                     const RopeTable& rope, std::span<const AttentionSegment> segments,
                     const float* x, std::int64_t rows, float* out) {
  const std::int64_t head_dim = config.head_dim;
  const std::int64_t n_heads = config.num_attention_heads, n_kv = config.num_key_value_heads;
  const std::int64_t q_width = n_heads * head_dim, kv_width = n_kv * head_dim;
  const std::int64_t group = config.kv_heads_per_group();

  std::vector<float> q(static_cast<std::size_t>(rows * q_width));
  std::vector<float> k(static_cast<std::size_t>(rows * kv_width));
  std::vector<float> v(static_cast<std::size_t>(rows * kv_width));
  linear(weights.q, x, rows, q.data());
  linear(weights.k, x, rows, k.data());
  linear(weights.v, x, rows, v.data());

  std::vector<QueryHead> work;
  work.reserve(static_cast<std::size_t>(rows * n_heads));
  for (const AttentionSegment& segment : segments) {
#pragma omp parallel for schedule(static)
    for (std::int64_t t = 0; t < segment.n; ++t) {
      const std::int64_t row = segment.first_row + t;
      apply_position_transforms(config, spec, rope, q.data() + row * q_width,
                                k.data() + row * kv_width, segment.start + t);
    }
    for (std::int64_t t = 0; t < segment.n; ++t)
      for (std::int64_t h = 0; h < n_heads; ++h)
        work.push_back({&segment, segment.first_row + t, h});
  }

  // Attention over the visible window only. Keys before a segment's batch come from its cache,
  // the batch's own keys from k/v (as bf16 copies for a bf16 cache).
  const bool any_bf16 =
      std::any_of(segments.begin(), segments.end(),
                  [](const AttentionSegment& s) { return s.cache->type() == KvType::kBf16; });
  const std::vector<std::uint16_t> k_bf16 = any_bf16 ? to_bf16(k) : std::vector<std::uint16_t>();
  const std::vector<std::uint16_t> v_bf16 = any_bf16 ? to_bf16(v) : std::vector<std::uint16_t>();
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  std::vector<float> context(static_cast<std::size_t>(rows * q_width));
  const auto n_work = static_cast<std::int64_t>(work.size());
#pragma omp parallel
  {
    std::vector<float> scores;
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t w = 0; w < n_work; ++w) {
      const QueryHead& item = work[static_cast<std::size_t>(w)];
      const AttentionSegment& segment = *item.segment;
      const std::int64_t position = segment.start + (item.row - segment.first_row);
      const std::int64_t first = spec.window.first_visible(position);
      const std::int64_t kv_head = item.head / group;
      const float* qh = q.data() + item.row * q_width + item.head * head_dim;
      float* ctx = context.data() + item.row * q_width + item.head * head_dim;
      if (segment.cache->type() == KvType::kBf16)
        attend(qh,
               SegmentKv<std::uint16_t>{segment, k_bf16.data(), v_bf16.data(), kv_width, head_dim},
               kv_head, first, position, scale, scores, ctx);
      else
        attend(qh, SegmentKv<float>{segment, k.data(), v.data(), kv_width, head_dim}, kv_head,
               first, position, scale, scores, ctx);
    }
  }
  for (const AttentionSegment& segment : segments)
    segment.cache->append(k.data() + segment.first_row * kv_width,
                          v.data() + segment.first_row * kv_width, segment.start, segment.n);
  linear(weights.o, context.data(), rows, out);
}

}  // namespace llama4
