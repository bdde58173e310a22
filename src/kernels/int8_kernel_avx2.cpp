// The AVX2 int8-activation kernel (see int8_kernels.h), for x86-64 CPUs without AVX-512 VNNI:
// tiles of rows × tokens, each 64-byte chunk taken as two 32-byte halves of 8 lanes.
//
// AVX2 has no 4-way byte dot product; `vpmaddubsw` multiplies unsigned bytes by signed ones and
// adds adjacent pairs into saturating 16-bit sums, and `vpmaddwd` against ones adds adjacent
// 16-bit sums into the 32-bit lane of 4 bytes — the lane VNNI's `vpdpbusd` fills. The 16-bit
// sums must not saturate: a pair of 4-bit levels times activations is at most 2·15·127 = 3810,
// but a pair of 8-bit levels could reach 2·255·127, so 8-bit levels are split into their nibbles
// (level = 16·high + low) and the two sums recombined in 32 bits. All sums are exact, so the
// float steps that follow are those of the other kernels and the results are bit-identical.
#include <cstring>

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

constexpr int kHalfLanes = kLanes / 2;
constexpr std::int64_t kHalfBytes = kChunkBytes / 2;

// The exact integer sums of 32 packed bytes against their activations: 8 int32 lanes, lane m
// over bytes 4m…4m+3. For 4-bit rows `act_low` meets the low nibbles and `act_high` the high
// ones; for 8-bit rows both nibbles meet `act_low`.
template <int kBits>
LLAMA4_AVX2 __attribute__((always_inline)) inline __m256i half_chunk_sums(__m256i packed,
                                                                          __m256i act_low,
                                                                          __m256i act_high) {
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  const __m256i ones = _mm256_set1_epi16(1);
  const __m256i low = _mm256_and_si256(packed, nibble);
  const __m256i high = _mm256_and_si256(_mm256_srli_epi16(packed, 4), nibble);
  if constexpr (kBits == 4) {
    // Two pair sums of at most 3810 each: their 16-bit sum cannot saturate either.
    const __m256i pairs =
        _mm256_add_epi16(_mm256_maddubs_epi16(low, act_low), _mm256_maddubs_epi16(high, act_high));
    return _mm256_madd_epi16(pairs, ones);
  } else {
    const __m256i low_sums = _mm256_madd_epi16(_mm256_maddubs_epi16(low, act_low), ones);
    const __m256i high_sums = _mm256_madd_epi16(_mm256_maddubs_epi16(high, act_low), ones);
    return _mm256_add_epi32(low_sums, _mm256_slli_epi32(high_sums, 4));
  }
}

// y for kRows rows from r0 of the block and kTokens tokens from t0.
template <int kBits, int kRows, int kTokens>
LLAMA4_AVX2 void avx2_tile(const Matrix& w, const RowBlock& block, std::int64_t block_row0,
                           std::int64_t r0, const Activations& a, std::int64_t t0, float* y) {
  constexpr std::int64_t kChunk = chunk_inputs(kBits);
  const int group = w.quant.group_size;
  const std::int64_t full_chunks = block.row_bytes / kChunkBytes;
  alignas(32) std::int32_t offsets[kLanes];
  for (int m = 0; m < kLanes; ++m)
    offsets[m] = static_cast<std::int32_t>(lane_group_offset(kBits, group, m));
  const __m256i group_index[2] = {_mm256_load_si256(reinterpret_cast<const __m256i*>(offsets)),
                                  _mm256_load_si256(reinterpret_cast<const __m256i*>(offsets) + 1)};
  const std::int8_t* levels[kTokens];
  const float* lane_scales[kTokens];
  for (int t = 0; t < kTokens; ++t) {
    levels[t] = a.levels.data() + (t0 + t) * a.chunks * kChunk;
    lane_scales[t] = a.lane_scales.data() + (t0 + t) * a.chunks * kLanes;
  }
  __m256 acc[kRows][kTokens][2];
  for (int r = 0; r < kRows; ++r)
    for (int t = 0; t < kTokens; ++t) acc[r][t][0] = acc[r][t][1] = _mm256_setzero_ps();

  alignas(32) std::uint8_t tail[kRows][kChunkBytes];  // the rows' last, partial chunk, zero-padded
  for (std::int64_t c = 0; c < a.chunks; ++c) {
    const std::uint8_t* chunk_bytes[kRows];
    for (int r = 0; r < kRows; ++r) {
      chunk_bytes[r] = block.row(r0 + r) + c * kChunkBytes;
      prefetch_to_l2(chunk_bytes[r], kRows * block.row_bytes);
      if (c < full_chunks) continue;
      std::memset(tail[r], 0, kChunkBytes);
      std::memcpy(tail[r], chunk_bytes[r], static_cast<std::size_t>(block.row_bytes % kChunkBytes));
      chunk_bytes[r] = tail[r];
    }
    for (int h = 0; h < 2; ++h) {
      __m256i act_low[kTokens], act_high[kTokens];
      __m256 act_scale[kTokens];
      for (int t = 0; t < kTokens; ++t) {
        const std::int8_t* act = levels[t] + c * kChunk + h * kHalfBytes;
        act_low[t] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(act));
        act_high[t] = kBits == 4
                          ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(act + kChunkBytes))
                          : act_low[t];
        act_scale[t] = _mm256_loadu_ps(lane_scales[t] + c * kLanes + h * kHalfLanes);
      }
      for (int r = 0; r < kRows; ++r) {
        const __m256i packed =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(chunk_bytes[r] + h * kHalfBytes));
        const float* chunk_scales = block.row_scales(r0 + r) + c * kChunk / group;
        const __m256 weight_scale =
            _mm256_permutevar8x32_ps(_mm256_loadu_ps(chunk_scales), group_index[h]);
        for (int t = 0; t < kTokens; ++t) {
          const __m256i sums = half_chunk_sums<kBits>(packed, act_low[t], act_high[t]);
          const __m256 scale = _mm256_mul_ps(act_scale[t], weight_scale);
          acc[r][t][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), scale, acc[r][t][h]);
        }
      }
    }
  }
  for (int r = 0; r < kRows; ++r)
    for (int t = 0; t < kTokens; ++t) {
      alignas(32) float lanes[kLanes];
      _mm256_store_ps(lanes, acc[r][t][0]);
      _mm256_store_ps(lanes + kHalfLanes, acc[r][t][1]);
      y[(t0 + t) * w.out_features + block_row0 + r0 + r] =
          reduce_lanes(lanes) + bias_term(block.row_biases(r0 + r), a, t0 + t);
    }
}

// Rows per tile for kTokens tokens: 2 · rows · tokens accumulators within the 16 registers, with
// the activations and temporaries beside them.
constexpr int Avx2RowsFor(int tokens) {
  return tokens == 1 ? 4 : (tokens == 2 ? 2 : 1);
}

template <int kBits, int kTokens>
void avx2_rows(const Matrix& w, const RowBlock& block, std::int64_t block_row0, std::int64_t count,
               const Activations& a, std::int64_t t0, float* y) {
  constexpr int kRows = Avx2RowsFor(kTokens);
  std::int64_t r = 0;
  for (; r + kRows <= count; r += kRows)
    avx2_tile<kBits, kRows, kTokens>(w, block, block_row0, r, a, t0, y);
  for (; r < count; ++r) avx2_tile<kBits, 1, kTokens>(w, block, block_row0, r, a, t0, y);
}

template <int kBits>
void avx2_token_tiles(const Matrix& w, const RowBlock& block, std::int64_t row0, std::int64_t count,
                      const Activations& a, std::int64_t n_tokens, float* y) {
  std::int64_t t = 0;
  for (; t + kTileTokens <= n_tokens; t += kTileTokens)
    avx2_rows<kBits, kTileTokens>(w, block, row0, count, a, t, y);
  switch (n_tokens - t) {
    case 1:
      return avx2_rows<kBits, 1>(w, block, row0, count, a, t, y);
    case 2:
      return avx2_rows<kBits, 2>(w, block, row0, count, a, t, y);
    case 3:
      return avx2_rows<kBits, 3>(w, block, row0, count, a, t, y);
    default:
      return;
  }
}

}  // namespace

bool cpu_runs_avx2_kernel() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

void avx2_block(const Matrix& w, const RowBlock& block, std::int64_t row0, std::int64_t count,
                const Activations& a, std::int64_t n_tokens, float* y) {
  if (w.quant.bits == 4) return avx2_token_tiles<4>(w, block, row0, count, a, n_tokens, y);
  avx2_token_tiles<8>(w, block, row0, count, a, n_tokens, y);
}

#else  // not x86-64 with GCC or Clang: the portable kernel only

bool cpu_runs_avx2_kernel() {
  return false;
}

void avx2_block(const Matrix&, const RowBlock&, std::int64_t, std::int64_t, const Activations&,
                std::int64_t, float*) {}

#endif

}  // namespace llama4::int8
