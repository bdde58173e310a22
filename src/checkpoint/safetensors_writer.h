// SafetensorsWriter: writes one .safetensors file, streaming tensor data so that multi-gigabyte
// checkpoints (benchmark models, quantized copies) never need to fit in memory.
// Tensors are declared first (the header must list every offset), then their bytes are written in
// declaration order. The file appears under its final name only when finish() succeeds.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "tensor/dtype.h"

namespace llama4 {

class SafetensorsWriter {
 public:
  explicit SafetensorsWriter(std::filesystem::path path);
  ~SafetensorsWriter();  // removes the partial file if finish() was not reached

  void declare(const std::string& name, DType dtype, std::vector<std::int64_t> shape);
  void set_metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }

  // Appends bytes of the current tensor (the header is written before the first call).
  void write(std::span<const std::byte> bytes);
  // Checks every declared byte was written, renames the file into place and drops it from the
  // page cache, so that its readers map it in huge pages (util/huge_pages.h).
  void finish();

 private:
  struct Entry {
    std::string name;
    DType dtype;
    std::vector<std::int64_t> shape;
    std::uint64_t bytes;
  };
  void write_header();

  std::filesystem::path path_, partial_path_;
  std::ofstream out_;
  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
  std::uint64_t declared_bytes_ = 0, written_bytes_ = 0;
  bool header_written_ = false, finished_ = false;
};

}  // namespace llama4
