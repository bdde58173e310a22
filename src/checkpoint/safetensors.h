// Safetensors reading: a single file or a sharded set (model.safetensors.index.json), memory-mapped
// and validated strictly before any byte of tensor data is trusted.
//
// File layout: u64 little-endian header length N, N bytes of JSON
// {"name": {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
// then the data area; offsets are relative to the data area.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tensor/dtype.h"
#include "util/mapped_file.h"

namespace llama4 {

// "[5120,8192]" — how errors show a tensor shape.
std::string shape_string(const std::vector<std::int64_t>& shape);

struct TensorInfo {
  std::string name;         // canonical name (see Checkpoint)
  std::string stored_name;  // name as written in the file
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;  // torch order, outermost first
  const std::byte* data = nullptr;  // points into the memory map
  std::size_t nbytes = 0;
  std::string file;  // the file it came from, for messages

  std::int64_t numel() const;
};

// One mapped .safetensors file with its validated tensor table.
class SafetensorsFile {
 public:
  // Maps and validates `path`; throws Error naming the file and the problem.
  explicit SafetensorsFile(const std::filesystem::path& path);
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const MappedFile& mapped() const { return file_; }

  // Validates header bytes (without the data) — exposed for tests and fuzzing.
  static std::vector<TensorInfo> parse(std::span<const std::byte> file_bytes,
                                       const std::string& file_name,
                                       std::map<std::string, std::string>* metadata = nullptr);

 private:
  MappedFile file_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

// Every text-model tensor of a model folder. Canonical names drop the multimodal
// `language_model.` prefix ("model.layers.0.self_attn.q_proj.weight", "lm_head.weight");
// vision tensors (`vision_model.*`, `multi_modal_projector.*`) are skipped and counted.
class Checkpoint {
 public:
  // `dir` holds model.safetensors, or model.safetensors.index.json and its shards, or any
  // *.safetensors files. Throws Error naming the file and problem.
  static Checkpoint open(const std::filesystem::path& dir);

  const TensorInfo* find(const std::string& canonical_name) const;
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  std::size_t skipped_vision_tensors() const { return skipped_vision_; }
  const std::vector<std::filesystem::path>& files() const { return files_; }
  // MappedFile::read_without_map for a range of any of the checkpoint's files.
  bool read_without_map(const void* where, void* into, std::size_t count) const;

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  std::vector<std::filesystem::path> files_;
  std::map<std::string, TensorInfo> tensors_;
  std::size_t skipped_vision_ = 0;
};

}  // namespace llama4
