// Products of mlx 4/8-bit weights with activations rounded to int8, or to 16-bit integers held as
// two int8 planes — the fast, approximate alternatives to the f32-activation kernels of
// linear_simd.h, chosen per model (QuantizedData::activation_bits, `--activations int8|int16`).
//
// Why: with f32 activations every weight must be turned into a float and multiplied in f32, which
// makes quantized decoding compute-bound on a CPU. Rounding each token's activations to int8 once
// lets the integer dot-product instruction (AVX-512 VNNI `vpdpbusd`: 64 multiply-adds of unsigned
// weight levels by signed activations per instruction) consume packed weights almost as fast as
// memory delivers them. The cost is the rounding: every block of inputs (activation_block) is
// scaled by max|x|/127 and rounded to the nearest integer, a relative error of up to 1/254 of
// the block's largest activation. 16-bit activations (max|x|/32512) cut that error 256-fold for
// twice the dot products (int8_kernels.h, Activations): 4-bit decoding still runs near the
// bandwidth, where with f32 activations it is bound by the conversion of every level to float.
//
// The arithmetic, for one output row and one token:
//   y = Σ_blocks s_g · d_b · Σ_{j∈b} q_j · a_j  +  Σ_groups b_g · Σ_{j∈g} x_j
// with weight levels q, group scale s and bias b (mlx: w = s·q + b), int8 activations a and their
// block scale d. The bias term uses the exact f32 sums of x, so only the products see the
// rounding. Integer sums are exact, and the float steps run in one fixed order (one step per
// block, in order, then the bias term group by group; see int8_kernels.h), so the kernels
// (AVX-512 VNNI, AVX2, portable C++) give bit-identical results, and a token's result does not
// depend on the batch it is in.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "tensor/matrix.h"

namespace llama4 {

// Inputs sharing one activation scale (a block): 64 where the weight groups are a multiple of 64
// inputs, else 32 (kActivationUnit, the layouts' unit). Each block costs the kernels one float
// step per row and token, and the tile unit forms 64 inputs' sums in the time of 32, so the wider
// block reads 4-bit prompts with 16-bit activations ~1.5 times as fast (docs/PERFORMANCE.md,
// Wider activation blocks); a block never straddles two weight groups, whose scales differ.
inline constexpr std::int64_t kActivationUnit = 32;
inline constexpr std::int64_t kWideActivationBlock = 2 * kActivationUnit;
constexpr std::int64_t activation_block(std::int64_t group_size) {
  return group_size % kWideActivationBlock == 0 ? kWideActivationBlock : kActivationUnit;
}

// Whether linear_int8_activations handles this matrix: out-major, 4 or 8 bits, a group size that
// is a multiple of kActivationUnit and divides the row.
bool int8_activations_supported(const Matrix& w);

// y: [n_tokens, w.out_features] (overwritten); x: [n_tokens, w.in_features].
void linear_int8_activations(const Matrix& w, const float* x, std::int64_t n_tokens, float* y);

// The kernels behind linear_int8_activations, fastest first; all give bit-identical results.
// kAmx: AMX-INT8 (`tdpbusd`) for prompts, otherwise kVnni; kVnni: AVX-512 VNNI (`vpdpbusd`);
// kAvx2: AVX2 (`vpmaddubsw` + `vpmaddwd`); kPortable: plain C++.
enum class Int8Kernel { kAmx, kVnni, kAvx2, kPortable };

// "amx-int8", "avx512-vnni", "avx2" or "portable".
std::string_view int8_kernel_name(Int8Kernel kernel);

// The kernels this CPU runs, fastest first (always ending with kPortable), and the one in use.
std::vector<Int8Kernel> int8_kernels_available();
Int8Kernel int8_kernel_in_use();

// For tests and benchmarks: use `kernel` (one of int8_kernels_available()) from now on;
// std::nullopt restores the fastest.
void int8_kernel_force(std::optional<Int8Kernel> kernel);

// Whether 16-bit activations make 4/8-bit products faster than f32 ones with the kernel in use:
// yes with AVX-512 VNNI (and AMX), which decode 4-bit weights 1.2-1.3 times as fast and read
// prompts about three times as fast; no with AVX2, whose 16-bit kernel decodes no faster than the
// f32 one (slower for 8-bit weights), nor with the portable kernel. What `--activations auto`
// follows (docs/PERFORMANCE.md, 16-bit activations).
bool int16_activations_pay_off();

}  // namespace llama4
