// Chat formatting: turns OpenAI-shaped messages ({"role", "content" (string or a list of
// {"type": "text", "text"} / {"type": "image"} parts), "tool_calls", ...}) into the prompt text a
// Llama 4 model was trained on — by rendering the model's own Jinja chat template when it has one,
// and otherwise with the built-in Llama 4 format, which renders what the official template renders.
#pragma once

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace llama4::chat {

struct ChatRenderOptions {
  bool add_generation_prompt = true;  // end with an open assistant header
  std::string bos_token = "<|begin_of_text|>";
  std::string eos_token = "<|eot|>";
  // OpenAI tool definitions (a JSON array), or null for none.
  nlohmann::ordered_json tools = nullptr;
  // More template variables (e.g. "tools_in_user_message", "date_string"); members override the
  // variables above.
  nlohmann::ordered_json extra_context = nlohmann::ordered_json::object();
  // The time strftime_now() sees; the current time when unset.
  std::optional<std::chrono::system_clock::time_point> now;
};

// Renders `messages` (a JSON array) with `template_source`, or with the built-in Llama 4 format
// when it is nullopt. Key order of JSON objects is kept (it shows in tool definitions rendered as
// JSON). Throws llama4::Error for malformed messages and for template errors ("chat template line
// L: ...").
std::string render_chat(const std::optional<std::string>& template_source,
                        const nlohmann::ordered_json& messages,
                        const ChatRenderOptions& options = {});

// The variables render_chat gives a chat template: messages, add_generation_prompt, bos_token,
// eos_token, tools (null when none), then the members of options.extra_context.
nlohmann::ordered_json chat_template_context(const nlohmann::ordered_json& messages,
                                             const ChatRenderOptions& options);

// The built-in Llama 4 format: <|begin_of_text|>, then per message
// <|header_start|>{role}<|header_end|>\n\n{content}<|eot|>, then
// <|header_start|>assistant<|header_end|>\n\n when a generation prompt is asked for; tools, tool
// calls and tool results as the official template lays them out.
std::string render_builtin_llama4_chat(const nlohmann::ordered_json& messages,
                                       const ChatRenderOptions& options = {});

// What tokenizer_config.json says about chat formatting.
struct TokenizerChatConfig {
  std::optional<std::string> chat_template;
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
};

// Reads `model_dir`/tokenizer_config.json (a missing file gives an empty config). `chat_template`
// may be a string or a list of {"name", "template"}; from a list the "tool_use" template is chosen
// when `want_tool_use` and it exists, else "default". Token fields may be strings or
// {"content": ...} objects. Throws llama4::Error naming the file for malformed JSON or fields.
TokenizerChatConfig load_tokenizer_chat_config(const std::filesystem::path& model_dir,
                                               bool want_tool_use = false);

}  // namespace llama4::chat
