// .npy writer; see npy.h. The header is an ASCII Python dict padded with spaces so that the data
// starts at a multiple of 64 bytes, as numpy itself writes it.
#include "util/npy.h"

#include <cstdio>
#include <fstream>
#include <string>

#include "util/error.h"

namespace llama4 {
namespace {
constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicBytes = 6;
constexpr std::size_t kHeaderAlignment = 64;
}  // namespace

void write_npy_f32(const std::filesystem::path& path, std::span<const float> data,
                   const std::vector<std::int64_t>& shape) {
  std::string dims;
  for (std::size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ",";  // a Python 1-tuple
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  const std::size_t prefix = kMagicBytes + 2 + 2;  // magic, version, header length
  std::size_t total = prefix + header.size() + 1;
  header.append((kHeaderAlignment - total % kHeaderAlignment) % kHeaderAlignment, ' ');
  header.push_back('\n');

  const std::filesystem::path temporary = path.string() + ".partial";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write " + path.string());
    out.write(kMagic, kMagicBytes);
    const char version[2] = {1, 0};
    out.write(version, 2);
    const auto length = static_cast<std::uint16_t>(header.size());
    const char length_bytes[2] = {static_cast<char>(length & 0xff), static_cast<char>(length >> 8)};
    out.write(length_bytes, 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size_bytes()));
    if (!out) {
      out.close();
      std::filesystem::remove(temporary);
      throw Error("cannot write " + path.string() + " (disk full?)");
    }
  }
  std::filesystem::rename(temporary, path);
}

}  // namespace llama4
