// MappedFile: a read-only memory map of a whole file. Weights are used where they lie in the map,
// so loading a checkpoint costs page-table set-up, not a copy, and untouched experts never reach
// RAM.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>

namespace llama4 {

class MappedFile {
 public:
  MappedFile() = default;
  // Throws Error naming the path if it is missing, a directory, or cannot be mapped.
  explicit MappedFile(const std::filesystem::path& path);
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  const std::filesystem::path& path() const { return path_; }

  // Copies [where, where + count) of the map into `into` by reading the file, not the map, so that
  // those pages never count in this process's resident memory (for data that is read once to be
  // laid out anew). False, having read nothing of use, when the range is not in this map or the
  // read fails.
  bool read_without_map(const void* where, void* into, std::size_t count) const;

 private:
  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace llama4
