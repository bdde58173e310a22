// Writing numpy .npy files (format 1.0, little-endian float32, C order), so logits can be compared
// with numpy-based references without any conversion step.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace llama4 {

// Throws Error naming the path if it cannot be written completely.
void write_npy_f32(const std::filesystem::path& path, std::span<const float> data,
                   const std::vector<std::int64_t>& shape);

}  // namespace llama4
