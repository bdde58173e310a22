// The AVX2 int8-activation kernel (see int8_kernels.h), for x86-64 CPUs without AVX-512 VNNI:
// groups of 8 rows, one row per 32-bit lane, over a panel of their quads.
//
// AVX2 has no 4-way byte dot product; `vpmaddubsw` multiplies unsigned bytes by signed ones and
// adds adjacent pairs into saturating 16-bit sums, and `vpmaddwd` against ones adds adjacent
// 16-bit sums into the 32-bit lane of 4 bytes — the lane VNNI's `vpdpbusd` fills. The 16-bit
// sums must not saturate: a 4-bit quad's two pair sums (even and odd inputs) are at most
// 2 · 2·15·127 = 7620, but a pair of 8-bit levels could reach 2·255·127, so 8-bit levels are split
// into their nibbles (level = 16·high + low) and the two sums recombined in 32 bits. All sums are
// exact, so the float steps that follow are those of the other kernels and the results are
// bit-identical.
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/int8_kernels.h"
#include "kernels/prefetch.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define LLAMA4_HAVE_AVX2_KERNEL 1
#define LLAMA4_AVX2 __attribute__((target("avx2,fma")))
#else
#define LLAMA4_HAVE_AVX2_KERNEL 0
#endif

namespace llama4::int8 {

#if LLAMA4_HAVE_AVX2_KERNEL
namespace {

constexpr int kGroupRows = 8;         // rows of a group: one per 32-bit lane
constexpr std::int64_t kChunk = 32;   // bytes of each row transposed at a time
constexpr int kPromptTileTokens = 4;  // sums and temporaries within the 16 registers
constexpr int kBiasTileTokens = 8;    // independent FMA chains of the bias term

// v[r] (quads 0…7 of row r) becomes v[j] (quad j of rows 0…7).
LLAMA4_AVX2 __attribute__((always_inline)) inline void transpose8(__m256i* v) {
  __m256i t[8], u[8];
  for (std::size_t i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_epi32(v[2 * i], v[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_epi32(v[2 * i], v[2 * i + 1]);
  }
  for (std::size_t i = 0; i < 2; ++i) {
    u[4 * i] = _mm256_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm256_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm256_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm256_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (std::size_t j = 0; j < 4; ++j) {
    v[j] = _mm256_permute2x128_si256(u[j], u[4 + j], 0x20);
    v[4 + j] = _mm256_permute2x128_si256(u[j], u[4 + j], 0x31);
  }
}

// The exact integer sums of one quad of 8 rows against one token's activations of that quad:
// 4-bit quads meet the 4 even activations (`even`, broadcast) with their low nibbles and the 4
// odd ones with their high nibbles; 8-bit quads meet `even` (the 4 in order) with both nibbles.
template <int kBits>
LLAMA4_AVX2 __attribute__((always_inline)) inline __m256i quad_sums(__m256i low, __m256i high,
                                                                    __m256i even, __m256i odd) {
  const __m256i ones = _mm256_set1_epi16(1);
  if constexpr (kBits == 4)
    return _mm256_madd_epi16(
        _mm256_add_epi16(_mm256_maddubs_epi16(low, even), _mm256_maddubs_epi16(high, odd)), ones);
  const __m256i low_sums = _mm256_madd_epi16(_mm256_maddubs_epi16(low, even), ones);
  const __m256i high_sums = _mm256_madd_epi16(_mm256_maddubs_epi16(high, even), ones);
  return _mm256_add_epi32(low_sums, _mm256_slli_epi32(high_sums, 4));
}

LLAMA4_AVX2 __attribute__((always_inline)) inline __m256i broadcast_quad(const std::int8_t* p) {
  std::int32_t quad;
  std::memcpy(&quad, p, sizeof quad);
  return _mm256_set1_epi32(quad);
}

// Quads of a block of kUnits units.
template <int kBits, int kUnits>
constexpr std::int64_t kBlockQuads = quads_per_unit(kBits) * kUnits;

// acc[t] (the 8 rows' sums for token t) takes block `block`, whose quads are quads[0…kQuads):
// the exact integer sums of its inputs, then one float step.
template <int kBits, int kPlanes, int kUnits, int kTokens>
LLAMA4_AVX2 __attribute__((always_inline)) inline void block_step(
    const __m256i* quads, std::int64_t block, const Activations& a, std::int64_t t0,
    __m256 weight_scales, __m256 (&acc)[kTokens]) {
  constexpr std::int64_t kQuads = kBlockQuads<kBits, kUnits>;
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  __m256i isum[kTokens];
  for (int t = 0; t < kTokens; ++t) isum[t] = _mm256_setzero_si256();
  for (int plane = 0; plane < kPlanes; ++plane) {
    if (plane > 0)  // 16-bit activations: the high plane's sums times 256, then the low plane's
      for (int t = 0; t < kTokens; ++t) isum[t] = _mm256_slli_epi32(isum[t], kPlaneShift);
    for (std::int64_t j = 0; j < kQuads; ++j) {
      const __m256i low = _mm256_and_si256(quads[j], nibble);
      const __m256i high = _mm256_and_si256(_mm256_srli_epi16(quads[j], 4), nibble);
      for (int t = 0; t < kTokens; ++t) {
        const std::int8_t* act =
            a.plane_levels(plane, t0 + t) + block * a.block + j * inputs_per_quad(kBits);
        const __m256i odd = kBits == 4 ? broadcast_quad(act + 4) : low;
        isum[t] = _mm256_add_epi32(isum[t], quad_sums<kBits>(low, high, broadcast_quad(act), odd));
      }
    }
  }
  for (int t = 0; t < kTokens; ++t) {
    const __m256 scale =
        _mm256_mul_ps(weight_scales, _mm256_set1_ps(a.token_scales(t0 + t)[block]));
    acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), scale, acc[t]);
  }
}

// The 8 rows' scales of the weight group of block `block` (of `inputs` inputs).
LLAMA4_AVX2 __attribute__((always_inline)) inline __m256 block_scales_of(const float* scales,
                                                                         std::int64_t block,
                                                                         std::int64_t inputs,
                                                                         std::int64_t group) {
  return _mm256_loadu_ps(scales + block * inputs / group * kGroupRows);
}

// v[j] (j < 8) = quad j of the 32-byte chunk at byte c of each row of the group (`valid` bytes
// of it; rows from `rows` on and bytes past `valid` read as zeros), asking for the same bytes of
// the next group.
LLAMA4_AVX2 __attribute__((always_inline)) inline void load_chunk(const std::uint8_t* first_row,
                                                                  std::int64_t row_bytes, int rows,
                                                                  std::int64_t c,
                                                                  std::int64_t valid, __m256i* v) {
  for (int r = 0; r < kGroupRows; ++r) {
    const std::uint8_t* p = first_row + std::min(r, rows - 1) * row_bytes + c;
    prefetch_to_l2(p, kGroupRows * row_bytes);
    if (r >= rows) {
      v[r] = _mm256_setzero_si256();
    } else if (valid == kChunk) {
      v[r] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    } else {
      alignas(32) std::uint8_t tail[kChunk] = {};
      std::memcpy(tail, p, static_cast<std::size_t>(valid));
      v[r] = _mm256_load_si256(reinterpret_cast<const __m256i*>(tail));
    }
  }
  transpose8(v);
}

// sums[t · 8 + r] (row r of the group, token t0 + t) += the blocks [k0, k0 + blocks) of the
// panel, in order, with `scales` holding each weight group's 8 row scales.
template <int kBits, int kPlanes, int kUnits, int kTokens>
LLAMA4_AVX2 void avx2_tile(const __m256i* panel, std::int64_t k0, std::int64_t blocks,
                           std::int64_t group, const float* scales, const Activations& a,
                           std::int64_t t0, float* sums) {
  constexpr std::int64_t kQuads = kBlockQuads<kBits, kUnits>;
  __m256 acc[kTokens];
  for (std::int64_t t = 0; t < kTokens; ++t) acc[t] = _mm256_loadu_ps(sums + t * kGroupRows);
  for (std::int64_t k = 0; k < blocks; ++k)
    block_step<kBits, kPlanes, kUnits, kTokens>(
        panel + k * kQuads, k0 + k, a, t0, block_scales_of(scales, k0 + k, a.block, group), acc);
  for (std::int64_t t = 0; t < kTokens; ++t) _mm256_storeu_ps(sums + t * kGroupRows, acc[t]);
}

// Decoding (at most kTileTokens tokens): sums[t · 8 + r] = the whole rows' block sums, the quads
// going from the transpose straight into the dot products, a step of whole chunks and whole
// blocks at a time (a 64-input block of 8-bit rows spans two chunks).
template <int kBits, int kPlanes, int kUnits, int kTokens>
LLAMA4_AVX2 void avx2_decode_group(const std::uint8_t* first_row, std::int64_t row_bytes, int rows,
                                   std::int64_t group, const float* scales, const Activations& a,
                                   float* sums) {
  constexpr std::int64_t kQuads = kBlockQuads<kBits, kUnits>;
  constexpr std::int64_t kBlockBytes = kQuads * 4;
  constexpr std::int64_t kStep = std::max(kChunk, kBlockBytes);
  constexpr std::int64_t kBlocksPerStep = kStep / kBlockBytes;
  __m256 acc[kTokens];
  for (int t = 0; t < kTokens; ++t) acc[t] = _mm256_setzero_ps();
  for (std::int64_t c = 0; c < row_bytes; c += kStep) {
    const std::int64_t valid = std::min(kStep, row_bytes - c);
    __m256i v[kStep / 4];
    for (std::int64_t h = 0; h < kStep / kChunk; ++h)
      load_chunk(first_row, row_bytes, rows, c + h * kChunk,
                 std::clamp<std::int64_t>(valid - h * kChunk, 0, kChunk), v + h * kGroupRows);
    const std::int64_t first_block = c / kBlockBytes, blocks = valid / kBlockBytes;
    for (std::int64_t b = 0; b < kBlocksPerStep; ++b)
      if (b < blocks)
        block_step<kBits, kPlanes, kUnits, kTokens>(
            v + b * kQuads, first_block + b, a, 0,
            block_scales_of(scales, first_block + b, a.block, group), acc);
  }
  for (std::int64_t t = 0; t < kTokens; ++t) _mm256_storeu_ps(sums + t * kGroupRows, acc[t]);
}

// out[g · 8 + r] = the value of group g of row r0 + r (zero for rows from `rows` on), from the
// rows' widened values (`row_values(r)`); `out` has room for the groups rounded up to a multiple
// of 8 (zeros past the end).
template <typename RowValues>
LLAMA4_AVX2 void transpose_groups(const RowBlock& block, std::int64_t r0, int rows,
                                  RowValues row_values, float* out) {
  for (std::int64_t g0 = 0; g0 < block.groups; g0 += kGroupRows) {
    const std::int64_t count = std::min<std::int64_t>(kGroupRows, block.groups - g0);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)),
                                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256i v[kGroupRows];
    for (int r = 0; r < kGroupRows; ++r)
      v[r] = r < rows ? _mm256_castps_si256(_mm256_maskload_ps(row_values(r0 + r) + g0, mask))
                      : _mm256_setzero_si256();
    transpose8(v);
    for (int j = 0; j < kGroupRows; ++j)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + (g0 + j) * kGroupRows), v[j]);
  }
}

// sums[t · 8 + r] += the bias term of row r for tokens t0…t0+kTokens-1. A token's bias term is
// one chain of FMAs (the fixed order): one token alone would wait on the latency of each, so the
// tile's chains run side by side.
template <int kTokens>
LLAMA4_AVX2 void add_bias_tile(const float* biases, std::int64_t groups, const Activations& a,
                               std::int64_t t0, float* sums) {
  __m256 bias[kTokens];
  const float* group_sums[kTokens];
  for (int t = 0; t < kTokens; ++t) {
    bias[t] = _mm256_setzero_ps();
    group_sums[t] = a.token_sums(t0 + t);
  }
  for (std::int64_t g = 0; g < groups; ++g) {
    const __m256 b = _mm256_loadu_ps(biases + g * kGroupRows);
    for (int t = 0; t < kTokens; ++t)
      bias[t] = _mm256_fmadd_ps(b, _mm256_set1_ps(group_sums[t][g]), bias[t]);
  }
  for (int t = 0; t < kTokens; ++t) {
    float* out = sums + (t0 + t) * kGroupRows;
    _mm256_storeu_ps(out, _mm256_add_ps(_mm256_loadu_ps(out), bias[t]));
  }
}

// Per-thread buffers of a row group.
struct GroupScratch {
  alignas(64) __m256i panel[kSliceBytes / 4];  // one quad of every row of the group per vector
  std::vector<float> scales, biases, sums;     // [groups][8], [groups][8], [tokens][8]
};

// The 8 (or `rows`) rows from r0 of the block, for every token.
template <int kBits, int kPlanes, int kUnits>
LLAMA4_AVX2 void avx2_group(const Matrix& w, const RowBlock& block, std::int64_t block_row0,
                            std::int64_t r0, int rows, const Activations& a, std::int64_t n_tokens,
                            float* y, GroupScratch& s) {
  const std::int64_t group = w.quant.group_size;
  const std::int64_t padded_groups = (block.groups + kGroupRows - 1) / kGroupRows * kGroupRows;
  s.scales.resize(static_cast<std::size_t>(padded_groups * kGroupRows));
  s.biases.resize(static_cast<std::size_t>(padded_groups * kGroupRows));
  transpose_groups(
      block, r0, rows, [&](std::int64_t r) { return block.row_scales(r); }, s.scales.data());
  transpose_groups(
      block, r0, rows, [&](std::int64_t r) { return block.row_biases(r); }, s.biases.data());
  s.sums.assign(static_cast<std::size_t>(n_tokens * kGroupRows), 0.0f);
  const std::uint8_t* first_row = block.row(r0);
  const std::int64_t bytes_per_block = a.block * kBits / 8;
  if (n_tokens <= kTileTokens) {
    with_tokens<kTileTokens>(n_tokens, [&](auto k) {
      avx2_decode_group<kBits, kPlanes, kUnits, decltype(k)::value>(
          first_row, block.row_bytes, rows, group, s.scales.data(), a, s.sums.data());
    });
  } else {
    for (std::int64_t s0 = 0; s0 < block.row_bytes; s0 += kSliceBytes) {
      const std::int64_t bytes = std::min(kSliceBytes, block.row_bytes - s0);
      for (std::int64_t c = 0; c < bytes; c += kChunk) {
        load_chunk(first_row, block.row_bytes, rows, s0 + c, std::min(kChunk, bytes - c),
                   s.panel + c / 4);
      }
      for (std::int64_t t = 0; t < n_tokens; t += kPromptTileTokens)
        with_tokens<kPromptTileTokens>(n_tokens - t, [&](auto k) {
          avx2_tile<kBits, kPlanes, kUnits, decltype(k)::value>(
              s.panel, s0 / bytes_per_block, bytes / bytes_per_block, group, s.scales.data(), a, t,
              s.sums.data() + t * kGroupRows);
        });
    }
  }
  for (std::int64_t t = 0; t < n_tokens; t += kBiasTileTokens)
    with_tokens<kBiasTileTokens>(n_tokens - t, [&](auto k) {
      add_bias_tile<decltype(k)::value>(s.biases.data(), block.groups, a, t, s.sums.data());
    });
  for (std::int64_t t = 0; t < n_tokens; ++t)
    std::copy_n(s.sums.data() + t * kGroupRows, rows, y + t * w.out_features + block_row0 + r0);
}

}  // namespace

bool cpu_runs_avx2_kernel() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

void avx2_block(const Matrix& w, const RowBlock& block, std::int64_t row0, std::int64_t count,
                const Activations& a, std::int64_t n_tokens, float* y) {
  thread_local GroupScratch scratch;
  for (std::int64_t r = 0; r < count; r += kGroupRows) {
    const int rows = static_cast<int>(std::min<std::int64_t>(kGroupRows, count - r));
    with_one_or_two(a.planes, [&](auto planes) {
      with_one_or_two(a.units_per_block(), [&](auto units) {
        constexpr int kPlanes = decltype(planes)::value, kUnits = decltype(units)::value;
        if (w.quant.bits == 4)
          avx2_group<4, kPlanes, kUnits>(w, block, row0, r, rows, a, n_tokens, y, scratch);
        else
          avx2_group<8, kPlanes, kUnits>(w, block, row0, r, rows, a, n_tokens, y, scratch);
      });
    });
  }
}

#else  // not x86-64 with GCC or Clang: the portable kernel only

bool cpu_runs_avx2_kernel() {
  return false;
}

void avx2_block(const Matrix&, const RowBlock&, std::int64_t, std::int64_t, const Activations&,
                std::int64_t, float*) {}

#endif

}  // namespace llama4::int8
