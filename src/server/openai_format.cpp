// Building the OpenAI response objects.
#include "server/openai_format.h"

#include <random>

namespace llama4::server {
namespace {

using nlohmann::ordered_json;

constexpr int kIdHexDigits = 24;

const char* object_name(ApiKind kind, bool chunk) {
  if (kind == ApiKind::kCompletion) return "text_completion";
  return chunk ? "chat.completion.chunk" : "chat.completion";
}

ordered_json header_json(const ResponseHeader& h, bool chunk) {
  return {{"id", h.id},
          {"object", object_name(h.kind, chunk)},
          {"created", h.created},
          {"model", h.model},
          {"system_fingerprint", nullptr}};
}

ordered_json byte_list(const std::string& bytes) {
  ordered_json out = ordered_json::array();
  for (const char c : bytes) out.push_back(static_cast<unsigned char>(c));
  return out;
}

}  // namespace

std::string new_response_id(ApiKind kind) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = kind == ApiKind::kChat ? "chatcmpl-" : "cmpl-";
  for (int i = 0; i < kIdHexDigits; ++i) id += kHex[rng() % (sizeof kHex - 1)];
  return id;
}

ordered_json usage_json(const TokenUsage& usage) {
  return {{"prompt_tokens", usage.prompt_tokens},
          {"completion_tokens", usage.completion_tokens},
          {"total_tokens", usage.prompt_tokens + usage.completion_tokens}};
}

void LogprobsBuilder::add(const SampleResult& sample, std::size_t text_offset) {
  const std::string& token = tokenizer_->token_bytes(sample.id);
  if (kind_ == ApiKind::kChat) {
    ordered_json top = ordered_json::array();
    for (const TokenProbability& t : sample.top_logprobs) {
      const std::string& bytes = tokenizer_->token_bytes(t.id);
      top.push_back({{"token", bytes}, {"logprob", t.value}, {"bytes", byte_list(bytes)}});
    }
    entries_.push_back({{"token", token},
                        {"logprob", sample.logprob},
                        {"bytes", byte_list(token)},
                        {"top_logprobs", top}});
    return;
  }
  tokens_.push_back(token);
  token_logprobs_.push_back(sample.logprob);
  ordered_json top = ordered_json::object();
  for (const TokenProbability& t : sample.top_logprobs)
    top[tokenizer_->token_bytes(t.id)] = t.value;
  top_.push_back(top);
  offsets_.push_back(text_offset);
  entries_.push_back(nullptr);  // counts entries for empty()
}

ordered_json LogprobsBuilder::json() const {
  if (kind_ == ApiKind::kChat) return {{"content", entries_}, {"refusal", nullptr}};
  return {{"tokens", tokens_},
          {"token_logprobs", token_logprobs_},
          {"top_logprobs", top_},
          {"text_offset", offsets_}};
}

ordered_json completion_json(const ResponseHeader& header, const std::string& text,
                             FinishReason finish, const TokenUsage& usage,
                             const ordered_json& logprobs) {
  ordered_json out = header_json(header, false);
  ordered_json choice = {{"index", 0}};
  if (header.kind == ApiKind::kChat) {
    choice["message"] = {{"role", "assistant"}, {"content", text}, {"refusal", nullptr}};
  } else {
    choice["text"] = text;
  }
  choice["logprobs"] = logprobs;
  choice["finish_reason"] = finish_reason_name(finish);
  out["choices"] = ordered_json::array({choice});
  out["usage"] = usage_json(usage);
  return out;
}

ordered_json chunk_json(const ResponseHeader& header, bool role,
                        const std::optional<std::string>& text, std::optional<FinishReason> finish,
                        const ordered_json& logprobs, bool with_usage_null) {
  ordered_json out = header_json(header, true);
  ordered_json choice = {{"index", 0}};
  if (header.kind == ApiKind::kChat) {
    ordered_json delta = ordered_json::object();
    if (role) delta["role"] = "assistant";
    if (text) delta["content"] = *text;
    choice["delta"] = delta;
  } else {
    choice["text"] = text.value_or("");
  }
  choice["logprobs"] = logprobs;
  choice["finish_reason"] = finish ? ordered_json(finish_reason_name(*finish)) : nullptr;
  out["choices"] = ordered_json::array({choice});
  if (with_usage_null) out["usage"] = nullptr;
  return out;
}

ordered_json usage_chunk_json(const ResponseHeader& header, const TokenUsage& usage) {
  ordered_json out = header_json(header, true);
  out["choices"] = ordered_json::array();
  out["usage"] = usage_json(usage);
  return out;
}

std::string dump_json(const ordered_json& value) {
  return value.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

}  // namespace llama4::server
