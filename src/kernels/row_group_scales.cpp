// Row-group scale tables (row_group_scales.h): where they live and when they are laid out. The
// layout itself is the VNNI kernel's (int8_kernel_vnni.cpp), which reads it.
#include "kernels/row_group_scales.h"

#include <map>
#include <new>

#include "kernels/int8_activations.h"
#include "kernels/int8_kernels.h"
#include "util/huge_pages.h"

namespace llama4 {

std::int64_t RowGroupScales::words(const Matrix& w) {
  if (!w.quantized() || !int8_activations_supported(w) || !int8::cpu_runs_vnni_kernel()) return 0;
  return int8::row_group_scale_words(w.out_features, w.in_features, w.quant.group_size,
                                     w.quant.scale_dtype);
}

RowGroupScales::RowGroupScales(const Matrix& w, std::uint32_t* table, ReadWithoutMap read)
    : quant_(w.quant),
      out_(w.out_features),
      in_(w.in_features),
      table_(table),
      read_(std::move(read)) {}

const std::uint32_t* RowGroupScales::entries() const {
  std::call_once(laid_out_, [this] { lay_out(); });
  return table_;
}

void RowGroupScales::lay_out() const {
  const std::size_t bytes =
      static_cast<std::size_t>(out_ * (in_ / quant_.group_size)) * dtype_size(quant_.scale_dtype);
  std::vector<std::byte> scales(bytes), biases(bytes);
  QuantizedData stored = quant_;
  if (read_ && read_(quant_.scales, scales.data(), bytes) &&
      read_(quant_.biases, biases.data(), bytes)) {
    stored.scales = scales.data();
    stored.biases = biases.data();
  }
  int8::lay_out_row_group_scales(stored, out_, in_, table_);
}

RowGroupScaleSet::RowGroupScaleSet(const std::vector<Matrix*>& matrices,
                                   const ReadWithoutMap& read) {
  // Each table's place in the buffer, in the matrices' order (the order in which a forward pass
  // first uses them, so that the pages fill front to back), whole cache lines each.
  std::map<const void*, std::size_t> offset_of_scales;
  std::vector<std::pair<Matrix*, std::size_t>> placed;
  for (Matrix* m : matrices) {
    const std::int64_t words = RowGroupScales::words(*m);
    if (words == 0) continue;
    const auto [it, fresh] = offset_of_scales.try_emplace(m->quant.scales, bytes_);
    if (fresh)
      bytes_ += (static_cast<std::size_t>(words) * 4 + kCacheLineBytes - 1) / kCacheLineBytes *
                kCacheLineBytes;
    placed.emplace_back(m, it->second);
  }
  if (bytes_ == 0) return;
  try {
    pages_ = allocate_pages(bytes_, PageSize::kHuge);
  } catch (const std::bad_alloc&) {
    bytes_ = 0;  // no room to reserve: the kernels lay the scales out as they go
    return;
  }
  std::map<std::size_t, RowGroupScales*> table_at;
  for (const auto& [m, offset] : placed) {
    RowGroupScales*& table = table_at[offset];
    if (table == nullptr) {
      auto* words = reinterpret_cast<std::uint32_t*>(static_cast<std::byte*>(pages_) + offset);
      tables_.push_back(std::make_unique<RowGroupScales>(*m, words, read));
      table = tables_.back().get();
    }
    m->quant.row_group_scales = table;
  }
}

RowGroupScaleSet::~RowGroupScaleSet() {
  if (pages_ != nullptr) free_pages(pages_, bytes_);
}

}  // namespace llama4
