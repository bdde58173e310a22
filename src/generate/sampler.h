// Sampler: turns one position's logits into the next token id.
//
// The pipeline follows Hugging Face transformers (whose generation_config.json supplies the
// defaults) in its order of steps:
//   logit bias → repetition / presence / frequency penalties (over the last `repeat_last_n` tokens)
//   → greedy argmax when temperature ≤ 0, else: divide by temperature → softmax → top-k → top-p
//   → min-p → renormalize → draw with a seeded 64-bit Mersenne Twister.
// The same seed and settings give the same tokens on the same build.
//
// Log-probabilities (when asked for) are the log-softmax of the model's raw logits — the model's
// own distribution, independent of sampling settings — as the OpenAI API reports them.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <random>
#include <span>
#include <vector>

namespace llama4 {

using SampledToken = std::int32_t;

struct SamplerSettings {
  float temperature = 1.0f;     // ≤ 0: greedy (argmax, ties to the lower id)
  std::int32_t top_k = 0;       // keep the k most likely tokens; ≤ 0: off
  float top_p = 1.0f;           // keep the smallest set whose probability reaches top_p; ≥ 1: off
  float min_p = 0.0f;           // drop tokens below min_p × the top probability; ≤ 0: off
  float repeat_penalty = 1.0f;  // CTRL-style: positive logits ÷ p, negative × p; 1: off
  std::int32_t repeat_last_n = 64;  // penalty window (recent tokens); 0: off, < 0: everything seen
  float presence_penalty = 0.0f;    // subtracted once from every token in the window
  float frequency_penalty = 0.0f;   // subtracted per occurrence in the window
  std::map<std::int32_t, float> logit_bias;  // added to the raw logit of the token
  std::uint64_t seed = 0;
  std::int32_t top_logprobs = 0;  // report this many most likely tokens per step
};

struct TokenProbability {
  std::int32_t id;
  float value;  // a probability or a log-probability, as the producer says
};

struct SampleResult {
  std::int32_t id = 0;
  float logprob = 0.0f;                        // of `id` under the raw-logit distribution
  std::vector<TokenProbability> top_logprobs;  // most likely first (only if asked for)
};

class Sampler {
 public:
  // Throws Error for settings outside their ranges (negative temperature is allowed: greedy).
  explicit Sampler(SamplerSettings settings);

  const SamplerSettings& settings() const { return settings_; }

  // Picks the next token from `logits` (one row of vocab_size values). Does not record it: call
  // accept() with the token that is actually kept.
  SampleResult sample(std::span<const float> logits);

  // The probabilities sample() draws from (after every filter, renormalized, most likely first).
  // For greedy settings: the argmax with probability 1.
  std::vector<TokenProbability> distribution(std::span<const float> logits) const;

  // Records a token for the penalties (prompt tokens too, as llama.cpp does).
  void accept(std::int32_t id);
  // Forgets the penalty history and restarts the random stream from the seed.
  void reset();

 private:
  std::vector<float> adjusted_logits(std::span<const float> logits) const;
  double next_uniform();  // in [0, 1), identical on every platform for a given seed

  SamplerSettings settings_;
  std::deque<std::int32_t> recent_;
  std::mt19937_64 rng_;
};

}  // namespace llama4
