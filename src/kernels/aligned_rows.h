// aligned_row_block: a block of a matrix's rows copied onto cache lines for a prompt's kernels.
//
// safetensors aligns tensors to 8 bytes only, so a checkpoint whose header length is not a
// multiple of 64 puts every tensor off the cache line. A prompt's kernels then load each vector
// (or tile row) of weights in two halves, once per token tile. Copying the block first reads the
// rows from memory once, as the first tile would, and every tile after it reads aligned rows from
// L2. One core, bench_kernels prefill_bf16_out_major with rows 32 bytes off the line: 90 GFLOP/s
// against 105-108 aligned (docs/PERFORMANCE.md, "Rows off the cache line").
#pragma once

#include <cstdint>

#include "tensor/matrix.h"

namespace llama4 {

// Rows [begin, end) of out-major w in a 64-byte-aligned buffer of this thread's, as a matrix whose
// row 0 is row `begin` (its other fields w's), or nullptr if the rows already start on cache lines
// or cannot all be made to (a row pitch that is not a whole number of lines). The result stays
// valid until this thread's next call.
const Matrix* aligned_row_block(const Matrix& w, std::int64_t begin, std::int64_t end);

}  // namespace llama4
