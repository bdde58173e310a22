// The OpenAI response shapes: chat.completion / text_completion objects, their streamed chunks
// (chat.completion.chunk with a delta; text_completion with text), usage, and the two logprobs
// layouts (chat: content[{token, logprob, bytes, top_logprobs}]; completions: tokens,
// token_logprobs, top_logprobs, text_offset).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "generate/sampler.h"
#include "server/completion_request.h"
#include "server/request_channel.h"
#include "tokenizer/tokenizer.h"

namespace llama4::server {

struct ResponseHeader {
  ApiKind kind = ApiKind::kChat;
  std::string id;  // "chatcmpl-…" or "cmpl-…"
  std::int64_t created = 0;
  std::string model;
};

// A fresh id with the endpoint's prefix and 24 random hex digits.
std::string new_response_id(ApiKind kind);

nlohmann::ordered_json usage_json(const TokenUsage& usage);

// Collects the per-token log-probabilities of some generated tokens.
class LogprobsBuilder {
 public:
  LogprobsBuilder(ApiKind kind, const Tokenizer& tokenizer) : kind_(kind), tokenizer_(&tokenizer) {}
  // `text_offset`: where the token's text starts in the completion (completions layout only).
  void add(const SampleResult& sample, std::size_t text_offset);
  bool empty() const { return entries_.empty(); }
  nlohmann::ordered_json json() const;

 private:
  ApiKind kind_;
  const Tokenizer* tokenizer_;
  nlohmann::ordered_json entries_ = nlohmann::ordered_json::array();
  nlohmann::ordered_json tokens_ = nlohmann::ordered_json::array();
  nlohmann::ordered_json token_logprobs_ = nlohmann::ordered_json::array();
  nlohmann::ordered_json top_ = nlohmann::ordered_json::array();
  nlohmann::ordered_json offsets_ = nlohmann::ordered_json::array();
};

// The whole answer of a non-streamed request. `logprobs`: null when not asked for.
nlohmann::ordered_json completion_json(const ResponseHeader& header, const std::string& text,
                                       FinishReason finish, const TokenUsage& usage,
                                       const nlohmann::ordered_json& logprobs);

// One streamed chunk. Chat: `role` adds "role": "assistant" to the delta; `text` becomes
// delta.content unless nullopt (the final chunk's delta is empty). `with_usage_null` adds
// "usage": null, as OpenAI does on every chunk when stream_options.include_usage is set.
nlohmann::ordered_json chunk_json(const ResponseHeader& header, bool role,
                                  const std::optional<std::string>& text,
                                  std::optional<FinishReason> finish,
                                  const nlohmann::ordered_json& logprobs, bool with_usage_null);

// The chunk after the final one when include_usage is set: empty choices and the usage.
nlohmann::ordered_json usage_chunk_json(const ResponseHeader& header, const TokenUsage& usage);

// JSON text with invalid UTF-8 (a token may hold half a character) replaced by U+FFFD.
std::string dump_json(const nlohmann::ordered_json& value);

}  // namespace llama4::server
