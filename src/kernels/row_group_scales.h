// Row-group scale tables: a quantized matrix's scales and biases laid out once, on first use, in
// the order in which the AVX-512 int8 kernels read them (int8_kernels.h, "Decoding's row groups").
//
// Those kernels hold one output row per 32-bit lane, so each weight group's scales and biases must
// come as vectors of 16 rows, where the checkpoint stores them row by row. Transposed as a matrix
// decodes, they took 12–20% of the 4-bit decoding kernel's time in profiles, and with two threads
// the kernel read 31–34 GB/s where bf16 and 8-bit rows read 36–38 (docs/PERFORMANCE.md, "Scale
// tables").
// A table takes what the stored values take (4 bytes per row and weight group for bf16 or f16),
// and it replaces them: its values are read from the file rather than through the memory map, so
// the stored ones never count in the process's resident memory beside it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "tensor/matrix.h"

namespace llama4 {

// Copies `count` bytes at `where` (inside a checkpoint's memory map) into `into` without touching
// the map's pages; false where it cannot (the table then reads through the map).
using ReadWithoutMap = std::function<bool(const void* where, void* into, std::size_t count)>;

class RowGroupScales {
 public:
  // The 32-bit words of `w`'s table (0 where the kernels that read it are not built).
  static std::int64_t words(const Matrix& w);

  // `w`'s table, laid out into `table` (words(w) words) on the first call of entries().
  RowGroupScales(const Matrix& w, std::uint32_t* table, ReadWithoutMap read);

  // The laid-out table. The first call lays it out; concurrent callers wait for it.
  const std::uint32_t* entries() const;

 private:
  void lay_out() const;

  QuantizedData quant_;
  std::int64_t out_, in_;
  std::uint32_t* table_;
  ReadWithoutMap read_;
  mutable std::once_flag laid_out_;
};

// The tables of a model's quantized matrices, in one buffer of huge pages reserved for all of them
// and touched only where a table is laid out.
class RowGroupScaleSet {
 public:
  RowGroupScaleSet() = default;
  // Gives each of `matrices` that the AVX-512 int8 kernels can run a table (matrices sharing their
  // stored scales, as a tied output head does the embeddings', share one).
  RowGroupScaleSet(const std::vector<Matrix*>& matrices, const ReadWithoutMap& read);
  RowGroupScaleSet(const RowGroupScaleSet&) = delete;
  RowGroupScaleSet& operator=(const RowGroupScaleSet&) = delete;
  ~RowGroupScaleSet();

  std::size_t tables() const { return tables_.size(); }

 private:
  void* pages_ = nullptr;
  std::size_t bytes_ = 0;
  std::vector<std::unique_ptr<RowGroupScales>> tables_;
};

}  // namespace llama4
