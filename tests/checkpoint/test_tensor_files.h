// Test support: builds safetensors files in memory (header JSON padded to 8 bytes, each tensor's
// data 8-byte aligned) so checkpoint and weight-binding tests can create exactly the files they
// need, including deliberately broken ones, and a self-deleting temporary folder to put them in.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/dtype.h"

namespace llama4::test_support {

constexpr std::size_t kTestAlignment = 8;

// The whole file: u64 little-endian header length, the header text, then `data`.
inline std::string safetensors_bytes(std::string_view header, std::string_view data) {
  std::string bytes(sizeof(std::uint64_t), '\0');
  std::uint64_t length = header.size();
  for (std::size_t i = 0; i < sizeof(length); ++i)
    bytes[i] = static_cast<char>((length >> (8 * i)) & 0xffu);
  bytes.append(header);
  bytes.append(data);
  return bytes;
}

inline void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// Stores `value` as `dtype` (F32, BF16 or F16), little-endian.
inline void append_float(std::string& out, DType dtype, float value) {
  auto append = [&out](const void* p, std::size_t n) {
    out.append(static_cast<const char*>(p), n);
  };
  if (dtype == DType::F32) {
    append(&value, sizeof(value));
  } else if (dtype == DType::BF16) {
    const std::uint16_t bits = f32_to_bf16(value);
    append(&bits, sizeof(bits));
  } else if (dtype == DType::F16) {
    const std::uint16_t bits = f32_to_f16(value);
    append(&bits, sizeof(bits));
  } else {
    throw std::invalid_argument("append_float: not a float dtype");
  }
}

// The value a float written as `dtype` reads back as.
inline float round_to(DType dtype, float value) {
  if (dtype == DType::BF16) return bf16_to_f32(f32_to_bf16(value));
  if (dtype == DType::F16) return f16_to_f32(f32_to_f16(value));
  return value;
}

class TensorFileBuilder {
 public:
  TensorFileBuilder& add_raw(const std::string& name, DType dtype,
                             const std::vector<std::int64_t>& shape, std::string data) {
    tensors_.push_back({name, dtype, shape, std::move(data)});
    return *this;
  }

  TensorFileBuilder& add(const std::string& name, DType dtype,
                         const std::vector<std::int64_t>& shape, const std::vector<float>& values) {
    std::string data;
    for (float v : values) append_float(data, dtype, v);
    return add_raw(name, dtype, shape, std::move(data));
  }

  TensorFileBuilder& add_u32(const std::string& name, const std::vector<std::int64_t>& shape,
                             const std::vector<std::uint32_t>& values) {
    std::string data(values.size() * sizeof(std::uint32_t), '\0');
    if (!values.empty()) std::memcpy(data.data(), values.data(), data.size());
    return add_raw(name, DType::U32, shape, std::move(data));
  }

  TensorFileBuilder& metadata(const std::string& key, const std::string& value) {
    metadata_[key] = value;
    return *this;
  }

  std::string bytes() const {
    nlohmann::json header = nlohmann::json::object();
    if (!metadata_.empty()) header["__metadata__"] = metadata_;
    std::string data;
    for (const Tensor& t : tensors_) {
      data.resize((data.size() + kTestAlignment - 1) / kTestAlignment * kTestAlignment, '\0');
      const std::size_t begin = data.size();
      data += t.data;
      header[t.name] = {{"dtype", std::string(dtype_name(t.dtype))},
                        {"shape", t.shape},
                        {"data_offsets", {begin, data.size()}}};
    }
    std::string text = header.dump();
    text.resize((text.size() + kTestAlignment - 1) / kTestAlignment * kTestAlignment, ' ');
    return safetensors_bytes(text, data);
  }

  void write(const std::filesystem::path& path) const { write_file(path, bytes()); }

 private:
  struct Tensor {
    std::string name;
    DType dtype;
    std::vector<std::int64_t> shape;
    std::string data;
  };
  std::vector<Tensor> tensors_;
  std::map<std::string, std::string> metadata_;
};

// A fresh folder under the system temp directory, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::random_device random;
    path_ = std::filesystem::temp_directory_path() /
            ("llama4-test-" + std::to_string(random()) + std::to_string(random()));
    std::filesystem::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace llama4::test_support
