// What the bf16-activation kernels share (internal to kernels/): the rounded activations, the
// scalar steps that define the arithmetic (bf16_activations.h describes it), and the kernels'
// entry points. Each kernel lives in a file of its own (bf16_kernel_*.cpp); the public entry
// point, rounding and threads are in bf16_activations.cpp.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/bf16_activations.h"
#include "tensor/dtype.h"
#include "tensor/matrix.h"

namespace llama4::bf16 {

// Running sums per (row, token) of out-major rows, and the inputs one step of them covers.
inline constexpr int kLanes = 16;
inline constexpr std::int64_t kChunkInputs = 2 * kLanes;
// Tokens per tile (the largest decode batch); out-major rows per L2 block (48 rows of 5120 bf16
// inputs: 480 KiB, in L2 while every token tile passes over them).
inline constexpr int kTileTokens = 4;
inline constexpr std::int64_t kRowsPerBlock = 48;
// In-major prompts: at most this many columns per work item, whose running sums (tokens × 2048
// f32) stay in L2 while its strips pass; 1024 and 4096 measured the same end to end.
inline constexpr std::int64_t kGroupColumns = 2048;
// In-major columns are read 32 at a time: two vectors of sums, the pairs of two input rows
// interleaved (see in_major_slot).
inline constexpr std::int64_t kColumnBlock = 2 * kLanes;

// One call's activations rounded to bf16: [tokens, stride] values, zero past in_features; the
// stride is a multiple of kChunkInputs, so every chunk of a row can be read whole.
struct Activations {
  std::int64_t stride = 0;
  std::vector<std::uint16_t> values;

  const std::uint16_t* token(std::int64_t t) const { return values.data() + t * stride; }
};

// f32 → bf16, nearest even, subnormals flushed to (signed) zero, NaN kept NaN.
inline std::uint16_t round_activation(float value) {
  const std::uint16_t bits = f32_to_bf16(value);
  constexpr std::uint16_t kExponent = 0x7f80, kSign = 0x8000;
  return (bits & kExponent) == 0 ? static_cast<std::uint16_t>(bits & kSign) : bits;
}

// A stored bf16 weight as the instruction reads it: subnormals are zero.
inline float read_weight(std::uint16_t bits) {
  constexpr std::uint16_t kExponent = 0x7f80, kSign = 0x8000;
  return bf16_to_f32((bits & kExponent) == 0 ? static_cast<std::uint16_t>(bits & kSign) : bits);
}

// sum + w · x with one rounding (the product of two bf16 values is exact in f32), a subnormal
// result flushed to zero.
inline float add_product(float sum, float w, float x) {
  const float r = std::fma(w, x, sum);
  return std::fabs(r) < std::numeric_limits<float>::min() ? std::copysign(0.0f, r) : r;
}

// The pairwise reduction of an out-major (row, token)'s 16 sums.
inline float reduce_lanes(float lanes[kLanes]) {
  for (int width = kLanes / 2; width >= 1; width /= 2)
    for (int i = 0; i < width; ++i) lanes[i] += lanes[i + width];
  return lanes[0];
}

// Where column k of a block of kColumnBlock in-major columns sits among the kernel's two vectors
// of sums (slots 0-15: the first vector, 16-31: the second). Interleaving two rows' 32 columns
// 16 bits at a time pairs them within each 128-bit quarter: columns 8q…8q+3 go to the first
// vector's lanes 4q…4q+3, columns 8q+4…8q+7 to the second's.
constexpr int in_major_slot(int k) {
  const int quarter = k / 8, within = k % 8;
  return within < 4 ? 4 * quarter + within : kLanes + 4 * quarter + within - 4;
}

// The kernels: y[t, ·] for tokens [t0, t0 + n_tokens), each the same arithmetic.
// Out-major rows [row0, row0 + count).
void portable_out_major(const Matrix& w, std::int64_t row0, std::int64_t count,
                        const Activations& a, std::int64_t t0, std::int64_t n_tokens, float* y);
// In-major columns [c0, c0 + width).
void portable_in_major(const Matrix& w, std::int64_t c0, std::int64_t width, const Activations& a,
                       std::int64_t t0, std::int64_t n_tokens, float* y);

// One call's activations as the AMX kernel's second operand: per tile of up to 16 tokens and
// chunk of kChunkInputs inputs, 16 rows of `columns` 4-byte pairs, row j holding pair j (inputs
// 2j, 2j+1) of each of the tile's tokens (zeros for tokens past the last). Prompts have 16
// columns; decoding as many as tokens, so that a chunk is 64 bytes per token rather than 1 KiB.
struct TokenPairs {
  static constexpr std::int64_t kTileTokens = 16;
  std::int64_t chunks = 0, columns = kTileTokens;
  std::vector<std::uint8_t> bytes;  // [tiles][chunks][16][columns][4]

  std::int64_t row_bytes() const { return columns * 4; }
  std::int64_t chunk_bytes() const { return kTileTokens * row_bytes(); }
  const std::uint8_t* chunk(std::int64_t tile, std::int64_t c) const {
    return bytes.data() + (tile * chunks + c) * chunk_bytes();
  }
  std::uint8_t* chunk(std::int64_t tile, std::int64_t c) {
    return bytes.data() + (tile * chunks + c) * chunk_bytes();
  }
};

// AMX-BF16 (`tdpbf16ps`, bf16_kernel_amx.cpp): out-major rows [row0, row0 + count) for every
// token, with the activations packed by pack_token_tile (each tile of 16 tokens once per call).
// Its own arithmetic (see there), not the one above.
bool cpu_runs_amx_kernel();
void pack_token_tile(const Activations& a, std::int64_t n_tokens, std::int64_t tile,
                     TokenPairs& pairs);
void amx_out_major(const Matrix& w, std::int64_t row0, std::int64_t count, const TokenPairs& pairs,
                   std::int64_t n_tokens, float* y);

bool cpu_runs_avx512_kernel();
void avx512_out_major(const Matrix& w, std::int64_t row0, std::int64_t count, const Activations& a,
                      std::int64_t t0, std::int64_t n_tokens, float* y);
void avx512_in_major(const Matrix& w, std::int64_t c0, std::int64_t width, const Activations& a,
                     std::int64_t t0, std::int64_t n_tokens, float* y);

}  // namespace llama4::bf16
