// Shared flags and model loading for `llama4 generate` and `llama4 chat`.
#include "generation_flags.h"

#include <omp.h>

#include <cstdio>
#include <random>

#include "generate/demo_model.h"
#include "util/error.h"
#include "util/progress.h"

namespace llama4::cli {

void add_generation_flags(CLI::App& cmd, GenerationFlags& f) {
  cmd.add_option("-m,--model", f.model_dir, "Model folder (config.json, *.safetensors, tokenizer)")
      ->required();
  cmd.add_option("-n,--max-tokens", f.max_tokens, "Most tokens to generate")->capture_default_str();
  cmd.add_option("--temp", f.overrides.temperature,
                 "Temperature (0: greedy; default: generation_config.json, else 1)");
  cmd.add_option("--top-k", f.overrides.top_k, "Keep the k most likely tokens (0: off)");
  cmd.add_option("--top-p", f.overrides.top_p, "Nucleus sampling threshold (1: off)");
  cmd.add_option("--min-p", f.overrides.min_p,
                 "Drop tokens below min-p × the top probability (0: off)");
  cmd.add_option("--repeat-penalty", f.overrides.repeat_penalty,
                 "Penalty for recent tokens (1: off)");
  cmd.add_option("--repeat-last-n", f.repeat_last_n,
                 "Window of recent tokens the penalties see (-1: all)")
      ->capture_default_str();
  cmd.add_option("--presence-penalty", f.presence_penalty,
                 "Subtracted once from every recent token's logit");
  cmd.add_option("--frequency-penalty", f.frequency_penalty,
                 "Subtracted per occurrence of a recent token");
  cmd.add_option("--seed", f.seed, "Random seed (default: random)");
  cmd.add_option("--stop", f.stop_strings, "Stop at this text (repeatable; not printed)");
  cmd.add_option("-t,--threads", f.threads, "Threads (default: all cores)");
  cmd.add_option("-c,--ctx-size", f.context_size,
                 "Context size (default: min(4096, the model's maximum))");
  add_kv_type_flag(cmd, f.kv_type);
  add_activations_flag(cmd, f.activations);
  cmd.add_flag("--truncate", f.truncate_prompt,
               "Drop the oldest prompt tokens when the prompt does not fit");
  cmd.add_flag("-q,--quiet", f.quiet, "Print only the generated text");
}

LoadedModel load_for_generation(const GenerationFlags& flags) {
  LoadedModel loaded;
  loaded.dir = flags.model_dir;
  std::error_code ec;
  if (!std::filesystem::is_directory(loaded.dir, ec))
    throw Error("model folder '" + flags.model_dir + "' does not exist or is not a folder");
  if (flags.threads > 0) omp_set_num_threads(flags.threads);
  loaded.demo = is_demo_model(loaded.dir);
  if (loaded.demo && !flags.quiet)
    std::fprintf(stderr, "note: %s is a %s\n", flags.model_dir.c_str(), kDemoModelNotice);
  set_progress_suppressed(flags.quiet);  // the loading bar (shown only on a terminal)
  loaded.model = Model::load(loaded.dir);
  apply_activations_flag(*loaded.model, flags.activations, flags.quiet);
  if (Tokenizer::available(loaded.dir)) loaded.tokenizer.emplace(Tokenizer::load(loaded.dir));
  loaded.generation = GenerationConfig::load(loaded.dir);
  const std::int64_t max_positions = loaded.model->config().max_position_embeddings;
  loaded.context_size = flags.context_size > 0 ? std::min(flags.context_size, max_positions)
                                               : std::min(kDefaultContextCap, max_positions);
  return loaded;
}

GenerateOptions generate_options(const GenerationFlags& flags, const LoadedModel& loaded) {
  GenerateOptions options;
  if (flags.max_tokens < 0)
    throw Error("-n/--max-tokens " + std::to_string(flags.max_tokens) + ": must not be negative");
  options.max_tokens = flags.max_tokens;
  options.stop_strings = flags.stop_strings;
  options.truncate_prompt = flags.truncate_prompt;
  options.end_token_ids = end_token_ids(loaded.model->config(), loaded.generation,
                                        loaded.tokenizer ? &*loaded.tokenizer : nullptr);
  SamplerSettings base;
  base.repeat_last_n = flags.repeat_last_n;
  base.presence_penalty = flags.presence_penalty;
  base.frequency_penalty = flags.frequency_penalty;
  base.seed = flags.seed ? *flags.seed : std::random_device{}();
  options.sampling = resolve_sampler_settings(loaded.generation, flags.overrides, base);
  return options;
}

std::string timings_line(const GenerationTimings& t) {
  char line[256];
  std::snprintf(line, sizeof line,
                "prompt: %lld tokens (%lld cached), %.1f tok/s | generated: %lld tokens, %.1f "
                "tok/s | first token %.3f s",
                static_cast<long long>(t.prompt_tokens), static_cast<long long>(t.reused_tokens),
                t.prompt_tokens_per_second(), static_cast<long long>(t.generated_tokens),
                t.generation_tokens_per_second(), t.time_to_first_token);
  return line;
}

}  // namespace llama4::cli
