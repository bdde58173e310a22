// The AVX-512 VNNI int8-activation kernel (see int8_kernels.h): tiles of rows × tokens, one
// `vpdpbusd` (64 multiply-adds of unsigned weight levels by signed activations) per 64 packed
// bytes of 8-bit rows and two for 4-bit rows (low and high nibbles).
//
// It reads the rows' scales and biases where the checkpoint stores them (bf16, f16 or f32,
// template parameter kScale), widening 16 at a time in registers: a separate widening pass over
// them took a fifth of decoding time, most of it waiting for memory no prefetch had asked for.
#include <algorithm>
#include <bit>

#include "kernels/int8_kernels.h"
#include "kernels/prefetch.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define LLAMA4_HAVE_VNNI_KERNEL 1
#define LLAMA4_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#else
#define LLAMA4_HAVE_VNNI_KERNEL 0
#endif

namespace llama4::int8 {

#if LLAMA4_HAVE_VNNI_KERNEL
namespace {

// GCC 12 reports its own intrinsics' `_mm512_undefined_ps()` pass-through operands as maybe
// uninitialized once they are inlined here (a known false positive of the compiler's headers).
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// The scales or biases [index, index + 16) stored as kScale, widened to f32 (exactly, as
// widen_to_f32 does); lanes outside `mask` read nothing and are zero.
template <DType kScale>
LLAMA4_VNNI __attribute__((always_inline)) inline __m512 load_widened(const void* base,
                                                                      std::int64_t index,
                                                                      __mmask16 mask) {
  if constexpr (kScale == DType::F32) {
    return _mm512_maskz_loadu_ps(mask, static_cast<const float*>(base) + index);
  } else {
    const __m256i half =
        _mm256_maskz_loadu_epi16(mask, static_cast<const std::uint16_t*>(base) + index);
    if constexpr (kScale == DType::F16) return _mm512_cvtph_ps(half);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(half), 16));
  }
}

// What one tile reads, as base pointers and strides hoisted out of the chunk loop.
template <int kTokens>
struct VnniTileInputs {
  const std::uint8_t* bytes;  // the tile's first row; row r at + r · row_bytes
  std::int64_t row_bytes;
  const void* scales;        // the matrix's group scales, stored as the kernel's kScale
  std::int64_t first_scale;  // index of the tile's first row's first scale; row r at + r · groups
  std::int64_t groups;
  int group_shift;                      // log2(group size)
  __mmask16 chunk_groups, tail_groups;  // groups a full chunk and the row's last chunk cover
  __m512i group_index;                  // each lane's group, relative to its chunk's first
  __mmask64 tail_bytes;                 // bytes of the row's last chunk
  const std::int8_t* levels[kTokens];   // each token's activation levels
  const float* lane_scales[kTokens];    // each token's activation scale per lane
};

// Chunk c of every row of the tile, accumulated into acc. kTail: the row's last, partial chunk,
// read with masks so the loads stay inside the row.
template <int kBits, DType kScale, int kRows, int kTokens, bool kTail>
LLAMA4_VNNI __attribute__((always_inline)) inline void vnni_chunk(const VnniTileInputs<kTokens>& in,
                                                                  std::int64_t c,
                                                                  __m512 (&acc)[kRows][kTokens]) {
  constexpr std::int64_t kChunk = chunk_inputs(kBits);
  constexpr int kActivationVectors = kBits == 4 ? 2 : 1;
  __m512i act[kTokens][kActivationVectors];
  __m512 act_scale[kTokens];
#pragma GCC unroll 8
  for (int t = 0; t < kTokens; ++t) {
    for (int v = 0; v < kActivationVectors; ++v)
      act[t][v] = _mm512_loadu_si512(in.levels[t] + c * kChunk + v * kChunkBytes);
    act_scale[t] = _mm512_loadu_ps(in.lane_scales[t] + c * kLanes);
  }
  const __m512i nibble = _mm512_set1_epi8(0x0F);
  const std::uint8_t* chunk_bytes = in.bytes + c * kChunkBytes;
  const std::int64_t chunk_scales = in.first_scale + ((c * kChunk) >> in.group_shift);
#pragma GCC unroll 8
  for (int r = 0; r < kRows; ++r) {
    const std::uint8_t* p = chunk_bytes + r * in.row_bytes;
    const __m512i packed =
        kTail ? _mm512_maskz_loadu_epi8(in.tail_bytes, p) : _mm512_loadu_si512(p);
    prefetch_to_l2(p, kRows * in.row_bytes);
    const __m512 weight_scale = _mm512_permutexvar_ps(
        in.group_index, load_widened<kScale>(in.scales, chunk_scales + r * in.groups,
                                             kTail ? in.tail_groups : in.chunk_groups));
    __m512i low = packed, high = packed;
    if constexpr (kBits == 4) {
      low = _mm512_and_si512(packed, nibble);
      high = _mm512_and_si512(_mm512_srli_epi16(packed, 4), nibble);
    }
#pragma GCC unroll 8
    for (int t = 0; t < kTokens; ++t) {
      __m512i sum = _mm512_dpbusd_epi32(_mm512_setzero_si512(), low, act[t][0]);
      if constexpr (kBits == 4) sum = _mm512_dpbusd_epi32(sum, high, act[t][1]);
      const __m512 scale = _mm512_mul_ps(act_scale[t], weight_scale);
      acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), scale, acc[r][t]);
    }
  }
}

// bias_term with 16-lane vectors, on one row's stored biases from `first`.
template <DType kScale>
LLAMA4_VNNI inline float vnni_bias_term(const void* biases, std::int64_t first,
                                        const Activations& a, std::int64_t t) {
  const float* sums = a.group_sums.data() + t * a.groups;
  __m512 acc = _mm512_setzero_ps();
  for (std::int64_t g = 0; g < a.groups; g += kLanes) {
    const std::int64_t count = std::min<std::int64_t>(kLanes, a.groups - g);
    const auto mask = static_cast<__mmask16>((1u << count) - 1u);
    acc = _mm512_mask3_fmadd_ps(load_widened<kScale>(biases, first + g, mask),
                                _mm512_maskz_loadu_ps(mask, sums + g), acc, mask);
  }
  alignas(64) float lanes[kLanes];
  _mm512_store_ps(lanes, acc);
  return reduce_lanes(lanes);
}

// The mask of a chunk's first `groups` groups (at least one: a chunk may lie inside a group).
__mmask16 group_mask(std::int64_t groups) {
  return static_cast<__mmask16>((1u << std::max<std::int64_t>(groups, 1)) - 1u);
}

template <int kBits, DType kScale, int kRows, int kTokens>
LLAMA4_VNNI void vnni_tile(const Matrix& w, std::int64_t r0, const Activations& a, std::int64_t t0,
                           float* y) {
  const QuantizedData& q = w.quant;
  const int group = q.group_size;
  constexpr std::int64_t kChunk = chunk_inputs(kBits);
  const std::int64_t row_bytes = w.in_features * kBits / 8, groups = w.in_features / group;
  const std::int64_t full_chunks = row_bytes / kChunkBytes;
  alignas(64) std::int32_t offsets[kLanes];
  for (int m = 0; m < kLanes; ++m)
    offsets[m] = static_cast<std::int32_t>(lane_group_offset(kBits, group, m));

  VnniTileInputs<kTokens> in;
  in.bytes = reinterpret_cast<const std::uint8_t*>(q.packed) + r0 * row_bytes;
  in.row_bytes = row_bytes;
  in.scales = q.scales;
  in.first_scale = r0 * groups;
  in.groups = groups;
  in.group_shift = std::countr_zero(static_cast<unsigned>(group));
  in.chunk_groups = group_mask(kChunk / group);
  in.tail_groups = group_mask((w.in_features - full_chunks * kChunk) / group);
  in.group_index = _mm512_load_si512(offsets);
  in.tail_bytes = static_cast<__mmask64>((std::uint64_t{1} << (row_bytes % kChunkBytes)) - 1);
  for (int t = 0; t < kTokens; ++t) {
    in.levels[t] = a.levels.data() + (t0 + t) * a.chunks * kChunk;
    in.lane_scales[t] = a.lane_scales.data() + (t0 + t) * a.chunks * kLanes;
  }
  prefetch_scales_and_biases(q, (r0 + kRows) * groups, kRows * groups);
  __m512 acc[kRows][kTokens];
  for (int r = 0; r < kRows; ++r)
    for (int t = 0; t < kTokens; ++t) acc[r][t] = _mm512_setzero_ps();
  std::int64_t c = 0;
  for (; c < full_chunks; ++c) vnni_chunk<kBits, kScale, kRows, kTokens, false>(in, c, acc);
  if (c < a.chunks) vnni_chunk<kBits, kScale, kRows, kTokens, true>(in, c, acc);
  for (int r = 0; r < kRows; ++r)
    for (int t = 0; t < kTokens; ++t) {
      alignas(64) float lanes[kLanes];
      _mm512_store_ps(lanes, acc[r][t]);
      y[(t0 + t) * w.out_features + r0 + r] =
          reduce_lanes(lanes) + vnni_bias_term<kScale>(q.biases, (r0 + r) * groups, a, t0 + t);
    }
}

#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// Rows per tile for kTokens tokens: accumulators, activations and temporaries within the 32
// vector registers; 48 (kRowsPerBlock) is a multiple of each.
constexpr int VnniRowsFor(int tokens) {
  return tokens <= 2 ? 8 : (tokens == 3 ? 4 : 3);
}

template <int kBits, DType kScale, int kTokens>
void vnni_rows(const Matrix& w, std::int64_t row0, std::int64_t count, const Activations& a,
               std::int64_t t0, float* y) {
  constexpr int kRows = VnniRowsFor(kTokens);
  std::int64_t r = row0;
  for (; r + kRows <= row0 + count; r += kRows)
    vnni_tile<kBits, kScale, kRows, kTokens>(w, r, a, t0, y);
  for (; r < row0 + count; ++r) vnni_tile<kBits, kScale, 1, kTokens>(w, r, a, t0, y);
}

template <int kBits, DType kScale>
void vnni_token_tiles(const Matrix& w, std::int64_t row0, std::int64_t count, const Activations& a,
                      std::int64_t n_tokens, float* y) {
  std::int64_t t = 0;
  for (; t + kTileTokens <= n_tokens; t += kTileTokens)
    vnni_rows<kBits, kScale, kTileTokens>(w, row0, count, a, t, y);
  switch (n_tokens - t) {
    case 1:
      return vnni_rows<kBits, kScale, 1>(w, row0, count, a, t, y);
    case 2:
      return vnni_rows<kBits, kScale, 2>(w, row0, count, a, t, y);
    case 3:
      return vnni_rows<kBits, kScale, 3>(w, row0, count, a, t, y);
    default:
      return;
  }
}

template <int kBits>
void block_for_bits(const Matrix& w, std::int64_t row0, std::int64_t count, const Activations& a,
                    std::int64_t n_tokens, float* y) {
  switch (w.quant.scale_dtype) {
    case DType::F32:
      return vnni_token_tiles<kBits, DType::F32>(w, row0, count, a, n_tokens, y);
    case DType::F16:
      return vnni_token_tiles<kBits, DType::F16>(w, row0, count, a, n_tokens, y);
    default:  // bind_weights admits only float scales: bf16 here
      return vnni_token_tiles<kBits, DType::BF16>(w, row0, count, a, n_tokens, y);
  }
}

}  // namespace

bool cpu_runs_vnni_kernel() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
}

void vnni_block(const Matrix& w, std::int64_t row0, std::int64_t count, const Activations& a,
                std::int64_t n_tokens, float* y) {
  if (w.quant.bits == 4) return block_for_bits<4>(w, row0, count, a, n_tokens, y);
  block_for_bits<8>(w, row0, count, a, n_tokens, y);
}

#else  // not x86-64 with GCC or Clang: the portable kernel only

bool cpu_runs_vnni_kernel() {
  return false;
}

void vnni_block(const Matrix&, std::int64_t, std::int64_t, const Activations&, std::int64_t,
                float*) {}

#endif

}  // namespace llama4::int8
