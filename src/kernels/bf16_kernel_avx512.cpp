// The AVX-512 BF16 kernel (see bf16_kernels.h): `vdpbf16ps` adds the products of 16 pairs of bf16
// weights and activations to 16 f32 sums per instruction, exactly as bf16_activations.h defines.
//   - Out-major rows: tiles of rows × tokens, one vector of sums per (row, token); a chunk of 32
//     inputs is one load per row and per token. Tiles take as many rows as keep the sums, the
//     activations and a weight vector in the 32 registers.
//   - In-major matrices: a column's weights for inputs 2p and 2p+1 lie in two rows, so two rows'
//     32 columns are interleaved 16 bits at a time into pairs (two shuffles per 64 weights), and
//     each token's pair of activations is broadcast. Decoding interleaves as it streams the rows,
//     its running sums in memory per block of 32 columns in the shuffled order (in_major_slot),
//     loaded and stored once per kPairUnroll pairs. Prompts take strips of 64 columns ×
//     kStripPairs pairs of rows: every token tile passes over a strip, 6 tokens at a time with
//     the sums in registers (strip_tile). The first tile reads the rows, interleaves the pairs in
//     registers, keeps them in a contiguous copy for the other tiles (the rows themselves alias
//     in the caches, see StripSource) and asks for the strip kAheadStrips further on.
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/bf16_kernels.h"
#include "kernels/prefetch.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define LLAMA4_HAVE_BF16_KERNEL 1
#define LLAMA4_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))
#else
#define LLAMA4_HAVE_BF16_KERNEL 0
#endif

namespace llama4::bf16 {

#if LLAMA4_HAVE_BF16_KERNEL
namespace {

// Pairs of input rows per load and store of the in-major running sums.
constexpr std::int64_t kPairUnroll = 4;
// Pairs of input rows per strip of a prompt's in-major product. Interleaving in registers took
// pp512 of a 2-layer Scout from 210-220 to 237-242 tokens/s; before, each block of rows was
// interleaved into a 512 KiB panel that every tile read back, and writing and rereading it (~19
// GB/s per core, from L2) took 40% as long as the arithmetic it fed. With the strip's first tile
// keeping a copy of the interleaved pairs for the others (see StripSource), 64 pairs (a 16 KiB
// copy) gave 242-257 tokens/s, 32 pairs 244-251, 128 pairs 238-249 and 256 pairs 244-252, in
// alternated runs (the same runs: 233-246 without the copy).
constexpr std::int64_t kStripPairs = 64;
// Strips ahead that a strip's first token tile asks for, the strip's own rows further on (it
// also prefetches past the item's last columns: a prefetch never faults).
constexpr std::int64_t kAheadStrips = 2;

#if !defined(__clang__)
#pragma GCC diagnostic push
// GCC 12 reports its own intrinsics' `_mm*_undefined_*()` pass-through operands as uninitialized
// once they are inlined here (a known false positive of the compiler's headers).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

LLAMA4_BF16 __attribute__((always_inline)) inline __m512 dot_pairs(__m512 sum, __m512i w,
                                                                   __m512i x) {
  return _mm512_dpbf16_ps(sum, reinterpret_cast<__m512bh&>(w), reinterpret_cast<__m512bh&>(x));
}

// reduce_lanes with vectors: 8 + 8, 4 + 4, 2 + 2, 1 + 1.
LLAMA4_BF16 __attribute__((always_inline)) inline float reduce(__m512 v) {
  const __m256 eight = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  const __m128 four = _mm_add_ps(_mm256_castps256_ps128(eight), _mm256_extractf128_ps(eight, 1));
  const __m128 two = _mm_add_ps(four, _mm_movehl_ps(four, four));
  return _mm_cvtss_f32(_mm_add_ss(two, _mm_shuffle_ps(two, two, 1)));
}

// ---- out-major ---------------------------------------------------------------------------------

// Chunk c (inputs 32c…32c+31) of every row of the tile. kTail: the row's last, partial chunk,
// read with a mask so the loads stay inside the row (the activations are zero-padded).
template <int kRows, int kTokens, bool kTail>
LLAMA4_BF16 __attribute__((always_inline)) inline void out_major_chunk(
    const std::uint16_t* rows, std::int64_t stride, const std::uint16_t* const (&x)[kTokens],
    std::int64_t c, __mmask32 tail, __m512 (&acc)[kRows][kTokens]) {
  __m512i xv[kTokens];
#pragma GCC unroll 8
  for (int t = 0; t < kTokens; ++t) xv[t] = _mm512_loadu_si512(x[t] + c * kChunkInputs);
  const auto ahead = static_cast<std::int64_t>(kRows * stride * sizeof(std::uint16_t));
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r) {
    const std::uint16_t* p = rows + r * stride + c * kChunkInputs;
    prefetch_to_l2(p, ahead);
    const __m512i wv = kTail ? _mm512_maskz_loadu_epi16(tail, p) : _mm512_loadu_si512(p);
#pragma GCC unroll 8
    for (int t = 0; t < kTokens; ++t) acc[r][t] = dot_pairs(acc[r][t], wv, xv[t]);
  }
}

template <int kRows, int kTokens>
LLAMA4_BF16 void out_major_tile(const Matrix& w, std::int64_t row0, const Activations& a,
                                std::int64_t t0, float* y) {
  const std::int64_t in = w.in_features, stride = w.row_stride;
  const std::uint16_t* rows = static_cast<const std::uint16_t*>(w.data) + row0 * stride;
  const std::uint16_t* x[kTokens];
  for (int t = 0; t < kTokens; ++t) x[t] = a.token(t0 + t);
  __m512 acc[kRows][kTokens];
  for (int r = 0; r < kRows; ++r)
    for (int t = 0; t < kTokens; ++t) acc[r][t] = _mm512_setzero_ps();
  const std::int64_t full = in / kChunkInputs;
  const auto tail = static_cast<__mmask32>((std::uint64_t{1} << (in % kChunkInputs)) - 1);
  for (std::int64_t c = 0; c < full; ++c)
    out_major_chunk<kRows, kTokens, false>(rows, stride, x, c, tail, acc);
  if (tail != 0) out_major_chunk<kRows, kTokens, true>(rows, stride, x, full, tail, acc);
  for (int r = 0; r < kRows; ++r)
    for (int t = 0; t < kTokens; ++t) y[(t0 + t) * w.out_features + row0 + r] = reduce(acc[r][t]);
}

// Tokens per out-major tile in prompts: 4 rows × 6 tokens load 10 vectors per 24 dot products,
// like 6 × 4, but ran 2-3% faster end to end (pp512, three alternated pairs of runs). Decoding
// batches (up to kTileTokens tokens) take their own tiles; a (row, token)'s arithmetic is the
// same in any tile.
constexpr int kPromptTileTokens = 6;

// Rows per tile for kTokens tokens: rows · tokens sums, the tokens' activations and a weight
// vector within 32 registers; kRowsPerBlock (48) is a multiple of each.
constexpr int RowsFor(int tokens) {
  return tokens == 1 ? 16 : (tokens <= 3 ? 8 : (tokens == 4 ? 6 : 4));
}

template <int kTokens>
void out_major_rows(const Matrix& w, std::int64_t row0, std::int64_t count, const Activations& a,
                    std::int64_t t0, float* y) {
  constexpr int kRows = RowsFor(kTokens);
  std::int64_t r = row0;
  for (; r + kRows <= row0 + count; r += kRows) out_major_tile<kRows, kTokens>(w, r, a, t0, y);
  for (; r < row0 + count; ++r) out_major_tile<1, kTokens>(w, r, a, t0, y);
}

// ---- in-major ----------------------------------------------------------------------------------

// The blocks of 32 columns of [c0, c0 + width) and the mask of each (the last may be partial).
struct ColumnBlocks {
  std::int64_t count;
  __mmask32 last_mask;

  explicit ColumnBlocks(std::int64_t width)
      : count((width + kColumnBlock - 1) / kColumnBlock),
        last_mask(static_cast<__mmask32>(
            (std::uint64_t{1} << (width - (count - 1) * kColumnBlock)) - 1)) {}
  __mmask32 mask(std::int64_t b) const { return b + 1 < count ? ~__mmask32{0} : last_mask; }
};

// The weights of inputs 2p (the row at `even`) and 2p + 1 (the next row, `stride` further; zero
// when `has_odd` is false, past the last input) for one block of 32 columns, interleaved into
// pairs: `lo` holds the sums' slots 0-15, `hi` slots 16-31 (in_major_slot). Both rows' lines
// `ahead` bytes further on are asked for.
LLAMA4_BF16 __attribute__((always_inline)) inline void load_pairs(const std::uint16_t* even,
                                                                  std::int64_t stride, bool has_odd,
                                                                  __mmask32 mask,
                                                                  std::int64_t ahead, __m512i& lo,
                                                                  __m512i& hi) {
  prefetch_to_l2(even, ahead);
  const __m512i we = _mm512_maskz_loadu_epi16(mask, even);
  __m512i wo = _mm512_setzero_si512();
  if (has_odd) {
    prefetch_to_l2(even + stride, ahead);
    wo = _mm512_maskz_loadu_epi16(mask, even + stride);
  }
  lo = _mm512_unpacklo_epi16(we, wo);
  hi = _mm512_unpackhi_epi16(we, wo);
}

// sums[t · sums_stride + 32b + slot] += the pairs [pair_begin, pair_end) of kTokens tokens from
// t0, for the column blocks b of [c0, c0 + width).
template <int kTokens>
LLAMA4_BF16 void in_major_accumulate(const Matrix& w, const Activations& a, std::int64_t t0,
                                     std::int64_t pair_begin, std::int64_t pair_end,
                                     std::int64_t c0, std::int64_t width, float* sums,
                                     std::int64_t sums_stride) {
  const std::int64_t in = w.in_features, stride = w.row_stride;
  const std::uint16_t* base = static_cast<const std::uint16_t*>(w.data) + c0;
  const ColumnBlocks blocks(width);
  const auto ahead = static_cast<std::int64_t>(2 * kPairUnroll * stride * sizeof(std::uint16_t));
  for (std::int64_t p0 = pair_begin; p0 < pair_end; p0 += kPairUnroll) {
    const int pairs = static_cast<int>(std::min(kPairUnroll, pair_end - p0));
    __m512i xv[kTokens][kPairUnroll];
    for (int t = 0; t < kTokens; ++t)
      for (int u = 0; u < pairs; ++u) {
        std::uint32_t pair;
        std::memcpy(&pair, a.token(t0 + t) + 2 * (p0 + u), sizeof pair);
        xv[t][u] = _mm512_set1_epi32(static_cast<int>(pair));
      }
    for (std::int64_t b = 0; b < blocks.count; ++b) {
      float* block_sums = sums + b * kColumnBlock;
      __m512 lo[kTokens], hi[kTokens];
      for (int t = 0; t < kTokens; ++t) {
        lo[t] = _mm512_loadu_ps(block_sums + t * sums_stride);
        hi[t] = _mm512_loadu_ps(block_sums + t * sums_stride + kLanes);
      }
      for (int u = 0; u < pairs; ++u) {
        const std::int64_t even = 2 * (p0 + u);
        __m512i pairs_lo, pairs_hi;
        load_pairs(base + even * stride + b * kColumnBlock, stride, even + 1 < in, blocks.mask(b),
                   ahead, pairs_lo, pairs_hi);
        for (int t = 0; t < kTokens; ++t) {
          lo[t] = dot_pairs(lo[t], pairs_lo, xv[t][u]);
          hi[t] = dot_pairs(hi[t], pairs_hi, xv[t][u]);
        }
      }
      for (int t = 0; t < kTokens; ++t) {
        _mm512_storeu_ps(block_sums + t * sums_stride, lo[t]);
        _mm512_storeu_ps(block_sums + t * sums_stride + kLanes, hi[t]);
      }
    }
  }
}

// Where a strip tile takes its weights from. The strip's first tile reads the matrix's rows,
// interleaves each pair in registers, asks for the strip kAheadStrips further on, and keeps the
// interleaved pairs in a packed copy of the strip; the strip's other tiles read that copy. The
// copy is contiguous, so it stays in L1/L2: the rows themselves cannot, because a fused expert
// tensor's rows are a power of two apart (32 KiB for Scout's gate_up), so the lines of one strip's
// rows fall into a handful of cache sets, of which L2 holds 64 lines where the strip has 512.
// With a padded row stride (no aliasing), bench_kernels' expert batch ran 30% faster; with the
// copy, the aliased one runs 25% faster (7.6 → 9.3-9.8 GB/s of weights on two cores).
enum class StripSource { kRows, kPacked };

// A strip's interleaved pairs (kStripPairs pairs × two blocks × two vectors), per thread.
alignas(64) thread_local __m512i strip_copy[kStripPairs * 4];

// sums[t · sums_stride + 32j + ·] (kBlocks blocks of 32 columns, shuffled order) += the `count`
// pairs of rows from pair p0 (`rows`: row 2·p0 at the first block's column), for kTokens tokens
// from t0. The sums stay in registers throughout and each token's pair of activations is
// broadcast. The weights come from kSource: the rows, each pair interleaved as it is loaded and
// kept in `packed` (a strip's first tile), or `packed` (its other tiles). Two blocks × 6 tokens
// load 4 weight vectors and 6 broadcasts per 24 dot products.
template <int kBlocks, int kTokens, StripSource kSource>
LLAMA4_BF16 void strip_tile(const std::uint16_t* rows, std::int64_t stride, std::int64_t in,
                            std::int64_t count, const ColumnBlocks& blocks, std::int64_t b0,
                            std::int64_t ahead, const Activations& a, std::int64_t t0,
                            std::int64_t p0, float* sums, std::int64_t sums_stride,
                            __m512i* packed) {
  constexpr int kVectors = 2 * kBlocks;  // a block's pairs fill two vectors of sums
  __m512 acc[kTokens][kVectors];
  const std::uint32_t* x[kTokens];
#pragma GCC unroll 16
  for (int t = 0; t < kTokens; ++t) {
    for (int v = 0; v < kVectors; ++v)
      acc[t][v] = _mm512_loadu_ps(sums + t * sums_stride + std::int64_t{v} * kLanes);
    x[t] = reinterpret_cast<const std::uint32_t*>(a.token(t0 + t)) + p0;
  }
  for (std::int64_t p = 0; p < count; ++p) {
    const std::uint16_t* even = rows + 2 * p * stride;
    const bool has_odd = 2 * (p0 + p) + 1 < in;
    __m512i weights[kVectors];
    __m512i* packed_pair = packed + p * kVectors;
    if constexpr (kSource == StripSource::kRows) {
#pragma GCC unroll 2
      for (int b = 0; b < kBlocks; ++b)
        load_pairs(even + b * kColumnBlock, stride, has_odd, blocks.mask(b0 + b), ahead,
                   weights[2 * b], weights[2 * b + 1]);
#pragma GCC unroll 4
      for (int v = 0; v < kVectors; ++v) _mm512_store_si512(packed_pair + v, weights[v]);
    } else {
#pragma GCC unroll 4
      for (int v = 0; v < kVectors; ++v) weights[v] = _mm512_load_si512(packed_pair + v);
    }
#pragma GCC unroll 16
    for (int t = 0; t < kTokens; ++t) {
      const __m512i xv = _mm512_set1_epi32(static_cast<int>(x[t][p]));
#pragma GCC unroll 4
      for (int v = 0; v < kVectors; ++v) acc[t][v] = dot_pairs(acc[t][v], weights[v], xv);
    }
  }
#pragma GCC unroll 16
  for (int t = 0; t < kTokens; ++t)
    for (int v = 0; v < kVectors; ++v)
      _mm512_storeu_ps(sums + t * sums_stride + std::int64_t{v} * kLanes, acc[t][v]);
}

#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// Tokens per tile of strip_tile over two column blocks: 4 · 6 sums and four weight vectors in
// registers.
constexpr int kStripTokens = 6;

// Calls body(std::integral_constant<int, n>{}) for n = min(tokens, kMax), so each tile size is
// its own instantiation.
template <int kMax, typename Body>
void with_tile_tokens(std::int64_t tokens, Body&& body) {
  if constexpr (kMax > 1) {
    if (tokens < kMax) return with_tile_tokens<kMax - 1>(tokens, body);
  }
  body(std::integral_constant<int, kMax>{});
}

// A prompt's in-major product, strip by strip: kStripPairs pairs of rows × two column blocks,
// over which every token tile passes while the strip is in cache.
void in_major_strips(const Matrix& w, std::int64_t c0, std::int64_t width, const Activations& a,
                     std::int64_t t0, std::int64_t n_tokens, float* sums,
                     std::int64_t sums_stride) {
  const std::int64_t in = w.in_features, stride = w.row_stride;
  const std::int64_t pairs = (in + 1) / 2;
  const ColumnBlocks blocks(width);
  const auto ahead =
      static_cast<std::int64_t>(kAheadStrips * 2 * kColumnBlock * sizeof(std::uint16_t));
  const std::uint16_t* columns = static_cast<const std::uint16_t*>(w.data) + c0;
  // Token tiles of near-equal sizes (32 tokens: 6, 6, 5, 5, 5, 5 rather than five of 6 and one
  // of 2): a tile's loads and shuffles of weights cost as much for one token as for six.
  const std::int64_t tiles = (n_tokens + kStripTokens - 1) / kStripTokens;
  const auto tile_tokens = [&](std::int64_t i) {
    return n_tokens / tiles + (i < n_tokens % tiles ? 1 : 0);
  };
  for (std::int64_t p0 = 0; p0 < pairs; p0 += kStripPairs) {
    const std::int64_t count = std::min(kStripPairs, pairs - p0);
    for (std::int64_t b = 0; b < blocks.count; b += 2) {
      const std::uint16_t* rows = columns + 2 * p0 * stride + b * kColumnBlock;
      const bool two_blocks = b + 1 < blocks.count;
      for (std::int64_t i = 0, t = 0; i < tiles; t += tile_tokens(i), ++i)
        with_tile_tokens<kStripTokens>(tile_tokens(i), [&](auto k) {
          constexpr int kTokens = decltype(k)::value;
          float* tile_sums = sums + t * sums_stride + b * kColumnBlock;
          const auto tile = [&](auto blocks_in_tile, auto first) {
            constexpr StripSource kSource =
                decltype(first)::value ? StripSource::kRows : StripSource::kPacked;
            strip_tile<decltype(blocks_in_tile)::value, kTokens, kSource>(
                rows, stride, in, count, blocks, b, ahead, a, t0 + t, p0, tile_sums, sums_stride,
                strip_copy);
          };
          using One = std::integral_constant<int, 1>;
          using Two = std::integral_constant<int, 2>;
          if (t == 0 && two_blocks)
            tile(Two{}, std::true_type{});
          else if (t == 0)
            tile(One{}, std::true_type{});
          else if (two_blocks)
            tile(Two{}, std::false_type{});
          else
            tile(One{}, std::false_type{});
        });
    }
  }
}

}  // namespace

bool cpu_runs_avx512_kernel() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512bf16");
}

void avx512_out_major(const Matrix& w, std::int64_t row0, std::int64_t count, const Activations& a,
                      std::int64_t t0, std::int64_t n_tokens, float* y) {
  const std::int64_t tile = n_tokens > kTileTokens ? kPromptTileTokens : kTileTokens;
  for (std::int64_t t = t0; t < t0 + n_tokens; t += tile)
    with_tile_tokens<kPromptTileTokens>(std::min(tile, t0 + n_tokens - t), [&](auto k) {
      out_major_rows<decltype(k)::value>(w, row0, count, a, t, y);
    });
}

void avx512_in_major(const Matrix& w, std::int64_t c0, std::int64_t width, const Activations& a,
                     std::int64_t t0, std::int64_t n_tokens, float* y) {
  const std::int64_t sums_stride = (width + kColumnBlock - 1) / kColumnBlock * kColumnBlock;
  thread_local std::vector<float> sums;
  sums.assign(static_cast<std::size_t>(n_tokens * sums_stride), 0.0f);
  if (n_tokens <= kTileTokens)
    with_tile_tokens<kTileTokens>(n_tokens, [&](auto k) {
      in_major_accumulate<decltype(k)::value>(w, a, t0, 0, (w.in_features + 1) / 2, c0, width,
                                              sums.data(), sums_stride);
    });
  else
    in_major_strips(w, c0, width, a, t0, n_tokens, sums.data(), sums_stride);
  for (std::int64_t t = 0; t < n_tokens; ++t)
    for (std::int64_t k = 0; k < width; ++k)
      y[(t0 + t) * w.out_features + c0 + k] =
          sums[static_cast<std::size_t>(t * sums_stride + k / kColumnBlock * kColumnBlock +
                                        in_major_slot(static_cast<int>(k % kColumnBlock)))];
}

#else  // not x86-64 with GCC or Clang: the portable kernel only

bool cpu_runs_avx512_kernel() {
  return false;
}

void avx512_out_major(const Matrix&, std::int64_t, std::int64_t, const Activations&, std::int64_t,
                      std::int64_t, float*) {}
void avx512_in_major(const Matrix&, std::int64_t, std::int64_t, const Activations&, std::int64_t,
                     std::int64_t, float*) {}

#endif

}  // namespace llama4::bf16
