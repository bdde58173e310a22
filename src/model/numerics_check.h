// Numerics guard: finds where activations first stop being finite. Weights are memory-mapped and
// never scanned at load (that would read every byte of a model of hundreds of GB), so a NaN or Inf
// stored in a checkpoint — or an overflow in a kernel — shows up only as activations. With the
// guard on (`llama4 eval --check-numerics`, and always in Debug builds), the forward pass checks
// each block's output and stops at the first non-finite value with an Error naming the layer and
// tensor, instead of silently producing NaN logits.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace llama4 {

// On by default in Debug builds (NDEBUG unset), off otherwise: the check reads every activation
// once more per block, which is cheap next to the matrix products but not free.
#ifdef NDEBUG
inline constexpr bool kCheckNumericsByDefault = false;
#else
inline constexpr bool kCheckNumericsByDefault = true;
#endif

// Marks activations that are not tied to one layer (embeddings, logits).
inline constexpr std::int64_t kNoLayer = -1;

// Throws Error "numerics check: layer L <tensor> holds NaN at row R, column C ..." when
// `values`, a row-major [rows, width] matrix, contains a NaN or an infinity. `layer` is the decoder
// layer index or kNoLayer.
void check_activations_finite(std::span<const float> values, std::int64_t width, std::int64_t layer,
                              std::string_view tensor);

}  // namespace llama4
