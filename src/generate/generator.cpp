// Generator implementation: prefix reuse, one batched prefill, then the sample → feed loop with
// end-token, stop-string, length and context checks.
#include "generate/generator.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "generate/stop_matcher.h"
#include "util/error.h"

namespace llama4 {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::size_t common_prefix(std::span<const std::int32_t> a, std::span<const std::int32_t> b) {
  const std::size_t n = std::min(a.size(), b.size());
  std::size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::kEndToken:
      return "eos";
    case StopReason::kStopString:
      return "stop";
    case StopReason::kLength:
      return "length";
    case StopReason::kContextFull:
      return "context";
    case StopReason::kInterrupted:
      return "interrupted";
  }
  return "unknown";
}

double GenerationTimings::prompt_tokens_per_second() const {
  const std::int64_t processed = prompt_tokens - reused_tokens;
  return prompt_seconds > 0.0 ? static_cast<double>(processed) / prompt_seconds : 0.0;
}

double GenerationTimings::generation_tokens_per_second() const {
  // The first token comes from the prefill; the rate counts the ones after it.
  return generation_seconds > 0.0 && generated_tokens > 1
             ? static_cast<double>(generated_tokens - 1) / generation_seconds
             : 0.0;
}

Generator::Generator(const Model& model, const Tokenizer* tokenizer, std::int64_t context_size,
                     KvType kv_type)
    : model_(&model), tokenizer_(tokenizer), state_(model, context_size, kv_type) {}

void Generator::reset() {
  state_.reset();
  cached_.clear();
}

void Generator::prefill(std::span<const std::int32_t> prompt, GenerationTimings& timings,
                        std::vector<float>& logits) {
  // Reuse the cached prefix, but always feed at least the last prompt token: its logits are needed.
  std::size_t reuse = std::min(common_prefix(cached_, prompt), prompt.size() - 1);
  if (!state_.rewind(static_cast<std::int64_t>(reuse))) {
    state_.reset();
    reuse = 0;
  }
  cached_.resize(reuse);
  timings.reused_tokens = static_cast<std::int64_t>(reuse);
  const auto start = Clock::now();
  model_->forward(prompt.subspan(reuse), state_, LogitsFor::kLastPosition, logits);
  timings.prompt_seconds = seconds_since(start);
  cached_.assign(prompt.begin(), prompt.end());
}

GenerationResult Generator::generate(std::span<const std::int32_t> prompt_in,
                                     const GenerateOptions& options,
                                     const TokenCallback& on_token) {
  const auto call_start = Clock::now();
  if (prompt_in.empty()) throw Error("generate: the prompt has no tokens");
  if (!options.stop_strings.empty() && !tokenizer_)
    throw Error("generate: stop strings need a tokenizer, and this model folder has none");
  const std::int64_t vocab = model_->config().vocab_size;
  for (const std::int32_t id : prompt_in)
    if (id < 0 || id >= vocab)
      throw Error("generate: prompt token id " + std::to_string(id) +
                  " is outside the vocabulary [0, " + std::to_string(vocab) + ")");

  GenerationResult result;
  const std::int64_t context = state_.context_size();
  std::span<const std::int32_t> prompt = prompt_in;
  const auto length = static_cast<std::int64_t>(prompt.size());
  if (length >= context) {
    if (!options.truncate_prompt)
      throw Error("the prompt has " + std::to_string(length) + " tokens but the context holds " +
                  std::to_string(context) + " (leaving room for at least one generated token); " +
                  "use a larger context (-c) or a shorter prompt");
    // Keep the newest tokens, leaving room to generate: half the context or max_tokens if smaller.
    const std::int64_t room = std::max<std::int64_t>(1, std::min(options.max_tokens, context / 2));
    result.truncated_tokens = length - (context - room);
    prompt = prompt.subspan(static_cast<std::size_t>(result.truncated_tokens));
  }

  Sampler sampler(options.sampling);
  for (const std::int32_t id : prompt) sampler.accept(id);
  std::optional<StreamingDecoder> decoder;
  if (tokenizer_) decoder.emplace(*tokenizer_);
  StopMatcher stops(options.stop_strings);

  GenerationTimings& timings = result.timings;
  timings.prompt_tokens = static_cast<std::int64_t>(prompt.size());
  std::vector<float> logits;
  prefill(prompt, timings, logits);

  const auto is_end = [&](std::int32_t id) {
    return std::find(options.end_token_ids.begin(), options.end_token_ids.end(), id) !=
           options.end_token_ids.end();
  };
  auto emit = [&](std::int32_t id, const std::string& text, const SampleResult& sample) {
    result.text += text;
    return on_token ? on_token(TokenEvent{id, text, sample}) : true;
  };

  Clock::time_point first_token_time = Clock::now();
  result.stop_reason = StopReason::kLength;
  std::int32_t next_id[1];
  for (std::int64_t step = 0; step < options.max_tokens; ++step) {
    const SampleResult sample = sampler.sample(logits);
    if (step == 0) {
      first_token_time = Clock::now();
      timings.time_to_first_token =
          std::chrono::duration<double>(first_token_time - call_start).count();
    }
    ++timings.generated_tokens;
    result.ids.push_back(sample.id);
    result.samples.push_back(sample);
    sampler.accept(sample.id);
    if (is_end(sample.id)) {
      result.stop_reason = StopReason::kEndToken;
      emit(sample.id, {}, sample);
      break;
    }
    std::string piece;
    if (decoder) {
      const StopMatcher::Step checked = stops.push(decoder->push(sample.id));
      piece = checked.text;
      if (checked.stopped) {
        result.stop_reason = StopReason::kStopString;
        emit(sample.id, piece, sample);
        break;
      }
    }
    if (!emit(sample.id, piece, sample)) {
      result.stop_reason = StopReason::kInterrupted;
      break;
    }
    if (step + 1 == options.max_tokens) break;
    if (state_.position() >= context) {
      result.stop_reason = StopReason::kContextFull;
      break;
    }
    next_id[0] = sample.id;
    model_->forward(next_id, state_, LogitsFor::kLastPosition, logits);
    cached_.push_back(sample.id);
  }
  timings.generation_seconds = seconds_since(first_token_time);
  if (decoder && result.stop_reason != StopReason::kStopString) {
    const StopMatcher::Step tail = stops.push(decoder->flush());
    std::string rest = tail.text;
    if (tail.stopped)
      result.stop_reason = StopReason::kStopString;
    else
      rest += stops.finish();
    result.text += rest;
    if (!rest.empty() && on_token && !result.ids.empty())
      on_token(TokenEvent{result.ids.back(), rest, result.samples.back()});
  }
  return result;
}

}  // namespace llama4
