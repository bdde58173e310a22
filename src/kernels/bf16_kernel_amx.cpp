// The AMX bf16 kernel for out-major rows (see bf16_kernels.h): one `tdpbf16ps` adds, for 16
// rows × 16 tokens, the products of 32 inputs (16 pairs) — 8192 multiply-adds where `vdpbf16ps`
// does 32.
//
// The weights are the tile unit's first operand, read in place: 16 rows × 64 bytes (32 inputs)
// per chunk, one tile load with the row stride. Its second operand must be pairs — row j holding
// inputs 2j and 2j+1 of each of 16 tokens side by side — so each call packs its activations once
// per tile of 16 tokens (TokenPairs: a token tile's 32 inputs transposed in 32-bit units). A group
// of 16 rows then meets up to 4 token tiles per pass (tiles 0-3 hold their sums, 4 the chunk of
// weights, 5 and 6 the tokens' pairs), the sums staying in the tiles over all inputs; they come
// out a row of weights per tile row and are transposed into a row of outputs per token. Decoding
// runs the same code with one token tile of just its tokens (its pairs are then 64 bytes per
// token and chunk, not 1 KiB: with 16 columns for one token they took as much cache traffic as
// the weights and held one core to 15-16 GB/s), streaming the rows straight into the tile unit.
//
// The arithmetic is the tile unit's own: its f32 sums do not round like a chain of FMAs (on
// 5120-input products it was 5 times closer to the exact sum than a chain), and a product split
// into shorter tile instructions rounds differently again. So results differ from the other bf16
// kernels' in the last bits. Each (row, token) is computed alike in any tile row or column, with
// any number of tokens, so a token's result still does not depend on its batch; decoding must
// run here too for that, and it stays bound by memory. In-major matrices stay on the AVX-512
// kernel: their pairs lie in two rows, and packing them needs 32 rows read side by side, which
// decoded at half the bandwidth (docs/PERFORMANCE.md).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/amx.h"
#include "kernels/avx512_transpose.h"
#include "kernels/bf16_kernels.h"
#include "kernels/prefetch.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define LLAMA4_HAVE_AMX_BF16_KERNEL 1
#define LLAMA4_AMX_BF16 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,amx-tile,amx-bf16")))
#else
#define LLAMA4_HAVE_AMX_BF16_KERNEL 0
#endif

namespace llama4::bf16 {

#if LLAMA4_HAVE_AMX_BF16_KERNEL
namespace {

// GCC 12 reports its own intrinsics' `_mm512_undefined_*()` pass-through operands as
// uninitialized once they are inlined here (as in int8_kernel_vnni.cpp).
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

// Tokens per token tile, and rows per group.
constexpr int kTileRows = static_cast<int>(TokenPairs::kTileTokens);
constexpr std::int64_t kRowBytes = 64;       // a tile row: 32 bf16 values or 16 f32 sums
constexpr int kTilesInFlight = 4;            // token tiles sharing a chunk of weights
constexpr std::int64_t kPrefetchChunks = 8;  // chunks of a group's rows asked for ahead

// Tiles 0-3: sums of up to 4 token tiles, `rows` rows of `columns` tokens; 4: a chunk of `rows`
// weight rows; 5 and 6: a chunk of token pairs, 16 rows of `columns` tokens.
LLAMA4_AMX_BF16 void configure_tiles(int rows, std::int64_t columns) {
  amx::TileConfig config;
  for (int tile = 0; tile < 4; ++tile) {
    config.rows[tile] = static_cast<std::uint8_t>(rows);
    config.bytes_per_row[tile] = static_cast<std::uint16_t>(4 * columns);
  }
  config.rows[4] = static_cast<std::uint8_t>(rows);
  config.bytes_per_row[4] = kRowBytes;
  for (int tile = 5; tile < 7; ++tile) {
    config.rows[tile] = kTileRows;
    config.bytes_per_row[tile] = static_cast<std::uint16_t>(4 * columns);
  }
  amx::load_tile_config(config);
}

// The last chunk of rows [g, g + rows) when the rows end inside it: their inputs past the end
// read as zeros (a tile load would read past them).
LLAMA4_AMX_BF16 void copy_last_chunk(const Matrix& w, std::int64_t g, int rows,
                                     std::uint8_t* chunk) {
  const auto* weights = static_cast<const std::uint16_t*>(w.data);
  const std::int64_t k0 = w.in_features / kChunkInputs * kChunkInputs;
  const auto mask = static_cast<__mmask32>((1u << (w.in_features - k0)) - 1u);
  for (int r = 0; r < rows; ++r)
    _mm512_storeu_si512(chunk + r * kRowBytes,
                        _mm512_maskz_loadu_epi16(mask, weights + (g + r) * w.row_stride + k0));
}

// sums[i · 256 + r · 16 + t] = row g + r's products with token t of token tile tile0 + i
// (i < kTiles), the tiles configured for the group's rows. Chunk c of the rows is read in place,
// the last from `last_chunk` when the rows end inside it.
template <int kTiles>
LLAMA4_AMX_BF16 void multiply_tiles(const Matrix& w, std::int64_t g, int rows,
                                    const TokenPairs& pairs, std::int64_t tile0,
                                    const std::uint8_t* last_chunk, float* sums) {
  const auto* weights = static_cast<const std::uint8_t*>(w.data) + g * w.row_stride * 2;
  const std::int64_t row_bytes = w.row_stride * 2;
  const std::int64_t whole = w.in_features / kChunkInputs;
  _tile_zero(0);
  if constexpr (kTiles > 1) _tile_zero(1);
  if constexpr (kTiles > 2) _tile_zero(2);
  if constexpr (kTiles > 3) _tile_zero(3);
  // The pairs and the last chunk were written by ordinary stores, which tileloadd does not
  // declare that it reads.
  asm volatile("" ::: "memory");
  for (std::int64_t c = 0; c < pairs.chunks; ++c) {
    if (c < whole) {
      for (int r = 0; r < rows; ++r)
        prefetch_to_l2(weights, r * row_bytes + (c + kPrefetchChunks) * kRowBytes);
      _tile_loadd(4, weights + c * kRowBytes, row_bytes);
    } else {
      _tile_loadd(4, last_chunk, kRowBytes);
    }
    _tile_loadd(5, pairs.chunk(tile0, c), pairs.row_bytes());
    _tile_dpbf16ps(0, 4, 5);
    if constexpr (kTiles > 1) {
      _tile_loadd(6, pairs.chunk(tile0 + 1, c), pairs.row_bytes());
      _tile_dpbf16ps(1, 4, 6);
    }
    if constexpr (kTiles > 2) {
      _tile_loadd(5, pairs.chunk(tile0 + 2, c), pairs.row_bytes());
      _tile_dpbf16ps(2, 4, 5);
    }
    if constexpr (kTiles > 3) {
      _tile_loadd(6, pairs.chunk(tile0 + 3, c), pairs.row_bytes());
      _tile_dpbf16ps(3, 4, 6);
    }
  }
  constexpr std::int64_t kSums = std::int64_t{kTileRows} * kTileRows;
  _tile_stored(0, sums, kRowBytes);
  if constexpr (kTiles > 1) _tile_stored(1, sums + kSums, kRowBytes);
  if constexpr (kTiles > 2) _tile_stored(2, sums + 2 * kSums, kRowBytes);
  if constexpr (kTiles > 3) _tile_stored(3, sums + 3 * kSums, kRowBytes);
}

// y[(t0 + t) · out + g + r] = sums[r · 16 + t] for t < tokens, r < rows: a token tile's sums,
// stored a row of weights per tile row, turned into a row of outputs per token.
LLAMA4_AMX_BF16 void store_sums(const float* sums, int rows, std::int64_t tokens,
                                std::int64_t out_features, std::int64_t t0, std::int64_t g,
                                float* y) {
  __m512i v[kTileRows];
  for (int r = 0; r < kTileRows; ++r)
    v[r] =
        r < rows ? _mm512_loadu_si512(sums + std::int64_t{r} * kTileRows) : _mm512_setzero_si512();
  transpose16(v);
  const auto mask = static_cast<__mmask16>((1u << rows) - 1u);
  for (std::int64_t t = 0; t < tokens; ++t)
    _mm512_mask_storeu_ps(y + (t0 + t) * out_features + g, mask, _mm512_castsi512_ps(v[t]));
}

}  // namespace

bool cpu_runs_amx_kernel() {
  return amx::bf16_usable() && cpu_runs_avx512_kernel();  // which takes in-major matrices
}

LLAMA4_AMX_BF16 void pack_token_tile(const Activations& a, std::int64_t n_tokens, std::int64_t tile,
                                     TokenPairs& pairs) {
  const std::int64_t t0 = tile * kTileRows;
  for (std::int64_t c = 0; c < pairs.chunks; ++c) {
    __m512i v[kTileRows];
    for (int t = 0; t < kTileRows; ++t)
      v[t] = t0 + t < n_tokens ? _mm512_loadu_si512(a.token(t0 + t) + c * kChunkInputs)
                               : _mm512_setzero_si512();
    transpose16(v);
    std::uint8_t* chunk = pairs.chunk(tile, c);
    const auto columns = static_cast<__mmask16>((1u << pairs.columns) - 1u);
    for (int j = 0; j < kTileRows; ++j)
      _mm512_mask_storeu_epi32(chunk + j * pairs.row_bytes(), columns, v[j]);
  }
}

void amx_out_major(const Matrix& w, std::int64_t row0, std::int64_t count, const TokenPairs& pairs,
                   std::int64_t n_tokens, float* y) {
  alignas(64) std::uint8_t last_chunk[kTileRows * kRowBytes];
  alignas(64) float sums[kTilesInFlight * kTileRows * kTileRows] = {};
  const std::int64_t tiles = (n_tokens + kTileRows - 1) / kTileRows;
  int configured = 0;
  for (std::int64_t g = row0; g < row0 + count; g += kTileRows) {
    const int rows = static_cast<int>(std::min<std::int64_t>(kTileRows, row0 + count - g));
    if (rows != configured) configure_tiles(configured = rows, pairs.columns);
    if (w.in_features % kChunkInputs != 0) copy_last_chunk(w, g, rows, last_chunk);
    for (std::int64_t tile = 0; tile < tiles; tile += kTilesInFlight) {
      const auto in_flight = static_cast<int>(std::min<std::int64_t>(kTilesInFlight, tiles - tile));
      switch (in_flight) {
        case 4:
          multiply_tiles<4>(w, g, rows, pairs, tile, last_chunk, sums);
          break;
        case 3:
          multiply_tiles<3>(w, g, rows, pairs, tile, last_chunk, sums);
          break;
        case 2:
          multiply_tiles<2>(w, g, rows, pairs, tile, last_chunk, sums);
          break;
        default:
          multiply_tiles<1>(w, g, rows, pairs, tile, last_chunk, sums);
      }
      for (int i = 0; i < in_flight; ++i) {
        const std::int64_t t0 = (tile + i) * kTileRows;
        store_sums(sums + std::int64_t{i} * kTileRows * kTileRows, rows,
                   std::min<std::int64_t>(kTileRows, n_tokens - t0), w.out_features, t0, g, y);
      }
    }
  }
}

#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#else  // not x86-64 with GCC or Clang

bool cpu_runs_amx_kernel() {
  return false;
}

void pack_token_tile(const Activations&, std::int64_t, std::int64_t, TokenPairs&) {}

void amx_out_major(const Matrix&, std::int64_t, std::int64_t, const TokenPairs&, std::int64_t,
                   float*) {}

#endif

}  // namespace llama4::bf16
