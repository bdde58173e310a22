// What `llama4 generate` and `llama4 chat` share: the sampling / length / thread flags, loading a
// model folder with its tokenizer and generation defaults, and turning the flags into
// GenerateOptions.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "generate/generation_config.h"
#include "generate/generator.h"
#include "model/model.h"
#include "precision_flags.h"
#include "tokenizer/tokenizer.h"

namespace llama4::cli {

inline constexpr std::int64_t kDefaultMaxTokens = 256;
inline constexpr std::int64_t kDefaultContextCap = 4096;  // default -c: min(this, model's maximum)

struct GenerationFlags {
  std::string model_dir;
  std::int64_t max_tokens = kDefaultMaxTokens;
  SamplingOverrides overrides;
  std::int32_t repeat_last_n = 64;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  std::optional<std::uint64_t> seed;
  std::vector<std::string> stop_strings;
  int threads = 0;
  std::int64_t context_size = 0;
  KvType kv_type = KvType::kF32;
  QuantizedActivations activations = QuantizedActivations::kAuto;
  bool truncate_prompt = false;
  bool quiet = false;
};

// Declares -m, -n, --temp, --top-k, --top-p, --min-p, --repeat-penalty, --repeat-last-n,
// --presence-penalty, --frequency-penalty, --seed, --stop, -t, -c, --kv-type, --activations,
// --truncate, --quiet.
void add_generation_flags(CLI::App& cmd, GenerationFlags& flags);

struct LoadedModel {
  std::filesystem::path dir;
  std::unique_ptr<Model> model;
  std::optional<Tokenizer> tokenizer;  // absent when the folder has no tokenizer files
  GenerationConfig generation;
  bool demo = false;
  std::int64_t context_size = 0;  // resolved -c
};

// Loads the folder (with a clear message for a missing folder), applies -t, and says on stderr
// when it is the demo model. The tokenizer is loaded when the folder has one.
LoadedModel load_for_generation(const GenerationFlags& flags);

// Sampling settings, end tokens and limits from the flags and the folder's defaults.
GenerateOptions generate_options(const GenerationFlags& flags, const LoadedModel& loaded);

// "prompt: 12 tokens (3 cached), 150.2 tok/s | generated: 20 tokens, 55.1 tok/s | first token 0.08
// s"
std::string timings_line(const GenerationTimings& timings);

}  // namespace llama4::cli
