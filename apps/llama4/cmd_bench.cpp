// `llama4 bench -m DIR [-p 512] [-n 128] [-t N] [--repeat R] [--profile] [--json]`: prompt
// processing (pp) and token generation (tg) speed in the style of llama-bench, with the roofline
// context that says how good the numbers are: the weight bytes one decoded token must stream
// against the machine's measured read bandwidth, and the FLOPs of a prompt token against its
// measured arithmetic peak. --profile adds one more run of each test split by part of the model
// (kernels/part_profile.h): where the time goes, and how fast each part's products read weights.
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "command.h"
#include "kernels/bf16_activations.h"
#include "kernels/int8_activations.h"
#include "kernels/linear_simd.h"
#include "kernels/matrix_traffic.h"
#include "kernels/part_profile.h"
#include "kernels/roofline.h"
#include "model/model.h"
#include "precision_flags.h"
#include "util/error.h"
#include "util/huge_pages.h"

namespace llama4::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kBandwidthProbeRepeats = 3;
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr double kGiga = 1e9;
constexpr double kKiB = 1024.0;
constexpr std::uint64_t kTokenSeed = 42;
constexpr double kFewHugePages = 0.5;  // below this share of the weights, say how to get more

struct BenchOptions {
  std::string model_dir;
  std::int64_t prompt = 512;
  std::int64_t generate = 128;
  int threads = 0;
  int repeat = 3;
  KvType kv_type = KvType::kF32;
  QuantizedActivations activations = QuantizedActivations::kAuto;
  bool warmup = true;
  bool profile = false;
  bool json = false;
};

// Per-token cost of the model, from the layer plan and the stored format of every matrix.
struct TokenCost {
  std::int64_t parameters = 0;    // every weight in the checkpoint
  std::int64_t decode_bytes = 0;  // weights one decode step reads (top-k experts only)
  std::int64_t prompt_flops =
      0;  // matrix FLOPs of one prompt token (no lm_head), attention excluded
  std::int64_t attention_flops_per_visible =
      0;  // QK and PV FLOPs per (token, visible key), all layers
};

std::int64_t swiglu_parameters(const SwiGluWeights& w) {
  return matrix_parameters(w.gate) + matrix_parameters(w.up) + matrix_parameters(w.down);
}
std::int64_t swiglu_bytes(const SwiGluWeights& w) {
  return matrix_bytes(w.gate) + matrix_bytes(w.up) + matrix_bytes(w.down);
}

TokenCost token_cost(const Model& model) {
  const ModelConfig& config = model.config();
  const ModelWeights& weights = model.weights();
  constexpr std::int64_t kFlopsPerMultiplyAdd = 2;
  constexpr std::int64_t kNormsPerLayer = 2;
  TokenCost cost;
  std::int64_t active_parameters = 0;
  for (const LayerWeights& layer : weights.layers) {
    const std::int64_t attention = matrix_parameters(layer.q) + matrix_parameters(layer.k) +
                                   matrix_parameters(layer.v) + matrix_parameters(layer.o);
    cost.parameters += attention + kNormsPerLayer * config.hidden_size;
    cost.decode_bytes += matrix_bytes(layer.q) + matrix_bytes(layer.k) + matrix_bytes(layer.v) +
                         matrix_bytes(layer.o);
    active_parameters += attention;
    if (layer.moe) {
      const MoeWeights& moe = *layer.moe;
      cost.parameters += matrix_parameters(moe.router) + swiglu_parameters(moe.shared_expert);
      for (const SwiGluWeights& expert : moe.experts) cost.parameters += swiglu_parameters(expert);
      // A decoded token reads the router, the shared expert and its top-k experts; the expert
      // tensors all have one shape and format, so the first stands for any.
      cost.decode_bytes += matrix_bytes(moe.router) + swiglu_bytes(moe.shared_expert) +
                           config.num_experts_per_tok * swiglu_bytes(moe.experts.front());
      active_parameters += matrix_parameters(moe.router) + swiglu_parameters(moe.shared_expert) +
                           config.num_experts_per_tok * swiglu_parameters(moe.experts.front());
    } else if (layer.dense) {
      cost.parameters += swiglu_parameters(*layer.dense);
      cost.decode_bytes += swiglu_bytes(*layer.dense);
      active_parameters += swiglu_parameters(*layer.dense);
    }
    cost.attention_flops_per_visible +=
        2 * kFlopsPerMultiplyAdd * config.num_attention_heads * config.head_dim;
  }
  const bool tied = weights.lm_head.data == weights.embed_tokens.data;
  cost.parameters += matrix_parameters(weights.embed_tokens) + config.hidden_size +
                     (tied ? 0 : matrix_parameters(weights.lm_head));
  // A decode step computes every logit, and reads one embedding row.
  cost.decode_bytes +=
      matrix_bytes(weights.lm_head) + matrix_bytes(weights.embed_tokens) / config.vocab_size;
  cost.prompt_flops = kFlopsPerMultiplyAdd * active_parameters;
  return cost;
}

// A matrix's stored format: "q4 g64", "bf16", ...
std::string matrix_format(const Matrix& m) {
  if (m.quantized())
    return "q" + std::to_string(m.quant.bits) + " g" + std::to_string(m.quant.group_size);
  std::string name(dtype_name(m.dtype));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

// The format of most of the model's weights, then each other one with its share of the weights
// (`llama4 quantize --keep` leaves parts of a quantized model in 16 bits): "q8 g64 + 10% bf16".
std::string weight_format(const Model& model) {
  const ModelWeights& weights = model.weights();
  std::vector<std::pair<std::string, std::int64_t>> formats;  // parameters of each format
  std::int64_t total = 0;
  for_each_matrix(weights, [&](const Matrix& m) {
    if (&m == &weights.lm_head && weights.lm_head.data == weights.embed_tokens.data) return;
    const std::string format = matrix_format(m);
    auto it = std::find_if(formats.begin(), formats.end(),
                           [&](const auto& entry) { return entry.first == format; });
    if (it == formats.end()) it = formats.insert(formats.end(), {format, 0});
    it->second += matrix_parameters(m);
    total += matrix_parameters(m);
  });
  std::stable_sort(formats.begin(), formats.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string label = formats.front().first;
  for (std::size_t i = 1; i < formats.size(); ++i) {
    const double percent = 100.0 * static_cast<double>(formats[i].second) /
                           static_cast<double>(std::max<std::int64_t>(total, 1));
    label += " + " + (percent < 1.0 ? std::string("<1") : std::to_string(std::lround(percent))) +
             "% " + formats[i].first;
  }
  return label;
}

std::uintmax_t checkpoint_bytes(const Model& model) {
  std::uintmax_t total = 0;
  for (const auto& file : model.checkpoint().files()) total += std::filesystem::file_size(file);
  return total;
}

double peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) * kKiB;  // Linux reports KiB
}

// Lowers the peak resident memory to the present one (Linux 4.0 and later), so that a buffer
// allocated and freed before the tests does not count as the model's; false where it cannot.
bool reset_peak_rss() {
  std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (f == nullptr) return false;
  const bool written = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && written;
}

// The read bandwidth over huge pages (as the weights are mapped where the system allows) and over
// 4 KiB pages.
struct ReadBandwidth {
  double huge_pages = 0.0, small_pages = 0.0;

  void keep_best(const ReadBandwidth& other) {
    huge_pages = std::max(huge_pages, other.huge_pages);
    small_pages = std::max(small_pages, other.small_pages);
  }
};

ReadBandwidth measure_bandwidth(int threads) {
  const std::size_t probe_bytes = uncached_read_bytes();
  return {measure_read_bandwidth(probe_bytes, threads, kBandwidthProbeRepeats),
          measure_read_bandwidth(probe_bytes, threads, kBandwidthProbeRepeats, PageSize::kSmall)};
}

struct Stats {
  double mean = 0.0, stdev = 0.0;
};
Stats stats(const std::vector<double>& values) {
  Stats s;
  if (values.empty()) return s;
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  double squares = 0.0;
  for (double v : values) squares += (v - s.mean) * (v - s.mean);
  if (values.size() > 1) s.stdev = std::sqrt(squares / static_cast<double>(values.size() - 1));
  return s;
}

std::vector<std::int32_t> random_tokens(std::int64_t count, std::int64_t vocab) {
  std::mt19937_64 rng(kTokenSeed);
  std::uniform_int_distribution<std::int32_t> id(0, static_cast<std::int32_t>(vocab - 1));
  std::vector<std::int32_t> tokens(static_cast<std::size_t>(count));
  for (auto& t : tokens) t = id(rng);
  return tokens;
}

// Tokens per second of one prompt of `count` tokens, from an empty cache.
double time_prompt(const Model& model, InferenceState& state,
                   const std::vector<std::int32_t>& tokens) {
  std::vector<float> logits;
  state.reset();
  const auto start = Clock::now();
  model.forward(tokens, state, LogitsFor::kLastPosition, logits);
  const std::chrono::duration<double> elapsed = Clock::now() - start;
  return static_cast<double>(tokens.size()) / elapsed.count();
}

// Tokens per second of generating tokens.size() tokens one at a time, from an empty cache.
double time_generation(const Model& model, InferenceState& state,
                       const std::vector<std::int32_t>& tokens) {
  std::vector<float> logits;
  state.reset();
  const auto start = Clock::now();
  for (std::int32_t token : tokens)
    model.forward(std::span(&token, 1), state, LogitsFor::kLastPosition, logits);
  const std::chrono::duration<double> elapsed = Clock::now() - start;
  return static_cast<double>(tokens.size()) / elapsed.count();
}

// One more run of a test, split by part of the model.
struct PartsRun {
  double seconds = 0.0;  // the whole run
  std::vector<PartTotals> parts;
};

template <typename Run>
PartsRun profile_run(std::int64_t tokens, Run run) {
  PartsRun result;
  const PartProfile profile;
  result.seconds = static_cast<double>(tokens) / run();
  result.parts = profile.parts();
  return result;
}

struct TestResult {
  std::string name;  // pp512, tg128
  std::int64_t tokens = 0;
  Stats tokens_per_second;
  std::optional<PartsRun> parts;
};

// A test: the untimed warm-up run (which pages in every weight the test reads), --repeat timed
// runs and, with --profile, one more split by part. `run` returns tokens per second.
template <typename Run>
TestResult run_test(const BenchOptions& o, std::string name, std::int64_t tokens, Run run) {
  if (o.warmup) run();
  std::vector<double> runs;
  runs.reserve(static_cast<std::size_t>(o.repeat));
  for (int r = 0; r < o.repeat; ++r) runs.push_back(run());
  TestResult result{std::move(name), tokens, stats(runs), std::nullopt};
  if (o.profile) result.parts = profile_run(tokens, run);
  return result;
}

nlohmann::json parts_json(const PartsRun& run) {
  nlohmann::json out;
  out["seconds"] = run.seconds;
  out["parts"] = nlohmann::json::array();
  for (const PartTotals& p : run.parts)
    out["parts"].push_back({{"part", p.name},
                            {"seconds", p.seconds},
                            {"weight_bytes", p.weight_bytes},
                            {"flops", p.flops}});
  return out;
}

// The profiled run as a table: per part its time per token and share of the run, and how fast its
// products went: for decoding the rate at which they read their weights (against the measured
// bandwidth), for prompts their arithmetic rate. "other" is the rest of the run: embedding, norms,
// residual adds and the scheduling around them.
void print_parts(const TestResult& r, double bandwidth) {
  const PartsRun& run = *r.parts;
  const bool decode = r.name.starts_with("tg");
  const auto per_token_ms = [&](double seconds) {
    return 1e3 * seconds / static_cast<double>(r.tokens);
  };
  std::printf("\n%s by part (one more run):\n", r.name.c_str());
  std::printf(decode ? "| part | ms/token | share | weights GB/s | of bandwidth |\n"
                     : "| part | ms/token | share | GFLOP/s |\n");
  std::printf(decode ? "| --- | ---: | ---: | ---: | ---: |\n" : "| --- | ---: | ---: | ---: |\n");
  double accounted = 0.0;
  for (const PartTotals& p : run.parts) {
    accounted += p.seconds;
    std::printf("| %s | %.3f | %.1f%% |", p.name.c_str(), per_token_ms(p.seconds),
                100.0 * p.seconds / run.seconds);
    if (p.seconds <= 0.0 || p.weight_bytes == 0)  // no products (attention itself)
      std::printf(decode ? " | |\n" : " |\n");
    else if (decode)
      std::printf(" %.1f | %.0f%% |\n", static_cast<double>(p.weight_bytes) / p.seconds / kGiga,
                  100.0 * static_cast<double>(p.weight_bytes) / p.seconds / bandwidth);
    else
      std::printf(" %.1f |\n", p.flops / p.seconds / kGiga);
  }
  const double other = std::max(0.0, run.seconds - accounted);
  std::printf("| other | %.3f | %.1f%% |%s\n", per_token_ms(other), 100.0 * other / run.seconds,
              decode ? " | |" : " |");
}

// "ppN: F GFLOP/token → R GFLOP/s = x% of <peak>": against the peak of the instruction the
// products run on (the f32 FMA, or the bf16 / int8 dot product when activations are rounded to
// them), with the bf16 dot peak beside the f32 one for f32 products of bf16 weights. With 16-bit
// activations every multiply-add is two int8 products (one per plane), which the line says.
void print_prefill_line(const nlohmann::json& test, bool rounded_products,
                        const char* dot_peak_name, bool two_planes) {
  const std::string dot_key = std::string("fraction_of_") + dot_peak_name + "_peak";
  std::string against;
  if (!rounded_products)
    against = std::to_string(static_cast<int>(
                  std::lround(100.0 * test["fraction_of_f32_peak"].get<double>()))) +
              "% of f32 FMA peak";
  if (test.contains(dot_key))
    against += (against.empty() ? "" : ", ") +
               std::to_string(static_cast<int>(std::lround(100.0 * test[dot_key].get<double>()))) +
               "% of " + dot_peak_name + " dot peak";
  const std::string amx_key = std::string("fraction_of_amx_") + dot_peak_name + "_peak";
  if (test.contains(amx_key))
    against += ", " +
               std::to_string(static_cast<int>(std::lround(100.0 * test[amx_key].get<double>()))) +
               "% of AMX " + dot_peak_name + " peak";
  std::printf("%s: %.2f GFLOP/token → %.1f GFLOP/s = %s\n", test["test"].get<std::string>().c_str(),
              test["flops_per_token"].get<double>() / kGiga,
              test["flops_per_second"].get<double>() / kGiga, against.c_str());
  if (two_planes)
    std::printf(
        "  (int16 activations: two int8 products per multiply-add, so the instructions run "
        "at twice these shares)\n");
}

// How much of the weights the tests touched lie in huge pages. On a virtual machine decoding runs
// 20% faster from 2 MiB pages (docs/PERFORMANCE.md, "Huge pages"), and the page cache decides:
// a file it holds in 4 KiB pieces (one just written, say) maps in 4 KiB pages.
void print_weight_pages(const MappedPages& pages) {
  if (pages.resident_bytes == 0) return;
  const double share =
      static_cast<double>(pages.huge_page_bytes) / static_cast<double>(pages.resident_bytes);
  std::printf("weights: %.2f GiB resident, %.0f%% in huge pages\n",
              static_cast<double>(pages.resident_bytes) / kGiB, 100.0 * share);
  if (share < kFewHugePages)
    std::printf(
        "  (the page cache holds the model's files in small pieces; dropping them from it, "
        "e.g. `dd if=FILE iflag=nocache count=0` for each file, lets the next run read "
        "them into huge pages)\n");
}

// Whether the routed experts are stored in-major (HF's fused tensors, read in place): they then
// decode ~40% slower than out-major ones and have no AMX prompt kernel (docs/PERFORMANCE.md).
bool experts_in_major(const Model& model) {
  for (const LayerWeights& layer : model.weights().layers)
    if (layer.moe && !layer.moe->experts.empty())
      return layer.moe->experts.front().gate.layout == Matrix::Layout::kInMajor;
  return false;
}

int run_bench(const BenchOptions& o) {
  if (o.threads > 0) omp_set_num_threads(o.threads);
  const int threads = omp_get_max_threads();
  if (o.prompt < 0 || o.generate < 0 || o.repeat < 1)
    throw Error("bench: -p and -n must be ≥ 0 and --repeat ≥ 1");

  const auto load_start = Clock::now();
  const auto model = Model::load(o.model_dir);
  const std::chrono::duration<double> load_time = Clock::now() - load_start;
  apply_activations_flag(*model, o.activations, o.json);
  const ModelConfig& config = model->config();
  const TokenCost cost = token_cost(*model);

  InferenceState state(*model, std::max<std::int64_t>(o.prompt, o.generate), o.kv_type);
  // The machine's limits, measured before and after the tests, the better of the two counting: on
  // a shared host one measured in a slow moment would overstate the share a test reached. The
  // bandwidth probe's buffer is not the model's memory, so it runs before the tests only where
  // the peak resident memory can be lowered again.
  ComputePeaks peaks = measure_compute_peaks(threads);
  ReadBandwidth bandwidth;
  if (reset_peak_rss()) {
    bandwidth = measure_bandwidth(threads);
    reset_peak_rss();
  }
  std::vector<TestResult> results;
  if (o.prompt > 0) {
    const auto tokens = random_tokens(o.prompt, config.vocab_size);
    results.push_back(run_test(o, "pp" + std::to_string(o.prompt), o.prompt,
                               [&] { return time_prompt(*model, state, tokens); }));
  }
  if (o.generate > 0) {
    const auto tokens = random_tokens(o.generate, config.vocab_size);
    results.push_back(run_test(o, "tg" + std::to_string(o.generate), o.generate,
                               [&] { return time_generation(*model, state, tokens); }));
  }
  const double rss = peak_rss_bytes();  // before the bandwidth probe allocates its buffer
  const MappedPages weight_pages = file_mapping_pages(o.model_dir);

  bandwidth.keep_best(measure_bandwidth(threads));
  peaks.keep_best(measure_compute_peaks(threads));

  const std::string model_name = config.architecture.empty() ? "llama4" : config.architecture;
  // Products of quantized weights with int8 (or 16-bit: two int8 products each) activations run on
  // the integer dot product, those of bf16 weights with bf16 activations on the bf16 one;
  // everything else computes in f32 (the bf16 dot peak is the reference for bf16 weights).
  const QuantizedActivations activations = model->quantized_activations();
  const bool int8_products =
      (activations == QuantizedActivations::kInt8 || activations == QuantizedActivations::kInt16) &&
      model->rounds_activations();
  const bool bf16_products =
      activations == QuantizedActivations::kBf16 && model->rounds_activations();
  const std::string format =
      weight_format(*model) +
      (int8_products || bf16_products
           ? ", " + std::string(quantized_activations_name(activations)) + " act."
           : "");
  const bool rounded_products = int8_products || bf16_products;
  const std::optional<double> dot_peak = int8_products ? peaks.int8_dot : peaks.bf16_dot;
  const char* dot_peak_name = int8_products ? "int8" : "bf16";
  const double size_gib = static_cast<double>(checkpoint_bytes(*model)) / kGiB;
  const double params_b = static_cast<double>(cost.parameters) / kGiga;
  // Average visible keys per prompt token in a causal prompt of p tokens from position 0.
  const auto prompt_flops_per_token = [&](std::int64_t p) {
    return static_cast<double>(cost.prompt_flops) +
           static_cast<double>(cost.attention_flops_per_visible) * static_cast<double>(p + 1) / 2.0;
  };

  nlohmann::json report;
  report["model"] = o.model_dir;
  report["architecture"] = model_name;
  report["format"] = format;
  report["size_bytes"] = checkpoint_bytes(*model);
  report["parameters"] = cost.parameters;
  report["threads"] = threads;
  report["warmup"] = o.warmup;
  report["simd_target"] = simd::current_target_name();
  report["load_seconds"] = load_time.count();
  report["peak_rss_bytes"] = rss;
  report["kv_type"] = kv_type_name(o.kv_type);
  report["activations"] = quantized_activations_name(model->quantized_activations());
  if (int8_products) report["int8_kernel"] = int8_kernel_name(int8_kernel_in_use());
  if (bf16_products) report["bf16_kernel"] = bf16_kernel_name(bf16_kernel_in_use());
  report["kv_cache_bytes"] = state.cache_bytes();
  report["read_bandwidth_bytes_per_second"] = bandwidth.huge_pages;
  report["read_bandwidth_small_pages_bytes_per_second"] = bandwidth.small_pages;
  report["read_bandwidth_probe_bytes"] = uncached_read_bytes();
  report["weights_resident_bytes"] = weight_pages.resident_bytes;
  report["weights_in_huge_pages_bytes"] = weight_pages.huge_page_bytes;
  report["f32_fma_peak_flops"] = peaks.f32_fma;
  if (peaks.bf16_dot) report["bf16_dot_peak_flops"] = *peaks.bf16_dot;
  if (peaks.int8_dot) report["int8_dot_peak_ops"] = *peaks.int8_dot;
  if (peaks.amx_int8) report["amx_int8_peak_ops"] = *peaks.amx_int8;
  if (peaks.amx_bf16) report["amx_bf16_peak_flops"] = *peaks.amx_bf16;
  report["decode_bytes_per_token"] = cost.decode_bytes;
  report["experts_in_major"] = experts_in_major(*model);
  for (const TestResult& r : results) {
    nlohmann::json test;
    test["test"] = r.name;
    test["tokens_per_second"] = r.tokens_per_second.mean;
    test["stdev"] = r.tokens_per_second.stdev;
    if (r.name.starts_with("tg")) {
      const double read = static_cast<double>(cost.decode_bytes) * r.tokens_per_second.mean;
      test["bytes_per_second"] = read;
      test["fraction_of_bandwidth"] = read / bandwidth.huge_pages;
    } else {
      const double flops = prompt_flops_per_token(r.tokens) * r.tokens_per_second.mean;
      test["flops_per_token"] = prompt_flops_per_token(r.tokens);
      test["flops_per_second"] = flops;
      test["fraction_of_f32_peak"] = flops / peaks.f32_fma;
      if (dot_peak) test[std::string("fraction_of_") + dot_peak_name + "_peak"] = flops / *dot_peak;
      if (int8_products && peaks.amx_int8)
        test["fraction_of_amx_int8_peak"] = flops / *peaks.amx_int8;
      if (bf16_products && peaks.amx_bf16)
        test["fraction_of_amx_bf16_peak"] = flops / *peaks.amx_bf16;
    }
    if (r.parts) test["profile"] = parts_json(*r.parts);
    report["tests"].push_back(test);
  }
  if (o.json) {
    std::printf("%s\n", report.dump(2).c_str());
    return 0;
  }

  std::printf("| model | format | size | params | threads | test | t/s |\n");
  std::printf("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
  for (const TestResult& r : results)
    std::printf("| %s %zuL | %s | %.2f GiB | %.2f B | %d | %s | %.2f ± %.2f |\n",
                model_name.c_str(), model->plan().size(), format.c_str(), size_gib, params_b,
                threads, r.name.c_str(), r.tokens_per_second.mean, r.tokens_per_second.stdev);
  std::printf("\nload %.3f s, peak RSS %.2f GiB, KV cache %s %.1f MiB, SIMD target %s\n",
              load_time.count(), rss / kGiB, std::string(kv_type_name(o.kv_type)).c_str(),
              static_cast<double>(state.cache_bytes()) / (kKiB * kKiB),
              simd::current_target_name().c_str());
  if (int8_products)
    std::printf("int8 products on the %s kernel\n",
                std::string(int8_kernel_name(int8_kernel_in_use())).c_str());
  if (bf16_products)
    std::printf("bf16 products on the %s kernel\n",
                std::string(bf16_kernel_name(bf16_kernel_in_use())).c_str());
  print_weight_pages(weight_pages);
  if (experts_in_major(*model))
    std::printf(
        "experts: HF's fused in-major tensors; `llama4 quantize -m DIR -o OUT --bits 16` rewrites "
        "them out-major, which decodes and (with --activations bf16) prefills faster\n");
  std::printf("machine: read bandwidth %.1f GB/s (4 KiB pages: %.1f), f32 FMA peak %.1f GFLOP/s",
              bandwidth.huge_pages / kGiga, bandwidth.small_pages / kGiga, peaks.f32_fma / kGiga);
  if (peaks.bf16_dot) std::printf(", bf16 dot peak %.1f GFLOP/s", *peaks.bf16_dot / kGiga);
  if (peaks.int8_dot) std::printf(", int8 dot peak %.1f GOP/s", *peaks.int8_dot / kGiga);
  if (peaks.amx_int8) std::printf(", AMX int8 peak %.1f GOP/s", *peaks.amx_int8 / kGiga);
  if (peaks.amx_bf16) std::printf(", AMX bf16 peak %.1f GFLOP/s", *peaks.amx_bf16 / kGiga);
  std::printf("\n");
  for (const auto& test : report["tests"]) {
    const std::string name = test["test"];
    if (name.starts_with("tg"))
      std::printf("%s: %.3f GB weights/token → %.1f GB/s = %.1f%% of measured bandwidth\n",
                  name.c_str(), static_cast<double>(cost.decode_bytes) / kGiga,
                  test["bytes_per_second"].get<double>() / kGiga,
                  100.0 * test["fraction_of_bandwidth"].get<double>());
    else
      print_prefill_line(test, rounded_products, dot_peak_name,
                         int8_products && activations == QuantizedActivations::kInt16);
  }
  for (const TestResult& r : results)
    if (r.parts) print_parts(r, bandwidth.huge_pages);
  return 0;
}

const CommandRegistration kBench{
    "bench", "Measure prompt and generation speed against the machine's roofline", 90,
    [](CLI::App& cmd) {
      auto o = std::make_shared<BenchOptions>();
      cmd.add_option("-m,--model", o->model_dir, "Model folder")->required();
      cmd.add_option("-p,--prompt", o->prompt, "Prompt tokens per pp test (0: skip)")
          ->capture_default_str();
      cmd.add_option("-n,--generate", o->generate, "Generated tokens per tg test (0: skip)")
          ->capture_default_str();
      cmd.add_option("-t,--threads", o->threads, "Threads (default: all cores)");
      cmd.add_option("--repeat", o->repeat, "Runs per test")->capture_default_str();
      add_kv_type_flag(cmd, o->kv_type);
      add_activations_flag(cmd, o->activations);
      cmd.add_flag("!--no-warmup", o->warmup,
                   "Skip the untimed first run of each test (which pages in the weights)");
      cmd.add_flag("--profile", o->profile,
                   "Time one more run of each test part by part (attention, experts, ...)");
      cmd.add_flag("--json", o->json, "Print one JSON object instead of the table");
      return [o] { return run_bench(*o); };
    }};

}  // namespace
}  // namespace llama4::cli
