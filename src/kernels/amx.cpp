// AMX availability and tile configuration; see amx.h.
#include "kernels/amx.h"

#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#define LLAMA4_HAVE_AMX 1
#else
#define LLAMA4_HAVE_AMX 0
#endif

namespace llama4::amx {

#if LLAMA4_HAVE_AMX
namespace {

// CPUID leaf 7, EDX: AMX-BF16, AMX-TILE and AMX-INT8.
constexpr unsigned kAmxBf16 = 1u << 22, kAmxTile = 1u << 24, kAmxInt8 = 1u << 25;

unsigned amx_features() {
  static const unsigned features = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
        !__builtin_cpu_supports("avx512vl") || !__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) ||
        (edx & kAmxTile) == 0)
      return 0u;
    constexpr long kRequestPermission = 0x1023;  // ARCH_REQ_XCOMP_PERM
    constexpr long kTileData = 18;               // XFEATURE_XTILEDATA
    return syscall(SYS_arch_prctl, kRequestPermission, kTileData) == 0 ? edx : 0u;
  }();
  return features;
}

}  // namespace

bool int8_usable() {
  return (amx_features() & kAmxInt8) != 0 && __builtin_cpu_supports("avx512vnni");
}

bool bf16_usable() {
  return (amx_features() & kAmxBf16) != 0 && __builtin_cpu_supports("avx512bf16");
}

__attribute__((target("amx-tile"))) void load_tile_config(const TileConfig& config) {
  // GCC's ldtilecfg names only the config's first 8 bytes as its input: make the whole of it
  // visible in memory first.
  asm volatile("" ::: "memory");
  _tile_loadconfig(&config);
}

__attribute__((target("amx-tile,amx-int8,amx-bf16"))) double product_chains(
    Product product, std::int64_t iterations) {
  constexpr int kRows = 16, kRowBytes = 64;
  TileConfig config;
  for (int tile = 0; tile < 8; ++tile) {
    config.rows[tile] = kRows;
    config.bytes_per_row[tile] = kRowBytes;
  }
  load_tile_config(config);
  // Any operands do: the instructions' time does not depend on them.
  alignas(64) static const std::uint8_t kOperand[kRows * kRowBytes] = {1};
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, kOperand, kRowBytes);
  _tile_loadd(5, kOperand, kRowBytes);
  _tile_loadd(6, kOperand, kRowBytes);
  _tile_loadd(7, kOperand, kRowBytes);
  for (std::int64_t i = 0; i < iterations; ++i) {
    if (product == Product::kInt8) {
      _tile_dpbsud(0, 4, 6);
      _tile_dpbsud(1, 4, 7);
      _tile_dpbsud(2, 5, 6);
      _tile_dpbsud(3, 5, 7);
    } else {
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
  }
  alignas(64) std::int32_t sums[kRows * kRows];
  _tile_stored(0, sums, kRowBytes);
  _tile_release();
  const double inputs_per_row = product == Product::kInt8 ? kRowBytes : kRowBytes / 2.0;
  const double ops_per_instruction = 2.0 * kRows * kRows * inputs_per_row;
  return sums[0] == 12345 ? 0.0 : ops_per_instruction * 4.0 * static_cast<double>(iterations);
}

#else

bool int8_usable() {
  return false;
}

bool bf16_usable() {
  return false;
}

void load_tile_config(const TileConfig&) {}

double product_chains(Product, std::int64_t) {
  return 0.0;
}

#endif

}  // namespace llama4::amx
