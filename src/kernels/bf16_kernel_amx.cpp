// The AMX bf16 kernel for out-major rows (see bf16_kernels.h): one `tdpbf16ps` adds, for 16
// tokens × 16 rows, the products of 32 inputs (16 pairs) — 8192 multiply-adds where `vdpbf16ps`
// does 32.
//
// The tile unit wants its second operand as pairs: row j of a chunk holds, for each of 16 rows,
// the weights of inputs 2j and 2j+1 side by side, which is the rows' 32 inputs (64 bytes each)
// transposed in 32-bit units (transpose16). A prompt packs a group of 16 rows into that layout
// once (a panel: one 1 KiB chunk per 32 inputs), then every tile of 16 tokens passes over it, its
// activations read in place (a token's rounded inputs are already pairs in order); up to 4 token
// tiles share each chunk's load (tiles 0-3 hold their sums, 4 and 7 their activations, 6 the
// chunk), and the sums stay in the tiles over all inputs. Decoding packs each chunk as it
// streams the rows and multiplies it at once.
//
// The arithmetic is the tile unit's own: its f32 sums do not round like a chain of FMAs (on
// 5120-input products it was 5 times closer to the exact sum than a chain), and a product split
// into shorter tile instructions rounds differently again. So results differ from the other bf16
// kernels' in the last bits. Each (token, row) is computed alike in any tile, with any number of
// tokens, so a token's result still does not depend on its batch; decoding must run here too for
// that, and it stays bound by memory. In-major matrices stay on the AVX-512 kernel: packing their
// pairs needs 32 rows read side by side, which decoded at half the bandwidth (docs/PERFORMANCE.md).
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

constexpr int kTileRows = 16;               // tokens per tile, outputs per group
constexpr int kRowBytes = 64;               // a tile row: 32 bf16 values or 16 f32 sums
constexpr std::int64_t kChunkBytes = 1024;  // one chunk of a panel: 16 rows of 64 bytes
constexpr int kTilesInFlight = 4;           // token tiles sharing a chunk's load
constexpr int kRing = 4;                    // decoding: chunk buffers in rotation

// Tiles 0-3: sums of up to 4 token tiles (or groups); 4 and 7: activations; 5 and 6: chunks.
LLAMA4_AMX_BF16 void configure_tiles(int tokens) {
  amx::TileConfig config;
  for (int tile = 0; tile < 8; ++tile) {
    const bool chunk = tile == 5 || tile == 6;
    config.rows[tile] = static_cast<std::uint8_t>(chunk ? kTileRows : tokens);
    config.bytes_per_row[tile] = kRowBytes;
  }
  amx::load_tile_config(config);
}

// Chunk c of the panel of rows [o0, o0 + outs) (outs ≤ 16; missing rows and inputs past the
// row's end are zeros) into `chunk`, asking for the next group's rows as it goes.
LLAMA4_AMX_BF16 void pack_chunk(const Matrix& w, std::int64_t o0, int outs, std::int64_t c,
                                std::uint8_t* chunk) {
  const auto* weights = static_cast<const std::uint16_t*>(w.data);
  const std::int64_t k0 = c * kChunkInputs;
  const std::int64_t valid = std::min(kChunkInputs, w.in_features - k0);
  const auto mask = static_cast<__mmask32>(valid == kChunkInputs ? ~0u : (1u << valid) - 1u);
  __m512i v[kTileRows];
  for (int r = 0; r < kTileRows; ++r) {
    const std::int64_t first = (o0 + r) * w.row_stride + k0;
    prefetch_to_l2(weights, (first + kTileRows * w.row_stride) * 2);
    v[r] = r < outs ? _mm512_maskz_loadu_epi16(mask, weights + first) : _mm512_setzero_si512();
  }
  transpose16(v);
  for (int j = 0; j < kTileRows; ++j) _mm512_storeu_si512(chunk + j * kRowBytes, v[j]);
}

// sums[i · 256 + t · 16 + o] = token tile i's (i < kTiles) products with the panel: tokens from
// `activations` (a token every `stride` bytes, tile i 16 tokens further on each), the tiles
// configured for their number of tokens.
template <int kTiles>
LLAMA4_AMX_BF16 void multiply_tiles(const std::uint8_t* panel, std::int64_t chunks,
                                    const std::uint8_t* activations, std::int64_t stride,
                                    float* sums) {
  const std::int64_t tile_stride = kTileRows * stride;
  _tile_zero(0);
  if constexpr (kTiles > 1) _tile_zero(1);
  if constexpr (kTiles > 2) _tile_zero(2);
  if constexpr (kTiles > 3) _tile_zero(3);
  // The panel was written by ordinary stores, which tileloadd does not declare that it reads.
  asm volatile("" ::: "memory");
  for (std::int64_t c = 0; c < chunks; ++c) {
    const std::uint8_t* act = activations + c * kRowBytes;
    _tile_loadd(6, panel + c * kChunkBytes, kRowBytes);
    _tile_loadd(4, act, stride);
    _tile_dpbf16ps(0, 4, 6);
    if constexpr (kTiles > 1) {
      _tile_loadd(7, act + tile_stride, stride);
      _tile_dpbf16ps(1, 7, 6);
    }
    if constexpr (kTiles > 2) {
      _tile_loadd(4, act + 2 * tile_stride, stride);
      _tile_dpbf16ps(2, 4, 6);
    }
    if constexpr (kTiles > 3) {
      _tile_loadd(7, act + 3 * tile_stride, stride);
      _tile_dpbf16ps(3, 7, 6);
    }
  }
  constexpr std::int64_t kSums = kTileRows * kTileRows;
  _tile_stored(0, sums, kRowBytes);
  if constexpr (kTiles > 1) _tile_stored(1, sums + kSums, kRowBytes);
  if constexpr (kTiles > 2) _tile_stored(2, sums + 2 * kSums, kRowBytes);
  if constexpr (kTiles > 3) _tile_stored(3, sums + 3 * kSums, kRowBytes);
}

// y[(t0 + t) · out + o0 + o] = sums[t · 16 + o] for t < tokens, o < outs.
LLAMA4_AMX_BF16 void store_sums(const float* sums, std::int64_t tokens, int outs,
                                std::int64_t out_features, std::int64_t t0, std::int64_t o0,
                                float* y) {
  const auto mask = static_cast<__mmask16>((1u << outs) - 1u);
  for (std::int64_t t = 0; t < tokens; ++t)
    _mm512_mask_storeu_ps(y + (t0 + t) * out_features + o0, mask,
                          _mm512_loadu_ps(sums + t * kTileRows));
}

// Every token against a packed panel of outputs [o0, o0 + outs): up to kTilesInFlight full
// token tiles per pass, a partial last tile alone.
LLAMA4_AMX_BF16 void multiply_panel(const std::uint8_t* panel, std::int64_t chunks,
                                    const std::uint8_t* activations, std::int64_t stride,
                                    std::int64_t n_tokens, int outs, std::int64_t out_features,
                                    std::int64_t o0, float* y) {
  alignas(64) float sums[kTilesInFlight * kTileRows * kTileRows];
  int configured = 0;
  for (std::int64_t t = 0; t < n_tokens;) {
    const std::int64_t left = n_tokens - t;
    const int tokens = static_cast<int>(std::min<std::int64_t>(kTileRows, left));
    const int tiles =
        tokens < kTileRows
            ? 1
            : static_cast<int>(std::min<std::int64_t>(kTilesInFlight, left / kTileRows));
    if (tokens != configured) configure_tiles(configured = tokens);
    const std::uint8_t* act = activations + t * stride;
    switch (tiles) {
      case 4:
        multiply_tiles<4>(panel, chunks, act, stride, sums);
        break;
      case 3:
        multiply_tiles<3>(panel, chunks, act, stride, sums);
        break;
      case 2:
        multiply_tiles<2>(panel, chunks, act, stride, sums);
        break;
      default:
        multiply_tiles<1>(panel, chunks, act, stride, sums);
    }
    const std::int64_t done = tiles == 1 ? tokens : std::int64_t{tiles} * kTileRows;
    for (std::int64_t i = 0; i * kTileRows < done; ++i)
      store_sums(sums + i * kTileRows * kTileRows,
                 std::min<std::int64_t>(kTileRows, done - i * kTileRows), outs, out_features,
                 t + i * kTileRows, o0, y);
    t += done;
  }
}

// Decoding: each group's rows stream through chunk by chunk, each chunk packed into a
// ring of buffers in L1 and multiplied at once; the sums stay in tile 0.
LLAMA4_AMX_BF16 void decode(const Matrix& w, std::int64_t o0, std::int64_t count,
                            const std::uint8_t* activations, std::int64_t stride,
                            std::int64_t n_tokens, float* y) {
  alignas(64) std::uint8_t ring[kRing][kChunkBytes];
  alignas(64) float sums[kTileRows * kTileRows];
  const std::int64_t chunks = (w.in_features + kChunkInputs - 1) / kChunkInputs;
  configure_tiles(static_cast<int>(n_tokens));
  for (std::int64_t g = o0; g < o0 + count; g += kTileRows) {
    const int outs = static_cast<int>(std::min<std::int64_t>(kTileRows, o0 + count - g));
    _tile_zero(0);
    for (std::int64_t c = 0; c < chunks; ++c) {
      std::uint8_t* chunk = ring[c % kRing];
      pack_chunk(w, g, outs, c, chunk);
      asm volatile("" ::: "memory");  // tileloadd does not declare that it reads the chunk
      _tile_loadd(6, chunk, kRowBytes);
      _tile_loadd(4, activations + c * kRowBytes, stride);
      _tile_dpbf16ps(0, 4, 6);
    }
    _tile_stored(0, sums, kRowBytes);
    store_sums(sums, n_tokens, outs, w.out_features, 0, g, y);
  }
}

#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace

bool cpu_runs_amx_kernel() {
  return amx::bf16_usable() && cpu_runs_avx512_kernel();  // which takes in-major matrices
}

void amx_out_major(const Matrix& w, std::int64_t row0, std::int64_t count, const Activations& a,
                   std::int64_t n_tokens, float* y) {
  const auto* activations = reinterpret_cast<const std::uint8_t*>(a.values.data());
  const std::int64_t stride = a.stride * 2;
  if (n_tokens <= kTileTokens) return decode(w, row0, count, activations, stride, n_tokens, y);
  thread_local std::vector<std::uint8_t> panel;
  const std::int64_t chunks = (w.in_features + kChunkInputs - 1) / kChunkInputs;
  panel.resize(static_cast<std::size_t>(chunks * kChunkBytes));
  for (std::int64_t g = row0; g < row0 + count; g += kTileRows) {
    const int rows = static_cast<int>(std::min<std::int64_t>(kTileRows, row0 + count - g));
    for (std::int64_t c = 0; c < chunks; ++c)
      pack_chunk(w, g, rows, c, panel.data() + c * kChunkBytes);
    multiply_panel(panel.data(), chunks, activations, stride, n_tokens, rows, w.out_features, g, y);
  }
}

#else  // not x86-64 with GCC or Clang

bool cpu_runs_amx_kernel() {
  return false;
}

void amx_out_major(const Matrix&, std::int64_t, std::int64_t, const Activations&, std::int64_t,
                   float*) {}

#endif

}  // namespace llama4::bf16
