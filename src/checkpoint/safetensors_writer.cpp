// SafetensorsWriter; see safetensors_writer.h.
#include "checkpoint/safetensors_writer.h"

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/huge_pages.h"

namespace llama4 {
namespace {
// The header is padded with spaces (as the format allows) so that the data area starts on a
// cache line: a tensor whose size is a multiple of 64 bytes then leaves the next one aligned too,
// and the kernels' 64-byte loads of a row never straddle two lines. (Rows 32 bytes off a line
// ran bf16 prompt products 15% slower: bench_kernels prefill_bf16_out_major, one core.)
constexpr std::size_t kDataAlignment = 64;
constexpr std::size_t kLengthBytes = 8;  // the header's length, before it
}  // namespace

SafetensorsWriter::SafetensorsWriter(std::filesystem::path path)
    : path_(std::move(path)), partial_path_(path_.string() + ".partial") {}

SafetensorsWriter::~SafetensorsWriter() {
  if (!finished_) {
    out_.close();
    std::error_code ignored;
    std::filesystem::remove(partial_path_, ignored);
  }
}

void SafetensorsWriter::declare(const std::string& name, DType dtype,
                                std::vector<std::int64_t> shape) {
  if (header_written_)
    throw Error(path_.string() + ": tensor '" + name + "' declared after data was written");
  std::uint64_t bytes = dtype_size(dtype);
  for (std::int64_t d : shape) bytes *= static_cast<std::uint64_t>(d);
  entries_.push_back({name, dtype, std::move(shape), bytes});
  declared_bytes_ += bytes;
}

void SafetensorsWriter::write_header() {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  std::uint64_t offset = 0;
  for (const Entry& e : entries_) {
    header[e.name] = {{"dtype", std::string(dtype_name(e.dtype))},
                      {"shape", e.shape},
                      {"data_offsets", {offset, offset + e.bytes}}};
    offset += e.bytes;
  }
  std::string text = header.dump();
  text.append((kDataAlignment - (kLengthBytes + text.size()) % kDataAlignment) % kDataAlignment,
              ' ');
  out_.open(partial_path_, std::ios::binary | std::ios::trunc);
  if (!out_) throw Error("cannot create " + partial_path_.string());
  std::uint64_t length = text.size();
  char length_bytes[kLengthBytes];
  for (std::size_t i = 0; i < kLengthBytes; ++i)
    length_bytes[i] = static_cast<char>((length >> (8 * i)) & 0xff);
  out_.write(length_bytes, kLengthBytes);
  out_.write(text.data(), static_cast<std::streamsize>(text.size()));
  header_written_ = true;
}

void SafetensorsWriter::write(std::span<const std::byte> bytes) {
  if (!header_written_) write_header();
  if (written_bytes_ + bytes.size() > declared_bytes_)
    throw Error(path_.string() + ": more tensor data written than declared");
  out_.write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  if (!out_) throw Error("cannot write " + partial_path_.string() + " (disk full?)");
  written_bytes_ += bytes.size();
}

void SafetensorsWriter::finish() {
  if (!header_written_) write_header();
  if (written_bytes_ != declared_bytes_)
    throw Error(path_.string() + ": " + std::to_string(written_bytes_) + " bytes written, " +
                std::to_string(declared_bytes_) + " declared");
  out_.close();
  if (!out_) throw Error("cannot write " + partial_path_.string());
  std::filesystem::rename(partial_path_, path_);
  finished_ = true;
  release_from_page_cache(path_);
}

}  // namespace llama4
