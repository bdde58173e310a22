// The AMX int8-activation kernel for prompts (see int8_kernels.h): the VNNI kernel's row groups,
// panels and float steps, with each block's integer sums formed by the tile unit. One `tdpbsud`
// multiplies 16 tokens' 32 activations of a block (signed bytes, straight from the rounded
// activations) by the 16 rows' 32 levels (unsigned bytes: the panel's quads, which are exactly
// the tile unit's layout for its second operand), 8192 multiply-adds where `vpdpbusd` does 64.
// The sums are exact integers, so they equal every other kernel's, and the float steps that
// follow are the VNNI kernel's, in the same order: the results are bit-identical.
//
// What remains per block is the float step: per token, one conversion, one multiply (weight
// scales by the token's block scale) and one FMA for all 16 rows, after the block's sums are
// stored from their tile. Moving tiles (activations, levels, sums) and the float steps take about
// equal time and overlap little (docs/PERFORMANCE.md), so the kernel is far from the tile unit's
// peak: each block's own scale keeps it at half width and stops the sums staying in a tile.
//
// Decoding stays on the VNNI kernel: a tile instruction does the same work for 1 token as for 16.
#include <algorithm>
#include <cstdint>

#include "kernels/amx.h"
#include "kernels/int8_kernels.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define LLAMA4_HAVE_AMX_KERNEL 1
#define LLAMA4_AMX __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,amx-tile,amx-int8")))
#else
#define LLAMA4_HAVE_AMX_KERNEL 0
#endif

namespace llama4::int8 {

#if LLAMA4_HAVE_AMX_KERNEL
namespace {

// GCC 12 reports its own intrinsics' `_mm512_undefined_*()` pass-through operands as
// uninitialized once they are inlined here (as in int8_kernel_vnni.cpp).
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

constexpr int kTileRows = 16;  // tokens per tile (tile rows), and rows of a row group
constexpr int kRowBytes = 64;  // bytes per tile row: one row group's quad, or 16 sums
constexpr std::int64_t kBlockBytes = kActivationBlock;  // one block of a token's levels
// Bytes of panel per block: kActivationBlock / 4 rows of quads, each 16 weight rows × 4 levels.
constexpr std::int64_t kPanelBlockBytes = kActivationBlock / 4 * kRowBytes;

// The tile registers. Blocks go through in pairs, a pair's two blocks in tiles 4 and 5
// (activations) and 6 and 7 (levels), their sums in tiles 0 and 1 or 2 and 3 (the pair's
// parity), so that the next pair's tile instructions are under way while one pair's float steps
// run. Configures them for `tokens` tokens (at most kTileRows).
LLAMA4_AMX void configure_tiles(int tokens) {
  amx::TileConfig config;
  for (int sums = 0; sums < 4; ++sums) {
    config.rows[sums] = static_cast<std::uint8_t>(tokens);
    config.bytes_per_row[sums] = kRowBytes;
  }
  for (int second = 0; second < 2; ++second) {
    config.rows[4 + second] = static_cast<std::uint8_t>(tokens);
    config.bytes_per_row[4 + second] = kBlockBytes;
    config.rows[6 + second] = kActivationBlock / 4;
    config.bytes_per_row[6 + second] = kRowBytes;
  }
  amx::load_tile_config(config);
}

// Sums of pair kParity = the levels of two blocks at `activations` (a token every `stride`
// bytes, the second block kBlockBytes on) times their quads at `quads` (the second
// kPanelBlockBytes on); without `second`, the first block only. Tile numbers must be literals.
template <int kParity>
LLAMA4_AMX __attribute__((always_inline)) inline void multiply_pair(const std::int8_t* activations,
                                                                    std::int64_t stride,
                                                                    const std::uint8_t* quads,
                                                                    bool second) {
  _tile_loadd(4, activations, stride);
  _tile_loadd(6, quads, kRowBytes);
  if (second) {
    _tile_loadd(5, activations + kBlockBytes, stride);
    _tile_loadd(7, quads + kPanelBlockBytes, kRowBytes);
  }
  if constexpr (kParity == 0) {
    _tile_zero(0);
    _tile_dpbsud(0, 4, 6);
    if (second) {
      _tile_zero(1);
      _tile_dpbsud(1, 5, 7);
    }
  } else {
    _tile_zero(2);
    _tile_dpbsud(2, 4, 6);
    if (second) {
      _tile_zero(3);
      _tile_dpbsud(3, 5, 7);
    }
  }
}

// sums[0…255] and, with `second`, sums[256…511] = pair kParity's sums.
template <int kParity>
LLAMA4_AMX __attribute__((always_inline)) inline void store_pair(std::int32_t* sums, bool second) {
  constexpr int kSums = kTileRows * kTileRows;
  if constexpr (kParity == 0) {
    _tile_stored(0, sums, kRowBytes);
    if (second) _tile_stored(1, sums + kSums, kRowBytes);
  } else {
    _tile_stored(2, sums, kRowBytes);
    if (second) _tile_stored(3, sums + kSums, kRowBytes);
  }
}

// acc[t] += the block's float step: token t's integer sums of the 16 rows (one tile row) scaled
// by the rows' weight scales times the token's block scale `block_scales[t · blocks]`.
template <int kTokens>
LLAMA4_AMX __attribute__((always_inline)) inline void float_step(const std::int32_t* sums,
                                                                 const float* block_scales,
                                                                 std::int64_t blocks,
                                                                 __m512 weight_scales,
                                                                 __m512 (&acc)[kTokens]) {
#pragma GCC unroll 16
  for (int t = 0; t < kTokens; ++t) {
    const __m512 scale = _mm512_mul_ps(weight_scales, _mm512_set1_ps(block_scales[t * blocks]));
    const __m512 sum = _mm512_cvtepi32_ps(_mm512_load_si512(sums + std::int64_t{t} * kTileRows));
    acc[t] = _mm512_fmadd_ps(sum, scale, acc[t]);
  }
}

// The 16 rows' scales of block `block`'s weight group.
LLAMA4_AMX __attribute__((always_inline)) inline __m512 weight_scales_of(const float* scales,
                                                                         std::int64_t block,
                                                                         std::int64_t group) {
  return _mm512_loadu_ps(scales + block * kActivationBlock / group * kTileRows);
}

// A pair's float steps: its first block (weight-group index `block`, the tokens' block scales
// at `block_scales`) and, with `second`, the one after it.
template <int kTokens>
LLAMA4_AMX __attribute__((always_inline)) inline void pair_float_steps(
    const std::int32_t* pair_sums, const float* block_scales, std::int64_t blocks,
    const float* scales, std::int64_t block, std::int64_t group, bool second,
    __m512 (&acc)[kTokens]) {
  float_step<kTokens>(pair_sums, block_scales, blocks, weight_scales_of(scales, block, group), acc);
  if (second)
    float_step<kTokens>(pair_sums + std::int64_t{kTileRows} * kTileRows, block_scales + 1, blocks,
                        weight_scales_of(scales, block + 1, group), acc);
}

// sums[t · 16 + r] += blocks [k0, k0 + blocks) of the slice for tokens t0 … t0 + kTokens - 1, the
// slice's levels in tile layout at `quads` (kPanelBlockBytes per block) and `scales` holding
// each weight group's 16 row scales. The tiles are configured for kTokens tokens.
template <int kTokens>
LLAMA4_AMX void amx_tile(const std::uint8_t* quads, std::int64_t k0, std::int64_t blocks,
                         std::int64_t group, const float* scales, const Activations& a,
                         std::int64_t t0, float* sums) {
  constexpr int kSums = kTileRows * kTileRows;
  alignas(64) std::int32_t pair_sums[2][2 * kSums];  // pairs k (buffer 0) and k + 2 (buffer 1)
  const std::int8_t* levels = a.token_levels(t0) + k0 * kBlockBytes;
  const float* block_scales = a.token_scales(t0) + k0;
  __m512 acc[kTokens];
#pragma GCC unroll 16
  for (int t = 0; t < kTokens; ++t) acc[t] = _mm512_loadu_ps(sums + std::int64_t{t} * kTileRows);
  // The levels were written by ordinary stores, which tileloadd does not declare that it reads.
  asm volatile("" ::: "memory");
  multiply_pair<0>(levels, a.in, quads, blocks > 1);
  // A pair's sums take their float steps after the next pair's are stored: vector loads of what a
  // tile store has just written wait for it to reach the cache (one core: +7-12% for 4-bit).
  for (std::int64_t k = 0; k < blocks; k += 4) {
    // Pair k is in tiles 0 and 1; start pair k + 2 in tiles 2 and 3, then pair k + 4 behind it.
    if (k + 2 < blocks)
      multiply_pair<1>(levels + (k + 2) * kBlockBytes, a.in, quads + (k + 2) * kPanelBlockBytes,
                       k + 3 < blocks);
    store_pair<0>(pair_sums[0], k + 1 < blocks);
    if (k > 0)
      pair_float_steps(pair_sums[1], block_scales + (k - 2), a.blocks, scales, k0 + (k - 2), group,
                       (k - 2) + 1 < blocks, acc);
    if (k + 2 >= blocks) {
      pair_float_steps(pair_sums[0], block_scales + k, a.blocks, scales, k0 + k, group,
                       k + 1 < blocks, acc);
      break;
    }
    if (k + 4 < blocks)
      multiply_pair<0>(levels + (k + 4) * kBlockBytes, a.in, quads + (k + 4) * kPanelBlockBytes,
                       k + 5 < blocks);
    store_pair<1>(pair_sums[1], k + 3 < blocks);
    pair_float_steps(pair_sums[0], block_scales + k, a.blocks, scales, k0 + k, group,
                     k + 1 < blocks, acc);
    if (k + 4 >= blocks)
      pair_float_steps(pair_sums[1], block_scales + (k + 2), a.blocks, scales, k0 + (k + 2), group,
                       (k + 2) + 1 < blocks, acc);
  }
#pragma GCC unroll 16
  for (int t = 0; t < kTokens; ++t) _mm512_storeu_ps(sums + std::int64_t{t} * kTileRows, acc[t]);
}

// The slice's levels in tile layout. 8-bit panels already are: vector j holds quad j of every
// row, and a block's 8 quads are the 8 rows of the tile's second operand. A 4-bit quad holds 8
// inputs, the even ones in its low nibbles; the activations hold them in the same quad order (4
// even, then 4 odd), so the tile rows are each quad's low nibbles followed by its high ones.
LLAMA4_AMX const std::uint8_t* tile_layout(int bits, const std::uint8_t* panel,
                                           std::int64_t blocks) {
  if (bits == 8) return panel;
  alignas(64) thread_local std::uint8_t expanded[2 * kSliceBytes * kTileRows];
  const __m512i nibble = _mm512_set1_epi8(0x0F);
  for (std::int64_t j = 0; j < blocks * quads_per_block(4); ++j) {
    const __m512i quad = _mm512_load_si512(panel + j * kRowBytes);
    _mm512_store_si512(expanded + 2 * j * kRowBytes, _mm512_and_si512(quad, nibble));
    _mm512_store_si512(expanded + (2 * j + 1) * kRowBytes,
                       _mm512_and_si512(_mm512_srli_epi16(quad, 4), nibble));
  }
  return expanded;
}

#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace

bool cpu_runs_amx_kernel() {
  return amx::int8_usable();
}

LLAMA4_AMX void amx_slice(int bits, const std::uint8_t* panel, std::int64_t k0, std::int64_t blocks,
                          std::int64_t group, const float* scales, const Activations& a,
                          std::int64_t n_tokens, float* sums) {
  const std::uint8_t* quads = tile_layout(bits, panel, blocks);
  int configured = 0;
  for (std::int64_t t = 0; t < n_tokens; t += kTileRows) {
    const int tokens = static_cast<int>(std::min<std::int64_t>(kTileRows, n_tokens - t));
    if (tokens != configured) configure_tiles(configured = tokens);
    with_tokens<kTileRows>(tokens, [&](auto k) {
      amx_tile<decltype(k)::value>(quads, k0, blocks, group, scales, a, t, sums + t * kTileRows);
    });
  }
}

#else  // not x86-64 with GCC or Clang

bool cpu_runs_amx_kernel() {
  return false;
}

void amx_slice(int, const std::uint8_t*, std::int64_t, std::int64_t, std::int64_t, const float*,
               const Activations&, std::int64_t, float*) {}

#endif

}  // namespace llama4::int8
