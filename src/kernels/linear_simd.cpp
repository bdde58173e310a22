// Per-target matrix kernels; see linear_simd.h. This file is compiled once per Highway target
// (foreach_target.h re-includes it), and the HWY_ONCE section at the end dispatches at run time.
//
// Quantized rows (mlx affine): Σ_j x_j (s_g q_j + b_g) = Σ_g s_g (Σ_{j∈g} x_j q_j) + b_g Σ_{j∈g}
// x_j, so the inner loop is an integer-to-float conversion and one FMA per weight, with the
// per-group sums of x computed once per call. The weights stay packed as stored; the inputs are
// reordered once per call to meet them (see SplitEvenOdd and TransposeNibbleChunks).
//
// The row tiles that OpenMP loops call directly are ROW_TILE functions: with clang they are not
// inlined, because clang 14 compiles the body of an OpenMP loop as a function of its own without
// this file's per-target instruction set: a tile inlined there ran as SSE code, and a 512-bit
// lookup with variable indices did not compile at all. GCC keeps the target in such bodies, and
// there inlined tiles decode 2-6% faster (bench_kernels decode_bf16_out_major, decode_q8).

// SSSE3/SSE4 add compile time and nothing measurable over the baseline on the machines we target.
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4)
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/linear_simd.cpp"
#include <hwy/aligned_allocator.h>
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <omp.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <numeric>
#include <type_traits>
#include <vector>

#include "kernels/linear.h"
#include "kernels/linear_simd.h"
#include "kernels/mlx_quant.h"
#include "kernels/prefetch.h"

#ifndef LLAMA4_KERNELS_ROW_TILE
#define LLAMA4_KERNELS_ROW_TILE
#if defined(__clang__)
#define ROW_TILE HWY_NOINLINE
#else
#define ROW_TILE HWY_INLINE
#endif
#endif

HWY_BEFORE_NAMESPACE();
namespace llama4 {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// Tokens per tile of the batch-invariant kernels (the decode kernels' largest batch).
constexpr int kTiledTokens = 4;
// Output rows a thread owns at a time in OutMajorTokenTiles: 48 bf16 rows of 5120 inputs are
// 480 KiB, which stay in L2 while all token tiles pass over them. A multiple of every row tile
// below (1, 2, 3, 4, 6, 8 or 16 rows), so no block ends in a slow single-row remainder.
constexpr std::int64_t kRowsPerL2Block = 48;
// Inputs unrolled together by the in-major kernel (one accumulator load/store per kInUnroll FMAs):
// 8 ran 20% faster than 4 in decode and 10% in prefill on Scout's expert shapes; 16 runs out of
// registers.
constexpr std::int64_t kInUnroll = 8;
// In-major small batch: the per-token accumulators of a work item's columns stay within this many
// floats (32 KiB: L1 or close to it). Blocks are otherwise as wide as possible: a block reads a
// contiguous run of every weight row, and short runs at a large stride defeat the hardware
// prefetcher (1024-column blocks ran at 60% of this speed on Scout's expert shapes).
constexpr std::int64_t kInMajorAccumulatorFloats = 8192;
// In-major larger batches: columns per work item, tokens per group (their accumulators, group ×
// columns floats, stay in L2: 256 KiB) and the bytes of a block of weight rows (L2-resident while
// every tile of the group passes over it). The block is well under L2's size: HF's fused experts
// put a gate or up projection's rows 32 KiB apart, which can map many rows of a block to the same
// L2 sets (512 KiB blocks: bf16 pp512 100-108 tokens/s; 192 KiB: 104-117, alternated runs on a
// 2 MiB, 16-way L2).
constexpr std::int64_t kInMajorGroupColumns = 2048;
constexpr std::int64_t kInMajorTokenGroup = 32;
constexpr std::int64_t kInMajorL2WeightBytes = std::int64_t{192} * 1024;
// Blocked product: inputs per packed panel (panel kKc × 2 vectors stays in L1/L2) and tokens per
// micro-tile (accumulators = kMr × 2 vectors must fit the register file with room to spare).
constexpr std::int64_t kKc = 256;
#if HWY_TARGET <= HWY_AVX3
constexpr int kVectorRegisters = 32;
constexpr int kMr = 8;
#else
constexpr int kVectorRegisters = 16;
constexpr int kMr = 4;
#endif
// In-major prompt tiles (InMajorAccumulatePrompt): tokens × column vectors of sums in registers,
// plus a row's vectors and a broadcast input (8 × 3 + 3 + 1 = 28 of AVX-512's 32 registers;
// 8 × 1 + 1 + 1 = 10 of AVX2's 16). On one core, bench_kernels prefill_bf16_in_major: AVX-512
// 8 × 2 95-97 GFLOP/s, 8 × 3 103-108, 16 × 1 93-96, 16 × 2 (spilling) 104; AVX2 (--avx2, two
// alternated rounds) 4 × 2 44-49, 8 × 1 52-53, 12 × 1 52-55 (8 divides a routed expert's 32
// tokens). Each bf16 vector of a row is widened once for all the tile's tokens, so more tokens
// per vector leave the FMA ports fewer conversions to share.
constexpr int kInMajorPromptTokens = 8;
constexpr int kPromptTileVectors = kVectorRegisters >= 32 ? 3 : 1;
static_assert(kInMajorPromptTokens % kTiledTokens == 0);

// Output rows of float weights processed together by the small-batch kernels for kTokens tokens:
// as many as keep the accumulators (rows · tokens vectors), the inputs and a weight vector in
// registers, at most 8. The caps keep kRowsPerL2Block a multiple of every tile.
//
// A single token takes 4 rows. One row's sum is one chain of FMAs, each waiting for the one
// before: two per 64-byte line of bf16 weights with AVX-512 (~8 bytes per cycle), four with AVX2
// (~4), about what memory delivers to a core or less. Four rows run four chains side by side.
// AVX2 (bench_kernels --avx2 decode_bf16_out_major on the AMX machine, two rounds): one core
// 8.3-9.1 → 16.1-18.4 GB/s, two 16.3-18.3 → 28.2-34.4. AVX-512 on the same machine, two threads:
// 19.6-28.2 → 21.2-29.2 GB/s (four alternated runs), and a 2-layer Scout-sized bf16 model's tg32
// 13.3-15.9 → 15.2-18.6 tokens/s (eight alternated pairs, all won). On Zen 4 an earlier kernel
// had streamed faster with one row (21.6-25.7 GB/s against 19.2-22.8 for 4); not measured since.
// A row's sum is formed the same way in any tile, so results do not change.
constexpr int FloatRowTileFor(int tokens) {
  if (tokens == 1) return 4;
  const int rows = (kVectorRegisters - tokens - 2) / tokens;
  return rows < 1 ? 1 : (rows > 8 ? 8 : rows);
}

// Rows per tile of a prompt's float rows, whose inputs come in spans (InputSpan). With AVX-512 and
// kTiledTokens tokens, 4 rows leave room to keep the tokens' inputs in registers (16 sums, 8
// input vectors, 2 of weights), where FloatRowTileFor's 6 read them from memory for every row: on
// one core, bench_kernels prefill_bf16_out_major 100-105 → 105-109 GFLOP/s (six alternated
// rounds). 3 rows ran at 56.
constexpr int PromptFloatRowTileFor(int tokens) {
  return tokens == kTiledTokens && kVectorRegisters >= 32 ? 4 : FloatRowTileFor(tokens);
}

// Widening loads: Lanes(df) stored elements → f32.
template <DType D>
struct Stored;
template <>
struct Stored<DType::F32> {
  using T = float;
  static HWY_INLINE VF Load(DF df, const T* p) { return hn::LoadU(df, p); }
  static HWY_INLINE float Scalar(const T* p) { return *p; }
};
template <>
struct Stored<DType::BF16> {
  using T = std::uint16_t;
  static HWY_INLINE VF Load(DF df, const T* p) {
    const hn::Rebind<std::uint16_t, DF> d16;
    const hn::Rebind<std::uint32_t, DF> d32;
    return hn::BitCast(df, hn::ShiftLeft<16>(hn::PromoteTo(d32, hn::LoadU(d16, p))));
  }
  static HWY_INLINE float Scalar(const T* p) { return bf16_to_f32(*p); }
};
template <>
struct Stored<DType::F16> {
  using T = std::uint16_t;
  static HWY_INLINE VF Load(DF df, const T* p) {
    const hn::Rebind<hwy::float16_t, DF> dh;
    return hn::PromoteTo(df, hn::LoadU(dh, reinterpret_cast<const hwy::float16_t*>(p)));
  }
  static HWY_INLINE float Scalar(const T* p) { return f16_to_f32(*p); }
};

template <DType D>
void WidenSlice(const void* src, std::int64_t count, float* dst) {
  using S = Stored<D>;
  const DF df;
  const auto n = static_cast<std::int64_t>(hn::Lanes(df));
  const auto* p = static_cast<const typename S::T*>(src);
  std::int64_t i = 0;
  for (; i + n <= count; i += n) hn::StoreU(S::Load(df, p + i), df, dst + i);
  for (; i < count; ++i) dst[i] = S::Scalar(p + i);
}

void Widen(const void* src, DType dtype, std::int64_t count, float* dst) {
  switch (dtype) {
    case DType::BF16:
      return WidenSlice<DType::BF16>(src, count, dst);
    case DType::F16:
      return WidenSlice<DType::F16>(src, count, dst);
    default:
      return WidenSlice<DType::F32>(src, count, dst);
  }
}

// Whether 4/8-bit rows of this group size take the SIMD paths: 8-bit rows need groups of whole
// pairs of N-input vectors, 4-bit rows a power-of-two group of at least one 32-bit word (8
// levels), so that a chunk of words (Quant4RowTile) holds whole groups or lies within one.
bool QuantFastPath(const QuantizedData& q) {
  const auto n = static_cast<std::int64_t>(hn::Lanes(DF()));
  const std::int64_t g = q.group_size;
  if (q.bits == 8) return g % (2 * n) == 0;
  return q.bits == 4 && g >= 8 && (g & (g - 1)) == 0;
}

// Runtime value → template argument: calls body(std::integral_constant<…>{}), so every kernel is
// instantiated once per case and the case lists live here only.
// Token counts 1…kTiledTokens (larger counts take kTiledTokens).
static_assert(kTiledTokens == 4, "WithTokenCount lists the cases 1…4");
template <typename Body>
HWY_INLINE void WithTokenCount(std::int64_t tokens, Body&& body) {
  switch (tokens) {
    case 1:
      return body(std::integral_constant<int, 1>{});
    case 2:
      return body(std::integral_constant<int, 2>{});
    case 3:
      return body(std::integral_constant<int, 3>{});
    default:
      return body(std::integral_constant<int, kTiledTokens>{});
  }
}
// Stored float types (anything other than bf16 and f16 is f32: bind_weights admits no other).
template <typename Body>
HWY_INLINE void WithFloatType(DType dtype, Body&& body) {
  switch (dtype) {
    case DType::BF16:
      return body(std::integral_constant<DType, DType::BF16>{});
    case DType::F16:
      return body(std::integral_constant<DType, DType::F16>{});
    default:
      return body(std::integral_constant<DType, DType::F32>{});
  }
}

// dst = src with each whole block of 2n inputs reordered: its n even-indexed inputs, then its n
// odd-indexed ones (a last partial block stays as it is). 4-bit rows (a byte's two nibbles) and
// bf16 rows (a 32-bit lane's two weights) read their inputs this way, so that a vector of weight
// pairs meets the even inputs in one vector and the odd ones in the next.
void SplitEvenOdd(const float* src, std::int64_t count, float* dst) {
  std::int64_t i = 0;
#if HWY_TARGET != HWY_SCALAR
  const DF df;
  const auto n = static_cast<std::int64_t>(hn::Lanes(df));
  for (; i + 2 * n <= count; i += 2 * n) {
    const VF lo = hn::LoadU(df, src + i), hi = hn::LoadU(df, src + i + n);
    hn::StoreU(hn::ConcatEven(df, hi, lo), df, dst + i);
    hn::StoreU(hn::ConcatOdd(df, hi, lo), df, dst + i + n);
  }
#endif
  std::copy(src + i, src + count, dst + i);
}

// The inputs as the float row tiles read them: split by SplitEvenOdd for bf16 rows (in `split`),
// as given for other stored types.
template <DType D>
const float* SplitPairs(const float* x, std::int64_t n_tokens, std::int64_t in,
                        std::vector<float>& split) {
  if constexpr (D == DType::BF16) {
    split.resize(static_cast<std::size_t>(n_tokens * in));
    for (std::int64_t t = 0; t < n_tokens; ++t) SplitEvenOdd(x + t * in, in, split.data() + t * in);
    return split.data();
  } else {
    (void)n_tokens, (void)in, (void)split;
    return x;
  }
}

// The inputs [begin, end) of a row tile's pass. Prompts split a row's inputs into spans whose
// activations stay in L1 while every tile of a block of rows passes over them; a tile's running
// sums wait in `carry` (kRows × kTokens vectors) between its spans. Each (row, token) result still
// takes the same operations in the same order, since a span ends only where a vector step of the
// tile does (for quantized rows, where a group and a chunk of words do).
struct InputSpan {
  std::int64_t begin = 0, end = 0;  // end == 0: all inputs
  float* carry = nullptr;
};

// The running sums at the start of a span: zero, or what the previous span left in `carry`.
template <int kRows, int kTokens>
HWY_INLINE void StartSpan(const InputSpan& span, VF (&acc)[kRows][kTokens]) {
  const DF df;
  const auto n = static_cast<std::int64_t>(hn::Lanes(df));
  for (int r = 0; r < kRows; ++r)
    for (int t = 0; t < kTokens; ++t)
      acc[r][t] =
          span.begin == 0 ? hn::Zero(df) : hn::LoadU(df, span.carry + (r * kTokens + t) * n);
}

// Whether the span ends before the row does; if so its running sums are left in `carry`.
template <int kRows, int kTokens>
HWY_INLINE bool SpanContinues(const InputSpan& span, std::int64_t in,
                              const VF (&acc)[kRows][kTokens]) {
  if (span.end == 0 || span.end >= in) return false;
  const DF df;
  const auto n = static_cast<std::int64_t>(hn::Lanes(df));
  for (int r = 0; r < kRows; ++r)
    for (int t = 0; t < kTokens; ++t) hn::StoreU(acc[r][t], df, span.carry + (r * kTokens + t) * n);
  return true;
}

// ---- out-major, small batch, float rows ------------------------------------------------------

template <DType D, int kRows, int kTokens>
ROW_TILE void FloatRowTile(const Matrix& w, std::int64_t row0, const float* x, float* y,
                           const InputSpan& span = {}) {
  using S = Stored<D>;
  const DF df;
  const auto n = static_cast<std::int64_t>(hn::Lanes(df));
  const std::int64_t in = w.in_features, out = w.out_features;
  const typename S::T* rows[kRows];
  for (int r = 0; r < kRows; ++r)
    rows[r] = static_cast<const typename S::T*>(w.data) + (row0 + r) * w.row_stride;
  const auto next_tile_bytes =
      static_cast<std::int64_t>(kRows * w.row_stride * sizeof(typename S::T));
  VF acc[kRows][kTokens];
  StartSpan(span, acc);
  std::int64_t i = span.begin;
  const std::int64_t i_end = span.end == 0 ? in : std::min(span.end, in);
#if HWY_TARGET != HWY_SCALAR
  if constexpr (D == DType::BF16) {
    // 2n inputs at a time: a 32-bit lane holds weights 2j and 2j + 1, which become floats by a
    // shift and a mask (no widening shuffle) and meet the inputs' even and odd lanes, which
    // SplitPairs laid out side by side.
    const hn::RebindToUnsigned<DF> du;
    const auto high_half = hn::Set(du, 0xFFFF0000u);
    for (; i + 2 * n <= i_end; i += 2 * n) {
      VF x_even[kTokens], x_odd[kTokens];
      for (int t = 0; t < kTokens; ++t) {
        x_even[t] = hn::LoadU(df, x + t * in + i);
        x_odd[t] = hn::LoadU(df, x + t * in + i + n);
      }
      for (int r = 0; r < kRows; ++r) {
        prefetch_to_l2(rows[r] + i, next_tile_bytes);
        const auto pairs = hn::LoadU(du, reinterpret_cast<const std::uint32_t*>(rows[r] + i));
        const VF w_even = hn::BitCast(df, hn::ShiftLeft<16>(pairs));
        const VF w_odd = hn::BitCast(df, hn::And(pairs, high_half));
        for (int t = 0; t < kTokens; ++t) {
          acc[r][t] = hn::MulAdd(w_even, x_even[t], acc[r][t]);
          acc[r][t] = hn::MulAdd(w_odd, x_odd[t], acc[r][t]);
        }
      }
    }
  } else
#endif
  {
    for (; i + n <= i_end; i += n) {
      VF xv[kTokens];
      for (int t = 0; t < kTokens; ++t) xv[t] = hn::LoadU(df, x + t * in + i);
      for (int r = 0; r < kRows; ++r) {
        prefetch_to_l2(rows[r] + i, next_tile_bytes);
        const VF wv = S::Load(df, rows[r] + i);
        for (int t = 0; t < kTokens; ++t) acc[r][t] = hn::MulAdd(wv, xv[t], acc[r][t]);
      }
    }
  }
  if (SpanContinues(span, in, acc)) return;
  for (int r = 0; r < kRows; ++r)
    for (int t = 0; t < kTokens; ++t) {
      float sum = hn::GetLane(hn::SumOfLanes(df, acc[r][t]));
      for (std::int64_t j = i; j < in; ++j) sum += S::Scalar(rows[r] + j) * x[t * in + j];
      y[t * out + row0 + r] = sum;
    }
}

template <DType D, int kTokens>
void FloatRows(const Matrix& w, const float* x_in, float* y) {
  thread_local std::vector<float> split;
  const float* x = SplitPairs<D>(x_in, kTokens, w.in_features, split);
  constexpr int kRows = FloatRowTileFor(kTokens);
  const std::int64_t tiles = w.out_features / kRows;
#pragma omp parallel for schedule(static)
  for (std::int64_t b = 0; b < tiles; ++b) FloatRowTile<D, kRows, kTokens>(w, b * kRows, x, y);
  for (std::int64_t o = tiles * kRows; o < w.out_features; ++o)
    FloatRowTile<D, 1, kTokens>(w, o, x, y);
}

// ---- out-major, small batch, mlx 4/8-bit rows ------------------------------------------------

// 4-bit rows are read a vector of 32-bit words at a time, a chunk of 8N levels: word j of a chunk
// holds levels 8j … 8j + 7, level 8j + k in its k-th nibble. Shifting the words right by 4k puts
// level 8j + k of every word in the low bits of lane j, so a chunk yields eight vectors with one
// shift and one conversion each. The inputs are reordered once per call to match: within each
// chunk, the k-th vector of inputs holds x[8j + k] for every lane j. A lane's eight levels lie in
// one group (groups are multiples of 8), so each lane's sum over the chunk is scaled by its own
// group's scale: one FMA per chunk and token. On one core (bench_kernels decode_q4) this streamed
// 12.0-12.7 GB/s where bytes widened to 32 bits and split into two nibble vectors ran 10.5-10.9.
constexpr int kLevelsPerWord = 8;

// The factor by which the inputs meeting level 8j + k are stored. Without AVX-512 that level comes
// out of its word multiplied by 16^(k mod 4), and its inputs are divided by the same power of two
// so that every product is the level's times the input's (see NibbleLevels).
#if HWY_TARGET <= HWY_AVX3
constexpr float kNibbleInputScale[kLevelsPerWord] = {1, 1, 1, 1, 1, 1, 1, 1};
#else
constexpr float kNibbleInputScale[kLevelsPerWord] = {1.0f, 0x1p-4f, 0x1p-8f, 0x1p-12f,
                                                     1.0f, 0x1p-4f, 0x1p-8f, 0x1p-12f};
#endif

// Chunks of 8N inputs transposed as Quant4RowTile reads them (see above), scaled as NibbleLevels
// needs; a last partial chunk stays as it is.
void TransposeNibbleChunks(const float* src, std::int64_t count, float* dst) {
  const auto n = static_cast<std::int64_t>(hn::Lanes(DF()));
  const std::int64_t chunk = kLevelsPerWord * n, whole = count / chunk * chunk;
  for (std::int64_t c = 0; c < whole; c += chunk)
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t k = 0; k < kLevelsPerWord; ++k)
        dst[c + k * n + j] = src[c + j * kLevelsPerWord + k] * kNibbleInputScale[k];
  std::copy(src + whole, src + count, dst + whole);
}

// x rearranged for the packed layout and its per-group sums.
struct QuantInput {
  std::vector<float> x;           // [n_tokens, in]
  std::vector<float> group_sums;  // [n_tokens, in / group_size]
};

QuantInput PrepareQuantInput(const float* x, std::int64_t n_tokens, std::int64_t in, int bits,
                             int group_size) {
  const std::int64_t groups = in / group_size;
  QuantInput prepared;
  prepared.x.resize(static_cast<std::size_t>(n_tokens * in));
  prepared.group_sums.assign(static_cast<std::size_t>(n_tokens * groups), 0.0f);
  for (std::int64_t t = 0; t < n_tokens; ++t) {
    const float* src = x + t * in;
    float* dst = prepared.x.data() + t * in;
    if (bits == 4)
      TransposeNibbleChunks(src, in, dst);
    else
      std::copy_n(src, in, dst);
    for (std::int64_t j = 0; j < in; ++j)
      prepared.group_sums[static_cast<std::size_t>(t * groups + j / group_size)] += src[j];
  }
  return prepared;
}

// Rows per quantized tile for kTokens tokens: as many as keep the accumulators, the inputs and
// the temporaries in registers, and divide kRowsPerL2Block. Rows of a tile share every input load
// and keep several weight streams in flight. 8-bit rows keep a per-group and a running accumulator
// per (row, token) and an input per token; 4-bit rows a per-chunk and a running accumulator per
// (row, token), a vector of words per row and one input per token. Decoding takes 8 rows: on one
// core 8-bit rows streamed 20.3-20.8 GB/s against 17.9-19.1 with 4, 4-bit rows 12.5-13.6 against
// 12.3-12.6.
template <int kBits>
constexpr int QuantRowTileFor(int tokens) {
  const int rows = kBits == 8 ? (kVectorRegisters - 2 * tokens - 3) / (2 * tokens)
                              : (kVectorRegisters - tokens - 4) / (2 * tokens + 1);
  for (int fit : {8, 6, 4, 3, 2})
    if (rows >= fit) return fit;
  return 1;
}
static_assert(kRowsPerL2Block % 8 == 0 && kRowsPerL2Block % 6 == 0 && kRowsPerL2Block % 3 == 0);

// Inputs per span of a prompt (InputSpan): 4 tokens' activations, 16 KiB, stay in L1 while every
// row tile of a block passes over them, where a whole row's (80 KiB for Scout's hidden size) came
// from L2 for each tile. For bf16 rows with f32 activations (OMP_NUM_THREADS=1 bench_kernels
// prefill_bf16_out_major, two alternated rounds) spans took AVX2 from 37 to 50-52 GFLOP/s and
// AVX-512 from 101 to 107-108; spans of 512 or 2048 inputs ran 1-7% slower than 1024.
constexpr std::int64_t kPromptSpanInputs = 1024;

// The scales (or biases) of kRows rows row0 + i · step as floats, `groups` per row (of which
// groups [g0, g1) are filled in), padded by a vector so that a vector load from any group of a
// row stays inside the buffer.
template <int kRows>
const float* WidenRowGroups(const void* base, DType dtype, std::int64_t row0, std::int64_t groups,
                            std::int64_t g0, std::int64_t g1, std::vector<float>& buffer,
                            std::int64_t step = 1) {
  const std::size_t element = dtype_size(dtype);
  buffer.resize(static_cast<std::size_t>(kRows * groups) + hn::Lanes(DF()));
  // The next tile's, which the weights' prefetch does not cover: without it each tile began by
  // waiting for these lines (4-bit tg32 33.6-33.8 → 35.5-36.0 tokens/s, alternated runs).
  const auto* tile =
      static_cast<const std::byte*>(base) + static_cast<std::size_t>(row0 * groups) * element;
  const auto tile_bytes = static_cast<std::int64_t>(kRows * step * groups * element);
  if (g0 == 0) prefetch_range_to_l2(tile, tile_bytes, tile_bytes);
  for (int r = 0; r < kRows; ++r)
    Widen(tile + static_cast<std::size_t>(r * step * groups + g0) * element, dtype, g1 - g0,
          buffer.data() + r * groups + g0);
  return buffer.data();
}

// Σ_g b_g · (Σ_{j∈g} x_j): a row's biases against one token's per-group sums of its inputs.
HWY_INLINE float BiasTerm(const float* biases, const float* group_sums, std::int64_t groups) {
  const DF df;
  const auto n = static_cast<std::int64_t>(hn::Lanes(df));
  VF sum = hn::Zero(df);
  std::int64_t g = 0;
  for (; g + n <= groups; g += n)
    sum = hn::MulAdd(hn::LoadU(df, biases + g), hn::LoadU(df, group_sums + g), sum);
  float term = hn::GetLane(hn::SumOfLanes(df, sum));
  for (; g < groups; ++g) term += biases[g] * group_sums[g];
  return term;
}

// y[t, r] for kRows 8-bit rows from row0 and kTokens tokens from t0. Per group, the row's integer
// levels meet the inputs in a per-group accumulator, which then joins the running sum scaled by the
// group's scale. Every (row, token) result goes through the same operations in the same order
// whatever kRows and kTokens are, so results do not depend on the batch.
template <int kRows, int kTokens>
ROW_TILE void Quant8RowTile(const Matrix& w, std::int64_t row0, const QuantInput& input,
                            std::int64_t t0, float* y, const InputSpan& span) {
  const DF df;
  const hn::Rebind<std::uint8_t, DF> d8;
  const hn::Rebind<std::uint32_t, DF> d32;
  const hn::Rebind<std::int32_t, DF> di32;
  const auto n = static_cast<std::int64_t>(hn::Lanes(df));
  const QuantizedData& q = w.quant;
  const std::int64_t in = w.in_features, out = w.out_features;
  const std::int64_t group = q.group_size, groups = in / group;
  const std::int64_t g_begin = span.begin / group;
  const std::int64_t g_end = span.end == 0 ? groups : std::min(span.end, in) / group;
  thread_local std::vector<float> scale_buffer, bias_buffer;
  const float* scales =
      WidenRowGroups<kRows>(q.scales, q.scale_dtype, row0, groups, g_begin, g_end, scale_buffer);
  const std::uint8_t* rows[kRows];
  for (int r = 0; r < kRows; ++r)
    rows[r] = reinterpret_cast<const std::uint8_t*>(q.packed) + (row0 + r) * in;

  VF acc[kRows][kTokens];
  StartSpan(span, acc);
  for (std::int64_t g = g_begin; g < g_end; ++g) {
    const float* xg = input.x.data() + t0 * in + g * group;
    VF gacc[kRows][kTokens];
    for (int r = 0; r < kRows; ++r)
      for (int t = 0; t < kTokens; ++t) gacc[r][t] = hn::Zero(df);
    for (std::int64_t k = 0; k < group; k += n) {
      VF xv[kTokens];
      for (int t = 0; t < kTokens; ++t) xv[t] = hn::LoadU(df, xg + t * in + k);
      for (int r = 0; r < kRows; ++r) {
        const std::uint8_t* p = rows[r] + g * group + k;
        prefetch_to_l2(p, kRows * in);
        const VF qv = hn::ConvertTo(df, hn::BitCast(di32, hn::PromoteTo(d32, hn::LoadU(d8, p))));
        for (int t = 0; t < kTokens; ++t) gacc[r][t] = hn::MulAdd(qv, xv[t], gacc[r][t]);
      }
    }
    for (int r = 0; r < kRows; ++r) {
      const VF scale = hn::Set(df, scales[r * groups + g]);
      for (int t = 0; t < kTokens; ++t) acc[r][t] = hn::MulAdd(scale, gacc[r][t], acc[r][t]);
    }
  }
  if (SpanContinues(span, in, acc)) return;
  const float* biases =
      WidenRowGroups<kRows>(q.biases, q.scale_dtype, row0, groups, 0, groups, bias_buffer);
  for (int r = 0; r < kRows; ++r)
    for (int t = 0; t < kTokens; ++t)
      y[(t0 + t) * out + row0 + r] =
          hn::GetLane(hn::SumOfLanes(df, acc[r][t])) +
          BiasTerm(biases + r * groups, input.group_sums.data() + (t0 + t) * groups, groups);
}

// Level 8j + k of each lane's word as a float, for k = 0 … 7 in turn (`words` may be shifted in
// place between calls). The caller's loop over k is unrolled, so the shifts and masks are fixed.
//
// With AVX-512, `vpermps` reads only the low 4 bits of each index, so a lookup in a table of
// 0 … 15 masks and converts in one instruction once the level is shifted down (decode_q4 on one
// core: 12.5-13.6 GB/s against 10.9 for the mask and the conversion).
//
// Elsewhere a shift, a mask and a conversion per level kept the two ports that also run the FMAs
// busy with three operations per 8 levels, and 4-bit decoding was bound by them. Instead each
// level is masked where it lies (the high half of the words shifted down once), and converts to
// level · 16^(k mod 4), at most 15 · 2^12 and exact; its input was divided by that power of two
// (kNibbleInputScale), exactly too, so the product is bit for bit the level's times the input's
// unless the input is below 2^-114 in magnitude, where the division drops bits of its fraction.
template <class VU>
HWY_INLINE VF NibbleLevels(VU& words, [[maybe_unused]] int k) {
  const DF df;
#if HWY_TARGET <= HWY_AVX3
  const VF table = hn::Iota(df, 0.0f);
  const VF levels = VF{_mm512_permutexvar_ps(words.raw, table.raw)};
  words = hn::ShiftRight<4>(words);
  return levels;
#else
  const hn::RebindToSigned<DF> di;
  if (k == kLevelsPerWord / 2) words = hn::ShiftRight<16>(words);
  const std::uint32_t mask = 0xFu << (4 * (k % 4));
  return hn::ConvertTo(df, hn::BitCast(di, hn::And(words, hn::Set(hn::DFromV<VU>(), mask))));
#endif
}

// y[t, r] for kRows 4-bit rows row0 + i · step and kTokens tokens from t0, a chunk of words at a
// time (see kLevelsPerWord). Groups past the last whole chunk, if any, are added one level at a
// time. As for 8-bit rows, each (row, token) result takes the same operations in the same order
// whatever kRows and kTokens are.
template <int kRows, int kTokens>
ROW_TILE void Quant4RowTile(const Matrix& w, std::int64_t row0, const QuantInput& input,
                            std::int64_t t0, float* y, const InputSpan& span, std::int64_t step) {
  const DF df;
  const hn::RebindToUnsigned<DF> du;
  const hn::RebindToSigned<DF> di;
  const auto n = static_cast<std::int64_t>(hn::Lanes(df));
  const QuantizedData& q = w.quant;
  const std::int64_t in = w.in_features, out = w.out_features;
  const std::int64_t group = q.group_size, groups = in / group;
  const std::int64_t chunk = kLevelsPerWord * n, whole = in / chunk * chunk;
  const std::int64_t row_words = in / kLevelsPerWord;
  const std::int64_t c_end = span.end == 0 ? whole : std::min(span.end, whole);
  const bool last_span = span.end == 0 || span.end >= in;  // which also adds the tail groups
  thread_local std::vector<float> scale_buffer, bias_buffer;
  const float* scales =
      WidenRowGroups<kRows>(q.scales, q.scale_dtype, row0, groups, span.begin / group,
                            last_span ? groups : (c_end + group - 1) / group, scale_buffer, step);
  const std::uint32_t* rows[kRows];
  for (int r = 0; r < kRows; ++r) rows[r] = q.packed + (row0 + r * step) * row_words;

  // Lane j of the chunk from c0 lies in group c0 / group + 8j / group (always the first when a
  // group spans the chunk), so a table lookup spreads the row's scales over the lanes. The group
  // is a power of two of at least 8 levels (QuantFastPath), so 8j / group is a shift: a loop
  // dividing per lane, run once per span, showed as ~7% of a 4-bit prompt's profile.
  static_assert(kLevelsPerWord == 8);
  const int group_shift = std::countr_zero(static_cast<std::uint64_t>(group)) - 3;
  const auto lanes_to_groups =
      hn::IndicesFromVec(df, hn::ShiftRightSame(hn::Iota(di, 0), group_shift));
  const auto chunk_scales = [&](int r, std::int64_t c0) {
    return hn::TableLookupLanes(hn::LoadU(df, scales + r * groups + c0 / group), lanes_to_groups);
  };

  VF acc[kRows][kTokens];
  StartSpan(span, acc);
  for (std::int64_t c0 = span.begin; c0 < c_end; c0 += chunk) {
    const float* xc = input.x.data() + t0 * in + c0;
    hn::Vec<decltype(du)> words[kRows];
    for (int r = 0; r < kRows; ++r) {
      prefetch_to_l2(rows[r] + c0 / kLevelsPerWord, kRows * step * row_words * 4);
      words[r] = hn::LoadU(du, rows[r] + c0 / kLevelsPerWord);
    }
    VF part[kRows][kTokens];
    HWY_UNROLL(8)  // the accumulators stay in registers only if every index is a constant
    for (int k = 0; k < kLevelsPerWord; ++k) {
      VF xv[kTokens];
      for (int t = 0; t < kTokens; ++t) xv[t] = hn::LoadU(df, xc + t * in + k * n);
      for (int r = 0; r < kRows; ++r) {
        const VF levels = NibbleLevels(words[r], k);
        for (int t = 0; t < kTokens; ++t)
          part[r][t] = k == 0 ? hn::Mul(levels, xv[t]) : hn::MulAdd(levels, xv[t], part[r][t]);
      }
    }
    for (int r = 0; r < kRows; ++r) {
      const VF scale = chunk_scales(r, c0);
      for (int t = 0; t < kTokens; ++t) acc[r][t] = hn::MulAdd(scale, part[r][t], acc[r][t]);
    }
  }
  if (SpanContinues(span, in, acc)) return;
  const float* biases =
      WidenRowGroups<kRows>(q.biases, q.scale_dtype, row0, groups, 0, groups, bias_buffer, step);
  for (int r = 0; r < kRows; ++r)
    for (int t = 0; t < kTokens; ++t) {
      const float* x = input.x.data() + (t0 + t) * in;
      const float* sums = input.group_sums.data() + (t0 + t) * groups;
      float tail = 0.0f;
      for (std::int64_t g = whole / group; g < groups; ++g) {
        float dot = 0.0f;
        for (std::int64_t j = g * group; j < (g + 1) * group; ++j)
          dot += static_cast<float>(mlx_unpack(rows[r], j, 4)) * x[j];
        tail += scales[r * groups + g] * dot;
      }
      y[(t0 + t) * out + row0 + r * step] = hn::GetLane(hn::SumOfLanes(df, acc[r][t])) + tail +
                                            BiasTerm(biases + r * groups, sums, groups);
    }
}

template <int kBits, int kRows, int kTokens>
HWY_INLINE void QuantRowTile(const Matrix& w, std::int64_t row0, const QuantInput& input,
                             std::int64_t t0, float* y, const InputSpan& span = {},
                             std::int64_t step = 1) {
  if constexpr (kBits == 4)
    Quant4RowTile<kRows, kTokens>(w, row0, input, t0, y, span, step);
  else
    Quant8RowTile<kRows, kTokens>(w, row0, input, t0, y, span);
}

template <int kBits, int kTokens>
void QuantRows(const Matrix& w, const float* x, float* y) {
  const QuantInput input = PrepareQuantInput(x, kTokens, w.in_features, kBits, w.quant.group_size);
  constexpr int kRows = QuantRowTileFor<kBits>(kTokens);
  // 4-bit rows shorter than a page go into tiles of every second (or fourth) row, each read in a
  // page of its own (prefetch.h): Scout's 4-bit rows of 5120 inputs, decode_q4 on two threads
  // 19.2 → 20.1 GB/s (medians of six alternated runs), tg32 58–67% → 71–74% of the probe. 8-bit
  // tiles kept consecutive rows: their rows are a page or longer in the shapes measured.
  const std::int64_t step = kBits == 4 ? rows_apart_for_streams(w.in_features / 2) : 1;
  const std::int64_t tiles = w.out_features / (kRows * step) * step;
#pragma omp parallel for schedule(static)
  for (std::int64_t b = 0; b < tiles; ++b)
    QuantRowTile<kBits, kRows, kTokens>(w, b / step * kRows * step + b % step, input, 0, y, {},
                                        step);
  for (std::int64_t o = tiles * kRows; o < w.out_features; ++o)
    QuantRowTile<kBits, 1, kTokens>(w, o, input, 0, y);
}

template <int kTokens>
void OutMajorForTokens(const Matrix& w, const float* x, float* y) {
  if (w.quantized()) {
    if (w.quant.bits == 8) return QuantRows<8, kTokens>(w, x, y);
    return QuantRows<4, kTokens>(w, x, y);
  }
  WithFloatType(w.dtype, [&](auto d) { FloatRows<decltype(d)::value, kTokens>(w, x, y); });
}

void OutMajorSmallBatch(const Matrix& w, const float* x, std::int64_t n_tokens, float* y) {
  WithTokenCount(n_tokens, [&](auto k) { OutMajorForTokens<decltype(k)::value>(w, x, y); });
}

// ---- out-major, any batch, batch-invariant ------------------------------------------------------
//
// Larger batches run through the same row tiles as decoding, kSmallBatchMaxTokens tokens at a time,
// so every output is computed by exactly the same arithmetic whatever else is in the batch: a
// sequence gets bit-identical logits alone, batched with others, prefilled or decoded. Threads take
// blocks of rows small enough to stay in L2 while every token tile passes over them, so weights are
// read from memory once per call.

// Rows [begin, end) in tiles of kRows rows (single rows after the last whole tile), the inputs
// taken span by span (InputSpan) of `span_inputs` each: tile(rows, o, span) runs the tile of
// `rows` rows (an integral constant) from row o over one span, its running sums kept in a carry
// of this thread's between spans.
template <int kRows, int kTokens, typename Tile>
HWY_INLINE void RowTilesBySpan(std::int64_t begin, std::int64_t end, std::int64_t in,
                               std::int64_t span_inputs, Tile&& tile) {
  const auto n = static_cast<std::int64_t>(hn::Lanes(DF()));
  thread_local std::vector<float> carry;
  carry.resize(static_cast<std::size_t>((end - begin) * kTokens * n));
  for (std::int64_t i0 = 0; i0 < in; i0 += span_inputs) {
    InputSpan span{i0, std::min(in, i0 + span_inputs), nullptr};
    std::int64_t o = begin;
    for (; o + kRows <= end; o += kRows) {
      span.carry = carry.data() + (o - begin) * kTokens * n;
      tile(std::integral_constant<int, kRows>{}, o, span);
    }
    for (; o < end; ++o) {
      span.carry = carry.data() + (o - begin) * kTokens * n;
      tile(std::integral_constant<int, 1>{}, o, span);
    }
  }
}

template <DType D, int kTokens>
HWY_INLINE void FloatRowRange(const Matrix& w, std::int64_t begin, std::int64_t end, const float* x,
                              float* y) {
  RowTilesBySpan<PromptFloatRowTileFor(kTokens), kTokens>(
      begin, end, w.in_features, kPromptSpanInputs,
      [&](auto rows, std::int64_t o, const InputSpan& span) {
        FloatRowTile<D, decltype(rows)::value, kTokens>(w, o, x, y, span);
      });
}

template <int kBits, int kTokens>
HWY_INLINE void QuantRowRange(const Matrix& w, std::int64_t begin, std::int64_t end,
                              const QuantInput& input, std::int64_t t0, float* y) {
  const auto n = static_cast<std::int64_t>(hn::Lanes(DF()));
  // Spans end where both a group and (4-bit) a chunk of words do.
  const std::int64_t unit = std::lcm(w.quant.group_size, kBits == 4 ? kLevelsPerWord * n : 1);
  RowTilesBySpan<QuantRowTileFor<kBits>(kTokens), kTokens>(
      begin, end, w.in_features, (kPromptSpanInputs + unit - 1) / unit * unit,
      [&](auto rows, std::int64_t o, const InputSpan& span) {
        QuantRowTile<kBits, decltype(rows)::value, kTokens>(w, o, input, t0, y, span);
      });
}

// Rows [begin, end) of w in a 64-byte-aligned buffer of this thread's, as a matrix whose row 0 is
// row `begin`, or nullptr if the rows already start on cache lines or cannot all be made to (a row
// pitch that is not a whole number of lines). A checkpoint puts every tensor off the line when
// its header's length is not a multiple of 64, and a prompt's tiles then load each vector of
// weights in two halves, once per token tile; the copy reads the rows from memory once, as the
// first tile would, and every tile after it reads aligned rows from L2. One core, bench_kernels
// prefill_bf16_out_major with rows 32 bytes off the line: 90 GFLOP/s, against 105-108 aligned.
const Matrix* AlignedRowBlock(const Matrix& w, std::int64_t begin, std::int64_t end) {
  const auto pitch = static_cast<std::int64_t>(w.row_stride * dtype_size(w.dtype));
  const auto* first = static_cast<const std::byte*>(w.data) + begin * pitch;
  if (reinterpret_cast<std::uintptr_t>(first) % kCacheLineBytes == 0 ||
      pitch % kCacheLineBytes != 0)
    return nullptr;
  thread_local hwy::AlignedFreeUniquePtr<std::byte[]> buffer;
  thread_local std::int64_t capacity = 0;
  const std::int64_t bytes = (end - begin) * pitch;
  if (bytes > capacity) {
    buffer = hwy::AllocateAligned<std::byte>(static_cast<std::size_t>(bytes));
    capacity = bytes;
  }
  const auto row_bytes = static_cast<std::size_t>(w.in_features) * dtype_size(w.dtype);
  for (std::int64_t r = 0; r < end - begin; ++r)
    std::memcpy(buffer.get() + r * pitch, first + r * pitch, row_bytes);
  thread_local Matrix block;
  block = w;
  block.data = buffer.get();
  return &block;
}

// Rows [begin, end) for every token, in tiles of kTiledTokens tokens plus one remainder tile.
template <DType D>
void FloatRowsAllTokens(const Matrix& w, std::int64_t begin, std::int64_t end, const float* x,
                        std::int64_t n_tokens, float* y) {
  const std::int64_t in = w.in_features, out = w.out_features;
  // Rows off the cache line are worked on from an aligned copy, whose row 0 is row `begin`: the
  // tiles then write each row's results at y + begin.
  const Matrix* aligned = AlignedRowBlock(w, begin, end);
  const Matrix& rows = aligned != nullptr ? *aligned : w;
  const std::int64_t first = aligned != nullptr ? 0 : begin;
  const std::int64_t last = first + (end - begin);
  float* y_rows = aligned != nullptr ? y + begin : y;
  std::int64_t t = 0;
  for (; t + kTiledTokens <= n_tokens; t += kTiledTokens)
    FloatRowRange<D, kTiledTokens>(rows, first, last, x + t * in, y_rows + t * out);
  if (t < n_tokens)
    WithTokenCount(n_tokens - t, [&](auto k) {
      FloatRowRange<D, decltype(k)::value>(rows, first, last, x + t * in, y_rows + t * out);
    });
}

template <int kBits>
void QuantRowsAllTokens(const Matrix& w, std::int64_t begin, std::int64_t end,
                        const QuantInput& input, std::int64_t n_tokens, float* y) {
  std::int64_t t = 0;
  for (; t + kTiledTokens <= n_tokens; t += kTiledTokens)
    QuantRowRange<kBits, kTiledTokens>(w, begin, end, input, t, y);
  if (t < n_tokens)
    WithTokenCount(n_tokens - t, [&](auto k) {
      QuantRowRange<kBits, decltype(k)::value>(w, begin, end, input, t, y);
    });
}

void OutMajorTokenTiles(const Matrix& w, const float* x, std::int64_t n_tokens, float* y) {
  const std::int64_t out = w.out_features;
  const std::int64_t blocks = (out + kRowsPerL2Block - 1) / kRowsPerL2Block;
  QuantInput input;
  if (w.quantized())
    input = PrepareQuantInput(x, n_tokens, w.in_features, w.quant.bits, w.quant.group_size);
  thread_local std::vector<float> split;
  const float* x_float = x;
  if (!w.quantized())
    WithFloatType(w.dtype, [&](auto d) {
      x_float = SplitPairs<decltype(d)::value>(x, n_tokens, w.in_features, split);
    });
#pragma omp parallel for schedule(dynamic, 1)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t begin = b * kRowsPerL2Block, end = std::min(out, begin + kRowsPerL2Block);
    if (w.quantized()) {
      if (w.quant.bits == 8)
        QuantRowsAllTokens<8>(w, begin, end, input, n_tokens, y);
      else
        QuantRowsAllTokens<4>(w, begin, end, input, n_tokens, y);
      continue;
    }
    WithFloatType(w.dtype, [&](auto d) {
      FloatRowsAllTokens<decltype(d)::value>(w, begin, end, x_float, n_tokens, y);
    });
  }
}

// ---- in-major, small batch ---------------------------------------------------------------------

// acc[t · acc_stride + c] += Σ_{i ∈ [i_begin, i_end)} x[t, i] W[i, c0 + c] for kTokens tokens and
// `width` columns, the weight rows streaming by. i_begin is a multiple of kInUnroll. Inputs come
// in groups of kInUnroll (one accumulator load and store per group), and only the inputs past the
// last whole group of the matrix are added one at a time, so any split of [0, in) into such ranges
// gives every column exactly the operations of one pass over all inputs.
template <DType D, int kTokens>
void InMajorAccumulate(const Matrix& w, const float* x, std::int64_t i_begin, std::int64_t i_end,
                       std::int64_t c0, std::int64_t width, float* acc, std::int64_t acc_stride) {
  using S = Stored<D>;
  const DF df;
  const auto n = static_cast<std::int64_t>(hn::Lanes(df));
  const std::int64_t in = w.in_features, stride = w.row_stride;
  const auto* base = static_cast<const typename S::T*>(w.data) + c0;
  const std::int64_t vector_end = width - width % n;
  const auto next_rows_bytes =
      static_cast<std::int64_t>(kInUnroll * stride * sizeof(typename S::T));
  std::int64_t i = i_begin;
  for (; i + kInUnroll <= i_end; i += kInUnroll) {
    const typename S::T* r0 = base + i * stride;
    VF xs[kTokens][kInUnroll];
    for (int t = 0; t < kTokens; ++t)
      for (int u = 0; u < kInUnroll; ++u) xs[t][u] = hn::Set(df, x[t * in + i + u]);
    for (std::int64_t c = 0; c < vector_end; c += n) {
      VF wv[kInUnroll];
      for (int u = 0; u < kInUnroll; ++u) {
        prefetch_to_l2(r0 + u * stride + c, next_rows_bytes);
        wv[u] = S::Load(df, r0 + u * stride + c);
      }
      for (int t = 0; t < kTokens; ++t) {
        VF a = hn::LoadU(df, acc + t * acc_stride + c);
        for (int u = 0; u < kInUnroll; ++u) a = hn::MulAdd(wv[u], xs[t][u], a);
        hn::StoreU(a, df, acc + t * acc_stride + c);
      }
    }
    for (std::int64_t c = vector_end; c < width; ++c)
      for (int u = 0; u < kInUnroll; ++u) {
        const float wv = S::Scalar(r0 + u * stride + c);
        for (int t = 0; t < kTokens; ++t) acc[t * acc_stride + c] += x[t * in + i + u] * wv;
      }
  }
  for (; i < i_end; ++i) {
    const typename S::T* row = base + i * stride;
    for (std::int64_t c = 0; c < width; ++c) {
      const float wv = S::Scalar(row + c);
      for (int t = 0; t < kTokens; ++t) acc[t * acc_stride + c] += x[t * in + i] * wv;
    }
  }
}

// Columns [c0, c0 + width) of y for kTokens tokens, accumulated in `acc` ([kTokens, width]).
template <DType D, int kTokens>
void InMajorBlock(const Matrix& w, const float* x, std::int64_t c0, std::int64_t width, float* acc,
                  float* y) {
  std::fill_n(acc, kTokens * width, 0.0f);
  InMajorAccumulate<D, kTokens>(w, x, 0, w.in_features, c0, width, acc, width);
  for (int t = 0; t < kTokens; ++t)
    std::copy_n(acc + t * width, width, y + t * w.out_features + c0);
}

template <DType D, int kTokens>
void InMajorColumns(const Matrix& w, const float* x, float* y) {
  const DF df;
  const auto n = static_cast<std::int64_t>(hn::Lanes(df));
  const std::int64_t out = w.out_features;
  const std::int64_t threads = omp_get_max_threads();
  // Whole vectors per block, as few blocks as L1 allows, and a multiple of the thread count.
  const std::int64_t per_thread = (out + threads - 1) / threads;
  const std::int64_t max_width = kInMajorAccumulatorFloats / kTokens;
  const std::int64_t blocks = threads * ((per_thread + max_width - 1) / max_width);
  const std::int64_t width = ((out + blocks - 1) / blocks + n - 1) / n * n;
#pragma omp parallel
  {
    std::vector<float> acc(static_cast<std::size_t>(kTokens * width));
#pragma omp for schedule(static)
    for (std::int64_t b = 0; b < blocks; ++b) {
      const std::int64_t c0 = b * width;
      if (c0 < out) InMajorBlock<D, kTokens>(w, x, c0, std::min(width, out - c0), acc.data(), y);
    }
  }
}

void InMajorSmallBatch(const Matrix& w, const float* x, std::int64_t n_tokens, float* y) {
  WithFloatType(w.dtype, [&](auto d) {
    WithTokenCount(
        n_tokens, [&](auto k) { InMajorColumns<decltype(d)::value, decltype(k)::value>(w, x, y); });
  });
}

// ---- in-major, any batch, batch-invariant ------------------------------------------------------
//
// Each work item owns a block of columns and a group of tokens. Weight rows come in blocks small
// enough to stay in L2 while every tile of the group's tokens passes over them, so weights are read
// from memory once per token group rather than once per tile, and the group's accumulators stay
// in L2 throughout. Every column's sum runs through InMajorAccumulate over ascending row blocks, so
// each token's result is bit-identical to decoding it alone.

// InMajorAccumulate for kInMajorPromptTokens tokens, with the accumulators of kPromptTileVectors
// column vectors of every token in registers while the block's rows pass by: one load of a row's
// vector serves kInMajorPromptTokens FMAs (kTiledTokens in InMajorAccumulate), and the sums leave
// the registers once per block instead of once per kInUnroll rows. Each column's FMAs are
// InMajorAccumulate's, in its order (one chain over ascending rows), so results stay
// bit-identical to decoding. Columns past the last whole register tile and inputs past the matrix's
// last whole group of kInUnroll are left to InMajorAccumulate, kTiledTokens tokens at a time.
template <DType D>
void InMajorAccumulatePrompt(const Matrix& w, const float* x, std::int64_t i_begin,
                             std::int64_t i_end, std::int64_t c0, std::int64_t width, float* acc,
                             std::int64_t acc_stride) {
  using S = Stored<D>;
  constexpr int kTokens = kInMajorPromptTokens, kVectors = kPromptTileVectors;
  const DF df;
  const auto n = static_cast<std::int64_t>(hn::Lanes(df));
  const std::int64_t in = w.in_features, stride = w.row_stride;
  const auto* base = static_cast<const typename S::T*>(w.data) + c0;
  const std::int64_t grouped_end = i_begin + (i_end - i_begin) / kInUnroll * kInUnroll;
  const std::int64_t tile_columns = kVectors * n, tiled = width / tile_columns * tile_columns;
  // The first token tile over a block reads it from memory; the prefetch asks for the same rows
  // 4 column tiles ahead (bf16 pp512: none 102-112 tokens/s, 2 tiles 126-133, 4 tiles 129-139, 8
  // tiles 119-120).
  const auto ahead_bytes = static_cast<std::int64_t>(4 * tile_columns * sizeof(typename S::T));
  for (std::int64_t c = 0; c < tiled; c += tile_columns) {
    VF sum[kTokens][kVectors];
    for (int t = 0; t < kTokens; ++t)
      for (int v = 0; v < kVectors; ++v)
        sum[t][v] = hn::LoadU(df, acc + t * acc_stride + c + v * n);
    for (std::int64_t i = i_begin; i < grouped_end; ++i) {
      const typename S::T* row = base + i * stride + c;
      VF wv[kVectors];
      for (int v = 0; v < kVectors; ++v) {
        prefetch_to_l2(row + v * n, ahead_bytes);
        wv[v] = S::Load(df, row + v * n);
      }
      for (int t = 0; t < kTokens; ++t) {
        const VF xt = hn::Set(df, x[t * in + i]);
        for (int v = 0; v < kVectors; ++v) sum[t][v] = hn::MulAdd(wv[v], xt, sum[t][v]);
      }
    }
    for (int t = 0; t < kTokens; ++t)
      for (int v = 0; v < kVectors; ++v)
        hn::StoreU(sum[t][v], df, acc + t * acc_stride + c + v * n);
  }
  for (int t = 0; t < kTokens; t += kTiledTokens) {
    if (tiled < width)
      InMajorAccumulate<D, kTiledTokens>(w, x + t * in, i_begin, i_end, c0 + tiled, width - tiled,
                                         acc + t * acc_stride + tiled, acc_stride);
    if (grouped_end < i_end)
      InMajorAccumulate<D, kTiledTokens>(w, x + t * in, grouped_end, i_end, c0, tiled,
                                         acc + t * acc_stride, acc_stride);
  }
}

template <DType D>
void InMajorTokenGroups(const Matrix& w, const float* x, std::int64_t n_tokens, float* y) {
  const DF df;
  const auto n = static_cast<std::int64_t>(hn::Lanes(df));
  const std::int64_t in = w.in_features, out = w.out_features;
  const std::int64_t threads = omp_get_max_threads();
  const std::int64_t per_thread = (out + threads - 1) / threads;
  const std::int64_t width = std::min((per_thread + n - 1) / n * n, kInMajorGroupColumns);
  const std::int64_t column_blocks = (out + width - 1) / width;
  const std::int64_t token_groups = (n_tokens + kInMajorTokenGroup - 1) / kInMajorTokenGroup;
  const std::int64_t block_rows = std::max<std::int64_t>(
      kInUnroll, kInMajorL2WeightBytes /
                     (width * static_cast<std::int64_t>(sizeof(typename Stored<D>::T))) /
                     kInUnroll * kInUnroll);
#pragma omp parallel
  {
    std::vector<float> acc(static_cast<std::size_t>(kInMajorTokenGroup * width));
#pragma omp for schedule(dynamic, 1) collapse(2)
    for (std::int64_t b = 0; b < column_blocks; ++b)
      for (std::int64_t g = 0; g < token_groups; ++g) {
        const std::int64_t c0 = b * width, cols = std::min(width, out - c0);
        const std::int64_t t0 = g * kInMajorTokenGroup;
        const std::int64_t tokens = std::min(kInMajorTokenGroup, n_tokens - t0);
        std::fill(acc.begin(), acc.end(), 0.0f);
        for (std::int64_t i0 = 0; i0 < in; i0 += block_rows) {
          const std::int64_t i1 = std::min(in, i0 + block_rows);
          std::int64_t t = 0;
          for (; t + kInMajorPromptTokens <= tokens; t += kInMajorPromptTokens)
            InMajorAccumulatePrompt<D>(w, x + (t0 + t) * in, i0, i1, c0, cols,
                                       acc.data() + t * cols, cols);
          for (; t < tokens; t += kTiledTokens)
            WithTokenCount(tokens - t, [&](auto k) {
              InMajorAccumulate<D, decltype(k)::value>(w, x + (t0 + t) * in, i0, i1, c0, cols,
                                                       acc.data() + t * cols, cols);
            });
        }
        for (std::int64_t t = 0; t < tokens; ++t)
          std::copy_n(acc.data() + t * cols, cols, y + (t0 + t) * out + c0);
      }
  }
}

void InMajorTokenTiles(const Matrix& w, const float* x, std::int64_t n_tokens, float* y) {
  WithFloatType(w.dtype,
                [&](auto d) { InMajorTokenGroups<decltype(d)::value>(w, x, n_tokens, y); });
}

// ---- blocked matrix product (quantized rows without a SIMD fast path: 2/3/5/6-bit) ------------

// panel[kk][j] = W(out o0 + j, in k0 + kk) in f32 for j < width, zero for width ≤ j < panel_width.
void PackPanel(const Matrix& w, std::int64_t o0, std::int64_t width, std::int64_t panel_width,
               std::int64_t k0, std::int64_t kc, float* panel, float* scratch) {
  if (width < panel_width)
    for (std::int64_t kk = 0; kk < kc; ++kk)
      std::fill(panel + kk * panel_width + width, panel + (kk + 1) * panel_width, 0.0f);
  if (w.layout == Matrix::Layout::kInMajor) {
    const std::size_t element = dtype_size(w.dtype);
    for (std::int64_t kk = 0; kk < kc; ++kk)
      Widen(static_cast<const std::byte*>(w.data) +
                static_cast<std::size_t>((k0 + kk) * w.row_stride + o0) * element,
            w.dtype, width, panel + kk * panel_width);
    return;
  }
  for (std::int64_t j = 0; j < width; ++j) {
    matrix_row_slice_f32(w, o0 + j, k0, kc, scratch);
    for (std::int64_t kk = 0; kk < kc; ++kk) panel[kk * panel_width + j] = scratch[kk];
  }
}

// tile[m][·] = Σ_kk x[m·x_stride + kk] · panel[kk][·] for m < kM, over two vectors of columns.
template <int kM>
HWY_INLINE void MicroKernel(const float* panel, const float* x, std::int64_t x_stride,
                            std::int64_t kc, float* tile) {
  const DF df;
  const auto n = static_cast<std::int64_t>(hn::Lanes(df));
  VF acc0[kM], acc1[kM];
  for (int m = 0; m < kM; ++m) acc0[m] = acc1[m] = hn::Zero(df);
  for (std::int64_t kk = 0; kk < kc; ++kk) {
    const VF b0 = hn::LoadU(df, panel + kk * 2 * n);
    const VF b1 = hn::LoadU(df, panel + kk * 2 * n + n);
    for (int m = 0; m < kM; ++m) {
      const VF a = hn::Set(df, x[m * x_stride + kk]);
      acc0[m] = hn::MulAdd(a, b0, acc0[m]);
      acc1[m] = hn::MulAdd(a, b1, acc1[m]);
    }
  }
  for (int m = 0; m < kM; ++m) {
    hn::StoreU(acc0[m], df, tile + std::int64_t{m} * 2 * n);
    hn::StoreU(acc1[m], df, tile + std::int64_t{m} * 2 * n + n);
  }
}

template <int kM = kMr>
void MicroKernelUpTo(int m, const float* panel, const float* x, std::int64_t x_stride,
                     std::int64_t kc, float* tile) {
  if constexpr (kM > 1) {
    if (m < kM) return MicroKernelUpTo<kM - 1>(m, panel, x, x_stride, kc, tile);
  }
  MicroKernel<kM>(panel, x, x_stride, kc, tile);
}

void BlockedMatmul(const Matrix& w, const float* x, std::int64_t n_tokens, float* y) {
  const DF df;
  const std::int64_t panel_width = 2 * static_cast<std::int64_t>(hn::Lanes(df));
  const std::int64_t in = w.in_features, out = w.out_features;
  const std::int64_t panels = (out + panel_width - 1) / panel_width;
  std::fill_n(y, n_tokens * out, 0.0f);
#pragma omp parallel
  {
    // Each thread owns a contiguous range of panels (output columns), so no two threads write
    // the same y; the input chunk loop is outermost so x[:, chunk] stays in cache across panels.
    const std::int64_t threads = omp_get_num_threads(), id = omp_get_thread_num();
    const std::int64_t p_begin = panels * id / threads, p_end = panels * (id + 1) / threads;
    auto panel = hwy::AllocateAligned<float>(static_cast<std::size_t>(kKc * panel_width));
    auto tile = hwy::AllocateAligned<float>(static_cast<std::size_t>(kMr * panel_width));
    std::vector<float> scratch(static_cast<std::size_t>(kKc));
    for (std::int64_t k0 = 0; k0 < in; k0 += kKc) {
      const std::int64_t kc = std::min(kKc, in - k0);
      for (std::int64_t p = p_begin; p < p_end; ++p) {
        const std::int64_t o0 = p * panel_width, width = std::min(panel_width, out - o0);
        PackPanel(w, o0, width, panel_width, k0, kc, panel.get(), scratch.data());
        for (std::int64_t t0 = 0; t0 < n_tokens; t0 += kMr) {
          const int m = static_cast<int>(std::min<std::int64_t>(kMr, n_tokens - t0));
          MicroKernelUpTo(m, panel.get(), x + t0 * in + k0, in, kc, tile.get());
          for (int r = 0; r < m; ++r) {
            float* dst = y + (t0 + r) * out + o0;
            const float* src = tile.get() + r * panel_width;
            for (std::int64_t j = 0; j < width; ++j) dst[j] += src[j];
          }
        }
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace llama4
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace llama4::simd {

HWY_EXPORT(OutMajorSmallBatch);
HWY_EXPORT(InMajorSmallBatch);
HWY_EXPORT(BlockedMatmul);
HWY_EXPORT(QuantFastPath);
HWY_EXPORT(OutMajorTokenTiles);
HWY_EXPORT(InMajorTokenTiles);

void out_major_token_tiles(const Matrix& w, const float* x, std::int64_t n_tokens, float* y) {
  HWY_DYNAMIC_DISPATCH(OutMajorTokenTiles)(w, x, n_tokens, y);
}

void in_major_token_tiles(const Matrix& w, const float* x, std::int64_t n_tokens, float* y) {
  HWY_DYNAMIC_DISPATCH(InMajorTokenTiles)(w, x, n_tokens, y);
}

void out_major_small_batch(const Matrix& w, const float* x, std::int64_t n_tokens, float* y) {
  HWY_DYNAMIC_DISPATCH(OutMajorSmallBatch)(w, x, n_tokens, y);
}

void in_major_small_batch(const Matrix& w, const float* x, std::int64_t n_tokens, float* y) {
  HWY_DYNAMIC_DISPATCH(InMajorSmallBatch)(w, x, n_tokens, y);
}

void blocked_matmul(const Matrix& w, const float* x, std::int64_t n_tokens, float* y) {
  HWY_DYNAMIC_DISPATCH(BlockedMatmul)(w, x, n_tokens, y);
}

bool quantized_fast_path(const QuantizedData& q) {
  return HWY_DYNAMIC_DISPATCH(QuantFastPath)(q);
}

std::vector<std::int64_t> available_targets() {
  std::vector<std::int64_t> targets;
  const auto usable = static_cast<std::uint64_t>(HWY_TARGETS & hwy::SupportedTargets());
  constexpr int kTargetBits = 63;
  for (int bit = 0; bit < kTargetBits; ++bit)  // lower bit = better target
    if ((usable >> bit) & 1u) targets.push_back(static_cast<std::int64_t>(1) << bit);
  return targets;
}

void force_target(std::int64_t target) {
  hwy::SetSupportedTargetsForTest(target);
}

std::string target_name(std::int64_t target) {
  return hwy::TargetName(target);
}

std::string current_target_name() {
  const std::vector<std::int64_t> targets = available_targets();
  return targets.empty() ? "none" : target_name(targets.front());
}

}  // namespace llama4::simd
#endif  // HWY_ONCE
