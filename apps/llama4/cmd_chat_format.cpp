// `llama4 chat-format`: prints the prompt text a chat turns into, rendered with the model's own
// chat template (tokenizer_config.json) or the built-in Llama 4 format when the folder has none.
// Useful to check what a model will see before running it, and to compare with other tools.
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>

#include "chat/chat_format.h"
#include "command.h"
#include "util/error.h"

namespace llama4::cli {
namespace {

struct ChatFormatOptions {
  std::string model_dir;
  std::string messages_file;
  std::string tools_file;
  std::string template_file;
  std::optional<std::string> system;
  std::optional<std::string> user;
  bool no_generation_prompt = false;
  bool add_generation_prompt = false;  // accepted for symmetry; the prompt is on by default
};

std::string read_text_file(const std::string& path, const char* what) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(std::string(what) + " " + path + ": cannot open file");
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

nlohmann::ordered_json read_json_file(const std::string& path, const char* what) {
  try {
    return nlohmann::ordered_json::parse(read_text_file(path, what));
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string(what) + " " + path + ": invalid JSON: " + e.what());
  }
}

// Accepts a bare list of messages or an OpenAI request body {"messages": [...], "tools": [...]}.
nlohmann::ordered_json load_messages(const ChatFormatOptions& opts, nlohmann::ordered_json& tools) {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  if (!opts.messages_file.empty()) {
    auto json = read_json_file(opts.messages_file, "messages file");
    if (json.is_object() && json.contains("messages")) {
      if (json.contains("tools") && tools.is_null()) tools = json["tools"];
      json = json["messages"];
    }
    if (!json.is_array())
      throw Error("messages file " + opts.messages_file + ": expected a JSON array of messages");
    messages = std::move(json);
  }
  const auto message = [](const char* role, const std::string& content) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    m["role"] = role;
    m["content"] = content;
    return m;
  };
  if (opts.system) messages.insert(messages.begin(), message("system", *opts.system));
  if (opts.user) messages.push_back(message("user", *opts.user));
  if (messages.empty())
    throw Error("chat-format: no messages (give --messages FILE, --system or --user)");
  return messages;
}

int run_chat_format(const ChatFormatOptions& opts) {
  if (opts.no_generation_prompt && opts.add_generation_prompt)
    throw Error(
        "chat-format: --add-generation-prompt and --no-generation-prompt contradict each other");
  chat::ChatRenderOptions render;
  render.add_generation_prompt = !opts.no_generation_prompt;
  if (!opts.tools_file.empty()) {
    render.tools = read_json_file(opts.tools_file, "tools file");
    if (!render.tools.is_array())
      throw Error("tools file " + opts.tools_file + ": expected a JSON array of tools");
  }
  const auto messages = load_messages(opts, render.tools);

  std::optional<std::string> template_source;
  if (!opts.model_dir.empty()) {
    const auto config = chat::load_tokenizer_chat_config(opts.model_dir, !render.tools.is_null());
    template_source = config.chat_template;
    if (config.bos_token) render.bos_token = *config.bos_token;
    if (config.eos_token) render.eos_token = *config.eos_token;
  }
  if (!opts.template_file.empty())
    template_source = read_text_file(opts.template_file, "template file");

  const std::string prompt = chat::render_chat(template_source, messages, render);
  std::fwrite(prompt.data(), 1, prompt.size(), stdout);
  return 0;
}

const CommandRegistration kChatFormat{
    "chat-format",
    "Print the prompt a chat renders to (model chat template or built-in Llama 4 format)", 60,
    [](CLI::App& cmd) {
      auto opts = std::make_shared<ChatFormatOptions>();
      cmd.add_option("-m,--model", opts->model_dir,
                     "Model folder whose tokenizer_config.json holds the chat template");
      cmd.add_option(
          "--messages", opts->messages_file,
          "JSON file: a list of OpenAI-style messages, or {\"messages\": [...], \"tools\": [...]}");
      cmd.add_option("--tools", opts->tools_file,
                     "JSON file: a list of OpenAI-style tool definitions");
      cmd.add_option("--system", opts->system,
                     "System message (put before the messages from --messages)");
      cmd.add_option("--user", opts->user, "User message (put after the messages from --messages)");
      cmd.add_option("--template", opts->template_file,
                     "Jinja chat template file (overrides the model's)");
      cmd.add_flag("--no-generation-prompt", opts->no_generation_prompt,
                   "Do not end with an open assistant turn");
      cmd.add_flag("--add-generation-prompt", opts->add_generation_prompt,
                   "End with an open assistant turn (default)");
      return [opts] { return run_chat_format(*opts); };
    }};

}  // namespace
}  // namespace llama4::cli
