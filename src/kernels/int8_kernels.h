// What the int8-activation kernels share (internal to kernels/): the layout of quantized
// activations, the row blocks the kernels work on, and the fixed order of the float steps that
// makes every kernel give bit-identical results. The public entry points are in
// int8_activations.h; each kernel lives in a file of its own (int8_kernel_*.cpp).
//
// Layout of the work: a row is cut into chunks of 64 packed bytes (128 inputs of a 4-bit row,
// 64 of an 8-bit row), and each chunk feeds 16 lanes of partial sums, lane m owning 8 (4-bit) or
// 4 (8-bit) consecutive inputs, that is packed bytes 4m…4m+3. For 4-bit rows a byte holds an even
// input's level in its low nibble and the next odd input's in its high nibble, so the activations
// are stored per chunk as the 64 even inputs followed by the 64 odd ones: the low and high
// nibbles of the 64 bytes then meet the activations they multiply in the same byte positions.
// Each lane's integer sum (exact), times its activation block scale times its weight group scale,
// joins the lane's float sum with one fused multiply-add; the 16 float sums are added pairwise
// at the end (reduce_lanes), and the bias term follows (bias_term).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/int8_activations.h"
#include "kernels/prefetch.h"
#include "tensor/matrix.h"

namespace llama4::int8 {

inline constexpr int kLanes = 16;
inline constexpr std::int64_t kChunkBytes = 64;
inline constexpr int kMaxLevel = 127;  // activations are rounded to [-127, 127]
// Tokens per tile of the batched path (the largest decode batch) and rows per L2 block: 48 rows
// of 5120 4-bit inputs are 120 KiB of weights, which stay in L2 while every token tile passes.
inline constexpr int kTileTokens = 4;
inline constexpr std::int64_t kRowsPerBlock = 48;

constexpr std::int64_t inputs_per_lane(int bits) {
  return bits == 4 ? 8 : 4;
}
constexpr std::int64_t chunk_inputs(int bits) {
  return kLanes * inputs_per_lane(bits);
}

// One call's activations: int8 levels in chunk order, the block scale behind each lane, and the
// exact f32 sums of x per weight group (for the bias term).
struct Activations {
  std::int64_t chunks = 0, groups = 0;
  std::vector<std::int8_t> levels;  // [tokens, chunks · chunk_inputs], zero past in_features
  std::vector<float> lane_scales;   // [tokens, chunks · kLanes]
  std::vector<float> group_sums;    // [tokens, groups]
};

// Consecutive output rows with their group scales and biases widened to f32 in one pass (rows
// are contiguous in the checkpoint, so row r's scales start at r · groups), for the kernels that
// do not read the stored scales themselves. The scales are padded with zeros so that a 16-float
// load from any chunk's first group stays inside, and lanes of a row's last, partial chunk that
// name groups past the row's end read zeros.
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
  for (std::int64_t byte = 0; byte < count * size; byte += kChunkBytes) {
    prefetch_to_l2(q.scales, first * size + byte);
    prefetch_to_l2(q.biases, first * size + byte);
  }
}

// The weight group of lane m of a chunk, relative to the group of the chunk's first input (group
// sizes and chunk sizes are powers of two, so a chunk starts on a group boundary or inside one
// group that covers it whole).
constexpr std::int64_t lane_group_offset(int bits, int group_size, int m) {
  return m * inputs_per_lane(bits) / group_size;
}

// The pairwise reduction every kernel ends with.
inline float reduce_lanes(float lanes[kLanes]) {
  for (int width = kLanes / 2; width >= 1; width /= 2)
    for (int i = 0; i < width; ++i) lanes[i] += lanes[i + width];
  return lanes[0];
}

// Σ_g b_g · (Σx)_g, in the order every kernel uses: group g joins lane g mod 16 with a fused
// multiply-add, and the lanes are reduced pairwise.
inline float bias_term(const float* biases, const Activations& a, std::int64_t t) {
  const float* sums = a.group_sums.data() + t * a.groups;
  float lanes[kLanes] = {};
  for (std::int64_t g = 0; g < a.groups; ++g)
    lanes[g % kLanes] = std::fma(biases[g], sums[g], lanes[g % kLanes]);
  return reduce_lanes(lanes);
}

// The kernels: y[t, row0 + r] for r < count and every token, each the same arithmetic.
// Portable C++: one (row, token) at a time.
void portable_block(const Matrix& w, const RowBlock& block, std::int64_t row0, std::int64_t count,
                    const Activations& a, std::int64_t n_tokens, float* y);
// AVX2 (`vpmaddubsw`, 16-bit pair sums widened by `vpmaddwd`): rows × tokens tiles.
bool cpu_runs_avx2_kernel();
void avx2_block(const Matrix& w, const RowBlock& block, std::int64_t row0, std::int64_t count,
                const Activations& a, std::int64_t n_tokens, float* y);
// AVX-512 VNNI (`vpdpbusd`): rows × tokens tiles, reading the stored scales and biases itself.
bool cpu_runs_vnni_kernel();
void vnni_block(const Matrix& w, std::int64_t row0, std::int64_t count, const Activations& a,
                std::int64_t n_tokens, float* y);

}  // namespace llama4::int8
