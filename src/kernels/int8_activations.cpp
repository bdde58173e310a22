// Quantized-weight products with int8 activations; see int8_activations.h. This file rounds the
// activations, splits the rows among threads and picks the kernel (int8_kernel_*.cpp, all
// bit-identical; int8_kernels.h has the layout they share).
#include "kernels/int8_activations.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/forced_kernel.h"
#include "kernels/int8_kernels.h"
#include "kernels/linear.h"
#include "kernels/row_group_scales.h"

namespace llama4 {
namespace int8 {
namespace {

// Every token of x into `a`, the tokens of a prompt split among the threads (each token's
// rounding is its own, so the split changes nothing in the result).
void quantize_activations(const float* x, std::int64_t n_tokens, std::int64_t in, int bits,
                          int group_size, int planes, Activations& a) {
  a.in = in;
  a.block = activation_block(group_size);
  a.blocks = in / a.block;
  a.groups = in / group_size;
  a.planes = planes;
  a.levels.resize(static_cast<std::size_t>(n_tokens * in));
  a.low_levels.resize(planes == 2 ? a.levels.size() : 0);
  a.block_scales.resize(static_cast<std::size_t>(n_tokens * a.blocks));
  a.group_sums.resize(static_cast<std::size_t>(n_tokens * a.groups));
#pragma omp parallel for schedule(static) if (n_tokens > kTileTokens)
  for (std::int64_t t = 0; t < n_tokens; ++t)
    round_token(x + t * in, in, bits, a.block, group_size, a.levels.data() + t * in,
                planes == 2 ? a.low_levels.data() + t * in : nullptr,
                a.block_scales.data() + t * a.blocks, a.group_sums.data() + t * a.groups);
}

}  // namespace

void build_token_tiles(const Activations& a, std::int64_t n_tokens, TokenTiles& tiles) {
  constexpr int kTile = kVnniPromptTile;
  tiles.units = a.in / 4;
  tiles.blocks = a.blocks;
  const std::int64_t count = (n_tokens + kTile - 1) / kTile;
  const auto plane_bytes = static_cast<std::size_t>(count * tiles.units * TokenTiles::kUnitBytes);
  tiles.levels.resize(plane_bytes);
  tiles.low_levels.resize(a.planes == 2 ? plane_bytes : 0);
  tiles.scales.resize(static_cast<std::size_t>(count * tiles.blocks * kTile));
#pragma omp parallel for schedule(static)
  for (std::int64_t t = 0; t < n_tokens; ++t) {
    const std::int64_t first = (t / kTile * tiles.units * kTile + t % kTile) * 4;
    for (int plane = 0; plane < a.planes; ++plane) {
      std::int8_t* levels = (plane == 0 ? tiles.levels : tiles.low_levels).data() + first;
      const std::int8_t* own = a.plane_levels(plane, t);
      for (std::int64_t u = 0; u < tiles.units; ++u)
        std::memcpy(levels + u * TokenTiles::kUnitBytes, own + u * 4, 4);
    }
    float* scales = tiles.scales.data() + t / kTile * tiles.blocks * kTile + t % kTile;
    for (std::int64_t b = 0; b < tiles.blocks; ++b) scales[b * kTile] = a.token_scales(t)[b];
  }
}

void build_amx_token_tiles(const Activations& a, std::int64_t n_tokens, int bits,
                           AmxTokenTiles& tiles) {
  constexpr int kTile = kAmxTokens;
  const std::int64_t rows = a.block / 4;  // of a block's tile
  tiles.block = a.block;
  tiles.blocks = a.blocks;
  tiles.planes = a.planes;
  const std::int64_t block_bytes = tiles.block_bytes();
  const std::int64_t count = (n_tokens + kTile - 1) / kTile;
  // Whole tiles: the last one's slots past the last token must read as zeros.
  tiles.storage.assign(
      static_cast<std::size_t>(count * tiles.blocks * a.planes * block_bytes + kCacheLineBytes), 0);
  tiles.scales.assign(static_cast<std::size_t>(count * tiles.blocks * kTile), 0.0f);
#pragma omp parallel for schedule(static)
  for (std::int64_t t = 0; t < n_tokens; ++t) {
    std::int8_t* levels =
        tiles.levels() + t / kTile * tiles.blocks * a.planes * block_bytes + t % kTile * 4;
    float* scales = tiles.scales.data() + t / kTile * tiles.blocks * kTile + t % kTile;
    for (std::int64_t b = 0; b < tiles.blocks; ++b) {
      for (int plane = 0; plane < a.planes; ++plane) {
        const std::int8_t* own = a.plane_levels(plane, t) + b * a.block;
        std::int8_t* block = levels + (b * a.planes + plane) * block_bytes;
        for (std::int64_t j = 0; j < rows; ++j)
          std::memcpy(block + j * AmxTokenTiles::kRowBytes, own + amx_unit(bits, j) * 4, 4);
      }
      scales[b * kTile] = a.token_scales(t)[b];
    }
  }
}

void load_rows(const Matrix& w, std::int64_t row0, std::int64_t count, RowBlock& block) {
  const QuantizedData& q = w.quant;
  block.groups = w.in_features / q.group_size;
  block.row_bytes = w.in_features * q.bits / 8;
  block.bytes = reinterpret_cast<const std::uint8_t*>(q.packed) + row0 * block.row_bytes;
  const std::int64_t values = count * block.groups;
  block.scales.resize(static_cast<std::size_t>(values));
  block.biases.resize(static_cast<std::size_t>(values));
  const std::size_t offset =
      static_cast<std::size_t>(row0 * block.groups) * dtype_size(q.scale_dtype);
  widen_to_f32(static_cast<const std::byte*>(q.scales) + offset, q.scale_dtype, values,
               block.scales.data());
  widen_to_f32(static_cast<const std::byte*>(q.biases) + offset, q.scale_dtype, values,
               block.biases.data());
}

}  // namespace int8

namespace {

using int8::Activations;
using int8::kRowsPerBlock;
using int8::kTileTokens;

// The kernel a test or benchmark forced, if any.
ForcedKernel<Int8Kernel> forced_kernel;

// Rows [row_begin, row_end) for every token, kRowsPerBlock rows at a time (their weights in L2
// while every token tile passes). The VNNI kernel decodes the whole range in one call: it
// prepares each row group's scales while the group before it decodes, a pipeline that restarted
// every kRowsPerBlock rows when it was given them a block at a time, each restart waiting on
// memory for its first group's scales (bench_kernels decode_q*_int8_activations, two threads,
// medians of six alternated runs: 8-bit 27.5 → 29.2 GB/s, 4-bit 23.1 → 24.6).
void rows_all_tokens(const Matrix& w, const Activations& a, const int8::TokenTiles* tiles,
                     const int8::AmxTokenTiles* amx_tiles, std::int64_t row_begin,
                     std::int64_t row_end, std::int64_t n_tokens, float* y) {
  thread_local int8::RowBlock block;
  const Int8Kernel kernel = int8_kernel_in_use();
  const bool vnni_kernel = kernel == Int8Kernel::kAmx || kernel == Int8Kernel::kVnni;
  if (row_begin >= row_end) return;
  if (vnni_kernel && n_tokens <= kTileTokens) {
    int8::vnni_block(w, row_begin, row_end - row_begin, a, nullptr, nullptr, n_tokens, y);
    return;
  }
  for (std::int64_t b = row_begin; b < row_end; b += kRowsPerBlock) {
    const std::int64_t count = std::min(kRowsPerBlock, row_end - b);
    if (vnni_kernel) {
      int8::vnni_block(w, b, count, a, tiles, amx_tiles, n_tokens, y);
      continue;
    }
    const std::int64_t groups = w.in_features / w.quant.group_size;
    int8::prefetch_scales_and_biases(w.quant, (b + kRowsPerBlock) * groups, kRowsPerBlock * groups);
    int8::load_rows(w, b, count, block);
    if (kernel == Int8Kernel::kAvx2)
      int8::avx2_block(w, block, b, count, a, n_tokens, y);
    else
      int8::portable_block(w, block, b, count, a, n_tokens, y);
  }
}

}  // namespace

bool int8_activations_supported(const Matrix& w) {
  const QuantizedData& q = w.quant;
  if (w.layout != Matrix::Layout::kOutMajor || (q.bits != 4 && q.bits != 8)) return false;
  return q.group_size % kActivationUnit == 0 && w.in_features % q.group_size == 0;
}

std::string_view int8_kernel_name(Int8Kernel kernel) {
  switch (kernel) {
    case Int8Kernel::kAmx:
      return "amx-int8";
    case Int8Kernel::kVnni:
      return "avx512-vnni";
    case Int8Kernel::kAvx2:
      return "avx2";
    case Int8Kernel::kPortable:
      return "portable";
  }
  return "?";
}

std::vector<Int8Kernel> int8_kernels_available() {
  std::vector<Int8Kernel> kernels;
  if (int8::cpu_runs_amx_kernel()) kernels.push_back(Int8Kernel::kAmx);
  if (int8::cpu_runs_vnni_kernel()) kernels.push_back(Int8Kernel::kVnni);
  if (int8::cpu_runs_avx2_kernel()) kernels.push_back(Int8Kernel::kAvx2);
  kernels.push_back(Int8Kernel::kPortable);
  return kernels;
}

Int8Kernel int8_kernel_in_use() {
  static const Int8Kernel fastest = int8_kernels_available().front();
  return forced_kernel.or_else(fastest);
}

void int8_kernel_force(std::optional<Int8Kernel> kernel) {
  forced_kernel.set(kernel);
}

bool int16_activations_pay_off() {
  const Int8Kernel kernel = int8_kernel_in_use();
  return kernel == Int8Kernel::kAmx || kernel == Int8Kernel::kVnni;
}

void linear_int8_activations(const Matrix& w, const float* x, std::int64_t n_tokens, float* y) {
  // Kept from call to call (a prompt's are megabytes): fresh ones would be page-faulted and zeroed
  // by the kernel each time. The references name the calling thread's buffers inside the parallel
  // regions too, where the thread_local names would be each worker's own.
  thread_local Activations kept_activations;
  thread_local int8::TokenTiles kept_tiles;
  thread_local int8::AmxTokenTiles kept_amx_tiles;
  Activations& a = kept_activations;
  int8::TokenTiles& tiles = kept_tiles;
  int8::AmxTokenTiles& amx_tiles = kept_amx_tiles;
  const int planes = w.quant.activation_bits == 16 ? 2 : 1;
  int8::quantize_activations(x, n_tokens, w.in_features, w.quant.bits, w.quant.group_size, planes,
                             a);
  const std::int64_t out = w.out_features;
  // Laid out once, before the threads need it.
  if (w.quant.row_group_scales != nullptr) w.quant.row_group_scales->entries();
  if (n_tokens <= kTileTokens) {
    // Decode: threads split the rows evenly, in whole units of the VNNI kernel's row groups (so
    // that each thread's groups are its scale table's); each streams its share once.
    const int threads = omp_get_max_threads();
    const std::int64_t unit = int8::decode_row_unit(w.in_features * w.quant.bits / 8);
#pragma omp parallel num_threads(threads)
    {
      const std::int64_t per = ((out + threads - 1) / threads + unit - 1) / unit * unit;
      const std::int64_t begin = std::min(out, omp_get_thread_num() * per);
      rows_all_tokens(w, a, nullptr, nullptr, begin, std::min(out, begin + per), n_tokens, y);
    }
    return;
  }
  const Int8Kernel kernel = int8_kernel_in_use();
  const bool amx = kernel == Int8Kernel::kAmx;
  if (amx)
    int8::build_amx_token_tiles(a, n_tokens, w.quant.bits, amx_tiles);
  else if (kernel == Int8Kernel::kVnni)
    int8::build_token_tiles(a, n_tokens, tiles);
  const std::int64_t blocks = (out + kRowsPerBlock - 1) / kRowsPerBlock;
#pragma omp parallel for schedule(dynamic, 1)
  for (std::int64_t b = 0; b < blocks; ++b)
    rows_all_tokens(w, a, &tiles, amx ? &amx_tiles : nullptr, b * kRowsPerBlock,
                    std::min(out, (b + 1) * kRowsPerBlock), n_tokens, y);
}

}  // namespace llama4
