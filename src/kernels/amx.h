// What the AMX kernels share: whether this process may use the tile unit, and its configuration.
//
// AMX (Advanced Matrix Extensions) adds eight tile registers of up to 16 rows × 64 bytes and
// instructions that multiply whole tiles (`tdpbsud`: int8, `tdpbf16ps`: bf16). Linux hands the
// tiles' 8 KiB of register state only to a process that asks for it, once; each thread then
// loads a configuration (rows and bytes per row of every tile) before its first tile instruction.
#pragma once

#include <cstdint>

namespace llama4::amx {

// The CPU has the tile unit with int8 (AMX-INT8) or bf16 (AMX-BF16) products, AVX-512 (the
// kernels' other steps) and the OS granted this process the tile state.
bool int8_usable();
bool bf16_usable();

// A tile configuration (palette 1): rows[i] rows of bytes_per_row[i] bytes in tile i.
struct alignas(64) TileConfig {
  std::uint8_t palette = 1;
  std::uint8_t start_row = 0;
  std::uint8_t reserved[14] = {};
  std::uint16_t bytes_per_row[16] = {};
  std::uint8_t rows[16] = {};
};

// Loads `config` into this thread's tile unit (the tiles are zeroed).
void load_tile_config(const TileConfig& config);

// For the roofline: operations (a multiply-add counts 2) of `iterations` rounds of 4 independent
// tile products on full 16 × 64-byte tiles on this thread, int8 (`tdpbsud`: 16 · 16 · 64
// multiply-adds each) or bf16 (`tdpbf16ps`: 16 · 16 · 32). The product must be usable.
enum class Product { kInt8, kBf16 };
double product_chains(Product product, std::int64_t iterations);

}  // namespace llama4::amx
