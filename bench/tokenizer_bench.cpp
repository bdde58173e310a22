// Tokenizer benchmarks (Google Benchmark) on the real Llama 4 vocabulary: encode throughput (MB/s
// of UTF-8 input, one thread) on ~12 MB of deterministic mixed text — English prose, C++ code,
// CJK, emoji sequences, numbers, whitespace runs — and the load time of tokenizer.model.
//
//   bench_tokenizer [--write-text=FILE] [benchmark flags]
// --write-text saves the generated text so tests/tokenizer/reference/tiktoken_bench.mjs can
// measure npm tiktoken on exactly the same bytes. The vocabulary is found at
// $LLAMA4_SHARED_DIR/llama4-tokenizer/tokenizer.model, else ../shared next to the source tree.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "util/utf8_encode.h"

namespace llama4 {
namespace {

constexpr std::size_t kTextBytes = 12u * 1000 * 1000;  // ≥ 10 MB, as the goal asks
constexpr std::uint64_t kSeed = 0x6c6c616d6134ull;
constexpr std::string_view kWriteTextFlag = "--write-text=";

// splitmix64: tiny, portable and fully deterministic (std distributions are not across libraries).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }

 private:
  std::uint64_t state_;
};

constexpr std::array<std::string_view, 40> kWords = {
    "the",     "model",  "token",   "Attention", "is",        "all",        "you",        "need",
    "we'll",   "don't",  "THEY'RE", "language",  "weights",   "inference",  "quickly",    "memory",
    "a",       "of",     "and",     "to",        "in",        "Llama",      "expert",     "routing",
    "context", "window", "Paris",   "résumé",    "naïve",     "café",       "über",       "it's",
    "I'M",     "rope",   "layer",   "sequence",  "benchmark", "throughput", "vocabulary", "merge"};

constexpr std::array<std::string_view, 8> kCodeLines = {
    "for (int i = 0; i < n; ++i) {\n",
    "    sum += weights[i] * x[i];  // dot product\n",
    "}\n",
    "def encode(self, text: str) -> list[int]:\n",
    "    return [self.ranks[p] for p in self.split(text)]\n",
    "\tif (err != nullptr) return -EINVAL;\n",
    "const auto it = std::find_if(v.begin(), v.end(), [](auto& e) { return e.ok; });\n",
    "    \"key\": {\"nested\": [1, 2, 3], \"flag\": true},\n"};

constexpr std::array<std::string_view, 8> kEmoji = {
    "😀", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "❤️", "🚀", "🧑🏿‍💻", "✨"};

void append_english(std::string& out, Rng& rng) {
  const std::size_t words = 20 + rng.below(60);
  for (std::size_t i = 0; i < words; ++i) {
    if (i) out += rng.below(12) == 0 ? ", " : " ";
    out += kWords[rng.below(kWords.size())];
  }
  out += rng.below(3) == 0 ? "?\n\n" : ".\n";
}

void append_code(std::string& out, Rng& rng) {
  const std::size_t lines = 3 + rng.below(10);
  for (std::size_t i = 0; i < lines; ++i) out += kCodeLines[rng.below(kCodeLines.size())];
  out += "\n";
}

void append_cjk(std::string& out, Rng& rng) {
  constexpr char32_t kHanFirst = 0x4E00, kHanCount = 0x51A5;  // CJK unified ideographs
  constexpr char32_t kKanaFirst = 0x3041, kKanaCount = 0x56;  // hiragana
  constexpr char32_t kHangulFirst = 0xAC00, kHangulCount = 0x2BA4;
  const std::size_t chars = 10 + rng.below(80);
  for (std::size_t i = 0; i < chars; ++i) {
    switch (rng.below(6)) {
      case 0:
        utf8::append_code_point(out, kKanaFirst + static_cast<char32_t>(rng.below(kKanaCount)));
        break;
      case 1:
        utf8::append_code_point(out, kHangulFirst + static_cast<char32_t>(rng.below(kHangulCount)));
        break;
      case 2:
        out += rng.below(2) ? "，" : "。";
        break;
      default:
        utf8::append_code_point(out, kHanFirst + static_cast<char32_t>(rng.below(kHanCount)));
    }
  }
  out += "\n";
}

void append_emoji(std::string& out, Rng& rng) {
  const std::size_t count = 1 + rng.below(8);
  for (std::size_t i = 0; i < count; ++i) {
    out += kEmoji[rng.below(kEmoji.size())];
    if (rng.below(2)) out += ' ';
  }
  out += "\n";
}

void append_numbers(std::string& out, Rng& rng) {
  const std::size_t count = 1 + rng.below(10);
  for (std::size_t i = 0; i < count; ++i) {
    // One rng call per statement: argument evaluation order is unspecified in C++.
    const std::uint64_t bits = 1 + rng.below(62);
    out += std::to_string(rng.next() % (1ull << bits));
    out += rng.below(4) == 0 ? ".5 " : " ";
  }
  const std::size_t run = 1 + rng.below(8);
  out += std::string(run, rng.below(2) ? ' ' : '\t');  // whitespace runs
  out += "\n";
}

// The same ~12 MB every run, on every machine.
const std::string& mixed_text() {
  static const std::string text = [] {
    std::string out;
    out.reserve(kTextBytes + 4096);
    Rng rng(kSeed);
    while (out.size() < kTextBytes) {
      switch (rng.below(10)) {
        case 0:
        case 1:
        case 2:
        case 3:
          append_english(out, rng);
          break;
        case 4:
        case 5:
          append_code(out, rng);
          break;
        case 6:
        case 7:
          append_cjk(out, rng);
          break;
        case 8:
          append_emoji(out, rng);
          break;
        default:
          append_numbers(out, rng);
      }
    }
    return out;
  }();
  return text;
}

std::filesystem::path tokenizer_model_file() {
  const char* shared = std::getenv("LLAMA4_SHARED_DIR");
  const std::filesystem::path dir =
      shared ? std::filesystem::path(shared)
             : std::filesystem::path(LLAMA4_BENCH_SOURCE_DIR) / ".." / "shared";
  return dir / "llama4-tokenizer" / "tokenizer.model";
}

const Tokenizer& tokenizer() {
  static const Tokenizer loaded = Tokenizer::load(tokenizer_model_file());
  return loaded;
}

void BM_EncodeMixedText(benchmark::State& state) {
  const std::string& text = mixed_text();
  const Tokenizer& tok = tokenizer();
  std::size_t tokens = 0;
  for (auto _ : state) {
    const auto ids = tok.encode(text);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.counters["MB"] = static_cast<double>(text.size()) / 1e6;
  state.counters["tokens"] = static_cast<double>(tokens);
}
BENCHMARK(BM_EncodeMixedText)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_LoadTokenizerModel(benchmark::State& state) {
  const auto path = tokenizer_model_file();
  for (auto _ : state) {
    Tokenizer loaded = Tokenizer::load(path);
    benchmark::DoNotOptimize(&loaded);
  }
}
BENCHMARK(BM_LoadTokenizerModel)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace
}  // namespace llama4

int main(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with(llama4::kWriteTextFlag)) {
      const std::string path(arg.substr(llama4::kWriteTextFlag.size()));
      std::ofstream out(path, std::ios::binary);
      out << llama4::mixed_text();
      if (!out) {
        std::cerr << "cannot write " << path << "\n";
        return 1;
      }
      std::cerr << "wrote " << llama4::mixed_text().size() << " bytes to " << path << "\n";
      continue;
    }
    args.push_back(argv[i]);
  }
  if (!std::filesystem::exists(llama4::tokenizer_model_file())) {
    std::cerr << "tokenizer.model not found at " << llama4::tokenizer_model_file()
              << " (set LLAMA4_SHARED_DIR)\n";
    return 1;
  }
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
