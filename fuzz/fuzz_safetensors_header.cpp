// Fuzz target: the safetensors header parser (SafetensorsFile::parse) on arbitrary file bytes.
// Every accepted tensor must lie inside the input and agree with its dtype and shape.
#include <cstdlib>
#include <span>

#include "checkpoint/safetensors.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  llama4::fuzz::expect_only_llama4_errors([&] {
    std::map<std::string, std::string> metadata;
    const auto tensors = llama4::SafetensorsFile::parse(bytes, "fuzz.safetensors", &metadata);
    const std::byte* end = bytes.data() + bytes.size();
    for (const llama4::TensorInfo& info : tensors) {
      const bool inside = info.data >= bytes.data() && info.data <= end &&
                          info.nbytes <= static_cast<std::size_t>(end - info.data);
      const auto expected = static_cast<std::size_t>(info.numel()) * llama4::dtype_size(info.dtype);
      if (!inside || expected != info.nbytes) std::abort();
    }
  });
  return 0;
}
