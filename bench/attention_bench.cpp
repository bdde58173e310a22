// Attention micro-benchmarks (part of bench_kernels): one work item of attention as the model runs
// it — the 5 query heads of one Scout KV head (head_dim 128) for 16 consecutive rows of a prompt,
// or the one row of a decoding step, attended together by attend_group (kernels/attention_ops.h)
// over the causal window of the last rows of a context, with the keys and values in f32 or bf16.
// As in the model's KV cache and batch buffers, one head's positions lie a row of all 8 KV heads
// apart. One thread; FLOP/s counts the two products (q·k and the weighted sum of values), 4 FLOP
// per query, key and element. The keys and values of the work item's head (2 · keys · 512
// bytes in f32) stay in cache from run to run.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "kernels/attention_ops.h"
#include "tensor/dtype.h"

namespace llama4 {
namespace {

constexpr std::int64_t kHeadDim = 128;
constexpr std::int64_t kKvHeads = 8;  // Scout: 40 query heads over 8 KV heads
constexpr std::int64_t kHeadsPerKv = 5;
constexpr std::int64_t kPromptRows = 16;  // query rows per work item (model/attention.cpp)

template <typename T>
T stored(float v) {
  if constexpr (sizeof(T) == sizeof(float))
    return v;
  else
    return f32_to_bf16(v);
}

// The last `rows` rows of an n_keys-token context, each seeing keys [0, its position].
template <typename T>
void attend_last_rows(benchmark::State& state, std::int64_t n_keys, std::int64_t rows) {
  std::mt19937 rng(0);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  constexpr std::int64_t kRowWidth = kKvHeads * kHeadDim;
  std::vector<T> keys(static_cast<std::size_t>(n_keys * kRowWidth));
  std::vector<T> values(keys.size());
  for (T& k : keys) k = stored<T>(normal(rng));
  for (T& v : values) v = stored<T>(normal(rng));
  std::vector<const T*> key_rows, value_rows;
  for (std::int64_t p = 0; p < n_keys; ++p) {
    key_rows.push_back(keys.data() + p * kRowWidth);
    value_rows.push_back(values.data() + p * kRowWidth);
  }
  const std::int64_t n_queries = rows * kHeadsPerKv;
  std::vector<float> q(static_cast<std::size_t>(n_queries * kHeadDim));
  for (float& v : q) v = normal(rng);
  std::vector<float> ctx(q.size());
  std::vector<AttentionQuery> queries;
  double visible_keys = 0;
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t h = 0; h < kHeadsPerKv; ++h) {
      const std::int64_t i = r * kHeadsPerKv + h, last = n_keys - rows + r;
      queries.push_back({q.data() + i * kHeadDim, ctx.data() + i * kHeadDim, 0, last});
      visible_keys += static_cast<double>(last + 1);
    }
  const float scale = 0.088f;
  for (auto _ : state) {
    attend_group(queries.data(), n_queries, key_rows.data(), value_rows.data(), n_keys, kHeadDim,
                 scale);
    benchmark::DoNotOptimize(ctx.data());
  }
  constexpr double kFlopPerKeyElement = 4;
  state.counters["FLOP/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * visible_keys * kHeadDim * kFlopPerKeyElement,
      benchmark::Counter::kIsRate);
}

// How the keys and values are stored (the KV cache's --kv-type).
enum class Storage { kF32, kBf16 };

void run_attention(benchmark::State& state, std::int64_t n_keys, Storage storage,
                   std::int64_t rows = kPromptRows) {
  if (storage == Storage::kBf16)
    attend_last_rows<std::uint16_t>(state, n_keys, rows);
  else
    attend_last_rows<float>(state, n_keys, rows);
}

BENCHMARK_CAPTURE(run_attention, attention_prompt_f32_kv, 2048, Storage::kF32)->UseRealTime();
BENCHMARK_CAPTURE(run_attention, attention_prompt_bf16_kv, 2048, Storage::kBf16)->UseRealTime();
BENCHMARK_CAPTURE(run_attention, attention_long_prompt_f32_kv, 8192, Storage::kF32)->UseRealTime();
// A decoding step's work item at a long context: one row.
BENCHMARK_CAPTURE(run_attention, attention_decode_f32_kv, 8192, Storage::kF32, 1)->UseRealTime();

}  // namespace
}  // namespace llama4
