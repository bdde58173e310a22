// The AMX int8-activation kernel for prompts (see int8_kernels.h): the VNNI kernel's row groups
// and float steps, with each block's integer sums formed by the tile unit. One `tdpbusd`
// multiplies the 16 rows' 64 (or 32) levels of a block (unsigned bytes, the first operand) by 16
// tokens' activations of the block (signed bytes, the second operand, laid out once per call in
// AmxTokenTiles): 16384 multiply-adds where `vpdpbusd` does 64, in the same time as the 8192 of
// a 32-input block. The sums are exact integers, so they equal every other kernel's, and the
// float steps that follow are the VNNI kernel's, in the same order: the results are
// bit-identical. 16-bit activations take a tile product per plane of each block, and
// the float step forms the block's sum from the two (Activations in int8_kernels.h).
//
// The weights are the first operand so that 8-bit rows load into tiles straight from the
// checkpoint, one tile row per weight row: the second operand wants 4-byte units of 16 columns
// side by side, which for weights meant transposing every row group into a panel first, and that
// transposition took as long as the tile work (docs/PERFORMANCE.md). 4-bit rows are split into
// their nibbles a slice at a time (amx_unit says in which order). The sums then come out as one
// tile row per weight row and a lane per token, so each float step scales a row's 16 tokens by
// their block scales times the row's group scale.
//
// Decoding stays on the VNNI kernel: a tile instruction does the same work for 1 token as for 16.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/amx.h"
#include "kernels/int8_kernels.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "kernels/avx512_transpose.h"
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

constexpr int kRows = 16;                  // weight rows of a group: tile rows
constexpr int kSumBytes = kAmxTokens * 4;  // a tile row of sums: one per token

// The shapes of a block of kUnits units of kActivationUnit inputs.
template <int kUnits>
struct Block {
  static constexpr std::int64_t kInputs = kUnits * kActivationUnit;
  static constexpr std::int64_t kLevelBytes = kInputs;  // one row's levels, as bytes
  static constexpr std::int64_t kTokenBytes = kUnits * AmxTokenTiles::kUnitBytes;  // a plane
  // Blocks per slice: a slice of the group's levels (16 KiB) stays in L1 while every token tile
  // passes over it.
  static constexpr std::int64_t kSliceBlocks = kSliceBytes / kLevelBytes;
  // A laid-out slice holds block after block, each as 16 rows of kLevelBytes.
  static constexpr std::int64_t kLaidOutBytes = kRows * kLevelBytes;
};
// How far ahead the passes over a slice ask for levels. On one core (bench_kernels
// prefill_q*_int8_activations*), against none: 7-8 ms for a 32-token expert's product in place of
// 8-10; 2 slices against 1: 6.5-7.6 against 6.6-8.3 ms; 3 slices: no better.
constexpr std::int64_t kSlicesAhead = 2;

// Where a slice's levels lie for the tile loads: block k of row r at base + k · block_stride +
// r · row_stride.
struct Levels {
  const std::uint8_t* base;
  std::int64_t row_stride, block_stride;
};

// The tile registers. Products go through in pairs — two blocks of int8 activations, or the two
// planes of one block of 16-bit ones — with the levels in tiles 4 and 5 (16-bit: 4 only), the
// activations in 6 and 7 and the sums in tiles 0 and 1 or 2 and 3 (the pair's parity), so that the
// next pair's tile instructions are under way while one pair's float steps run.
template <int kUnits>
LLAMA4_AMX void configure_tiles() {
  amx::TileConfig config;
  for (int sums = 0; sums < 4; ++sums) {
    config.rows[sums] = kRows;
    config.bytes_per_row[sums] = kSumBytes;
  }
  for (int second = 0; second < 2; ++second) {
    config.rows[4 + second] = kRows;
    config.bytes_per_row[4 + second] = Block<kUnits>::kLevelBytes;
    config.rows[6 + second] = Block<kUnits>::kInputs / 4;
    config.bytes_per_row[6 + second] = AmxTokenTiles::kRowBytes;
  }
  amx::load_tile_config(config);
}

// Sums of pair kParity = the levels from `first` (laid out as `levels` says) times the
// activations at `activations` and the block's plane after them: int8 activations (kPlanes 1)
// meet two blocks of levels, the second without `second` skipped; 16-bit ones (kPlanes 2) meet
// one block of levels with both planes. Tile numbers must be literals.
template <int kPlanes, int kUnits, int kParity>
LLAMA4_AMX __attribute__((always_inline)) inline void multiply_pair(const Levels& levels,
                                                                    const std::uint8_t* first,
                                                                    const std::int8_t* activations,
                                                                    bool second) {
  _tile_loadd(4, first, levels.row_stride);
  _tile_loadd(6, activations, AmxTokenTiles::kRowBytes);
  if (second) {
    if constexpr (kPlanes == 1) _tile_loadd(5, first + levels.block_stride, levels.row_stride);
    _tile_loadd(7, activations + Block<kUnits>::kTokenBytes, AmxTokenTiles::kRowBytes);
  }
  if constexpr (kParity == 0) {
    _tile_zero(0);
    _tile_dpbusd(0, 4, 6);
    if (second) {
      _tile_zero(1);
      if constexpr (kPlanes == 1)
        _tile_dpbusd(1, 5, 7);
      else
        _tile_dpbusd(1, 4, 7);
    }
  } else {
    _tile_zero(2);
    _tile_dpbusd(2, 4, 6);
    if (second) {
      _tile_zero(3);
      if constexpr (kPlanes == 1)
        _tile_dpbusd(3, 5, 7);
      else
        _tile_dpbusd(3, 4, 7);
    }
  }
}

// sums[0…255] and, with `second`, sums[256…511] = pair kParity's sums.
template <int kParity>
LLAMA4_AMX __attribute__((always_inline)) inline void store_pair(std::int32_t* sums, bool second) {
  constexpr int kSums = kRows * kAmxTokens;
  if constexpr (kParity == 0) {
    _tile_stored(0, sums, kSumBytes);
    if (second) _tile_stored(1, sums + kSums, kSumBytes);
  } else {
    _tile_stored(2, sums, kSumBytes);
    if (second) _tile_stored(3, sums + kSums, kSumBytes);
  }
}

// acc[r] += the block's float step: row r's integer sums of the 16 tokens (one tile row) scaled
// by the row's group scale `row_scales[r]` times the tokens' block scales. With 16-bit
// activations the integer sums are the high plane's (`sums`) times 256 plus the low plane's
// (`low_sums`), formed exactly as the other kernels do.
template <int kPlanes>
LLAMA4_AMX __attribute__((always_inline)) inline void float_step(const std::int32_t* sums,
                                                                 const std::int32_t* low_sums,
                                                                 const float* token_scales,
                                                                 const float* row_scales,
                                                                 __m512 (&acc)[kRows]) {
  const __m512 block_scales = _mm512_loadu_ps(token_scales);
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r) {
    const __m512 scale = _mm512_mul_ps(_mm512_set1_ps(row_scales[r]), block_scales);
    __m512i exact = _mm512_load_si512(sums + std::int64_t{r} * kAmxTokens);
    if constexpr (kPlanes == 2)
      exact = _mm512_add_epi32(_mm512_slli_epi32(exact, kPlaneShift),
                               _mm512_load_si512(low_sums + std::int64_t{r} * kAmxTokens));
    acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(exact), scale, acc[r]);
  }
}

// The float steps of a pair's sums: block k of the slice from block k0 and, for int8 activations
// with `second`, the one after it (tile_pass has the other arguments).
template <int kPlanes, int kUnits>
LLAMA4_AMX __attribute__((always_inline)) inline void pair_steps(
    const std::int32_t* sums, std::int64_t k, bool second, std::int64_t k0, std::int64_t group,
    const float* scales, const float* token_scales, __m512 (&acc)[kRows]) {
  const auto row_scales = [&](std::int64_t block) {
    return scales + (k0 + block) * Block<kUnits>::kInputs / group * kRows;
  };
  const std::int32_t* second_sums = sums + std::int64_t{kRows} * kAmxTokens;
  if constexpr (kPlanes == 2) {
    float_step<2>(sums, second_sums, token_scales + k * kAmxTokens, row_scales(k), acc);
  } else {
    float_step<1>(sums, nullptr, token_scales + k * kAmxTokens, row_scales(k), acc);
    if (second)
      float_step<1>(second_sums, nullptr, token_scales + (k + 1) * kAmxTokens, row_scales(k + 1),
                    acc);
  }
}

// One token tile's pass over a slice of `blocks` blocks: the slice's `levels`, the tile's
// activations and block scales from the slice's first block, `scales` holding each weight
// group's 16 row scales and k0 the slice's first block in the row. acc[r] (16 tokens each)
// carries row r's sums from slice to slice. Along the way the lines of `ahead` (16 rows,
// `stride_ahead` apart, `ahead_bytes` each) are asked for: levels of a later slice.
template <int kPlanes, int kUnits>
LLAMA4_AMX void tile_pass(const Levels& levels, std::int64_t k0, std::int64_t blocks,
                          std::int64_t group, const float* scales, const std::int8_t* activations,
                          const float* token_scales, const std::uint8_t* ahead,
                          std::int64_t stride_ahead, std::int64_t ahead_bytes, float* acc_rows) {
  // Pair p's sums are stored one pair later (when its products are done) and take their float
  // steps two pairs after that, from buffer p % 3: vector loads of what a tile store has only just
  // written wait for it to reach the cache.
  constexpr int kLag = 3;
  alignas(64) std::int32_t pair_sums[kLag][2 * kRows * kAmxTokens];
  __m512 acc[kRows];
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r) acc[r] = _mm512_loadu_ps(acc_rows + std::int64_t{r} * kAmxTokens);
  // A pair of int8 products covers two blocks (the second may be missing); one of 16-bit
  // activations covers the two planes of one block.
  constexpr std::int64_t kBlocksPerPair = kPlanes == 1 ? 2 : 1;
  const std::int64_t pairs = (blocks + kBlocksPerPair - 1) / kBlocksPerPair;
  const auto has_second = [&](std::int64_t p) { return kPlanes == 2 || 2 * p + 1 < blocks; };
  // Each pair asks for an equal share of them.
  const std::int64_t ahead_step = pairs > 0 ? (ahead_bytes + pairs - 1) / pairs : 0;
  std::int64_t asked = 0;
  // The levels and activations were written by ordinary stores, which tileloadd does not declare
  // that it reads.
  asm volatile("" ::: "memory");
  for (std::int64_t p = 0; p < pairs + kLag; ++p) {
    if (p >= kLag) {
      const std::int64_t done = p - kLag;
      pair_steps<kPlanes, kUnits>(pair_sums[done % kLag], kBlocksPerPair * done, has_second(done),
                                  k0, group, scales, token_scales, acc);
    }
    for (; asked < std::min(ahead_bytes, (p + 1) * ahead_step); asked += kCacheLineBytes)
      for (int r = 0; r < kRows; ++r) prefetch_to_l2(ahead, r * stride_ahead + asked);
    if (p < pairs) {
      const std::uint8_t* pair_levels = levels.base + kBlocksPerPair * p * levels.block_stride;
      const std::int8_t* pair_activations = activations + 2 * p * Block<kUnits>::kTokenBytes;
      if (p % 2 == 0)
        multiply_pair<kPlanes, kUnits, 0>(levels, pair_levels, pair_activations, has_second(p));
      else
        multiply_pair<kPlanes, kUnits, 1>(levels, pair_levels, pair_activations, has_second(p));
    }
    if (p >= 1 && p - 1 < pairs) {
      const std::int64_t stored = p - 1;
      if (stored % 2 == 0)
        store_pair<0>(pair_sums[stored % kLag], has_second(stored));
      else
        store_pair<1>(pair_sums[stored % kLag], has_second(stored));
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r) _mm512_storeu_ps(acc_rows + std::int64_t{r} * kAmxTokens, acc[r]);
}

// 64 bytes of a row's laid-out levels (two blocks of one unit, or one of two) to their places in
// a laid-out slice.
template <int kUnits>
LLAMA4_AMX __attribute__((always_inline)) inline void store_levels(std::uint8_t* dst, __m512i v) {
  if constexpr (kUnits == 2) {
    _mm512_store_si512(dst, v);
  } else {
    _mm256_store_si256(reinterpret_cast<__m256i*>(dst), _mm512_castsi512_si256(v));
    _mm256_store_si256(reinterpret_cast<__m256i*>(dst + Block<kUnits>::kLaidOutBytes),
                       _mm512_extracti64x4_epi64(v, 1));
  }
}

// out[k · kLaidOutBytes + r · kLevelBytes …] = block k0 + k of rows r < rows as the tile unit
// reads them (amx_unit), zeros for rows from `rows` on: 8-bit blocks as stored, each unit of a
// 4-bit one (16 bytes) as its low nibbles, then its high ones.
template <int kUnits>
LLAMA4_AMX void lay_out_slice(int bits, const std::uint8_t* first_row, std::int64_t row_bytes,
                              int rows, std::int64_t k0, std::int64_t blocks, std::uint8_t* out) {
  using Shape = Block<kUnits>;
  const std::int64_t bytes_per_block = Shape::kInputs * bits / 8;
  // Blocks of laid-out levels per 64 bytes.
  constexpr std::int64_t kPerStore = 64 / Shape::kLevelBytes;
  const __m512i nibble = _mm512_set1_epi8(0x0F);
  // 128-bit lanes of (low, high): lane L of each, then lane L + 1 (permutex2var indices, 64-bit).
  const __m512i first_two = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
  const __m512i last_two = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
  for (int r = 0; r < kRows; ++r) {
    std::uint8_t* dst = out + r * Shape::kLevelBytes;
    const std::uint8_t* src = first_row + std::min(r, rows - 1) * row_bytes + k0 * bytes_per_block;
    // 64 bytes of the row at a time: 64 or 128 inputs.
    const std::int64_t per_chunk = 64 / bytes_per_block;
    for (std::int64_t k = 0; k < blocks; k += per_chunk) {
      const std::int64_t valid = std::min(per_chunk, blocks - k) * bytes_per_block;
      const auto mask = r >= rows     ? __mmask64{0}
                        : valid == 64 ? ~__mmask64{0}
                                      : static_cast<__mmask64>((std::uint64_t{1} << valid) - 1);
      const __m512i packed = _mm512_maskz_loadu_epi8(mask, src + k * bytes_per_block);
      if (bits == 8) {
        store_levels<kUnits>(dst + k * Shape::kLaidOutBytes, packed);
        continue;
      }
      const __m512i low = _mm512_and_si512(packed, nibble);
      const __m512i high = _mm512_and_si512(_mm512_srli_epi16(packed, 4), nibble);
      store_levels<kUnits>(dst + k * Shape::kLaidOutBytes,
                           _mm512_permutex2var_epi64(low, first_two, high));
      store_levels<kUnits>(dst + (k + kPerStore) * Shape::kLaidOutBytes,
                           _mm512_permutex2var_epi64(low, last_two, high));
    }
  }
}

// sums[t · 16 + r] = acc_rows[tile t / 16][r][t % 16] for the first n_tokens tokens.
LLAMA4_AMX void transpose_sums(const float* acc_rows, std::int64_t n_tokens, float* sums) {
  for (std::int64_t t0 = 0; t0 < n_tokens; t0 += kAmxTokens) {
    __m512i v[kRows];
    for (int r = 0; r < kRows; ++r)
      v[r] = _mm512_loadu_si512(acc_rows + (t0 + r) * kAmxTokens);  // tile t0 / 16, row r
    transpose16(v);
    for (std::int64_t t = 0; t < std::min<std::int64_t>(kAmxTokens, n_tokens - t0); ++t)
      _mm512_storeu_si512(sums + (t0 + t) * kRows, v[t]);
  }
}

// amx_rows for blocks of kUnits units.
template <int kUnits>
LLAMA4_AMX void amx_rows_of(int bits, const std::uint8_t* first_row, std::int64_t row_bytes,
                            int rows, std::int64_t group, const float* scales,
                            const AmxTokenTiles& tiles, std::int64_t n_tokens, float* sums) {
  using Shape = Block<kUnits>;
  constexpr std::int64_t kSliceBlocks = Shape::kSliceBlocks;
  // Room for the stores of whole 64-byte chunks past a slice's last block.
  alignas(64) thread_local std::uint8_t
      laid_out[(kSliceBlocks + 4 / kUnits - 1) * Shape::kLaidOutBytes];
  thread_local std::vector<float> acc_rows;
  const std::int64_t token_tiles = (n_tokens + kAmxTokens - 1) / kAmxTokens;
  acc_rows.assign(static_cast<std::size_t>(token_tiles * kRows * kAmxTokens), 0.0f);
  configure_tiles<kUnits>();
  const std::int64_t bytes_per_block = Shape::kInputs * bits / 8;
  // 8-bit rows of a whole group are read where they lie.
  const bool in_place = bits == 8 && rows == kRows;
  for (std::int64_t k0 = 0; k0 < tiles.blocks; k0 += kSliceBlocks) {
    const std::int64_t blocks = std::min(kSliceBlocks, tiles.blocks - k0);
    if (!in_place) lay_out_slice<kUnits>(bits, first_row, row_bytes, rows, k0, blocks, laid_out);
    const Levels levels =
        in_place ? Levels{first_row + k0 * Shape::kLevelBytes, row_bytes, Shape::kLevelBytes}
                 : Levels{laid_out, Shape::kLevelBytes, Shape::kLaidOutBytes};
    // The levels kSlicesAhead slices on, past the row's end those of the next row group. The
    // address is formed as an integer: it may lie past the matrix's end (a prefetch never faults).
    const std::int64_t ahead_block = k0 + kSlicesAhead * kSliceBlocks;
    const std::int64_t ahead_offset =
        ahead_block < tiles.blocks
            ? ahead_block * bytes_per_block
            : kRows * row_bytes + (ahead_block - tiles.blocks) * bytes_per_block;
    const std::int64_t ahead_bytes = kSliceBlocks * bytes_per_block;
    // Every token tile's pass asks for its share of them.
    const std::int64_t share =
        (ahead_bytes / token_tiles + kCacheLineBytes - 1) / kCacheLineBytes * kCacheLineBytes;
    for (std::int64_t tile = 0; tile < token_tiles; ++tile) {
      const std::int64_t begin = std::min(ahead_bytes, tile * share);
      const auto* ahead =
          reinterpret_cast<const std::uint8_t*>(reinterpret_cast<std::uintptr_t>(first_row) +
                                                static_cast<std::uintptr_t>(ahead_offset + begin));
      const std::int8_t* activations =
          tiles.tile_levels(tile) + k0 * tiles.planes * Shape::kTokenBytes;
      with_one_or_two(tiles.planes, [&](auto planes) {
        tile_pass<decltype(planes)::value, kUnits>(levels, k0, blocks, group, scales, activations,
                                                   tiles.tile_scales(tile) + k0 * kAmxTokens, ahead,
                                                   row_bytes,
                                                   std::min(ahead_bytes, begin + share) - begin,
                                                   acc_rows.data() + tile * kRows * kAmxTokens);
      });
    }
  }
  transpose_sums(acc_rows.data(), n_tokens, sums);
}

#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace

bool cpu_runs_amx_kernel() {
  return amx::int8_usable();
}

LLAMA4_AMX void amx_rows(int bits, const std::uint8_t* first_row, std::int64_t row_bytes, int rows,
                         std::int64_t group, const float* scales, const AmxTokenTiles& tiles,
                         std::int64_t n_tokens, float* sums) {
  with_one_or_two(tiles.block / kActivationUnit, [&](auto units) {
    amx_rows_of<decltype(units)::value>(bits, first_row, row_bytes, rows, group, scales, tiles,
                                        n_tokens, sums);
  });
}

#else  // not x86-64 with GCC or Clang

bool cpu_runs_amx_kernel() {
  return false;
}

void amx_rows(int, const std::uint8_t*, std::int64_t, int, std::int64_t, const float*,
              const AmxTokenTiles&, std::int64_t, float*) {}

#endif

}  // namespace llama4::int8
