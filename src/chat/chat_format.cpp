// render_chat (template or built-in format) and reading the chat fields of tokenizer_config.json.
#include "chat/chat_format.h"

#include <fstream>
#include <sstream>

#include "chat/chat_template.h"
#include "util/error.h"

namespace llama4::chat {
namespace {

void validate_messages(const nlohmann::ordered_json& messages) {
  if (!messages.is_array())
    throw Error("chat messages must be a JSON array, got " + std::string(messages.type_name()));
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const auto& message = messages[i];
    if (!message.is_object())
      throw Error("chat message " + std::to_string(i) + " must be a JSON object, got " +
                  message.type_name());
    if (!message.contains("role") || !message["role"].is_string())
      throw Error("chat message " + std::to_string(i) + " has no string field 'role'");
  }
}

std::optional<std::string> token_text(const nlohmann::ordered_json& config, const char* field,
                                      const std::filesystem::path& path) {
  if (!config.contains(field) || config[field].is_null()) return std::nullopt;
  const auto& value = config[field];
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("content") && value["content"].is_string())
    return value["content"].get<std::string>();
  throw Error(path.string() + ": field '" + field +
              "' must be a string or an object with a string 'content'");
}

}  // namespace

std::string render_chat(const std::optional<std::string>& template_source,
                        const nlohmann::ordered_json& messages, const ChatRenderOptions& options) {
  validate_messages(messages);
  if (!options.extra_context.is_object()) throw Error("chat extra_context must be a JSON object");
  if (!template_source) return render_builtin_llama4_chat(messages, options);
  return ChatTemplate(*template_source)
      .render(chat_template_context(messages, options),
              options.now.value_or(std::chrono::system_clock::now()));
}

nlohmann::ordered_json chat_template_context(const nlohmann::ordered_json& messages,
                                             const ChatRenderOptions& options) {
  nlohmann::ordered_json context = {
      {"messages", messages},           {"add_generation_prompt", options.add_generation_prompt},
      {"bos_token", options.bos_token}, {"eos_token", options.eos_token},
      {"tools", options.tools},
  };
  for (const auto& [key, value] : options.extra_context.items()) context[key] = value;
  return context;
}

TokenizerChatConfig load_tokenizer_chat_config(const std::filesystem::path& model_dir,
                                               bool want_tool_use) {
  const auto path = model_dir / "tokenizer_config.json";
  TokenizerChatConfig result;
  std::ifstream file(path, std::ios::binary);
  if (!file) return result;
  std::stringstream text;
  text << file.rdbuf();
  nlohmann::ordered_json config;
  try {
    config = nlohmann::ordered_json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    throw Error(path.string() + ": invalid JSON: " + e.what());
  }
  if (!config.is_object()) throw Error(path.string() + ": expected a JSON object at the top level");
  result.bos_token = token_text(config, "bos_token", path);
  result.eos_token = token_text(config, "eos_token", path);
  if (!config.contains("chat_template") || config["chat_template"].is_null()) return result;
  const auto& chat_template = config["chat_template"];
  if (chat_template.is_string()) {
    result.chat_template = chat_template.get<std::string>();
    return result;
  }
  if (!chat_template.is_array())
    throw Error(path.string() +
                ": field 'chat_template' must be a string or a list of {name, template}");
  std::optional<std::string> default_template;
  std::optional<std::string> tool_use_template;
  for (const auto& entry : chat_template) {
    if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() ||
        !entry.contains("template") || !entry["template"].is_string())
      throw Error(path.string() +
                  ": every entry of 'chat_template' needs string fields 'name' and 'template'");
    const auto name = entry["name"].get<std::string>();
    if (name == "default") default_template = entry["template"].get<std::string>();
    if (name == "tool_use") tool_use_template = entry["template"].get<std::string>();
  }
  if (want_tool_use && tool_use_template) {
    result.chat_template = tool_use_template;
  } else if (default_template) {
    result.chat_template = default_template;
  } else {
    throw Error(path.string() + ": 'chat_template' lists no template named 'default'");
  }
  return result;
}

}  // namespace llama4::chat
