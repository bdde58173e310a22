// Does the model fit in memory? Weights are memory-mapped, so pages load lazily and a checkpoint
// larger than free memory still runs — but every token then re-reads evicted pages from disk and
// generation slows to the disk's speed. So this is a warning, never an error:
//   - checkpoint bytes > MemAvailable (/proc/meminfo): the weights will not all stay resident;
//   - checkpoint bytes > MemTotal: they cannot, whatever else is closed.
// Every tensor is read on each forward pass (all experts may be routed to), so the whole
// checkpoint is the resident set that matters.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace llama4 {

struct MemoryInfo {
  std::optional<std::uint64_t> total_bytes;      // MemTotal
  std::optional<std::uint64_t> available_bytes;  // MemAvailable
};

// Parses the text of /proc/meminfo ("MemAvailable:   12345 kB" lines). Missing or malformed
// fields stay empty.
MemoryInfo parse_meminfo(std::string_view text);

// Reads `path` (default /proc/meminfo); empty fields when it cannot be read (not Linux).
MemoryInfo read_meminfo(const std::filesystem::path& path = "/proc/meminfo");

// The warning to show for `weight_bytes` of mapped weights of `model_name`, or "" when they fit
// (or memory is unknown).
std::string memory_warning(std::uint64_t weight_bytes, const MemoryInfo& memory,
                           std::string_view model_name);

// "1.5 GiB", "300.0 MiB", "12 bytes".
std::string format_bytes(std::uint64_t bytes);

}  // namespace llama4
