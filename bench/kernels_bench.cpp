// Kernel micro-benchmarks on Scout shapes (hidden 5120, expert width 8192): linear() on one token
// (decode: bytes/s of weights streamed) and on 64 tokens (prefill: FLOP/s), for every stored
// format, and for 4/8-bit weights with f32 or int8 activations; bf16 in-major (HF's fused experts)
// also on the 32 tokens a routed expert sees of a 512-token prompt. Weights are random. Each
// benchmark cycles through copies of its matrix, at least uncached_read_bytes() of them (8 times
// the last-level cache), so that the weights come from memory as a model's do (on a machine with
// a 480 MB cache a single 84 MB matrix stayed there, and 1 GiB of copies was still served in
// part from it), and in huge pages as the engine asks for its weights (util/huge_pages.h); the
// *_small_pages benchmarks show what 4 KiB pages cost. Quantized matrices have the row-group scale
// tables of a loaded model (kernels/row_group_scales.h); *_no_scale_table shows what they save.
//
// `--avx2` runs everything as on a CPU without AVX-512: Highway's kernels on their AVX2 target,
// the int8 family on its AVX2 kernel and the bf16 one on its portable kernel (benchmarks that name
// a kernel still run it), so that the two kinds of CPU can be compared on one machine.
#include <benchmark/benchmark.h>
#include <hwy/targets.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <vector>

#include "kernels/bf16_activations.h"
#include "kernels/int8_activations.h"
#include "kernels/linear.h"
#include "kernels/matrix_traffic.h"
#include "kernels/mlx_quant.h"
#include "kernels/roofline.h"
#include "kernels/row_group_scales.h"
#include "util/huge_pages.h"

namespace llama4 {
namespace {

constexpr std::int64_t kHidden = 5120;
constexpr std::int64_t kExpertWidth = 8192;
constexpr std::int64_t kPrefillTokens = 64;
constexpr std::int64_t kPromptTokens = 512, kExperts = 16;
constexpr int kGroupSize = 64;

// The kernels benchmarks that name none run on: the fastest, or AVX2's with --avx2.
std::optional<Int8Kernel> default_int8_kernel;
std::optional<Bf16Kernel> default_bf16_kernel;

template <class T>
using PagedVector = std::vector<T, PageAllocator<T>>;

// A [kExpertWidth, kHidden] matrix (an expert's gate projection) in the requested format.
struct BenchMatrix {
  explicit BenchMatrix(PageSize pages)
      : half(PageAllocator<std::uint16_t>(pages)),
        packed(PageAllocator<std::uint32_t>(pages)),
        scales(PageAllocator<std::uint16_t>(pages)),
        biases(PageAllocator<std::uint16_t>(pages)) {}
  Matrix m;
  PagedVector<std::uint16_t> half;
  PagedVector<std::uint32_t> packed;
  PagedVector<std::uint16_t> scales, biases;
};

// Pages and, for in-major bf16 matrices, which of a routed expert's products as HF checkpoints
// store them: the gate projection alone (a plain [kHidden, kExpertWidth] matrix), the gate half of
// the fused gate_up tensor (rows of 2 × kExpertWidth), both halves as one product (as the engine
// runs an expert's gate and up), or the down projection ([kExpertWidth, kHidden]).
enum class ExpertPart { kGate, kGateHalfOfFused, kFusedGateUp, kDown };
// Quantized matrices get the row-group scale tables a loaded model gives them, unless
// scale_tables is off (the kernels then lay the scales out as they go).
struct Placement {
  PageSize pages = PageSize::kHuge;
  ExpertPart part = ExpertPart::kGate;
  bool scale_tables = true;
};

BenchMatrix make_matrix(DType dtype, int bits, Matrix::Layout layout, Placement placement) {
  BenchMatrix b(placement.pages);
  std::mt19937 rng(0);
  std::uniform_int_distribution<std::uint32_t> word(0, 0xffffffffu);
  b.m.out_features = kExpertWidth;
  b.m.in_features = kHidden;
  b.m.layout = layout;
  b.m.row_stride = layout == Matrix::Layout::kOutMajor ? kHidden : kExpertWidth;
  if (bits != 0) {
    const std::int64_t groups = kExpertWidth * kHidden / kGroupSize;
    b.packed.resize(static_cast<std::size_t>(mlx_packed_words(kExpertWidth * kHidden, bits)));
    for (auto& w : b.packed) w = word(rng);
    b.scales.assign(static_cast<std::size_t>(groups), f32_to_bf16(0.01f));
    b.biases.assign(static_cast<std::size_t>(groups), f32_to_bf16(-0.05f));
    b.m.dtype = DType::U32;
    b.m.data = b.packed.data();
    b.m.quant = {b.packed.data(), b.scales.data(), b.biases.data(), DType::BF16, bits, kGroupSize};
    return b;
  }
  const bool fused =
      placement.part == ExpertPart::kGateHalfOfFused || placement.part == ExpertPart::kFusedGateUp;
  const std::int64_t halves = fused ? 2 : 1;
  if (fused) b.m.row_stride = halves * kExpertWidth;
  if (placement.part == ExpertPart::kFusedGateUp) b.m.out_features = halves * kExpertWidth;
  if (placement.part == ExpertPart::kDown) {
    b.m.out_features = b.m.row_stride = kHidden;
    b.m.in_features = kExpertWidth;
  }
  b.half.resize(static_cast<std::size_t>(halves * kExpertWidth * kHidden));
  for (auto& h : b.half) {
    const float value = static_cast<float>(word(rng) % 1000) * 1e-3f - 0.5f;
    h = dtype == DType::F16 ? f32_to_f16(value) : f32_to_bf16(value);
  }
  b.m.dtype = dtype;
  b.m.data = b.half.data();
  return b;
}

// A copy of b whose Matrix points at the copy's own storage.
BenchMatrix clone(const BenchMatrix& b) {
  BenchMatrix c = b;
  c.m.data = c.half.empty() ? static_cast<const void*>(c.packed.data()) : c.half.data();
  c.m.quant.packed = c.packed.data();
  c.m.quant.scales = c.scales.data();
  c.m.quant.biases = c.biases.data();
  return c;
}

// rounded_activations: bf16 ones for bf16 weights, integer ones of `integer_bits` (8 or 16) for
// quantized weights.
void run_linear(benchmark::State& state, DType dtype, int bits, Matrix::Layout layout,
                std::int64_t tokens, bool rounded_activations = false, Placement placement = {},
                int integer_bits = 8) {
  std::vector<BenchMatrix> copies;
  copies.push_back(make_matrix(dtype, bits, layout, placement));
  copies[0].m.quant.activation_bits = rounded_activations && bits != 0 ? integer_bits : 0;
  copies[0].m.bf16_activations = rounded_activations && bits == 0;
  const auto bytes = static_cast<std::int64_t>(matrix_bytes(copies[0].m));
  while (static_cast<std::int64_t>(copies.size()) * bytes <
         static_cast<std::int64_t>(uncached_read_bytes()))
    copies.push_back(clone(copies[0]));
  std::vector<Matrix*> matrices(copies.size());
  std::transform(copies.begin(), copies.end(), matrices.begin(),
                 [](BenchMatrix& c) { return &c.m; });
  const RowGroupScaleSet tables(placement.scale_tables ? matrices : std::vector<Matrix*>{},
                                nullptr);
  for (const Matrix* m : matrices)
    if (m->quant.row_group_scales != nullptr) m->quant.row_group_scales->entries();
  std::vector<float> x(static_cast<std::size_t>(tokens * copies[0].m.in_features), 0.5f);
  std::vector<float> y(static_cast<std::size_t>(tokens * copies[0].m.out_features));
  std::size_t next = 0;
  for (auto _ : state) {
    linear(copies[next].m, x.data(), tokens, y.data());
    next = (next + 1) % copies.size();
    benchmark::DoNotOptimize(y.data());
  }
  const BenchMatrix& b = copies[0];
  const auto iterations = static_cast<double>(state.iterations());
  state.counters["weight_bytes/s"] = benchmark::Counter(
      iterations * static_cast<double>(matrix_bytes(b.m)), benchmark::Counter::kIsRate);
  state.counters["FLOP/s"] = benchmark::Counter(
      iterations * 2.0 * static_cast<double>(matrix_parameters(b.m)) * static_cast<double>(tokens),
      benchmark::Counter::kIsRate);
}

// The int8-activation product on a chosen kernel (what CPUs without AVX-512 VNNI run); skipped
// where this CPU cannot run it.
void run_int8_kernel(benchmark::State& state, Int8Kernel kernel, int bits, std::int64_t tokens,
                     int activation_bits = 8) {
  const std::vector<Int8Kernel> available = int8_kernels_available();
  if (std::find(available.begin(), available.end(), kernel) == available.end()) {
    state.SkipWithError("this CPU does not run the kernel");
    return;
  }
  int8_kernel_force(kernel);
  run_linear(state, DType::U32, bits, Matrix::Layout::kOutMajor, tokens, true, Placement{},
             activation_bits);
  int8_kernel_force(default_int8_kernel);
}

constexpr auto kOut = Matrix::Layout::kOutMajor;
constexpr auto kIn = Matrix::Layout::kInMajor;

BENCHMARK_CAPTURE(run_linear, decode_bf16_out_major, DType::BF16, 0, kOut, 1)->UseRealTime();
BENCHMARK_CAPTURE(run_linear, decode_f16_out_major, DType::F16, 0, kOut, 1)->UseRealTime();
BENCHMARK_CAPTURE(run_linear, decode_bf16_in_major, DType::BF16, 0, kIn, 1)->UseRealTime();
BENCHMARK_CAPTURE(run_linear, decode_bf16_in_major_fused_gate, DType::BF16, 0, kIn, 1, false,
                  Placement{PageSize::kHuge, ExpertPart::kGateHalfOfFused})
    ->UseRealTime();
BENCHMARK_CAPTURE(run_linear, decode_bf16_in_major_fused_gate_up, DType::BF16, 0, kIn, 1, false,
                  Placement{PageSize::kHuge, ExpertPart::kFusedGateUp})
    ->UseRealTime();
BENCHMARK_CAPTURE(run_linear, decode_bf16_in_major_down, DType::BF16, 0, kIn, 1, false,
                  Placement{PageSize::kHuge, ExpertPart::kDown})
    ->UseRealTime();
BENCHMARK_CAPTURE(run_linear, decode_bf16_out_major_bf16_activations, DType::BF16, 0, kOut, 1, true)
    ->UseRealTime();
BENCHMARK_CAPTURE(run_linear, decode_bf16_in_major_bf16_activations, DType::BF16, 0, kIn, 1, true)
    ->UseRealTime();
BENCHMARK_CAPTURE(run_linear, decode_q8, DType::U32, 8, kOut, 1)->UseRealTime();
BENCHMARK_CAPTURE(run_linear, decode_q4, DType::U32, 4, kOut, 1)->UseRealTime();
BENCHMARK_CAPTURE(run_linear, decode_bf16_out_major_small_pages, DType::BF16, 0, kOut, 1, false,
                  Placement{PageSize::kSmall})
    ->UseRealTime();
BENCHMARK_CAPTURE(run_linear, decode_q4_small_pages, DType::U32, 4, kOut, 1, false,
                  Placement{PageSize::kSmall})
    ->UseRealTime();
BENCHMARK_CAPTURE(run_linear, decode_q8_int8_activations, DType::U32, 8, kOut, 1, true)
    ->UseRealTime();
BENCHMARK_CAPTURE(run_linear, decode_q4_int8_activations, DType::U32, 4, kOut, 1, true)
    ->UseRealTime();
BENCHMARK_CAPTURE(run_linear, decode_q8_int16_activations, DType::U32, 8, kOut, 1, true,
                  Placement{}, 16)
    ->UseRealTime();
BENCHMARK_CAPTURE(run_linear, decode_q4_int16_activations, DType::U32, 4, kOut, 1, true,
                  Placement{}, 16)
    ->UseRealTime();
BENCHMARK_CAPTURE(run_linear, decode_q4_int16_activations_no_scale_table, DType::U32, 4, kOut, 1,
                  true, Placement{.scale_tables = false}, 16)
    ->UseRealTime();
BENCHMARK_CAPTURE(run_int8_kernel, decode_q4_int8_activations_avx2, Int8Kernel::kAvx2, 4, 1)
    ->UseRealTime();
BENCHMARK_CAPTURE(run_int8_kernel, decode_q8_int8_activations_avx2, Int8Kernel::kAvx2, 8, 1)
    ->UseRealTime();
BENCHMARK_CAPTURE(run_int8_kernel, decode_q4_int16_activations_avx2, Int8Kernel::kAvx2, 4, 1, 16)
    ->UseRealTime();
BENCHMARK_CAPTURE(run_int8_kernel, decode_q4_int8_activations_portable, Int8Kernel::kPortable, 4, 1)
    ->UseRealTime();
BENCHMARK_CAPTURE(run_linear, prefill_bf16_out_major, DType::BF16, 0, kOut, kPrefillTokens)
    ->UseRealTime();
// A whole prompt's product, as the shared expert and attention projections run it: its 512
// tokens' activations (10 MiB) no longer fit L2.
BENCHMARK_CAPTURE(run_linear, prefill_bf16_out_major_prompt, DType::BF16, 0, kOut, kPromptTokens)
    ->UseRealTime();
BENCHMARK_CAPTURE(run_linear, prefill_bf16_in_major, DType::BF16, 0, kIn, kPrefillTokens)
    ->UseRealTime();
BENCHMARK_CAPTURE(run_linear, prefill_bf16_out_major_bf16_activations, DType::BF16, 0, kOut,
                  kPrefillTokens, true)
    ->UseRealTime();
// A whole prompt's product, as the shared expert and attention projections run it.
BENCHMARK_CAPTURE(run_linear, prefill_bf16_out_major_bf16_activations_prompt, DType::BF16, 0, kOut,
                  kPromptTokens, true)
    ->UseRealTime();
BENCHMARK_CAPTURE(run_linear, prefill_bf16_in_major_bf16_activations, DType::BF16, 0, kIn,
                  kPrefillTokens, true)
    ->UseRealTime();
// A routed expert's share of a 512-token prompt (16 experts, one each per token).
BENCHMARK_CAPTURE(run_linear, prefill_bf16_in_major_bf16_activations_expert_batch, DType::BF16, 0,
                  kIn, kPromptTokens / kExperts, true)
    ->UseRealTime();
BENCHMARK_CAPTURE(run_linear, prefill_q4, DType::U32, 4, kOut, kPrefillTokens)->UseRealTime();
BENCHMARK_CAPTURE(run_linear, prefill_q4_int8_activations, DType::U32, 4, kOut, kPrefillTokens,
                  true)
    ->UseRealTime();
BENCHMARK_CAPTURE(run_linear, prefill_q8_int8_activations, DType::U32, 8, kOut, kPrefillTokens,
                  true)
    ->UseRealTime();
BENCHMARK_CAPTURE(run_linear, prefill_q4_int16_activations, DType::U32, 4, kOut, kPrefillTokens,
                  true, Placement{}, 16)
    ->UseRealTime();
// A whole prompt's product, as above.
BENCHMARK_CAPTURE(run_linear, prefill_q4_int16_activations_prompt, DType::U32, 4, kOut,
                  kPromptTokens, true, Placement{}, 16)
    ->UseRealTime();
// A routed expert's share of a 512-token prompt, as above.
BENCHMARK_CAPTURE(run_linear, prefill_q4_int8_activations_expert_batch, DType::U32, 4, kOut,
                  kPromptTokens / kExperts, true)
    ->UseRealTime();
BENCHMARK_CAPTURE(run_linear, prefill_q8_int8_activations_expert_batch, DType::U32, 8, kOut,
                  kPromptTokens / kExperts, true)
    ->UseRealTime();
// The default 16-bit activations on a routed expert's share.
BENCHMARK_CAPTURE(run_linear, prefill_q4_int16_activations_expert_batch, DType::U32, 4, kOut,
                  kPromptTokens / kExperts, true, Placement{}, 16)
    ->UseRealTime();
// A bf16-activation product on a chosen kernel; skipped where this CPU cannot run it.
void run_bf16_kernel(benchmark::State& state, Bf16Kernel kernel, Matrix::Layout layout,
                     std::int64_t tokens) {
  const std::vector<Bf16Kernel> available = bf16_kernels_available();
  if (std::find(available.begin(), available.end(), kernel) == available.end()) {
    state.SkipWithError("this CPU does not run the kernel");
    return;
  }
  bf16_kernel_force(kernel);
  run_linear(state, DType::BF16, 0, layout, tokens, true);
  bf16_kernel_force(default_bf16_kernel);
}

// The AVX-512 BF16 kernel's out-major rows, where AMX would otherwise take them.
BENCHMARK_CAPTURE(run_bf16_kernel, decode_bf16_out_major_avx512, Bf16Kernel::kAvx512Bf16, kOut, 1)
    ->UseRealTime();
BENCHMARK_CAPTURE(run_bf16_kernel, prefill_bf16_out_major_avx512, Bf16Kernel::kAvx512Bf16, kOut,
                  kPrefillTokens)
    ->UseRealTime();

// The VNNI kernel's prompts, where AMX would otherwise take them.
BENCHMARK_CAPTURE(run_int8_kernel, prefill_q4_int8_activations_vnni, Int8Kernel::kVnni, 4,
                  kPrefillTokens)
    ->UseRealTime();
BENCHMARK_CAPTURE(run_int8_kernel, prefill_q8_int8_activations_vnni, Int8Kernel::kVnni, 8,
                  kPrefillTokens)
    ->UseRealTime();
BENCHMARK_CAPTURE(run_int8_kernel, prefill_q4_int16_activations_vnni, Int8Kernel::kVnni, 4,
                  kPrefillTokens, 16)
    ->UseRealTime();
BENCHMARK_CAPTURE(run_int8_kernel, prefill_q4_int16_activations_prompt_vnni, Int8Kernel::kVnni, 4,
                  kPromptTokens, 16)
    ->UseRealTime();

// Takes --avx2 out of the arguments; true when it was there.
bool take_avx2_flag(int& argc, char** argv) {
  const auto end = std::remove_if(argv + 1, argv + argc,
                                  [](const char* arg) { return std::strcmp(arg, "--avx2") == 0; });
  const bool found = end != argv + argc;
  argc = static_cast<int>(end - argv);
  return found;
}

}  // namespace
}  // namespace llama4

int main(int argc, char** argv) {
  using namespace llama4;
  if (take_avx2_flag(argc, argv)) {
    hwy::SetSupportedTargetsForTest(HWY_AVX2);
    default_int8_kernel = Int8Kernel::kAvx2;
    default_bf16_kernel = Bf16Kernel::kPortable;
    int8_kernel_force(default_int8_kernel);
    bf16_kernel_force(default_bf16_kernel);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
