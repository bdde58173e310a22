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

#else

bool int8_usable() {
  return false;
}

bool bf16_usable() {
  return false;
}

void load_tile_config(const TileConfig&) {}

#endif

}  // namespace llama4::amx
