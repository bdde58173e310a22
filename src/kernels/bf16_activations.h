// Products of bf16 weights with activations rounded to bf16 — the fast, approximate alternative
// to widening every weight to f32, chosen per model (Matrix::bf16_activations,
// `--activations bf16`).
//
// Why: with f32 activations each bf16 weight is widened and multiplied in f32, so a prompt runs at
// the f32 multiply-add rate. AVX-512 BF16's `vdpbf16ps` multiplies pairs of bf16 values and adds
// both products to an f32 sum, twice the work per instruction. The cost is rounding the
// activations to bf16 once per product (8 significant bits, a relative error up to 2^-9 per
// input); products and sums stay f32. Decoding reads the same bytes either way, so it is bound by
// memory bandwidth alike; prompts gain.
//
// The arithmetic (identical in the AVX-512 and portable kernels, so their results are
// bit-identical, and a token's result does not depend on the batch it is in; the AMX kernel has
// its own, below). Activations are rounded to nearest
// even, subnormals flushed to zero. Inputs are taken in pairs (2p, 2p+1); a pair joins a running
// f32 sum as `vdpbf16ps` adds it: first the odd input's product, then the even one's, each added
// with one rounding (bf16 products are exact in f32), subnormal weights read as zero and
// subnormal sums flushed to zero.
//   - out-major rows: 16 running sums per (row, token); sum m takes pairs 16c + m for c = 0, 1, …
//     (inputs past the row's end count as zero), and the 16 sums are added pairwise at the end
//     (8 + 8, 4 + 4, 2 + 2, 1 + 1);
//   - in-major matrices: one running sum per (column, token) over the pairs in order.
// On CPUs with AMX-BF16 the tile unit computes the products of out-major rows (`tdpbf16ps`, 16
// tokens × 16 rows × 32 inputs per instruction), decoding included. Its f32 sums round in its own
// way (closer to the exact sums than a chain of FMAs), so those results differ from the other
// kernels' in the last bits; a token's result still does not depend on its batch. In-major
// matrices keep the arithmetic above on that CPU too.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "tensor/matrix.h"

namespace llama4 {

// Whether linear_bf16_activations handles this matrix: bf16 weights, either layout.
bool bf16_activations_supported(const Matrix& w);

// y: [n_tokens, w.out_features] (overwritten); x: [n_tokens, w.in_features].
void linear_bf16_activations(const Matrix& w, const float* x, std::int64_t n_tokens, float* y);

// The kernels behind linear_bf16_activations. kAmx: AMX-BF16 (`tdpbf16ps`) for out-major rows,
// with its own rounding (see above), and kAvx512Bf16's for in-major matrices; kAvx512Bf16:
// AVX-512 BF16 (`vdpbf16ps`); kPortable: plain C++ (the reference, bit-identical to kAvx512Bf16;
// far slower than the f32 kernels, so on CPUs without AVX-512 BF16 bf16 activations are not worth
// it).
enum class Bf16Kernel { kAmx, kAvx512Bf16, kPortable };

// "amx-bf16", "avx512-bf16" or "portable".
std::string_view bf16_kernel_name(Bf16Kernel kernel);

// The kernels this CPU runs, fastest first (always ending with kPortable), and the one in use.
std::vector<Bf16Kernel> bf16_kernels_available();
Bf16Kernel bf16_kernel_in_use();

// For tests and benchmarks: use `kernel` (one of bf16_kernels_available()) from now on;
// std::nullopt restores the fastest.
void bf16_kernel_force(std::optional<Bf16Kernel> kernel);

}  // namespace llama4
