// Memory check for a mapped checkpoint; see memory_check.h.
#include "model/memory_check.h"

#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace llama4 {
namespace {

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = kKiB * 1024;
constexpr std::uint64_t kGiB = kMiB * 1024;

// The value of "Name:   123 kB" in bytes, or nothing.
std::optional<std::uint64_t> field_bytes(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() || line.substr(0, name.size()) != name || line[name.size()] != ':')
    return std::nullopt;
  std::string_view rest = line.substr(name.size() + 1);
  const std::size_t start = rest.find_first_not_of(" \t");
  if (start == std::string_view::npos) return std::nullopt;
  rest = rest.substr(start);
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
  if (ec != std::errc() || end == rest.data()) return std::nullopt;
  std::string_view unit(end, static_cast<std::size_t>(rest.data() + rest.size() - end));
  const std::size_t unit_start = unit.find_first_not_of(" \t");
  unit = unit_start == std::string_view::npos ? std::string_view() : unit.substr(unit_start);
  if (unit.empty()) return value;
  if (unit.substr(0, 2) == "kB" && value <= UINT64_MAX / kKiB) return value * kKiB;
  return std::nullopt;
}

}  // namespace

MemoryInfo parse_meminfo(std::string_view text) {
  MemoryInfo info;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    if (auto v = field_bytes(line, "MemTotal")) info.total_bytes = v;
    if (auto v = field_bytes(line, "MemAvailable")) info.available_bytes = v;
    if (newline == std::string_view::npos) break;
    text.remove_prefix(newline + 1);
  }
  return info;
}

MemoryInfo read_meminfo(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return parse_meminfo(text.str());
}

std::string format_bytes(std::uint64_t bytes) {
  char buffer[64];
  if (bytes >= kGiB)
    std::snprintf(buffer, sizeof buffer, "%.1f GiB", static_cast<double>(bytes) / kGiB);
  else if (bytes >= kMiB)
    std::snprintf(buffer, sizeof buffer, "%.1f MiB", static_cast<double>(bytes) / kMiB);
  else
    std::snprintf(buffer, sizeof buffer, "%llu bytes", static_cast<unsigned long long>(bytes));
  return buffer;
}

std::string memory_warning(std::uint64_t weight_bytes, const MemoryInfo& memory,
                           std::string_view model_name) {
  const std::string weights =
      "the weights of " + std::string(model_name) + " take " + format_bytes(weight_bytes);
  if (memory.total_bytes && weight_bytes > *memory.total_bytes)
    return "warning: " + weights + " but this machine has only " +
           format_bytes(*memory.total_bytes) +
           " of memory; they are memory-mapped, so it will run, but every token re-reads weights "
           "from disk and generation will be very slow";
  if (memory.available_bytes && weight_bytes > *memory.available_bytes)
    return "warning: " + weights + " but only " + format_bytes(*memory.available_bytes) +
           " of memory is available; they are memory-mapped, so it will run, but pages that do "
           "not fit are re-read from disk and generation will be slow (close other programs or "
           "use a smaller/quantized model)";
  return "";
}

}  // namespace llama4
