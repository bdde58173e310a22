// Attention block; see attention.h. Per query the loop runs only over the keys its window makes
// visible, so a chunked layer costs O(chunk) per token at any context length and no T×T mask
// exists.
#include "model/attention.h"

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "kernels/attention_ops.h"
#include "kernels/linear.h"
#include "kernels/part_profile.h"
#include "kernels/vector_ops.h"
#include "model/scratch.h"
#include "tensor/dtype.h"

namespace llama4 {

float attention_temperature(const ModelConfig& config, std::int64_t position) {
  const double steps = std::floor(static_cast<double>(position + 1) / config.floor_scale);
  return static_cast<float>(1.0 + config.attn_scale * std::log1p(steps));
}

namespace {

// The parts of `llama4 bench --profile` (kernels/part_profile.h) this block is made of.
constexpr const char* kProjectionsPart = "attention projections";
constexpr const char* kAttentionPart = "attention";

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

// Query rows of a segment attended together (with every query head of one KV head): they share
// most of their keys and values, which attend_group then reads once. 16 rows (80 Scout queries)
// rather than 4: a long prompt's keys and values come from the last-level cache, and 16 rows read
// them a quarter as often (bench_kernels attention_prompt_f32_kv, one core, with the kernel
// before its score tiles: 31-32 GFLOP/s with 4 rows, 41 with 16).
constexpr std::int64_t kRowsPerGroup = 16;

// One work item of the attention loop: rows [row, row + rows) of a segment, KV head `kv_head`.
struct QueryGroup {
  const AttentionSegment* segment;
  std::int64_t row;
  std::int64_t rows;
  std::int64_t kv_head;
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

// Scaled dot-product attention of a group's queries, each over its own visible positions: every
// query head of the KV head, for each of the group's rows (softmax of q·k · scale in f32, then
// the weighted sum of the values into the context).
template <typename T>
void attend(const QueryGroup& group, const SegmentKv<T>& kv, const AttentionWindow& window,
            std::int64_t heads_per_kv, const float* q, std::int64_t q_width, float scale,
            float* context) {
  const AttentionSegment& segment = *group.segment;
  const std::int64_t position0 = segment.start + (group.row - segment.first_row);
  const std::int64_t first = window.first_visible(position0);
  const std::int64_t last = position0 + group.rows - 1;
  thread_local std::vector<const T*> keys, values;
  thread_local std::vector<AttentionQuery> queries;
  keys.resize(static_cast<std::size_t>(last - first + 1));
  values.resize(keys.size());
  for (std::int64_t p = first; p <= last; ++p) {
    keys[static_cast<std::size_t>(p - first)] = kv.key(p, group.kv_head);
    values[static_cast<std::size_t>(p - first)] = kv.value(p, group.kv_head);
  }
  queries.clear();
  for (std::int64_t r = 0; r < group.rows; ++r)
    for (std::int64_t h = group.kv_head * heads_per_kv; h < (group.kv_head + 1) * heads_per_kv;
         ++h) {
      const std::int64_t offset = (group.row + r) * q_width + h * kv.head_dim;
      queries.push_back({q + offset, context + offset, window.first_visible(position0 + r) - first,
                         position0 + r - first});
    }
  attend_group(queries.data(), static_cast<std::int64_t>(queries.size()), keys.data(),
               values.data(), static_cast<std::int64_t>(keys.size()), kv.head_dim, scale);
}

std::vector<std::uint16_t> to_bf16(std::span<const float> values) {
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
  const std::int64_t group_size = config.kv_heads_per_group();

  ScratchFrame scratch;
  const std::span<float> q = scratch.take(rows * q_width);
  const std::span<float> k = scratch.take(rows * kv_width);
  const std::span<float> v = scratch.take(rows * kv_width);
  {
    const PartScope part(kProjectionsPart);
    linear(weights.q, x, rows, q.data());
    linear(weights.k, x, rows, k.data());
    linear(weights.v, x, rows, v.data());
  }
  const std::span<float> context = scratch.take(rows * q_width);
  {
    const PartScope part(kAttentionPart);
    std::vector<QueryGroup> work;
    for (const AttentionSegment& segment : segments) {
#pragma omp parallel for schedule(static)
      for (std::int64_t t = 0; t < segment.n; ++t) {
        const std::int64_t row = segment.first_row + t;
        apply_position_transforms(config, spec, rope, q.data() + row * q_width,
                                  k.data() + row * kv_width, segment.start + t);
      }
      for (std::int64_t t = 0; t < segment.n; t += kRowsPerGroup)
        for (std::int64_t h = 0; h < n_kv; ++h)
          work.push_back(
              {&segment, segment.first_row + t, std::min(kRowsPerGroup, segment.n - t), h});
    }

    // Attention over the visible window only. Keys before a segment's batch come from its cache,
    // the batch's own keys from k/v (as bf16 copies for a bf16 cache).
    const bool any_bf16 =
        std::any_of(segments.begin(), segments.end(),
                    [](const AttentionSegment& s) { return s.cache->type() == KvType::kBf16; });
    const std::vector<std::uint16_t> k_bf16 = any_bf16 ? to_bf16(k) : std::vector<std::uint16_t>();
    const std::vector<std::uint16_t> v_bf16 = any_bf16 ? to_bf16(v) : std::vector<std::uint16_t>();
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    const auto n_work = static_cast<std::int64_t>(work.size());
#pragma omp parallel for schedule(dynamic, 1)
    for (std::int64_t w = 0; w < n_work; ++w) {
      const QueryGroup& group = work[static_cast<std::size_t>(w)];
      const AttentionSegment& segment = *group.segment;
      if (segment.cache->type() == KvType::kBf16)
        attend(group,
               SegmentKv<std::uint16_t>{segment, k_bf16.data(), v_bf16.data(), kv_width, head_dim},
               spec.window, group_size, q.data(), q_width, scale, context.data());
      else
        attend(group, SegmentKv<float>{segment, k.data(), v.data(), kv_width, head_dim},
               spec.window, group_size, q.data(), q_width, scale, context.data());
    }
    for (const AttentionSegment& segment : segments)
      segment.cache->append(k.data() + segment.first_row * kv_width,
                            v.data() + segment.first_row * kv_width, segment.start, segment.n);
  }
  const PartScope part(kProjectionsPart);
  linear(weights.o, context.data(), rows, out);
}

}  // namespace llama4
