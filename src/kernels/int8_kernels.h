// What the int8-activation kernels share (internal to kernels/): the layout of quantized
// activations, the row blocks the kernels work on, and the fixed order of the float steps that
// makes every kernel give bit-identical results. The public entry points are in
// int8_activations.h; each kernel lives in a file of its own (int8_kernel_*.cpp).
//
// The order, for one output row and one token (int8_kernel_portable.cpp spells it out):
//   acc  = 0;  for each block k of inputs, in order:     acc  = fma(Σ_{j∈k} q_j·a_j, s_g·d_k, acc)
//   bias = 0;  for each weight group g, in order:         bias = fma(b_g, Σ_{j∈g} x_j, bias)
//   y = acc + bias
// with weight levels q, the group scale s_g of block k's group and bias b_g, int8 activations a
// and their block scale d_k; a block is activation_block(group size) inputs, 32 or 64. The
// integer sums are exact, so a kernel may form them any way it likes; the float steps are
// sequential per (row, token), so the SIMD kernels hold one row per lane: the rows of a row group
// (16 for AVX-512, 8 for AVX2) move through the blocks together, and each lane's integer sum
// covers every input of a block before its one float step. An
// earlier order kept 4 or 8 inputs per lane and so needed a float step per 64 bytes of weights
// and token; it held prompts near a fifth of the int8 peak.
//
// The layouts are made of units of kActivationUnit (32) inputs, a 64-input block being two of them
// side by side. The SIMD kernels transpose a row group's packed bytes in 4-byte units ("quads": 4
// levels of an
// 8-bit row, 8 of a 4-bit row) into a panel whose vector j holds quad j of every row of the
// group. A 4-bit quad holds inputs 8j…8j+7, the even ones in its low nibbles and the odd ones in
// its high nibbles, so the activations of 4-bit rows are stored per 8 inputs as the 4 even ones
// followed by the 4 odd ones (quad order); those of 8-bit rows are stored in order. Each token's
// 4 activations of a quad are then broadcast against the levels of all rows. (The AMX kernel
// reads the rows without a panel; AmxTokenTiles says how.)
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels/int8_activations.h"
#include "kernels/prefetch.h"
#include "tensor/matrix.h"

namespace llama4::int8 {

inline constexpr int kMaxLevel = 127;  // activations are rounded to [-127, 127]
// 16-bit activations (two planes, see Activations) are rounded to [-kMaxLevel16, kMaxLevel16],
// so that both planes of every level are int8: high in [-127, 127], low in [-128, 127].
inline constexpr int kPlaneShift = 8;
inline constexpr int kPlaneRadix = 1 << kPlaneShift;
inline constexpr int kMaxLevel16 = kMaxLevel * kPlaneRadix;
// Tokens per tile of a decoding batch (the largest one that counts as decoding) and rows per work
// item of a prompt: 48 rows of 5120 8-bit inputs are 240 KiB of weights.
inline constexpr int kTileTokens = 4;
inline constexpr std::int64_t kRowsPerBlock = 48;
// Bytes of each row per panel: a row group's panel is 16 KiB (AVX-512) or 8 KiB (AVX2), in L1
// while every token tile passes over it.
inline constexpr std::int64_t kSliceBytes = 1024;

// Inputs per quad (4 bytes of `bits`-bit levels), and quads per unit of kActivationUnit inputs.
constexpr std::int64_t inputs_per_quad(int bits) {
  return 4 * 8 / bits;
}
constexpr std::int64_t quads_per_unit(int bits) {
  return kActivationUnit / inputs_per_quad(bits);
}

// Where input j of a token lies in its quad-ordered activations (see above).
constexpr std::int64_t quad_order(int bits, std::int64_t j) {
  return bits == 4 ? j / 8 * 8 + j % 2 * 4 + j % 8 / 2 : j;
}

// Calls body(std::integral_constant<int, n>{}) for n = min(tokens, kMax) (tokens ≥ 1), so that
// each tile size is an instantiation of its own.
template <int kMax, typename Body>
void with_tokens(std::int64_t tokens, Body&& body) {
  if constexpr (kMax > 1)
    if (tokens < kMax) return with_tokens<kMax - 1>(tokens, body);
  body(std::integral_constant<int, kMax>{});
}

// Calls body(std::integral_constant<int, n>{}) for n = 1 or 2 — the planes of the activations
// (int8 or 16-bit, see Activations) or the units of a block — so that each is an instantiation of
// its own.
template <typename Body>
void with_one_or_two(std::int64_t n, Body&& body) {
  if (n == 2) return body(std::integral_constant<int, 2>{});
  body(std::integral_constant<int, 1>{});
}

// One call's activations: int8 levels in quad order, one scale per block, and the exact f32 sums
// of x per weight group (for the bias term).
//
// 16-bit activations come as two planes of int8 levels: level = 256 · high + low, `levels`
// holding the high bytes and `low_levels` the low ones, in the same order. A block's integer sum
// is then 256 · Σ q·high + Σ q·low: every kernel forms the high plane's sum, multiplies it by 256
// and adds the low plane's, all exactly, before the block's one float step, which is the int8
// one. Twice the dot products for 2^15 in place of 2^7 levels per block.
struct Activations {
  std::int64_t in = 0, blocks = 0, groups = 0;
  std::int64_t block = kActivationUnit;  // inputs per block: activation_block(group size)
  int planes = 1;                        // 1: int8 activations; 2: 16-bit ones
  std::vector<std::int8_t> levels;       // [tokens, in]: the levels, or their high bytes
  std::vector<std::int8_t> low_levels;   // [tokens, in] with two planes: the low bytes
  std::vector<float> block_scales;       // [tokens, blocks]
  std::vector<float> group_sums;         // [tokens, groups]

  // Token t's levels of plane 0 (the levels, or the high bytes) or plane 1 (the low bytes).
  const std::int8_t* plane_levels(int plane, std::int64_t t) const {
    return (plane == 0 ? levels : low_levels).data() + t * in;
  }
  const float* token_scales(std::int64_t t) const { return block_scales.data() + t * blocks; }
  const float* token_sums(std::int64_t t) const { return group_sums.data() + t * groups; }
  std::int64_t units_per_block() const { return block / kActivationUnit; }
};

// A prompt's activations regrouped for the VNNI kernel's tiles of kVnniPromptTile tokens: per
// tile, the levels of each quad of inputs (4 bytes) of its tokens side by side, and the block
// scales likewise. One pointer then reaches every token of a tile at fixed offsets, where
// a pointer per token left too few registers for the addresses (one core's prompt product ran
// ~4% faster). The last tile's slots past the last token are never read.
inline constexpr int kVnniPromptTile = 8;
struct TokenTiles {
  static constexpr std::int64_t kUnitBytes = kVnniPromptTile * 4;  // one quad of inputs
  std::int64_t units = 0, blocks = 0;   // quads of inputs and blocks per token
  std::vector<std::int8_t> levels;      // [tiles][units][kVnniPromptTile][4]
  std::vector<std::int8_t> low_levels;  // likewise, the low plane of 16-bit activations
  std::vector<float> scales;            // [tiles][blocks][kVnniPromptTile]

  const std::int8_t* tile_plane_levels(int plane, std::int64_t tile) const {
    return (plane == 0 ? levels : low_levels).data() + tile * units * kUnitBytes;
  }
  const float* tile_scales(std::int64_t tile) const {
    return scales.data() + tile * blocks * kVnniPromptTile;
  }
};

// The tiles of a's first n_tokens tokens.
void build_token_tiles(const Activations& a, std::int64_t n_tokens, TokenTiles& tiles);

// A prompt's activations as the AMX kernel's second tile operand (int8_kernel_amx.cpp), per tile
// of kAmxTokens tokens and per block: block / 4 rows of 64 bytes, row j holding each token's 4
// activations at positions 4j … 4j + 3 of the order in which the kernel lays out a block's weight
// levels (amx_unit), then the tile's block scales. 16-bit activations keep a block's two planes
// side by side, the high one first. Slots past the last token are zeros, so every tile is whole.
inline constexpr int kAmxTokens = 16;
struct AmxTokenTiles {
  static constexpr std::int64_t kRowBytes = kAmxTokens * 4;
  static constexpr std::int64_t kUnitBytes = kActivationUnit / 4 * kRowBytes;
  std::int64_t block = kActivationUnit, blocks = 0;
  int planes = 1;
  std::int64_t block_bytes() const { return block / kActivationUnit * kUnitBytes; }
  // [tiles][blocks][planes][block / 4][kAmxTokens][4] from the first 64-byte boundary of
  // `storage`, so that no tile row straddles two cache lines.
  std::vector<std::int8_t> storage;
  std::vector<float> scales;  // [tiles][blocks][kAmxTokens]

  std::int8_t* levels() { return line_aligned(storage.data()); }
  const std::int8_t* tile_levels(std::int64_t tile) const {
    return line_aligned(storage.data()) + tile * blocks * planes * block_bytes();
  }
  const float* tile_scales(std::int64_t tile) const {
    return scales.data() + tile * blocks * kAmxTokens;
  }

 private:
  template <typename T>
  static T* line_aligned(T* p) {
    return p + (-reinterpret_cast<std::uintptr_t>(p) & (kCacheLineBytes - 1));
  }
};

// The AMX kernel lays out an 8-bit block's levels as stored and each unit of a 4-bit block (16
// bytes) as the bytes' low nibbles, then their high nibbles: inputs 0, 2, …, 30, then 1, 3, …,
// 31. Row j of a block's activation tile is then the 4 bytes amx_unit(bits, j) of the block's
// quad-ordered activations: for 4-bit rows, in unit j / 8, the even inputs of its quad j % 8
// (j % 8 < 4), or the odd ones of its quad j % 8 - 4.
constexpr std::int64_t amx_unit(int bits, std::int64_t j) {
  constexpr std::int64_t kRowsPerUnit = kActivationUnit / 4, kHalf = kRowsPerUnit / 2;
  const std::int64_t unit = j / kRowsPerUnit * kRowsPerUnit, k = j % kRowsPerUnit;
  return bits == 8 ? j : unit + (k < kHalf ? 2 * k : 2 * (k - kHalf) + 1);
}

void build_amx_token_tiles(const Activations& a, std::int64_t n_tokens, int bits,
                           AmxTokenTiles& tiles);

// Rounds one token's inputs x[in]: each block of `block` (activation_block) to int8 with scale
// max|x|/127 (to nearest, ties to even), stored in quad order for `bits`-bit rows (levels[in],
// block_scales[in / block]), and the f32 sums of x per group of group_size inputs
// (group_sums[in / group_size]). Given `low_levels`, to 16 bits instead, with scale
// max|x|/kMaxLevel16, as two planes (levels: the high bytes, low_levels: the low ones). A block
// holding Inf or NaN gets a NaN scale and zero levels.
void round_token(const float* x, std::int64_t in, int bits, std::int64_t block, int group_size,
                 std::int8_t* levels, std::int8_t* low_levels, float* block_scales,
                 float* group_sums);

// Consecutive output rows with their group scales and biases widened to f32 in one pass (rows
// are contiguous in the checkpoint, so row r's scales start at r · groups), for the kernels that
// do not read the stored scales themselves.
struct RowBlock {
  const std::uint8_t* bytes = nullptr;
  std::int64_t row_bytes = 0, groups = 0;
  std::vector<float> scales, biases;

  const std::uint8_t* row(std::int64_t r) const { return bytes + r * row_bytes; }
  const float* row_scales(std::int64_t r) const { return scales.data() + r * groups; }
  const float* row_biases(std::int64_t r) const { return biases.data() + r * groups; }
};

void load_rows(const Matrix& w, std::int64_t row0, std::int64_t count, RowBlock& block);

// Asks for `count` stored scales and biases from index `first` (rows ahead of the ones in work:
// without it, reading them stalls on memory that no hardware prefetcher saw coming).
inline void prefetch_scales_and_biases(const QuantizedData& q, std::int64_t first,
                                       std::int64_t count) {
  const auto size = static_cast<std::int64_t>(dtype_size(q.scale_dtype));
  for (std::int64_t byte = 0; byte < count * size; byte += 64) {
    prefetch_to_l2(q.scales, first * size + byte);
    prefetch_to_l2(q.biases, first * size + byte);
  }
}

// Decoding's row groups on the VNNI kernel: a matrix's rows in blocks of kVnniGroupRows · step
// rows (step = rows_apart_for_streams of the row's bytes), each block taken as `step` groups of
// every step-th row, then the rows left over in groups of consecutive rows. Group i of that order
// over all rows is the one RowGroupScales keeps at index i; a thread that decodes rows [begin,
// end) walks the same groups when begin and end (unless it is the last row) are multiples of
// decode_row_unit.
inline constexpr std::int64_t kVnniGroupRows = 16;
constexpr std::int64_t decode_row_unit(std::int64_t row_bytes) {
  return kVnniGroupRows * rows_apart_for_streams(row_bytes);
}
struct RowGroup {
  std::int64_t first = 0, step = 1;  // rows first + r · step for r < rows
  int rows = 0;
};
void decode_order(std::int64_t begin, std::int64_t end, std::int64_t row_bytes,
                  std::vector<RowGroup>& order);

// The 32-bit words of the row-group scale table of a matrix with these dimensions (0 where the
// VNNI kernel is not built), and the table itself: for each row group of decode_order over all
// `out` rows, each weight group's scales and biases of its 16 rows, as the kernel reads them
// (int8_kernel_vnni.cpp, "Scale entries"). `q`'s scales and biases may lie anywhere in memory.
std::int64_t row_group_scale_words(std::int64_t out, std::int64_t in, int group_size,
                                   DType scale_dtype);
void lay_out_row_group_scales(const QuantizedData& q, std::int64_t out, std::int64_t in,
                              std::uint32_t* table);

// The kernels: y[t, row0 + r] for r < count and every token, each the same arithmetic.
// Portable C++: one (row, token) at a time.
void portable_block(const Matrix& w, const RowBlock& block, std::int64_t row0, std::int64_t count,
                    const Activations& a, std::int64_t n_tokens, float* y);
// AVX2 (`vpmaddubsw`, 16-bit pair sums widened by `vpmaddwd`): groups of 8 rows.
bool cpu_runs_avx2_kernel();
void avx2_block(const Matrix& w, const RowBlock& block, std::int64_t row0, std::int64_t count,
                const Activations& a, std::int64_t n_tokens, float* y);
// AVX-512 VNNI (`vpdpbusd`): groups of 16 rows, reading the stored scales and biases itself.
bool cpu_runs_vnni_kernel();
// Prompts (n_tokens > kTileTokens) read their activations from `tiles`, built from `a`, or from
// `amx_tiles` through amx_rows when they are given.
void vnni_block(const Matrix& w, std::int64_t row0, std::int64_t count, const Activations& a,
                const TokenTiles* tiles, const AmxTokenTiles* amx_tiles, std::int64_t n_tokens,
                float* y);
// AMX-INT8 (`tdpbusd`): the VNNI kernel's prompts with the integer sums formed by the tile unit.
// sums[t · 16 + r] = the float steps of rows r < `rows` (at most 16) of `bits`-bit levels from
// `first_row`, row_bytes apart, for every token; `scales` holds each weight group's 16 row scales
// (as the VNNI kernel builds them).
bool cpu_runs_amx_kernel();
void amx_rows(int bits, const std::uint8_t* first_row, std::int64_t row_bytes, int rows,
              std::int64_t group, const float* scales, const AmxTokenTiles& tiles,
              std::int64_t n_tokens, float* sums);

}  // namespace llama4::int8
