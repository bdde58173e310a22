// Parsing and validating the bodies of POST /v1/chat/completions and POST /v1/completions into a
// GenerationJob plus the response options (stream, usage, logprobs). Every problem — a wrong type,
// a value out of range, an unknown model, a prompt longer than the context — is an ApiError that
// names the field, so the client learns exactly what to fix.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "server/scheduler.h"
#include "server/served_model.h"

namespace llama4::server {

enum class ApiKind { kChat, kCompletion };

// Limits on request fields (the OpenAI API's where it has them).
inline constexpr double kMaxTemperature = 2.0;
inline constexpr double kMaxPenalty = 2.0;  // presence / frequency penalty, either sign
inline constexpr double kMaxLogitBias = 100.0;
inline constexpr std::int64_t kMaxTopLogprobs = 20;        // chat: top_logprobs
inline constexpr std::int64_t kMaxCompletionLogprobs = 5;  // completions: logprobs
inline constexpr std::size_t kMaxStopStrings = 16;
inline constexpr std::int32_t kDefaultRepeatLastN = 64;

struct CompletionRequest {
  ApiKind kind = ApiKind::kChat;
  GenerationJob job;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool logprobs = false;
};

// `random_seed` is used when the request has no "seed".
CompletionRequest parse_chat_request(const nlohmann::ordered_json& body, const ServedModel& served,
                                     std::uint64_t random_seed);
CompletionRequest parse_completion_request(const nlohmann::ordered_json& body,
                                           const ServedModel& served, std::uint64_t random_seed);

// The prompt text the chat template makes of `messages` (validated; "developer" becomes "system").
std::string render_chat_prompt(const nlohmann::ordered_json& body, const ServedModel& served);

}  // namespace llama4::server
