// Quantized-weight products with int8 activations; see int8_activations.h.
//
// Layout of the work: a row is cut into chunks of 64 packed bytes (128 inputs of a 4-bit row,
// 64 of an 8-bit row), and each chunk feeds 16 lanes of partial sums, lane m owning 8 (4-bit) or
// 4 (8-bit) consecutive inputs. For 4-bit rows a byte holds an even input's level in its low
// nibble and the next odd input's in its high nibble, so the activations are stored per chunk as
// the 64 even inputs followed by the 64 odd ones: the low and high nibbles of the 64 bytes then
// meet the activations they multiply in the same byte positions. Each lane's integer sum, times
// its activation block scale and its weight group scale, joins the lane's float sum, and the 16
// float sums are added pairwise at the end.
#include "kernels/int8_activations.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/linear.h"
#include "kernels/mlx_quant.h"
#include "kernels/prefetch.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define LLAMA4_HAVE_VNNI_KERNEL 1
#define LLAMA4_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#else
#define LLAMA4_HAVE_VNNI_KERNEL 0
#endif

namespace llama4 {
namespace {

constexpr int kLanes = 16;
constexpr std::int64_t kChunkBytes = 64;
constexpr int kMaxLevel = 127;  // activations are rounded to [-127, 127]
// Tokens per tile of the batched path (the largest decode batch) and rows per L2 block: 48 rows
// of 5120 4-bit inputs are 120 KiB of weights, which stay in L2 while every token tile passes.
constexpr int kTileTokens = 4;
constexpr std::int64_t kRowsPerBlock = 48;

constexpr std::int64_t inputs_per_lane(int bits) {
  return bits == 4 ? 8 : 4;
}
constexpr std::int64_t chunk_inputs(int bits) {
  return kLanes * inputs_per_lane(bits);
}

// One call's activations: int8 levels in chunk order, the block scale behind each lane, and the
// exact f32 sums of x per weight group (for the bias term).
struct Int8Activations {
  std::int64_t chunks = 0, groups = 0;
  std::vector<std::int8_t> levels;  // [tokens, chunks · chunk_inputs], zero past in_features
  std::vector<float> lane_scales;   // [tokens, chunks · kLanes]
  std::vector<float> group_sums;    // [tokens, groups]
};

Int8Activations quantize_activations(const float* x, std::int64_t n_tokens, std::int64_t in,
                                     int bits, int group_size) {
  const std::int64_t chunk = chunk_inputs(bits), per_lane = inputs_per_lane(bits);
  Int8Activations a;
  a.chunks = (in + chunk - 1) / chunk;
  a.groups = in / group_size;
  a.levels.assign(static_cast<std::size_t>(n_tokens * a.chunks * chunk), 0);
  a.lane_scales.assign(static_cast<std::size_t>(n_tokens * a.chunks * kLanes), 0.0f);
  a.group_sums.assign(static_cast<std::size_t>(n_tokens * a.groups), 0.0f);
  const std::int64_t blocks = in / kActivationBlock;
  std::vector<float> block_scales(static_cast<std::size_t>(blocks));
  for (std::int64_t t = 0; t < n_tokens; ++t) {
    const float* xt = x + t * in;
    std::int8_t* levels = a.levels.data() + t * a.chunks * chunk;
    for (std::int64_t b = 0; b < blocks; ++b) {
      float max_abs = 0.0f;
      bool finite = true;
      for (std::int64_t j = 0; j < kActivationBlock; ++j) {
        const float v = xt[b * kActivationBlock + j];
        finite = finite && std::isfinite(v);
        max_abs = std::max(max_abs, std::fabs(v));
      }
      // A block holding Inf or NaN gets a NaN scale and zero levels: its outputs become NaN, as
      // they would with f32 activations, and no non-finite value is ever converted to an integer.
      const float scale = finite ? max_abs / static_cast<float>(kMaxLevel)
                                 : std::numeric_limits<float>::quiet_NaN();
      block_scales[static_cast<std::size_t>(b)] = scale;
      for (std::int64_t j = b * kActivationBlock; j < (b + 1) * kActivationBlock; ++j) {
        const float level = !finite || scale == 0.0f ? 0.0f : std::nearbyint(xt[j] / scale);
        const std::int64_t within = j % chunk;
        const std::int64_t slot = bits == 4 ? (within % 2) * (chunk / 2) + within / 2 : within;
        levels[j - within + slot] = static_cast<std::int8_t>(
            std::clamp(level, -static_cast<float>(kMaxLevel), static_cast<float>(kMaxLevel)));
      }
    }
    float* lane_scales = a.lane_scales.data() + t * a.chunks * kLanes;
    for (std::int64_t c = 0; c < a.chunks; ++c)
      for (int m = 0; m < kLanes; ++m) {
        const std::int64_t first = c * chunk + m * per_lane;
        if (first < in) lane_scales[c * kLanes + m] = block_scales[first / kActivationBlock];
      }
    float* sums = a.group_sums.data() + t * a.groups;
    for (std::int64_t j = 0; j < in; ++j) sums[j / group_size] += xt[j];
  }
  return a;
}

// The portable kernel's view of consecutive output rows: their packed levels, and their group
// scales and biases widened to f32 in one pass (rows are contiguous in the checkpoint, so row r's
// scales start at r · groups; the scales are padded so that the lanes of a row's last, partial
// chunk, which may name groups past the row's end, read zeros rather than past the buffer).
struct RowBlock {
  const std::uint8_t* bytes = nullptr;
  std::int64_t row_bytes = 0, groups = 0;
  std::vector<float> scales, biases;

  const std::uint8_t* row(std::int64_t r) const { return bytes + r * row_bytes; }
  const float* row_scales(std::int64_t r) const { return scales.data() + r * groups; }
  const float* row_biases(std::int64_t r) const { return biases.data() + r * groups; }
};

void load_rows(const Matrix& w, std::int64_t row0, std::int64_t count, RowBlock& block) {
  const QuantizedData& q = w.quant;
  block.groups = w.in_features / q.group_size;
  block.row_bytes = w.in_features * q.bits / 8;
  block.bytes = reinterpret_cast<const std::uint8_t*>(q.packed) + row0 * block.row_bytes;
  const std::int64_t values = count * block.groups;
  block.scales.resize(static_cast<std::size_t>(values + kLanes));
  std::fill_n(block.scales.begin() + values, kLanes, 0.0f);
  block.biases.resize(static_cast<std::size_t>(values));
  const std::size_t offset =
      static_cast<std::size_t>(row0 * block.groups) * dtype_size(q.scale_dtype);
  widen_to_f32(static_cast<const std::byte*>(q.scales) + offset, q.scale_dtype, values,
               block.scales.data());
  widen_to_f32(static_cast<const std::byte*>(q.biases) + offset, q.scale_dtype, values,
               block.biases.data());
}

// The weight group of lane m of a chunk, relative to the group of the chunk's first input (group
// sizes and chunk sizes are powers of two, so a chunk starts on a group boundary or inside one
// group that covers it whole).
std::int64_t lane_group_offset(int bits, int group_size, int m) {
  return m * inputs_per_lane(bits) / group_size;
}

// The pairwise reduction both kernels end with.
float reduce_lanes(float lanes[kLanes]) {
  for (int width = kLanes / 2; width >= 1; width /= 2)
    for (int i = 0; i < width; ++i) lanes[i] += lanes[i + width];
  return lanes[0];
}

// Σ_g b_g · (Σx)_g, in the order both kernels use: group g joins lane g mod 16, and the lanes are
// reduced pairwise.
float bias_term(const float* biases, const Int8Activations& a, std::int64_t t) {
  const float* sums = a.group_sums.data() + t * a.groups;
  float lanes[kLanes] = {};
  for (std::int64_t g = 0; g < a.groups; ++g)
    lanes[g % kLanes] = std::fma(biases[g], sums[g], lanes[g % kLanes]);
  return reduce_lanes(lanes);
}

// ---- portable kernel: one (row, token) at a time, the lanes as a plain array -------------------

// The integer sums of one 64-byte chunk (`valid` bytes of it) into the 16 lanes.
template <int kBits>
void chunk_sums(const std::uint8_t* bytes, const std::int8_t* act, std::int64_t valid,
                std::int32_t (&sums)[kLanes]) {
  for (int m = 0; m < kLanes; ++m) sums[m] = 0;
  for (std::int64_t k = 0; k < valid; ++k) {
    const std::int32_t packed = bytes[k];
    if constexpr (kBits == 4)
      sums[k / 4] += (packed & 0xF) * act[k] + (packed >> 4) * act[kChunkBytes + k];
    else
      sums[k / 4] += packed * act[k];
  }
}

template <int kBits>
float portable_row_token(const Matrix& w, const RowBlock& block, std::int64_t r,
                         const Int8Activations& a, std::int64_t t) {
  const int group = w.quant.group_size;
  constexpr std::int64_t kChunk = chunk_inputs(kBits);
  const std::uint8_t* bytes = block.row(r);
  const float* scales = block.row_scales(r);
  const std::int8_t* levels = a.levels.data() + t * a.chunks * kChunk;
  const float* lane_scales = a.lane_scales.data() + t * a.chunks * kLanes;
  std::int64_t group_offset[kLanes];
  for (int m = 0; m < kLanes; ++m) group_offset[m] = lane_group_offset(kBits, group, m);
  float lanes[kLanes] = {};
  for (std::int64_t c = 0; c < a.chunks; ++c) {
    std::int32_t sums[kLanes];
    chunk_sums<kBits>(bytes + c * kChunkBytes, levels + c * kChunk,
                      std::min(kChunkBytes, block.row_bytes - c * kChunkBytes), sums);
    const float* chunk_scales = scales + c * kChunk / group;
    for (int m = 0; m < kLanes; ++m)
      lanes[m] = std::fma(static_cast<float>(sums[m]),
                          lane_scales[c * kLanes + m] * chunk_scales[group_offset[m]], lanes[m]);
  }
  return reduce_lanes(lanes) + bias_term(block.row_biases(r), a, t);
}

void portable_block(const Matrix& w, const RowBlock& block, std::int64_t block_row0,
                    std::int64_t count, const Int8Activations& a, std::int64_t n_tokens, float* y) {
  for (std::int64_t r = 0; r < count; ++r)
    for (std::int64_t t = 0; t < n_tokens; ++t)
      y[t * w.out_features + block_row0 + r] = w.quant.bits == 4
                                                   ? portable_row_token<4>(w, block, r, a, t)
                                                   : portable_row_token<8>(w, block, r, a, t);
}

// ---- VNNI kernel: kRows rows × kTokens tokens per pass over the chunks --------------------------
//
// The VNNI kernel reads the rows' scales and biases where the checkpoint stores them (bf16, f16 or
// f32, template parameter kScale), widening 16 at a time in registers: a separate widening pass
// over them took a fifth of decoding time, most of it waiting for memory no prefetch had asked for.

#if LLAMA4_HAVE_VNNI_KERNEL
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
                                        const Int8Activations& a, std::int64_t t) {
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

// Asks for the stored scales and biases of `rows` rows from `first` (a whole tile ahead).
void prefetch_scales_and_biases(const QuantizedData& q, std::int64_t first, std::int64_t count) {
  const std::int64_t size = static_cast<std::int64_t>(dtype_size(q.scale_dtype));
  for (std::int64_t byte = 0; byte < count * size; byte += kChunkBytes) {
    prefetch_to_l2(q.scales, first * size + byte);
    prefetch_to_l2(q.biases, first * size + byte);
  }
}

// The mask of a chunk's first `groups` groups (at least one: a chunk may lie inside a group).
__mmask16 group_mask(std::int64_t groups) {
  return static_cast<__mmask16>((1u << std::max<std::int64_t>(groups, 1)) - 1u);
}

template <int kBits, DType kScale, int kRows, int kTokens>
LLAMA4_VNNI void vnni_tile(const Matrix& w, std::int64_t r0, const Int8Activations& a,
                           std::int64_t t0, float* y) {
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
void vnni_rows(const Matrix& w, std::int64_t row0, std::int64_t count, const Int8Activations& a,
               std::int64_t t0, float* y) {
  constexpr int kRows = VnniRowsFor(kTokens);
  std::int64_t r = row0;
  for (; r + kRows <= row0 + count; r += kRows)
    vnni_tile<kBits, kScale, kRows, kTokens>(w, r, a, t0, y);
  for (; r < row0 + count; ++r) vnni_tile<kBits, kScale, 1, kTokens>(w, r, a, t0, y);
}

template <int kBits, DType kScale>
void vnni_block(const Matrix& w, std::int64_t row0, std::int64_t count, const Int8Activations& a,
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
void vnni_block_for_bits(const Matrix& w, std::int64_t row0, std::int64_t count,
                         const Int8Activations& a, std::int64_t n_tokens, float* y) {
  switch (w.quant.scale_dtype) {
    case DType::F32:
      return vnni_block<kBits, DType::F32>(w, row0, count, a, n_tokens, y);
    case DType::F16:
      return vnni_block<kBits, DType::F16>(w, row0, count, a, n_tokens, y);
    default:  // bind_weights admits only float scales: bf16 here
      return vnni_block<kBits, DType::BF16>(w, row0, count, a, n_tokens, y);
  }
}

bool cpu_has_vnni() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
}
#else
bool cpu_has_vnni() {
  return false;
}
#endif

std::atomic<bool> force_portable{false};

// Rows [row_begin, row_end) for every token, kRowsPerBlock rows at a time (their weights in L2
// while every token tile passes).
void rows_all_tokens(const Matrix& w, const Int8Activations& a, std::int64_t row_begin,
                     std::int64_t row_end, std::int64_t n_tokens, float* y) {
  thread_local RowBlock block;
  for (std::int64_t b = row_begin; b < row_end; b += kRowsPerBlock) {
    const std::int64_t count = std::min(kRowsPerBlock, row_end - b);
#if LLAMA4_HAVE_VNNI_KERNEL
    if (int8_activations_use_vnni()) {
      if (w.quant.bits == 4)
        vnni_block_for_bits<4>(w, b, count, a, n_tokens, y);
      else
        vnni_block_for_bits<8>(w, b, count, a, n_tokens, y);
      continue;
    }
#endif
    load_rows(w, b, count, block);
    portable_block(w, block, b, count, a, n_tokens, y);
  }
}

}  // namespace

bool int8_activations_supported(const Matrix& w) {
  const QuantizedData& q = w.quant;
  if (w.layout != Matrix::Layout::kOutMajor || (q.bits != 4 && q.bits != 8)) return false;
  const std::int64_t chunk = chunk_inputs(q.bits);
  const bool aligned = q.group_size % kActivationBlock == 0 &&
                       (chunk % q.group_size == 0 || q.group_size % chunk == 0);
  return aligned && w.in_features % q.group_size == 0;
}

bool int8_activations_use_vnni() {
  static const bool has_vnni = cpu_has_vnni();
  return has_vnni && !force_portable.load(std::memory_order_relaxed);
}

void int8_activations_force_portable(bool portable) {
  force_portable.store(portable);
}

void linear_int8_activations(const Matrix& w, const float* x, std::int64_t n_tokens, float* y) {
  const Int8Activations a =
      quantize_activations(x, n_tokens, w.in_features, w.quant.bits, w.quant.group_size);
  const std::int64_t out = w.out_features;
  if (n_tokens <= kTileTokens) {
    // Decode: threads split the rows evenly; each streams its share once.
    const int threads = omp_get_max_threads();
#pragma omp parallel num_threads(threads)
    {
      const std::int64_t per = (out + threads - 1) / threads;
      const std::int64_t begin = std::min(out, omp_get_thread_num() * per);
      rows_all_tokens(w, a, begin, std::min(out, begin + per), n_tokens, y);
    }
    return;
  }
  const std::int64_t blocks = (out + kRowsPerBlock - 1) / kRowsPerBlock;
#pragma omp parallel for schedule(dynamic, 1)
  for (std::int64_t b = 0; b < blocks; ++b)
    rows_all_tokens(w, a, b * kRowsPerBlock, std::min(out, (b + 1) * kRowsPerBlock), n_tokens, y);
}

}  // namespace llama4
