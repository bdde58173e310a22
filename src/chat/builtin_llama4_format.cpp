// The built-in Llama 4 chat format, used when a model folder has no chat template. It lays out
// messages exactly as the official Llama 4 template does (system message first and trimmed, tools
// listed in the first user message, tool calls as {"name": ..., "parameters": ...} after
// <|python_start|>...<|python_end|>, tool results under an "ipython" header) so that a prompt is
// the same with or without tokenizer_config.json.
#include "chat/chat_format.h"
#include "chat/template_text.h"
#include "chat/template_value.h"
#include "util/error.h"

namespace llama4::chat {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kHeaderStart = "<|header_start|>";
constexpr const char* kHeaderEnd = "<|header_end|>\n\n";
constexpr const char* kEndOfTurn = "<|eot|>";
constexpr const char* kImage = "<|image|>";
constexpr const char* kToolFormatHint =
    "Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name "
    "and its value}."
    "Do not use variables.\n\n";
constexpr int kToolJsonIndent = 4;

std::string header(const std::string& role) {
  return std::string(kHeaderStart) + role + kHeaderEnd;
}

// Python str() of a JSON value, as `{{ value }}` or `value | trim` would see it.
std::string as_text(const Json& value) {
  return Value::from_json(value).to_string();
}

// A message's content: a string as is, a list of parts as text and image placeholders.
std::string content_text(const Json& content) {
  if (content.is_null()) return "";
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) throw Error("chat message content must be a string or a list of parts");
  std::string out;
  for (const auto& part : content) {
    const std::string type = part.is_object() ? part.value("type", "") : "";
    if (type == "image") {
      out += kImage;
    } else if (type == "text") {
      if (!part.contains("text")) throw Error("chat message text part has no field 'text'");
      out += as_text(part["text"]);
    }
  }
  return out;
}

std::string tool_list(const Json& tools) {
  std::string out;
  for (const auto& tool : tools) out += Value::from_json(tool).to_json(kToolJsonIndent) + "\n\n";
  return out;
}

std::string tool_calls_text(const Json& message) {
  std::string out = header("assistant") + "<|python_start|>" +
                    content_text(message.value("content", Json())) + "<|python_end|>";
  for (const auto& call : message["tool_calls"]) {
    if (!call.is_object() || !call.contains("function") || !call["function"].is_object() ||
        !call["function"].contains("name"))
      throw Error("chat tool call needs an object 'function' with a 'name'");
    const auto& function = call["function"];
    out += "{\"name\": \"" + as_text(function["name"]) + "\", \"parameters\": " +
           Value::from_json(function.value("arguments", Json())).to_json() + "}";
  }
  return out + kEndOfTurn;
}

std::string tool_result_text(const Json& message) {
  const Json content = message.value("content", Json());
  const bool structured = content.is_string() || content.is_array() || content.is_object();
  return header("ipython") + (structured ? Value::from_json(content).to_json() : as_text(content)) +
         kEndOfTurn;
}

}  // namespace

std::string render_builtin_llama4_chat(const Json& messages, const ChatRenderOptions& options) {
  if (!messages.is_array()) throw Error("chat messages must be a JSON array");
  const Json& extra = options.extra_context;
  Json tools =
      extra.contains("custom_tools") ? extra["custom_tools"] : extra.value("tools", options.tools);
  const bool tools_in_user_message =
      Value::from_json(extra.value("tools_in_user_message", Json(true))).truthy();
  const bool has_tools = !tools.is_null();
  if (has_tools && !tools.is_array())
    throw Error("chat tools must be a JSON array of tool definitions");

  std::string out = extra.contains("bos_token") ? as_text(extra["bos_token"]) : options.bos_token;
  std::size_t next = 0;
  if (!messages.empty() && messages[0].value("role", "") == "system") {
    const Json& content = messages[0].value("content", Json());
    const std::string system = content.is_string() ? content.get<std::string>()
                               : content.is_array() && !content.empty() && content[0].is_object()
                                   ? as_text(content[0].value("text", Json()))
                                   : as_text(content);
    out += header("system");
    if (has_tools) out += "Environment: ipython\n";
    if (has_tools && !tools_in_user_message) {
      out +=
          "You have access to the following functions. To call a function, please respond with "
          "JSON for a "
          "function call.";
      out += std::string(kToolFormatHint) + tool_list(tools);
    }
    out += python_strip(system, true, true) + kEndOfTurn;
    next = 1;
  }

  if (has_tools && tools_in_user_message) {
    if (next >= messages.size())
      throw Error("Cannot put tools in the first user message when there's no first user message!");
    const std::string first_user =
        python_strip(as_text(messages[next].value("content", Json())), true, true);
    ++next;
    out += header("user") +
           "Given the following functions, please respond with a JSON for a function call with its "
           "proper arguments "
           "that best answers the given prompt.\n\n" +
           kToolFormatHint + tool_list(tools) + first_user + kEndOfTurn;
  }

  for (; next < messages.size(); ++next) {
    const Json& message = messages[next];
    const std::string role = message.value("role", "");
    const bool has_tool_calls = message.contains("tool_calls");
    if (!(role == "ipython" || role == "tool" || has_tool_calls)) {
      out += header(role) + content_text(message.value("content", Json())) + kEndOfTurn;
    } else if (has_tool_calls && message["tool_calls"].is_array() &&
               !message["tool_calls"].empty()) {
      out += tool_calls_text(message);
    } else if (role == "tool" || role == "ipython") {
      out += tool_result_text(message);
    }
  }
  if (options.add_generation_prompt) out += header("assistant");
  return out;
}

}  // namespace llama4::chat
