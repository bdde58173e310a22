// bf16-weight products with bf16 activations; see bf16_activations.h. This file rounds the
// activations, splits the work among threads and picks the kernel (bf16_kernel_*.cpp, both
// bit-identical; bf16_kernels.h has what they share).
#include "kernels/bf16_activations.h"

#include <omp.h>

#include <algorithm>

#include "kernels/bf16_kernels.h"
#include "kernels/forced_kernel.h"

namespace llama4 {
namespace {

using bf16::Activations;
using bf16::kTileTokens;

Activations round_activations(const float* x, std::int64_t n_tokens, std::int64_t in) {
  Activations a;
  a.stride = (in + bf16::kChunkInputs - 1) / bf16::kChunkInputs * bf16::kChunkInputs;
  a.values.assign(static_cast<std::size_t>(n_tokens * a.stride), 0);
#pragma omp parallel for schedule(static) if (n_tokens > kTileTokens)
  for (std::int64_t t = 0; t < n_tokens; ++t)
    for (std::int64_t i = 0; i < in; ++i)
      a.values[static_cast<std::size_t>(t * a.stride + i)] = bf16::round_activation(x[t * in + i]);
  return a;
}

// The kernel a test or benchmark forced, if any.
ForcedKernel<Bf16Kernel> forced_kernel;

void out_major(const Matrix& w, std::int64_t row0, std::int64_t count, const Activations& a,
               std::int64_t t0, std::int64_t n_tokens, float* y) {
  if (bf16_kernel_in_use() == Bf16Kernel::kAvx512Bf16)
    return bf16::avx512_out_major(w, row0, count, a, t0, n_tokens, y);
  bf16::portable_out_major(w, row0, count, a, t0, n_tokens, y);
}

// The AMX kernel leaves in-major matrices to the AVX-512 one.
void in_major(const Matrix& w, std::int64_t c0, std::int64_t width, const Activations& a,
              std::int64_t t0, std::int64_t n_tokens, float* y) {
  if (bf16_kernel_in_use() != Bf16Kernel::kPortable)
    return bf16::avx512_in_major(w, c0, width, a, t0, n_tokens, y);
  bf16::portable_in_major(w, c0, width, a, t0, n_tokens, y);
}

// Out-major rows among the threads, rows(begin, count) for each share: a decode step splits them
// evenly (each thread streams its share once); a prompt hands out blocks of kRowsPerBlock rows,
// whose weights stay in L2 while every token tile passes.
template <typename Rows>
void split_rows(std::int64_t out, std::int64_t n_tokens, Rows rows) {
  if (n_tokens <= kTileTokens) {
    const int threads = omp_get_max_threads();
#pragma omp parallel num_threads(threads)
    {
      const std::int64_t per = (out + threads - 1) / threads;
      const std::int64_t begin = std::min(out, omp_get_thread_num() * per);
      rows(begin, std::min(out, begin + per) - begin);
    }
    return;
  }
  const std::int64_t blocks = (out + bf16::kRowsPerBlock - 1) / bf16::kRowsPerBlock;
#pragma omp parallel for schedule(dynamic, 1)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t begin = b * bf16::kRowsPerBlock;
    rows(begin, std::min(bf16::kRowsPerBlock, out - begin));
  }
}

void out_major_all(const Matrix& w, const Activations& a, std::int64_t n_tokens, float* y) {
  if (bf16_kernel_in_use() != Bf16Kernel::kAmx)
    return split_rows(w.out_features, n_tokens, [&](std::int64_t begin, std::int64_t count) {
      out_major(w, begin, count, a, 0, n_tokens, y);
    });
  // Kept from call to call, like the int8 kernels' buffers; the reference names the calling
  // thread's inside the parallel regions too.
  thread_local bf16::TokenPairs kept_pairs;
  bf16::TokenPairs& pairs = kept_pairs;
  constexpr std::int64_t kTile = bf16::TokenPairs::kTileTokens;
  const std::int64_t tiles = (n_tokens + kTile - 1) / kTile;
  pairs.chunks = (w.in_features + bf16::kChunkInputs - 1) / bf16::kChunkInputs;
  pairs.columns = n_tokens <= kTileTokens ? n_tokens : kTile;
  pairs.bytes.resize(static_cast<std::size_t>(tiles * pairs.chunks * pairs.chunk_bytes()));
#pragma omp parallel for schedule(static) if (tiles > 1)
  for (std::int64_t tile = 0; tile < tiles; ++tile) bf16::pack_token_tile(a, n_tokens, tile, pairs);
  split_rows(w.out_features, n_tokens, [&](std::int64_t begin, std::int64_t count) {
    bf16::amx_out_major(w, begin, count, pairs, n_tokens, y);
  });
}

// In-major: the columns are split evenly among the threads, in blocks of at most kGroupColumns
// for prompts (each block's rows are read from memory once, strip by strip, while every token
// tile passes over the strip).
void in_major_all(const Matrix& w, const Activations& a, std::int64_t n_tokens, float* y) {
  const std::int64_t out = w.out_features;
  const std::int64_t threads = omp_get_max_threads();
  const std::int64_t per_thread = (out + threads - 1) / threads;
  const std::int64_t items_per_thread =
      n_tokens <= kTileTokens ? 1 : (per_thread + bf16::kGroupColumns - 1) / bf16::kGroupColumns;
  const std::int64_t per_item = (per_thread + items_per_thread - 1) / items_per_thread;
  const std::int64_t width =
      (per_item + bf16::kColumnBlock - 1) / bf16::kColumnBlock * bf16::kColumnBlock;
#pragma omp parallel for schedule(dynamic, 1)
  for (std::int64_t c0 = 0; c0 < out; c0 += width)
    in_major(w, c0, std::min(width, out - c0), a, 0, n_tokens, y);
}

}  // namespace

bool bf16_activations_supported(const Matrix& w) {
  return !w.quantized() && w.dtype == DType::BF16;
}

std::string_view bf16_kernel_name(Bf16Kernel kernel) {
  switch (kernel) {
    case Bf16Kernel::kAmx:
      return "amx-bf16";
    case Bf16Kernel::kAvx512Bf16:
      return "avx512-bf16";
    case Bf16Kernel::kPortable:
      return "portable";
  }
  return "?";
}

std::vector<Bf16Kernel> bf16_kernels_available() {
  std::vector<Bf16Kernel> kernels;
  if (bf16::cpu_runs_amx_kernel()) kernels.push_back(Bf16Kernel::kAmx);
  if (bf16::cpu_runs_avx512_kernel()) kernels.push_back(Bf16Kernel::kAvx512Bf16);
  kernels.push_back(Bf16Kernel::kPortable);
  return kernels;
}

Bf16Kernel bf16_kernel_in_use() {
  static const Bf16Kernel fastest = bf16_kernels_available().front();
  return forced_kernel.or_else(fastest);
}

void bf16_kernel_force(std::optional<Bf16Kernel> kernel) {
  forced_kernel.set(kernel);
}

void linear_bf16_activations(const Matrix& w, const float* x, std::int64_t n_tokens, float* y) {
  const Activations a = round_activations(x, n_tokens, w.in_features);
  if (w.layout == Matrix::Layout::kInMajor) return in_major_all(w, a, n_tokens, y);
  out_major_all(w, a, n_tokens, y);
}

}  // namespace llama4
