// The AVX-512 VNNI int8-activation kernel (see int8_kernels.h): groups of 16 rows, one row per
// 32-bit lane, over a panel of their quads. Each `vpdpbusd` adds, for all 16 rows, the products of
// one quad of levels (unsigned) with a token's 4 activations of that quad (signed, broadcast);
// 8 of them (8-bit rows; 4-bit rows: 4 quads, two nibbles each) cover a unit of 32 inputs, and a
// block's one or two units' exact sums then take their one float step. A row group's bytes are
// transposed into the panel a slice at a time (kSliceBytes of each row), and every token tile
// passes over the panel.
//
// Each row group's scales and biases come as one vector of its 16 rows per weight group ("scale
// entries", in the stored dtype: bf16, f16 or f32, template parameter kScale). A loaded model's
// matrices have them laid out once in a table (row_group_scales.h) in decoding's order of row
// groups; without one, the kernel transposes them from where the checkpoint stores them as it
// goes, the next group's while a group decodes. (A separate widening pass over them took a fifth
// of decoding time in an earlier kernel, most of it waiting for memory no prefetch had asked for;
// transposing them as it went took about as much of the 4-bit kernel's time.)
#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "kernels/avx512_transpose.h"
#include "kernels/int8_kernels.h"
#include "kernels/prefetch.h"
#include "kernels/row_group_scales.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define LLAMA4_HAVE_VNNI_KERNEL 1
#define LLAMA4_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#else
#define LLAMA4_HAVE_VNNI_KERNEL 0
#endif

namespace llama4::int8 {

// Decoding walks a row range in this order (int8_kernels.h), so that each row it reads side by
// side lies in a page of its own. 4-bit rows of 5120 inputs (2560 bytes) in groups of every second
// row: bench_kernels decode_q4_int8_activations, two threads, medians of six alternated runs,
// 24.5 → 28.4 GB/s; 8-bit rows (5120 bytes) are unchanged, and groups of rows 8 KiB apart were no
// better.
void decode_order(std::int64_t begin, std::int64_t end, std::int64_t row_bytes,
                  std::vector<RowGroup>& order) {
  const std::int64_t step = rows_apart_for_streams(row_bytes);
  order.clear();
  std::int64_t r = begin;
  for (; r + kVnniGroupRows * step <= end; r += kVnniGroupRows * step)
    for (std::int64_t first = r; first < r + step; ++first)
      order.push_back({first, step, kVnniGroupRows});
  for (; r < end; r += kVnniGroupRows)
    order.push_back({r, 1, static_cast<int>(std::min<std::int64_t>(kVnniGroupRows, end - r))});
}

#if LLAMA4_HAVE_VNNI_KERNEL
namespace {

constexpr int kGroupRows = kVnniGroupRows;    // rows of a group: one per 32-bit lane
constexpr std::int64_t kChunk = 64;           // bytes of each row transposed at a time
constexpr std::int64_t kPanelLoadsAhead = 2;  // chunks between a row's L1 prefetch and its load

// GCC 12 reports its own intrinsics' `_mm512_undefined_*()` pass-through operands as
// uninitialized once they are inlined here (a known false positive of the compiler's headers).
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

// Scale entries: the kernel reads a row group's scales and biases as one entry per weight group.
// For the 16-bit dtypes (bf16, f16) an entry is 16 words, word r holding row r's scale in its low
// half and its bias in its high half, so that one transpose serves both; for f32 it is the 16
// scales, then the 16 biases. Each becomes 16 floats by a shift, a mask or a conversion, exactly
// as widen_to_f32 widens them.
template <DType kScale>
constexpr std::int64_t kEntryWords = kScale == DType::F32 ? 2 * kGroupRows : kGroupRows;

template <DType kScale>
LLAMA4_VNNI __attribute__((always_inline)) inline __m512 scales_of(__m512i packed) {
  if constexpr (kScale == DType::F16) return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(packed));
  return _mm512_castsi512_ps(_mm512_slli_epi32(packed, 16));
}
template <DType kScale>
LLAMA4_VNNI __attribute__((always_inline)) inline __m512 biases_of(__m512i packed) {
  if constexpr (kScale == DType::F16)
    return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(packed, 16)));
  return _mm512_castsi512_ps(
      _mm512_and_si512(packed, _mm512_set1_epi32(static_cast<int>(0xFFFF0000u))));
}
template <DType kScale>
LLAMA4_VNNI __attribute__((always_inline)) inline __m512 entry_scales(const std::uint32_t* entry) {
  if constexpr (kScale == DType::F32) return _mm512_loadu_ps(entry);
  return scales_of<kScale>(_mm512_loadu_si512(entry));
}
template <DType kScale>
LLAMA4_VNNI __attribute__((always_inline)) inline __m512 entry_biases(const std::uint32_t* entry) {
  if constexpr (kScale == DType::F32) return _mm512_loadu_ps(entry + kGroupRows);
  return biases_of<kScale>(_mm512_loadu_si512(entry));
}

// entries[(g0 + j) · kEntryWords …] = the entries of weight groups g0 + j (j < 16) of rows row0 +
// r · step (zero from `rows` on and past the last group).
template <DType kScale>
LLAMA4_VNNI void transpose_window(const QuantizedData& q, std::int64_t row0, std::int64_t step,
                                  int rows, std::int64_t groups, std::int64_t g0,
                                  std::uint32_t* entries) {
  const std::int64_t count = std::min<std::int64_t>(kGroupRows, groups - g0);
  const auto mask = static_cast<__mmask16>((1u << count) - 1u);
  __m512i v[kGroupRows];
  if constexpr (kScale == DType::F32) {
    for (int array = 0; array < 2; ++array) {
      const auto* base = static_cast<const float*>(array == 0 ? q.scales : q.biases);
      for (int r = 0; r < kGroupRows; ++r)
        v[r] = r < rows ? _mm512_castps_si512(
                              _mm512_maskz_loadu_ps(mask, base + (row0 + r * step) * groups + g0))
                        : _mm512_setzero_si512();
      transpose16(v);
      for (int j = 0; j < kGroupRows; ++j)
        _mm512_storeu_si512(entries + (g0 + j) * kEntryWords<kScale> + array * kGroupRows, v[j]);
    }
  } else {
    // Groups of the 32-bit elements after unpacking a row's scales and biases (per 128-bit lane).
    static constexpr int kGroupOf[kGroupRows] = {0, 1, 2, 3, 8,  9,  10, 11,
                                                 4, 5, 6, 7, 12, 13, 14, 15};
    const auto* scales = static_cast<const std::uint16_t*>(q.scales);
    const auto* biases = static_cast<const std::uint16_t*>(q.biases);
    for (int r = 0; r < kGroupRows; ++r) {
      if (r >= rows) {
        v[r] = _mm512_setzero_si512();
        continue;
      }
      const std::int64_t first = (row0 + r * step) * groups + g0;
      const __m256i scale = _mm256_maskz_loadu_epi16(mask, scales + first);
      const __m256i bias = _mm256_maskz_loadu_epi16(mask, biases + first);
      v[r] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_unpacklo_epi16(scale, bias)),
                                _mm256_unpackhi_epi16(scale, bias), 1);
    }
    transpose16(v);
    for (int j = 0; j < kGroupRows; ++j)
      _mm512_storeu_si512(entries + (g0 + kGroupOf[j]) * kGroupRows, v[j]);
  }
}

// Words of a row group's entries: whole windows of 16 weight groups.
std::int64_t group_entry_words(std::int64_t groups, DType scale_dtype) {
  const std::int64_t windows = (groups + kGroupRows - 1) / kGroupRows;
  return windows * kGroupRows * (scale_dtype == DType::F32 ? 2 : 1) * kGroupRows;
}

// A row group's entries, laid out here a window of 16 weight groups at a time: all at once for
// prompts and, decoding, while the group before it decodes, so that their loads overlap with its
// work. Each scale of a decoded row is used once, and this layout is the price of one row per
// lane: in a decode profile it took about a fifth of the kernel's time. A matrix with a
// RowGroupScales table has them laid out once instead.
struct GroupScales {
  std::vector<std::uint32_t> entries;
  std::int64_t row0 = 0, step = 1, groups = 0, windows = 0, done = 0;
  int rows = 0;

  // Rows row0 + r · step for r < row_count.
  void start(std::int64_t first_row, std::int64_t row_step, int row_count, std::int64_t group_count,
             DType scale_dtype) {
    row0 = first_row;
    step = row_step;
    rows = row_count;
    groups = group_count;
    windows = (groups + kGroupRows - 1) / kGroupRows;
    done = 0;
    entries.resize(static_cast<std::size_t>(group_entry_words(groups, scale_dtype)));
  }
  // Lays out the windows up to `target` (of `windows`).
  template <DType kScale>
  void build_until(const QuantizedData& q, std::int64_t target) {
    for (; done < std::min(target, windows); ++done)
      transpose_window<kScale>(q, row0, step, rows, groups, done * kGroupRows, entries.data());
  }
};

// v[j] = quad j of the 64-byte chunk at byte c of each row of the group (`valid` bytes of it;
// rows from `rows` on and bytes past `valid` read as zeros), asking for the same bytes of the
// next group into L2 and for the chunk kPanelLoadsAhead chunks on into L1. Without the second, the
// loads waited on L2: on a Zen 5 core, building an 8-bit prompt's panels took 22–27% as long as
// its tiles' products, and mostly 17–19% with it (perf); 4 chunks ahead were no better than 2.
LLAMA4_VNNI __attribute__((always_inline)) inline void load_chunk(const std::uint8_t* first_row,
                                                                  std::int64_t row_bytes, int rows,
                                                                  std::int64_t c,
                                                                  std::int64_t valid,
                                                                  __m512i (&v)[kGroupRows]) {
  const auto mask =
      valid == kChunk ? ~__mmask64{0} : static_cast<__mmask64>((std::uint64_t{1} << valid) - 1);
  for (int r = 0; r < kGroupRows; ++r) {
    const std::uint8_t* p = first_row + std::min(r, rows - 1) * row_bytes + c;
    prefetch_to_l2(p, kGroupRows * row_bytes);
    prefetch_to_l1(p, kPanelLoadsAhead * kChunk);
    v[r] = r < rows ? _mm512_maskz_loadu_epi8(mask, p) : _mm512_setzero_si512();
  }
  transpose16(v);
}

// Builds the panel of the row group's bytes [s0, s0 + bytes) of each row.
LLAMA4_VNNI void build_panel(const std::uint8_t* first_row, std::int64_t row_bytes, int rows,
                             std::int64_t s0, std::int64_t bytes, __m512i* panel) {
  for (std::int64_t c = 0; c < bytes; c += kChunk) {
    __m512i v[kGroupRows];
    load_chunk(first_row, row_bytes, rows, s0 + c, std::min(kChunk, bytes - c), v);
    for (int j = 0; j < kGroupRows; ++j) _mm512_store_si512(panel + c / 4 + j, v[j]);
  }
}

// acc + the dot products of each lane's 4 `levels` with the 4 activations at `p`.
LLAMA4_VNNI __attribute__((always_inline)) inline __m512i dot_with_broadcast(__m512i acc,
                                                                             __m512i levels,
                                                                             const std::int8_t* p) {
  std::int32_t four;
  std::memcpy(&four, p, 4);
  return _mm512_dpbusd_epi32(acc, levels, _mm512_set1_epi32(four));
}

// Operand j of a unit whose quads are quads[0…quads_per_unit): 8-bit quads as they are; for
// 4-bit ones, the low nibbles of quad j / 2 (its 4 even inputs) for even j, its high nibbles (the
// 4 odd inputs) for odd j.
template <int kBits>
constexpr std::int64_t kUnitOperands = kBits == 4 ? 2 * quads_per_unit(4) : quads_per_unit(8);
template <int kBits>
LLAMA4_VNNI __attribute__((always_inline)) inline __m512i unit_operand(const __m512i* quads,
                                                                       std::int64_t j) {
  if constexpr (kBits == 4) {
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    const __m512i quad = quads[j / 2];
    return _mm512_and_si512(j % 2 == 0 ? quad : _mm512_srli_epi16(quad, 4), nibble);
  } else {
    return quads[j];
  }
}

// sums[t · 16 + r] (row r, token t of a tile) takes a block of kUnits units whose quads are
// quads[0…), with the tile's levels of the block in each plane at `levels[plane]` and its block
// scales at `block_scales` (TokenTiles): the exact integer sums of its inputs, then one float step.
//
// A `vpdpbusd` waits for the one before it on the same sum while two can start per cycle, so the
// 8 tokens' sums alone would hold it back: a loop of nothing else ran 25% slower with 8 sums than
// with 16 on a Xeon (docs/PERFORMANCE-LOG.md). Each token therefore has two sums: one per plane of
// 16-bit activations, combined as 256 · high + low, or with int8 activations one for the even
// operands and one for the odd ones, added. Integer sums are exact, so the result is the same
// whatever the split. The operands are made as they are used, once for both planes: 16 sums, an
// operand and the broadcast activations then fit the 32 registers, the float sums staying in memory
// between blocks.
template <int kBits, int kPlanes, int kUnits, int kTokens>
LLAMA4_VNNI __attribute__((always_inline)) inline void block_step(
    const __m512i* quads, const std::int8_t* const (&levels)[kPlanes], const float* block_scales,
    const __m512 weight_scales, float* sums) {
  constexpr std::int64_t kUnit = TokenTiles::kUnitBytes;
  constexpr std::int64_t kOperands = kUnitOperands<kBits>;
  constexpr int kChains = 2;
  __m512i isum[kChains][kTokens];
#pragma GCC unroll 2
  for (int c = 0; c < kChains; ++c)
#pragma GCC unroll 8
    for (int t = 0; t < kTokens; ++t) isum[c][t] = _mm512_setzero_si512();
#pragma GCC unroll 2
  for (int u = 0; u < kUnits; ++u) {
#pragma GCC unroll 16
    for (std::int64_t j = 0; j < kOperands; ++j) {
      const __m512i operand = unit_operand<kBits>(quads + u * quads_per_unit(kBits), j);
#pragma GCC unroll 2
      for (int plane = 0; plane < kPlanes; ++plane) {
        const int c = kPlanes == 2 ? plane : static_cast<int>(j % 2);
        const std::int8_t* p = levels[plane] + (u * kOperands + j) * kUnit;
#pragma GCC unroll 8
        for (int t = 0; t < kTokens; ++t)
          isum[c][t] = dot_with_broadcast(isum[c][t], operand, p + std::int64_t{4} * t);
      }
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < kTokens; ++t) {
    const __m512i sum = kPlanes == 2 ? _mm512_slli_epi32(isum[0][t], kPlaneShift) : isum[0][t];
    const __m512i whole = _mm512_add_epi32(sum, isum[1][t]);
    const __m512 scale = _mm512_mul_ps(weight_scales, _mm512_set1_ps(block_scales[t]));
    float* row_sums = sums + std::int64_t{t} * kGroupRows;
    _mm512_storeu_ps(row_sums,
                     _mm512_fmadd_ps(_mm512_cvtepi32_ps(whole), scale, _mm512_loadu_ps(row_sums)));
  }
}

// The 16 rows' scales of the weight group of block `block` (of `inputs` inputs).
LLAMA4_VNNI __attribute__((always_inline)) inline __m512 block_scales_of(const float* scales,
                                                                         std::int64_t block,
                                                                         std::int64_t inputs,
                                                                         std::int64_t group) {
  return _mm512_loadu_ps(scales + block * inputs / group * kGroupRows);
}

// sums[t · 16 + r] (row r of the group, token t0 + t) += the blocks [k0, k0 + blocks) of the
// panel, in order, with `scales` holding each weight group's 16 row scales; t0 starts a tile.
template <int kBits, int kPlanes, int kUnits, int kTokens>
LLAMA4_VNNI void vnni_tile(const __m512i* panel, std::int64_t k0, std::int64_t blocks,
                           std::int64_t group, const float* scales, const TokenTiles& tiles,
                           std::int64_t t0, float* sums) {
  constexpr std::int64_t kInputs = kUnits * kActivationUnit;  // of a block
  constexpr std::int64_t kQuads = kInputs / inputs_per_quad(kBits);
  constexpr std::int64_t kBlockBytes = kInputs / 4 * TokenTiles::kUnitBytes;
  const std::int64_t tile = t0 / kVnniPromptTile;
  const float* block_scales = tiles.tile_scales(tile);
  for (std::int64_t k = 0; k < blocks; ++k) {
    const std::int8_t* levels[kPlanes];
    for (int plane = 0; plane < kPlanes; ++plane)
      levels[plane] = tiles.tile_plane_levels(plane, tile) + (k0 + k) * kBlockBytes;
    block_step<kBits, kPlanes, kUnits, kTokens>(
        panel + k * kQuads, levels, block_scales + (k0 + k) * kVnniPromptTile,
        block_scales_of(scales, k0 + k, kInputs, group), sums);
  }
}

// Two ranges of `bytes` bytes that a decoding row group asks for a line or two per chunk: the
// stored scales and biases of the group two ahead (the next one's are laid out meanwhile), or the
// next group's entries in a RowGroupScales table, in two halves.
struct ScalesAhead {
  const void *first, *second;
  std::int64_t bytes;
};

// Reduces the 16 rows' lane sums of a 64-byte chunk (s[r]: lane m over bytes 4m…4m+3 of row r)
// to one vector per unit of the chunk, lane r holding row r's unit sum. Integer adds are exact,
// so any order gives the sums the panel's dot products give; this one takes half the shuffles of
// a transpose: pairs of rows, then quads of rows, interleave their lanes as they add, and a
// 128-bit lane then holds 4 rows' sums over 4 lanes of the chunk.
template <int kBits>
LLAMA4_VNNI __attribute__((always_inline)) inline void unit_sums(
    const __m512i (&s)[kGroupRows], __m512i (&units)[kChunk / 4 / quads_per_unit(kBits)]) {
  __m512i pairs[8], quads[4];
  for (std::int64_t i = 0; i < 8; ++i)
    pairs[i] = _mm512_add_epi32(_mm512_unpacklo_epi32(s[2 * i], s[2 * i + 1]),
                                _mm512_unpackhi_epi32(s[2 * i], s[2 * i + 1]));
  for (std::int64_t i = 0; i < 4; ++i)
    quads[i] = _mm512_add_epi32(_mm512_unpacklo_epi64(pairs[2 * i], pairs[2 * i + 1]),
                                _mm512_unpackhi_epi64(pairs[2 * i], pairs[2 * i + 1]));
  if constexpr (kBits == 4) {  // a unit is a 128-bit lane: gather lane k of the four
    const __m512i low01 = _mm512_shuffle_i32x4(quads[0], quads[1], 0x44);
    const __m512i high01 = _mm512_shuffle_i32x4(quads[0], quads[1], 0xEE);
    const __m512i low23 = _mm512_shuffle_i32x4(quads[2], quads[3], 0x44);
    const __m512i high23 = _mm512_shuffle_i32x4(quads[2], quads[3], 0xEE);
    units[0] = _mm512_shuffle_i32x4(low01, low23, 0x88);
    units[1] = _mm512_shuffle_i32x4(low01, low23, 0xDD);
    units[2] = _mm512_shuffle_i32x4(high01, high23, 0x88);
    units[3] = _mm512_shuffle_i32x4(high01, high23, 0xDD);
  } else {  // a unit is two 128-bit lanes: add them, then gather
    const __m512i rows0_7 = _mm512_add_epi32(_mm512_shuffle_i32x4(quads[0], quads[1], 0x88),
                                             _mm512_shuffle_i32x4(quads[0], quads[1], 0xDD));
    const __m512i rows8_15 = _mm512_add_epi32(_mm512_shuffle_i32x4(quads[2], quads[3], 0x88),
                                              _mm512_shuffle_i32x4(quads[2], quads[3], 0xDD));
    units[0] = _mm512_shuffle_i32x4(rows0_7, rows8_15, 0x88);
    units[1] = _mm512_shuffle_i32x4(rows0_7, rows8_15, 0xDD);
  }
}

// Decoding (at most kTileTokens tokens): sums[t · 16 + r] = the result for token t of the row
// `lane_bytes` · r bytes after first_row, for r < rows (the block steps, then the bias term). Each
// row meets a token's activations of a chunk in one (8-bit) or two (4-bit) dot products straight
// from memory; unit_sums turns the 16 rows' lane sums into the per-unit vectors of the panel's
// order, a block's one or two of them are added, and the sums stay in registers throughout. Each
// row asks for the bytes 16 lanes on: those of the next group of the same shape (decode_order).
// The group's scale `entries` are ready; meanwhile the next group's are laid out (`pending`, unless
// they come from a table) and later ones asked for (`ahead`).
template <int kBits, int kPlanes, DType kScale, int kTokens>
LLAMA4_VNNI void vnni_decode_group(const QuantizedData& q, const std::uint8_t* first_row,
                                   std::int64_t row_bytes, std::int64_t lane_bytes, int rows,
                                   const std::uint32_t* entries, GroupScales* pending,
                                   const ScalesAhead& ahead, const Activations& a, float* sums) {
  const std::int64_t group = q.group_size;
  constexpr std::int64_t kEntry = kEntryWords<kScale>;
  constexpr std::int64_t kUnitBytes = quads_per_unit(kBits) * 4;
  constexpr int kUnitsPerChunk = static_cast<int>(kChunk / kUnitBytes);
  const std::int64_t units = a.units_per_block();
  std::int64_t first_block = 0;  // of the chunk
  alignas(64) static constexpr std::int32_t kEvenQuads[16] = {0,  2,  4,  6,  8,  10, 12, 14,
                                                              16, 18, 20, 22, 24, 26, 28, 30};
  const __m512i even_quads = _mm512_load_si512(kEvenQuads);
  const __m512i odd_quads = _mm512_add_epi32(even_quads, _mm512_set1_epi32(1));
  const __m512i nibble = _mm512_set1_epi8(0x0F);
  __m512 acc[kTokens], bias[kTokens];
  for (int t = 0; t < kTokens; ++t) acc[t] = bias[t] = _mm512_setzero_ps();
  std::int64_t next_group = 0;  // the bias term's next group, taken as the chunks reach it
  const std::int64_t chunks = (row_bytes + kChunk - 1) / kChunk;
  for (std::int64_t c = 0; c < row_bytes; c += kChunk) {
    const std::int64_t valid = std::min(kChunk, row_bytes - c);
    if (pending != nullptr)
      pending->build_until<kScale>(q, (c / kChunk + 1) * pending->windows / chunks);
    // A line or two of `ahead` per chunk (asked for all at once, most of the requests were dropped
    // beside the rows' own).
    const std::int64_t lines = ahead.bytes / 64, per_chunk = (lines + chunks - 1) / chunks;
    for (std::int64_t line = c / kChunk * per_chunk, end = std::min(lines, line + per_chunk);
         line < end; ++line) {
      prefetch_to_l2(ahead.first, line * 64);
      prefetch_to_l2(ahead.second, line * 64);
    }
    // The bias term's steps of the groups starting in this chunk, between the chunk's other work
    // rather than in one chain of dependent FMAs at the end.
    for (; next_group * group < (c + valid) * 8 / kBits; ++next_group) {
      const __m512 group_biases = entry_biases<kScale>(entries + next_group * kEntry);
      for (int t = 0; t < kTokens; ++t)
        bias[t] =
            _mm512_fmadd_ps(group_biases, _mm512_set1_ps(a.token_sums(t)[next_group]), bias[t]);
    }
    const auto row_mask =
        valid == kChunk ? ~__mmask64{0} : static_cast<__mmask64>((std::uint64_t{1} << valid) - 1);
    // Divisions by constants: the chunk loop runs once per 16 rows and 64 bytes.
    const std::int64_t blocks = units == 1 ? valid / kUnitBytes : valid / (2 * kUnitBytes);
    for (int t = 0; t < kTokens; ++t) {
      // The token's activations of the chunk in each plane, as the dot products meet them.
      __m512i act_low[kPlanes], act_high[kPlanes];
      for (int plane = 0; plane < kPlanes; ++plane) {
        const std::int8_t* act = a.plane_levels(plane, t) + c * 8 / kBits;
        act_high[plane] = _mm512_setzero_si512();
        if constexpr (kBits == 4) {
          const std::int64_t act_bytes = 2 * valid;
          const auto mask = [&](std::int64_t from) {
            const std::int64_t n = std::clamp<std::int64_t>(act_bytes - from, 0, kChunk);
            return n == kChunk ? ~__mmask64{0}
                               : static_cast<__mmask64>((std::uint64_t{1} << n) - 1);
          };
          const __m512i first = _mm512_maskz_loadu_epi8(mask(0), act);
          const __m512i second = _mm512_maskz_loadu_epi8(mask(kChunk), act + kChunk);
          act_low[plane] = _mm512_permutex2var_epi32(first, even_quads, second);
          act_high[plane] = _mm512_permutex2var_epi32(first, odd_quads, second);
        } else {
          act_low[plane] = _mm512_maskz_loadu_epi8(row_mask, act);
        }
      }
      __m512i lane_sums[kGroupRows];
      for (int r = 0; r < kGroupRows; ++r) {
        const std::uint8_t* p = first_row + std::min(r, rows - 1) * lane_bytes + c;
        if (t == 0) prefetch_to_l2(p, kGroupRows * lane_bytes);
        const __m512i packed =
            r < rows ? _mm512_maskz_loadu_epi8(row_mask, p) : _mm512_setzero_si512();
        __m512i sum = _mm512_setzero_si512();
        for (int plane = 0; plane < kPlanes; ++plane) {
          if (plane > 0) sum = _mm512_slli_epi32(sum, kPlaneShift);  // see Activations
          if constexpr (kBits == 4) {
            const __m512i low = _mm512_and_si512(packed, nibble);
            const __m512i high = _mm512_and_si512(_mm512_srli_epi16(packed, 4), nibble);
            sum = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(sum, low, act_low[plane]), high,
                                      act_high[plane]);
          } else {
            sum = _mm512_dpbusd_epi32(sum, packed, act_low[plane]);
          }
        }
        lane_sums[r] = sum;
      }
      __m512i by_block[kUnitsPerChunk];  // the first kUnitsPerChunk / units are blocks
      unit_sums<kBits>(lane_sums, by_block);
      if (units == 2)
        for (int b = 0; b < kUnitsPerChunk / 2; ++b)
          by_block[b] = _mm512_add_epi32(by_block[2 * b], by_block[2 * b + 1]);
      const float* block_scales = a.token_scales(t);
#pragma GCC unroll 4
      for (int b = 0; b < kUnitsPerChunk; ++b) {
        if (b >= blocks) break;
        const std::int64_t block = first_block + b;
        const __m512i sum = by_block[b];
        const __m512 scale =
            _mm512_mul_ps(entry_scales<kScale>(entries + block * a.block / group * kEntry),
                          _mm512_set1_ps(block_scales[block]));
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), scale, acc[t]);
      }
    }
    first_block += blocks;
  }
  for (int t = 0; t < kTokens; ++t)
    _mm512_storeu_ps(sums + std::int64_t{t} * kGroupRows, _mm512_add_ps(acc[t], bias[t]));
}

// y[t · out_features + r · step] = sums[t · 16 + r] for the group's `rows` rows.
LLAMA4_VNNI void store_group(const float* sums, std::int64_t n_tokens, int rows, std::int64_t step,
                             std::int64_t out_features, float* y) {
  const auto mask = static_cast<__mmask16>((1u << rows) - 1u);
  for (std::int64_t t = 0; t < n_tokens; ++t) {
    if (step == 1) {
      _mm512_mask_storeu_ps(y + t * out_features, mask, _mm512_loadu_ps(sums + t * kGroupRows));
      continue;
    }
    for (int r = 0; r < rows; ++r) y[t * out_features + r * step] = sums[t * kGroupRows + r];
  }
}

// sums[t · 16 + r] += the bias term of row r for tokens t0…t0+kTokens-1. A token's bias term is
// one chain of FMAs (the fixed order), 4 cycles each: one token alone would wait on every group,
// so the tile's chains run side by side.
template <int kTokens>
LLAMA4_VNNI void add_bias_tile(const float* biases, std::int64_t groups, const Activations& a,
                               std::int64_t t0, float* sums) {
  __m512 bias[kTokens];
  const float* group_sums[kTokens];
  for (int t = 0; t < kTokens; ++t) {
    bias[t] = _mm512_setzero_ps();
    group_sums[t] = a.token_sums(t0 + t);
  }
  for (std::int64_t g = 0; g < groups; ++g) {
    const __m512 b = _mm512_loadu_ps(biases + g * kGroupRows);
    for (int t = 0; t < kTokens; ++t)
      bias[t] = _mm512_fmadd_ps(b, _mm512_set1_ps(group_sums[t][g]), bias[t]);
  }
  for (int t = 0; t < kTokens; ++t) {
    float* out = sums + (t0 + t) * kGroupRows;
    _mm512_storeu_ps(out, _mm512_add_ps(_mm512_loadu_ps(out), bias[t]));
  }
}

// sums[t · 16 + r] += the bias term of row r for every token t.
void add_bias_terms(const float* biases, std::int64_t groups, const Activations& a,
                    std::int64_t n_tokens, float* sums) {
  for (std::int64_t t = 0; t < n_tokens; t += kVnniPromptTile)
    with_tokens<kVnniPromptTile>(n_tokens - t, [&](auto k) {
      add_bias_tile<decltype(k)::value>(biases, groups, a, t, sums);
    });
}

// Per-thread buffers of a row group.
struct GroupScratch {
  alignas(64) __m512i panel[kSliceBytes / 4];  // one quad of every row of the group per vector
  GroupScales scales[2];                       // the group's and, decoding, the next one's
  std::vector<float> sums;                     // [tokens][16]
  std::vector<RowGroup> order;                 // decoding: the row groups in order
  std::vector<float> scales_f32, biases_f32;   // a prompt's: [weight group][16]
};

// Where row `row` of a matrix of `out` rows lies in decode_order over all of them (int8_kernels.h):
// its group's index and its lane.
struct RowPlace {
  std::int64_t group = 0;
  int lane = 0;
};
RowPlace place_in_decode_order(std::int64_t row, std::int64_t out, std::int64_t row_bytes) {
  const std::int64_t step = rows_apart_for_streams(row_bytes), unit = decode_row_unit(row_bytes);
  const std::int64_t whole = out / unit * unit;  // the rows of whole blocks
  if (row < whole) {
    const std::int64_t within = row % unit;
    return {row / unit * step + within % step, static_cast<int>(within / step)};
  }
  return {whole / kGroupRows + (row - whole) / kGroupRows,
          static_cast<int>((row - whole) % kGroupRows)};
}

// base[index[r]] for the lanes r of `lanes`, zero in the others.
LLAMA4_VNNI __attribute__((always_inline)) inline __m512i gather_words(const std::uint32_t* base,
                                                                       __m512i index,
                                                                       __mmask16 lanes) {
  return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), lanes, index, base, 4);
}

// A prompt's row group (rows [row0, row0 + rows), consecutive) takes its scales and biases as
// floats, s.scales_f32[g · 16 + r]: gathered from the matrix's RowGroupScales table, whose groups
// are decoding's, or laid out here.
template <DType kScale>
LLAMA4_VNNI void prompt_scales(const Matrix& w, std::int64_t row0, int rows, GroupScratch& s) {
  const QuantizedData& q = w.quant;
  const std::int64_t groups = w.in_features / q.group_size;
  constexpr std::int64_t kEntry = kEntryWords<kScale>;
  s.scales_f32.resize(static_cast<std::size_t>(groups * kGroupRows));
  s.biases_f32.resize(s.scales_f32.size());
  float* scales = s.scales_f32.data();
  float* biases = s.biases_f32.data();
  if (q.row_group_scales == nullptr) {
    prefetch_scales_and_biases(q, (row0 + kGroupRows) * groups, kGroupRows * groups);
    GroupScales& laid = s.scales[0];
    laid.start(row0, 1, rows, groups, q.scale_dtype);
    laid.build_until<kScale>(q, laid.windows);
    for (std::int64_t g = 0; g < groups; ++g) {
      _mm512_storeu_ps(scales + g * kGroupRows, entry_scales<kScale>(&laid.entries[g * kEntry]));
      _mm512_storeu_ps(biases + g * kGroupRows, entry_biases<kScale>(&laid.entries[g * kEntry]));
    }
    return;
  }
  const std::int64_t row_bytes = w.in_features * q.bits / 8;
  const std::int64_t words = group_entry_words(groups, q.scale_dtype);
  RowPlace places[kGroupRows];
  std::int64_t first_group = std::numeric_limits<std::int64_t>::max();
  for (int r = 0; r < rows; ++r) {
    places[r] = place_in_decode_order(row0 + r, w.out_features, row_bytes);
    first_group = std::min(first_group, places[r].group);
  }
  alignas(64) std::int32_t index[kGroupRows] = {};
  for (int r = 0; r < rows; ++r)
    index[r] = static_cast<std::int32_t>((places[r].group - first_group) * words + places[r].lane);
  const std::uint32_t* base = q.row_group_scales->entries() + first_group * words;
  const auto lanes = static_cast<__mmask16>((1u << rows) - 1u);
  const __m512i lane_index = _mm512_load_si512(index);
  for (std::int64_t g = 0; g < groups; ++g) {
    const __m512i at =
        _mm512_add_epi32(lane_index, _mm512_set1_epi32(static_cast<int>(g * kEntry)));
    if constexpr (kScale == DType::F32) {
      _mm512_storeu_si512(scales + g * kGroupRows, gather_words(base, at, lanes));
      _mm512_storeu_si512(
          biases + g * kGroupRows,
          gather_words(base, _mm512_add_epi32(at, _mm512_set1_epi32(kGroupRows)), lanes));
    } else {
      const __m512i packed = gather_words(base, at, lanes);
      _mm512_storeu_ps(scales + g * kGroupRows, scales_of<kScale>(packed));
      _mm512_storeu_ps(biases + g * kGroupRows, biases_of<kScale>(packed));
    }
  }
}

// A prompt's integer sums and float steps for rows [row0, row0 + rows) (at most 16) and every
// token, slice by slice of their panel.
template <int kBits, int kPlanes, int kUnits>
void vnni_prompt_sums(const std::uint8_t* first_row, std::int64_t row_bytes, int rows,
                      std::int64_t group, const float* scales, const TokenTiles& tiles,
                      std::int64_t n_tokens, float* sums, __m512i* panel) {
  const std::int64_t bytes_per_block = kUnits * kActivationUnit * kBits / 8;
  for (std::int64_t s0 = 0; s0 < row_bytes; s0 += kSliceBytes) {
    const std::int64_t bytes = std::min(kSliceBytes, row_bytes - s0);
    build_panel(first_row, row_bytes, rows, s0, bytes, panel);
    for (std::int64_t t = 0; t < n_tokens; t += kVnniPromptTile)
      with_tokens<kVnniPromptTile>(n_tokens - t, [&](auto k) {
        vnni_tile<kBits, kPlanes, kUnits, decltype(k)::value>(
            panel, s0 / bytes_per_block, bytes / bytes_per_block, group, scales, tiles, t,
            sums + t * kGroupRows);
      });
  }
}

// A prompt: rows [row0, row0 + rows) (at most 16) for every token, their sums formed by the VNNI
// kernel from `tiles` or, given `amx_tiles`, by the AMX kernel.
template <int kBits, int kPlanes, DType kScale>
void vnni_prompt_group(const Matrix& w, std::int64_t row0, int rows, const Activations& a,
                       const TokenTiles* tiles, const AmxTokenTiles* amx_tiles,
                       std::int64_t n_tokens, float* y, GroupScratch& s) {
  const QuantizedData& q = w.quant;
  const std::int64_t groups = w.in_features / q.group_size;
  const std::int64_t row_bytes = w.in_features * kBits / 8;
  prompt_scales<kScale>(w, row0, rows, s);
  s.sums.assign(static_cast<std::size_t>(n_tokens * kGroupRows), 0.0f);
  const std::uint8_t* first_row =
      reinterpret_cast<const std::uint8_t*>(q.packed) + row0 * row_bytes;
  if (amx_tiles != nullptr)
    amx_rows(kBits, first_row, row_bytes, rows, q.group_size, s.scales_f32.data(), *amx_tiles,
             n_tokens, s.sums.data());
  else
    with_one_or_two(a.units_per_block(), [&](auto units) {
      vnni_prompt_sums<kBits, kPlanes, decltype(units)::value>(
          first_row, row_bytes, rows, q.group_size, s.scales_f32.data(), *tiles, n_tokens,
          s.sums.data(), s.panel);
    });
  add_bias_terms(s.biases_f32.data(), groups, a, n_tokens, s.sums.data());
  store_group(s.sums.data(), n_tokens, rows, 1, w.out_features, y + row0);
}

// Decoding: rows [row0, row0 + count), group after group (decode_order), each group's scale
// entries read from the matrix's table or laid out while the group before it decodes.
template <int kBits, int kPlanes, DType kScale>
void vnni_decode_rows(const Matrix& w, std::int64_t row0, std::int64_t count, const Activations& a,
                      std::int64_t n_tokens, float* y, GroupScratch& s) {
  const QuantizedData& q = w.quant;
  const std::int64_t groups = w.in_features / q.group_size;
  const std::int64_t row_bytes = w.in_features * kBits / 8;
  const std::int64_t end = row0 + count;
  decode_order(row0, end, row_bytes, s.order);
  const auto n = static_cast<std::int64_t>(s.order.size());
  s.sums.resize(static_cast<std::size_t>(n_tokens * kGroupRows));
  const auto decode_group = [&](std::int64_t i, const std::uint32_t* entries, GroupScales* pending,
                                const ScalesAhead& ahead) {
    const RowGroup& g = s.order[static_cast<std::size_t>(i)];
    const std::uint8_t* first_row =
        reinterpret_cast<const std::uint8_t*>(q.packed) + g.first * row_bytes;
    with_tokens<kTileTokens>(n_tokens, [&](auto k) {
      vnni_decode_group<kBits, kPlanes, kScale, decltype(k)::value>(
          q, first_row, row_bytes, g.step * row_bytes, g.rows, entries, pending, ahead, a,
          s.sums.data());
    });
    store_group(s.sums.data(), n_tokens, g.rows, g.step, w.out_features, y + g.first);
  };

  // The table's groups are these where the range starts and ends on its units (int8_kernels.h).
  const std::int64_t unit = decode_row_unit(row_bytes);
  if (q.row_group_scales != nullptr && row0 % unit == 0 &&
      (end == w.out_features || end % unit == 0)) {
    const std::int64_t words = group_entry_words(groups, q.scale_dtype);
    const std::uint32_t* entries = q.row_group_scales->entries() + row0 / kGroupRows * words;
    for (std::int64_t i = 0; i < n; ++i, entries += words) {
      // The next group's entries, asked for in two halves (none after the last group).
      const bool has_next = i + 1 < n;
      const std::uint32_t* next = has_next ? entries + words : entries;
      decode_group(i, entries, nullptr, {next, next + words / 2, has_next ? words / 2 * 4 : 0});
    }
    return;
  }

  const auto scale_bytes = static_cast<std::int64_t>(dtype_size(q.scale_dtype));
  GroupScales* own = &s.scales[0];
  GroupScales* next = &s.scales[1];
  const auto start = [&](GroupScales* scales, const RowGroup& g) {
    scales->start(g.first, g.step, g.rows, groups, q.scale_dtype);
  };
  if (n > 0) start(own, s.order[0]);
  own->build_until<kScale>(q, own->windows);
  for (std::int64_t i = 0; i < n; ++i) {
    // The scales of the group after the next: the lines of all the rows it spans.
    ScalesAhead ahead{q.scales, q.biases, 0};
    if (i + 2 < n) {
      const RowGroup& later = s.order[static_cast<std::size_t>(i + 2)];
      const std::int64_t offset = later.first * groups * scale_bytes;
      ahead = {static_cast<const std::byte*>(q.scales) + offset,
               static_cast<const std::byte*>(q.biases) + offset,
               ((later.rows - 1) * later.step + 1) * groups * scale_bytes};
    }
    const bool has_next = i + 1 < n;
    if (has_next) start(next, s.order[static_cast<std::size_t>(i + 1)]);
    decode_group(i, own->entries.data(), has_next ? next : nullptr, ahead);
    std::swap(own, next);
  }
}

// Asks for what a prompt's block of rows [row0, row0 + count) reads first, all at once: its first
// row group's bytes, which no earlier group asked for (load_chunk asks for the next group's), and
// the scales of all its rows, which prompt_scales gathers a weight group at a time. On a Zen 5
// core, prompt_scales then took 5% as long as the tiles' products instead of 7%, and the first
// group's panels less time too (perf). The next block is not known here: threads take blocks as
// they come free, and claiming each thread's next block ahead to ask for it earlier gained nothing
// more.
void prefetch_prompt_block(const Matrix& w, std::int64_t row0, std::int64_t count) {
  const QuantizedData& q = w.quant;
  const std::int64_t row_bytes = w.in_features * q.bits / 8;
  const std::int64_t groups = w.in_features / q.group_size;
  prefetch_range_to_l2(q.packed, row0 * row_bytes,
                       std::min<std::int64_t>(kGroupRows, count) * row_bytes);
  if (q.row_group_scales == nullptr)
    return prefetch_scales_and_biases(q, row0 * groups, count * groups);
  // Decoding's groups take rows in order of their blocks: the block's rows lie in the groups from
  // its first row's to its last rows'.
  const std::int64_t end = row0 + count;
  std::int64_t last = 0;
  for (std::int64_t r = std::max(row0, end - rows_apart_for_streams(row_bytes)); r < end; ++r)
    last = std::max(last, place_in_decode_order(r, w.out_features, row_bytes).group);
  const std::int64_t first = place_in_decode_order(row0, w.out_features, row_bytes).group;
  const std::int64_t words = group_entry_words(groups, q.scale_dtype);
  constexpr auto kWordBytes = static_cast<std::int64_t>(sizeof(std::uint32_t));
  prefetch_range_to_l2(q.row_group_scales->entries(), first * words * kWordBytes,
                       (last + 1 - first) * words * kWordBytes);
}

template <int kBits, int kPlanes, DType kScale>
void vnni_groups(const Matrix& w, std::int64_t row0, std::int64_t count, const Activations& a,
                 const TokenTiles* tiles, const AmxTokenTiles* amx_tiles, std::int64_t n_tokens,
                 float* y) {
  thread_local GroupScratch scratch;
  if (n_tokens <= kTileTokens)
    return vnni_decode_rows<kBits, kPlanes, kScale>(w, row0, count, a, n_tokens, y, scratch);
  prefetch_prompt_block(w, row0, count);
  for (std::int64_t r = row0; r < row0 + count; r += kGroupRows)
    vnni_prompt_group<kBits, kPlanes, kScale>(
        w, r, static_cast<int>(std::min<std::int64_t>(kGroupRows, row0 + count - r)), a, tiles,
        amx_tiles, n_tokens, y, scratch);
}

template <int kBits, int kPlanes>
void block_for_bits(const Matrix& w, std::int64_t row0, std::int64_t count, const Activations& a,
                    const TokenTiles* tiles, const AmxTokenTiles* amx_tiles, std::int64_t n_tokens,
                    float* y) {
  switch (w.quant.scale_dtype) {
    case DType::F32:
      return vnni_groups<kBits, kPlanes, DType::F32>(w, row0, count, a, tiles, amx_tiles, n_tokens,
                                                     y);
    case DType::F16:
      return vnni_groups<kBits, kPlanes, DType::F16>(w, row0, count, a, tiles, amx_tiles, n_tokens,
                                                     y);
    default:  // bind_weights admits only float scales: bf16 here
      return vnni_groups<kBits, kPlanes, DType::BF16>(w, row0, count, a, tiles, amx_tiles, n_tokens,
                                                      y);
  }
}

// The entries of every row group of decode_order over rows [0, out), in order.
template <DType kScale>
void lay_out_groups(const QuantizedData& q, std::int64_t out, std::int64_t in,
                    std::uint32_t* table) {
  const std::int64_t groups = in / q.group_size;
  const std::int64_t words = group_entry_words(groups, kScale);
  std::vector<RowGroup> order;
  decode_order(0, out, in * q.bits / 8, order);
  for (const RowGroup& g : order) {
    for (std::int64_t g0 = 0; g0 < groups; g0 += kGroupRows)
      transpose_window<kScale>(q, g.first, g.step, g.rows, groups, g0, table);
    table += words;
  }
}

#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace

std::int64_t row_group_scale_words(std::int64_t out, std::int64_t in, int group_size,
                                   DType scale_dtype) {
  return (out + kGroupRows - 1) / kGroupRows * group_entry_words(in / group_size, scale_dtype);
}

void lay_out_row_group_scales(const QuantizedData& q, std::int64_t out, std::int64_t in,
                              std::uint32_t* table) {
  switch (q.scale_dtype) {
    case DType::F32:
      return lay_out_groups<DType::F32>(q, out, in, table);
    case DType::F16:
      return lay_out_groups<DType::F16>(q, out, in, table);
    default:  // bind_weights admits only float scales: bf16 here
      return lay_out_groups<DType::BF16>(q, out, in, table);
  }
}

bool cpu_runs_vnni_kernel() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
}

void vnni_block(const Matrix& w, std::int64_t row0, std::int64_t count, const Activations& a,
                const TokenTiles* tiles, const AmxTokenTiles* amx_tiles, std::int64_t n_tokens,
                float* y) {
  with_one_or_two(a.planes, [&](auto planes) {
    constexpr int kPlanes = decltype(planes)::value;
    if (w.quant.bits == 4)
      return block_for_bits<4, kPlanes>(w, row0, count, a, tiles, amx_tiles, n_tokens, y);
    block_for_bits<8, kPlanes>(w, row0, count, a, tiles, amx_tiles, n_tokens, y);
  });
}

#else  // not x86-64 with GCC or Clang: the portable kernel only

bool cpu_runs_vnni_kernel() {
  return false;
}

void vnni_block(const Matrix&, std::int64_t, std::int64_t, const Activations&, const TokenTiles*,
                const AmxTokenTiles*, std::int64_t, float*) {}

std::int64_t row_group_scale_words(std::int64_t, std::int64_t, int, DType) {
  return 0;
}

void lay_out_row_group_scales(const QuantizedData&, std::int64_t, std::int64_t, std::uint32_t*) {}

#endif

}  // namespace llama4::int8
