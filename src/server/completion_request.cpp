// Request-body validation for the completion endpoints. Absent and null fields take the model's
// generation_config.json defaults (then the engine's), as `llama4 generate` does, so the same
// settings give the same tokens from the server and from the command line.
#include "server/completion_request.h"

#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <string>

#include "chat/chat_format.h"
#include "server/api_error.h"
#include "util/error.h"

namespace llama4::server {
namespace {

using nlohmann::ordered_json;

const ordered_json* field(const ordered_json& body, const char* name) {
  const auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

std::string range_text(double lo, double hi) {
  char text[64];
  std::snprintf(text, sizeof text, "[%g, %g]", lo, hi);
  return text;
}

std::optional<double> number_field(const ordered_json& body, const char* name, double lo,
                                   double hi) {
  const ordered_json* v = field(body, name);
  if (!v) return std::nullopt;
  if (!v->is_number()) throw invalid_request("'" + std::string(name) + "' must be a number", name);
  const double x = v->get<double>();
  if (!(x >= lo && x <= hi))
    throw invalid_request(
        "'" + std::string(name) + "' is " + v->dump() + ", outside " + range_text(lo, hi), name);
  return x;
}

std::optional<std::int64_t> integer_field(const ordered_json& body, const char* name,
                                          std::int64_t lo, std::int64_t hi) {
  const ordered_json* v = field(body, name);
  if (!v) return std::nullopt;
  if (!v->is_number_integer())
    throw invalid_request("'" + std::string(name) + "' must be an integer", name);
  if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(hi))
    throw invalid_request(
        "'" + std::string(name) + "' is " + v->dump() + ", above " + std::to_string(hi), name);
  const std::int64_t x = v->get<std::int64_t>();
  if (x < lo || x > hi)
    throw invalid_request("'" + std::string(name) + "' is " + std::to_string(x) + ", outside [" +
                              std::to_string(lo) + ", " + std::to_string(hi) + "]",
                          name);
  return x;
}

bool bool_field(const ordered_json& body, const char* name) {
  const ordered_json* v = field(body, name);
  if (!v) return false;
  if (!v->is_boolean())
    throw invalid_request("'" + std::string(name) + "' must be a boolean", name);
  return v->get<bool>();
}

void check_object(const ordered_json& body) {
  if (!body.is_object()) throw invalid_request("the request body must be a JSON object");
}

void check_model(const ordered_json& body, const ServedModel& served) {
  const ordered_json* v = field(body, "model");
  if (!v) return;  // like llama.cpp's server: the one model serves requests that name none
  if (!v->is_string()) throw invalid_request("'model' must be a string", "model");
  if (v->get<std::string>() != served.name)
    throw ApiError(kStatusNotFound,
                   "The model '" + v->get<std::string>() + "' does not exist; this server runs '" +
                       served.name + "'",
                   "invalid_request_error", "model", "model_not_found");
}

std::vector<std::string> stop_strings(const ordered_json& body) {
  const ordered_json* v = field(body, "stop");
  if (!v) return {};
  std::vector<std::string> out;
  if (v->is_string()) {
    out.push_back(v->get<std::string>());
  } else if (v->is_array()) {
    if (v->size() > kMaxStopStrings)
      throw invalid_request("'stop' has " + std::to_string(v->size()) + " strings; at most " +
                                std::to_string(kMaxStopStrings) + " are allowed",
                            "stop");
    for (const auto& s : *v) {
      if (!s.is_string())
        throw invalid_request("'stop' must be a string or a list of strings", "stop");
      out.push_back(s.get<std::string>());
    }
  } else {
    throw invalid_request("'stop' must be a string or a list of strings", "stop");
  }
  for (const auto& s : out)
    if (s.empty()) throw invalid_request("'stop' strings must not be empty", "stop");
  return out;
}

std::map<std::int32_t, float> logit_bias(const ordered_json& body, const ServedModel& served) {
  const ordered_json* v = field(body, "logit_bias");
  if (!v) return {};
  if (!v->is_object())
    throw invalid_request("'logit_bias' must be an object of token id → bias", "logit_bias");
  const auto vocab = served.model->config().vocab_size;
  std::map<std::int32_t, float> out;
  for (const auto& [key, bias] : v->items()) {
    std::size_t used = 0;
    long long id = -1;
    try {
      id = std::stoll(key, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != key.size() || id < 0 || id >= vocab)
      throw invalid_request(
          "'logit_bias' key '" + key + "' is not a token id in [0, " + std::to_string(vocab) + ")",
          "logit_bias");
    if (!bias.is_number() || bias.get<double>() < -kMaxLogitBias ||
        bias.get<double>() > kMaxLogitBias)
      throw invalid_request("'logit_bias' value for token " + key + " must be a number in " +
                                range_text(-kMaxLogitBias, kMaxLogitBias),
                            "logit_bias");
    out[static_cast<std::int32_t>(id)] = bias.get<float>();
  }
  return out;
}

// The fields both endpoints share. `prompt` must already be set in request.job.
void parse_common(const ordered_json& body, const ServedModel& served, std::uint64_t random_seed,
                  CompletionRequest& request, const char* prompt_param) {
  if (const auto n = integer_field(body, "n", 1, 1); n && *n != 1)
    throw invalid_request("only 'n' = 1 is supported", "n");

  GenerationJob& job = request.job;
  const auto prompt_size = static_cast<std::int64_t>(job.prompt.size());
  if (prompt_size == 0) throw invalid_request("the prompt has no tokens", prompt_param);
  if (prompt_size >= served.context_size)
    throw invalid_request("the prompt has " + std::to_string(prompt_size) +
                              " tokens but the context holds " +
                              std::to_string(served.context_size) +
                              " (leaving room for at least one generated token)",
                          prompt_param, "context_length_exceeded");

  const std::int64_t room = served.context_size - prompt_size;
  std::optional<std::int64_t> max_tokens;
  const char* max_name = "max_tokens";
  if (request.kind == ApiKind::kChat && field(body, "max_completion_tokens")) {
    max_name = "max_completion_tokens";
  }
  max_tokens = integer_field(body, max_name, 1, std::numeric_limits<std::int64_t>::max());
  job.max_tokens = max_tokens ? std::min(*max_tokens, room) : room;

  SamplingOverrides overrides;
  if (const auto t = number_field(body, "temperature", 0.0, kMaxTemperature))
    overrides.temperature = static_cast<float>(*t);
  if (const auto p = number_field(body, "top_p", 0.0, 1.0))
    overrides.top_p = static_cast<float>(*p);
  if (const auto k = integer_field(body, "top_k", -1, std::numeric_limits<std::int32_t>::max()))
    overrides.top_k = static_cast<std::int32_t>(std::max<std::int64_t>(*k, 0));
  if (const auto m = number_field(body, "min_p", 0.0, 1.0))
    overrides.min_p = static_cast<float>(*m);
  if (const auto r = number_field(body, "repetition_penalty", 0.0, kMaxTemperature * 5)) {
    if (*r <= 0.0)
      throw invalid_request("'repetition_penalty' must be above 0", "repetition_penalty");
    overrides.repeat_penalty = static_cast<float>(*r);
  }
  SamplerSettings base;
  base.repeat_last_n = kDefaultRepeatLastN;
  if (const auto p = number_field(body, "presence_penalty", -kMaxPenalty, kMaxPenalty))
    base.presence_penalty = static_cast<float>(*p);
  if (const auto f = number_field(body, "frequency_penalty", -kMaxPenalty, kMaxPenalty))
    base.frequency_penalty = static_cast<float>(*f);
  base.logit_bias = logit_bias(body, served);
  const auto seed = integer_field(body, "seed", std::numeric_limits<std::int64_t>::min(),
                                  std::numeric_limits<std::int64_t>::max());
  base.seed = seed ? static_cast<std::uint64_t>(*seed) : random_seed;
  job.sampling = resolve_sampler_settings(served.generation, overrides, base);
  job.stop_strings = stop_strings(body);

  request.stream = bool_field(body, "stream");
  if (const ordered_json* options = field(body, "stream_options")) {
    if (!options->is_object())
      throw invalid_request("'stream_options' must be an object", "stream_options");
    request.include_usage = bool_field(*options, "include_usage");
  }
}

std::vector<std::int32_t> encode_text(const std::string& text, const ServedModel& served) {
  const Tokenizer& tokenizer = *served.tokenizer;
  return tokenizer.encode(
      text, {.add_bos = tokenizer.settings().add_bos_token && tokenizer.bos_id().has_value()});
}

}  // namespace

std::string render_chat_prompt(const ordered_json& body, const ServedModel& served) {
  const ordered_json* messages = field(body, "messages");
  if (!messages) throw invalid_request("'messages' is required", "messages");
  if (!messages->is_array() || messages->empty())
    throw invalid_request("'messages' must be a non-empty list of messages", "messages");
  ordered_json clean = ordered_json::array();
  for (std::size_t i = 0; i < messages->size(); ++i) {
    const std::string where = "messages[" + std::to_string(i) + "]";
    ordered_json m = (*messages)[i];
    if (!m.is_object()) throw invalid_request(where + " must be an object", where);
    if (!m.contains("role") || !m["role"].is_string())
      throw invalid_request(where + ".role must be a string", where + ".role");
    std::string role = m["role"].get<std::string>();
    if (role == "developer") role = "system";  // newer OpenAI clients' name for it
    if (role != "system" && role != "user" && role != "assistant" && role != "tool" &&
        role != "ipython")
      throw invalid_request(
          where + ".role '" + role + "' is not one of system, developer, user, assistant, tool",
          where + ".role");
    m["role"] = role;
    const ordered_json* content = field(m, "content");
    if (!content) {
      if (role != "assistant" || !m.contains("tool_calls"))
        throw invalid_request(where + ".content is required", where + ".content");
    } else if (content->is_array()) {
      for (const auto& part : *content) {
        if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
          throw invalid_request(where + ".content parts must be objects with a 'type'",
                                where + ".content");
        if (part["type"] != "text")
          throw invalid_request(where + ".content part type '" + part["type"].get<std::string>() +
                                    "' is not supported (text only)",
                                where + ".content");
        if (!part.contains("text") || !part["text"].is_string())
          throw invalid_request(where + ".content text parts need a string 'text'",
                                where + ".content");
      }
    } else if (!content->is_string()) {
      throw invalid_request(where + ".content must be a string or a list of parts",
                            where + ".content");
    }
    clean.push_back(std::move(m));
  }
  chat::ChatRenderOptions render;
  const TokenizerSettings& settings = served.tokenizer->settings();
  if (settings.bos_token) render.bos_token = *settings.bos_token;
  if (settings.eos_token) render.eos_token = *settings.eos_token;
  if (const ordered_json* tools = field(body, "tools")) {
    if (!tools->is_array()) throw invalid_request("'tools' must be a list", "tools");
    render.tools = *tools;
  }
  try {
    return chat::render_chat(settings.chat_template, clean, render);
  } catch (const Error& e) {
    throw invalid_request(
        std::string("the chat template could not render the messages: ") + e.what(), "messages");
  }
}

CompletionRequest parse_chat_request(const ordered_json& body, const ServedModel& served,
                                     std::uint64_t random_seed) {
  check_object(body);
  check_model(body, served);
  CompletionRequest request;
  request.kind = ApiKind::kChat;
  request.job.prompt =
      served.tokenizer->encode(render_chat_prompt(body, served), {.parse_special = true});
  parse_common(body, served, random_seed, request, "messages");
  request.logprobs = bool_field(body, "logprobs");
  const auto top = integer_field(body, "top_logprobs", 0, kMaxTopLogprobs);
  if (top && !request.logprobs)
    throw invalid_request("'top_logprobs' needs 'logprobs' set to true", "top_logprobs");
  request.job.sampling.top_logprobs = static_cast<std::int32_t>(top.value_or(0));
  return request;
}

CompletionRequest parse_completion_request(const ordered_json& body, const ServedModel& served,
                                           std::uint64_t random_seed) {
  check_object(body);
  check_model(body, served);
  CompletionRequest request;
  request.kind = ApiKind::kCompletion;
  const ordered_json* prompt = field(body, "prompt");
  if (!prompt) throw invalid_request("'prompt' is required", "prompt");
  const auto vocab = served.model->config().vocab_size;
  if (prompt->is_string()) {
    request.job.prompt = encode_text(prompt->get<std::string>(), served);
  } else if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string()) {
    request.job.prompt = encode_text((*prompt)[0].get<std::string>(), served);
  } else if (prompt->is_array() && !prompt->empty() && (*prompt)[0].is_number_integer()) {
    for (const auto& id : *prompt) {
      if (!id.is_number_integer() || id.get<std::int64_t>() < 0 || id.get<std::int64_t>() >= vocab)
        throw invalid_request(
            "'prompt' token ids must be integers in [0, " + std::to_string(vocab) + ")", "prompt");
      request.job.prompt.push_back(id.get<std::int32_t>());
    }
  } else {
    throw invalid_request("'prompt' must be a string, a list of one string, or a list of token ids",
                          "prompt");
  }
  parse_common(body, served, random_seed, request, "prompt");
  if (const auto n = integer_field(body, "logprobs", 0, kMaxCompletionLogprobs)) {
    request.logprobs = true;
    request.job.sampling.top_logprobs = static_cast<std::int32_t>(*n);
  }
  if (bool_field(body, "echo")) throw invalid_request("'echo' is not supported", "echo");
  return request;
}

}  // namespace llama4::server
