// The sampling defaults a model folder ships in `generation_config.json` (temperature, top_p,
// top_k, do_sample, eos_token_id), and the full set of token ids that end a generation.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "checkpoint/model_config.h"
#include "generate/sampler.h"

namespace llama4 {

class Tokenizer;

struct GenerationConfig {
  std::optional<float> temperature;
  std::optional<float> top_p;
  std::optional<std::int32_t> top_k;
  std::optional<float> min_p;
  std::optional<float> repetition_penalty;
  std::optional<bool> do_sample;  // false: greedy whatever the temperature
  std::vector<std::int64_t> eos_token_ids;

  // Reads `<dir>/generation_config.json`; a missing file gives an empty config. Throws Error
  // naming the file and field for malformed content.
  static GenerationConfig load(const std::filesystem::path& model_dir);
};

// Settings the user chose; unset fields fall back to generation_config.json, then to the
// engine's defaults (temperature 1, no filters).
struct SamplingOverrides {
  std::optional<float> temperature;
  std::optional<std::int32_t> top_k;
  std::optional<float> top_p;
  std::optional<float> min_p;
  std::optional<float> repeat_penalty;
};

SamplerSettings resolve_sampler_settings(const GenerationConfig& defaults,
                                         const SamplingOverrides& user, SamplerSettings base = {});

// Every id that ends a generation: config.json's eos_token_id, generation_config.json's, and the
// tokenizer's eos token (when there is a tokenizer). Sorted, without duplicates.
std::vector<std::int32_t> end_token_ids(const ModelConfig& config,
                                        const GenerationConfig& generation,
                                        const Tokenizer* tokenizer);

}  // namespace llama4
