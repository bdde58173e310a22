// Generator: one sequence's conversation with the model — prompt ids in, streamed tokens out.
//
// It owns the sequence's InferenceState and remembers which token ids the KV caches hold, so a
// new prompt that starts with the same tokens (the next turn of a chat, a prompt-cache hit) only
// processes the part that differs: the state is rewound to the longest common prefix and the rest
// is prefilled in one batch. Each generated token is then fed back one at a time through the
// caches; nothing is recomputed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "generate/sampler.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace llama4 {

enum class StopReason { kEndToken, kStopString, kLength, kContextFull, kInterrupted };
// "eos", "stop", "length", "context", "interrupted"
const char* stop_reason_name(StopReason reason);

struct GenerateOptions {
  std::int64_t max_tokens = 256;
  std::vector<std::string> stop_strings;    // need a tokenizer; never part of the output
  std::vector<std::int32_t> end_token_ids;  // see end_token_ids() in generation_config.h
  bool truncate_prompt = false;  // a prompt that does not fit: drop its oldest tokens (else Error)
  SamplerSettings sampling;
};

struct GenerationTimings {
  std::int64_t prompt_tokens = 0;     // tokens of the prompt
  std::int64_t reused_tokens = 0;     // of those, found already in the KV caches
  double prompt_seconds = 0.0;        // prefill of the tokens not reused
  std::int64_t generated_tokens = 0;  // tokens sampled (the end token included)
  double generation_seconds = 0.0;    // after the first token
  double time_to_first_token = 0.0;   // seconds from the call to the first sampled token

  double prompt_tokens_per_second() const;
  double generation_tokens_per_second() const;
};

struct GenerationResult {
  std::vector<std::int32_t> ids;  // generated ids (an end token that stopped it included)
  std::string text;               // the text shown (without stop strings or end tokens)
  StopReason stop_reason = StopReason::kLength;
  GenerationTimings timings;
  std::vector<SampleResult> samples;  // per generated id: log-probabilities
  std::int64_t truncated_tokens = 0;  // prompt tokens dropped by truncate_prompt
};

// Called once per generated token with the text that became printable (possibly empty). Return
// false to stop (StopReason::kInterrupted).
struct TokenEvent {
  std::int32_t id;
  std::string_view text;
  const SampleResult& sample;
};
using TokenCallback = std::function<bool(const TokenEvent&)>;

class Generator {
 public:
  // `tokenizer` may be null (ids in, ids out; stop strings are then refused). Both must outlive
  // the Generator. context_size ≤ 0: the model's max_position_embeddings.
  Generator(const Model& model, const Tokenizer* tokenizer, std::int64_t context_size,
            KvType kv_type = KvType::kF32);

  GenerationResult generate(std::span<const std::int32_t> prompt, const GenerateOptions& options,
                            const TokenCallback& on_token = {});

  // Forgets the cached tokens (the next prompt is processed in full).
  void reset();
  // The token ids whose keys and values the caches hold, in order.
  const std::vector<std::int32_t>& cached_tokens() const { return cached_; }
  std::int64_t context_size() const { return state_.context_size(); }
  const Model& model() const { return *model_; }
  InferenceState& state() { return state_; }
  // Declares that the caches hold `tokens` (after restoring them from a prompt cache).
  void set_cached_tokens(std::vector<std::int32_t> tokens) { cached_ = std::move(tokens); }

 private:
  // Brings the caches to hold `prompt` minus its last token... then feeds the rest; returns the
  // logits of the prompt's last position.
  void prefill(std::span<const std::int32_t> prompt, GenerationTimings& timings,
               std::vector<float>& logits);

  const Model* model_;
  const Tokenizer* tokenizer_;
  InferenceState state_;
  std::vector<std::int32_t> cached_;
};

}  // namespace llama4
