// What one block of a 16-bit-activation prompt costs the tile unit, part by part (part of
// bench_kernels; skipped where AMX-INT8 is not usable). The AMX int8 kernel
// (src/kernels/int8_kernel_amx.cpp) forms each block's integer sums — 16 weight rows × 16 tokens
// × 64 inputs, one weight group — with two `tdpbusd`, one per plane of the activations, and must
// store them to take the block's float step: every group has its own scale, so the sums cannot
// stay in the tiles across the row as the tile unit is designed for. Each block therefore loads
// three 1 KiB tiles (levels and two planes) and stores two, for two products.
//
// These loops run that sequence alone, so they bound what the kernel's loop can reach
// (docs/PERFORMANCE.md, *What bounds 16-bit prompts on the tile unit*):
//   amx_block_tiles:         loads, zeroing, products and stores, as the kernel issues them
//   amx_block_float_steps:   the block's float steps alone (16 rows of 16 tokens)
//   amx_block_tiles_and_float_steps: both, each block's float step two blocks behind its sums
// The levels cycle through a slice's 16 KiB, as in the kernel. The activations either cycle
// through 8 KiB, so that every operand stays in L1 (`l1_activations`), or stream through 1 MiB,
// the size of the strips of tokens linear() gives the kernel, which only L2 holds
// (`l2_activations`): the kernel reads each block's planes from L2.
// One thread; FLOP/s counts the block's 16 · 16 · 64 multiply-adds of the model (2 FLOP each).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>

#include "kernels/amx.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define LLAMA4_BENCH_AMX 1
#define LLAMA4_BENCH_AMX_TARGET \
  __attribute__((target("avx512f,avx512bw,avx512vl,amx-tile,amx-int8")))
#else
#define LLAMA4_BENCH_AMX 0
#endif

namespace llama4 {
namespace {

#if LLAMA4_BENCH_AMX

// GCC 12 reports its own intrinsics' `_mm512_undefined_*()` pass-through operands as
// uninitialized once they are inlined here (as in src/kernels/int8_kernel_amx.cpp).
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

constexpr std::int64_t kRows = 16, kTokens = 16, kInputs = 64;  // one block: a tile per operand
constexpr std::int64_t kTileBytes = 1024;
constexpr int kLevelBlocks = 16;  // blocks of levels cycled through: 16 KiB, a slice's
// Blocks of activations cycled through: 8 KiB, which L1 holds beside the levels and sums, or
// 1 MiB, a strip of tokens' (kStripActivationBytes in src/kernels/linear.cpp), which it does not.
enum class Activations : int { kInL1 = 4, kInL2 = 512 };
constexpr int kMaxPlaneBlocks = static_cast<int>(Activations::kInL2);
constexpr int kLag = 3;  // sums buffers: a block's float step runs two blocks after its store
constexpr int kPlaneShift = 8;
constexpr double kFlopPerBlock = 2.0 * kRows * kTokens * kInputs;

// The operands, sums and scales of the loops: random-free, since the instructions' time does not
// depend on the values.
struct Operands {
  alignas(64) std::uint8_t levels[kLevelBlocks][kTileBytes];
  alignas(64) std::int8_t planes[kMaxPlaneBlocks][2 * kTileBytes];
  alignas(64) std::int32_t sums[kLag][2 * kRows * kTokens];
  alignas(64) float scales[kLevelBlocks * kRows];
  Operands() {
    std::memset(levels, 1, sizeof levels);
    std::memset(planes, 1, sizeof planes);
    std::memset(sums, 0, sizeof sums);
    for (float& s : scales) s = 1e-3f;
  }
};

LLAMA4_BENCH_AMX_TARGET void configure() {
  amx::TileConfig config;
  for (int tile = 0; tile < 8; ++tile) {
    config.rows[tile] = kRows;
    config.bytes_per_row[tile] = kInputs;
  }
  amx::load_tile_config(config);
}

// Block b's tiles loaded and its two products formed in the sums tiles of its parity (0, 1 or
// 2, 3), then the sums of the block before stored, as the kernel's pairs do. Tile numbers must be
// literals (GCC's intrinsics paste them into the instruction), hence the two spelled-out branches.
LLAMA4_BENCH_AMX_TARGET __attribute__((always_inline)) inline void block_tiles(Operands& o,
                                                                               std::int64_t b,
                                                                               int plane_blocks) {
  const std::int8_t* planes = o.planes[b % plane_blocks];
  _tile_loadd(4, o.levels[b % kLevelBlocks], kInputs);
  _tile_loadd(6, planes, kInputs);
  _tile_loadd(7, planes + kTileBytes, kInputs);
  std::int32_t* stored = o.sums[(b + kLag - 1) % kLag];
  if (b % 2 == 0) {
    _tile_zero(0);
    _tile_dpbusd(0, 4, 6);
    _tile_zero(1);
    _tile_dpbusd(1, 4, 7);
    _tile_stored(2, stored, kInputs);
    _tile_stored(3, stored + kRows * kTokens, kInputs);
  } else {
    _tile_zero(2);
    _tile_dpbusd(2, 4, 6);
    _tile_zero(3);
    _tile_dpbusd(3, 4, 7);
    _tile_stored(0, stored, kInputs);
    _tile_stored(1, stored + kRows * kTokens, kInputs);
  }
}

// The kernel's float step of one block (its float_step<2>): each row's 16 sums of the two planes
// joined, converted and scaled by the row's group scale times the tokens' block scales.
LLAMA4_BENCH_AMX_TARGET __attribute__((always_inline)) inline void block_float_step(
    const Operands& o, std::int64_t b, __m512 (&acc)[kRows]) {
  const std::int32_t* sums = o.sums[b % kLag];
  const __m512 block_scales = _mm512_loadu_ps(o.scales + (b * kTokens) % (kLevelBlocks * kRows));
  const float* row_scales = o.scales + b % kLevelBlocks;
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r) {
    const __m512 scale = _mm512_mul_ps(_mm512_set1_ps(row_scales[r]), block_scales);
    const __m512i exact =
        _mm512_add_epi32(_mm512_slli_epi32(_mm512_load_si512(sums + r * kTokens), kPlaneShift),
                         _mm512_load_si512(sums + kRows * kTokens + r * kTokens));
    acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(exact), scale, acc[r]);
  }
}

enum class Part { kTiles, kFloatSteps, kTilesAndFloatSteps };

LLAMA4_BENCH_AMX_TARGET void run_blocks(Operands& o, Part part, int plane_blocks,
                                        std::int64_t blocks, __m512 (&acc)[kRows]) {
  for (std::int64_t b = 0; b < blocks; ++b) {
    switch (part) {
      case Part::kTiles:
        block_tiles(o, b, plane_blocks);
        break;
      case Part::kFloatSteps:
        block_float_step(o, b, acc);
        break;
      case Part::kTilesAndFloatSteps:
        block_tiles(o, b, plane_blocks);
        block_float_step(o, b, acc);
        break;
    }
  }
}

LLAMA4_BENCH_AMX_TARGET void amx_block(benchmark::State& state, Part part,
                                       Activations activations = Activations::kInL1) {
  if (!amx::int8_usable()) {
    state.SkipWithError("this CPU or OS does not give the tile unit to this process");
    return;
  }
  configure();
  static Operands operands;
  __m512 acc[kRows];
  for (__m512& a : acc) a = _mm512_setzero_ps();
  constexpr std::int64_t kBlocksPerIteration = 4096;
  const int plane_blocks = static_cast<int>(activations);
  for (auto _ : state) run_blocks(operands, part, plane_blocks, kBlocksPerIteration, acc);
  for (const __m512& a : acc) benchmark::DoNotOptimize(a);
  alignas(64) std::int32_t last[kRows * kTokens];
  _tile_stored(0, last, kInputs);
  benchmark::DoNotOptimize(last);
  _tile_release();
  const double blocks = static_cast<double>(state.iterations() * kBlocksPerIteration);
  state.counters["FLOP/s"] =
      benchmark::Counter(blocks * kFlopPerBlock, benchmark::Counter::kIsRate);
  state.counters["s/block"] =
      benchmark::Counter(blocks, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

BENCHMARK_CAPTURE(amx_block, tiles_l1_activations, Part::kTiles, Activations::kInL1)->UseRealTime();
BENCHMARK_CAPTURE(amx_block, tiles_l2_activations, Part::kTiles, Activations::kInL2)->UseRealTime();
BENCHMARK_CAPTURE(amx_block, float_steps, Part::kFloatSteps)->UseRealTime();
BENCHMARK_CAPTURE(amx_block, tiles_and_float_steps_l1_activations, Part::kTilesAndFloatSteps,
                  Activations::kInL1)
    ->UseRealTime();
BENCHMARK_CAPTURE(amx_block, tiles_and_float_steps_l2_activations, Part::kTilesAndFloatSteps,
                  Activations::kInL2)
    ->UseRealTime();

#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif  // LLAMA4_BENCH_AMX

}  // namespace
}  // namespace llama4
