// `llama4 chat -m DIR`: an interactive conversation in the terminal.
//
// Every turn renders the whole conversation with the chat template, but the Generator keeps the
// KV caches of what it has already processed and only feeds the part after the longest common
// prefix — in practice the new user message — so earlier turns are never processed again.
// Commands: /reset, /system TEXT, /save FILE, /load FILE, /help, /exit (or Ctrl-D). Ctrl-C stops
// the answer being written and returns to the prompt.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "chat/chat_format.h"
#include "command.h"
#include "generation_flags.h"
#include "util/error.h"

namespace llama4::cli {
namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void on_interrupt(int) {
  g_interrupted.store(true);
}

void install_interrupt_handler() {
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // a Ctrl-C at the prompt does not end the input
  sigaction(SIGINT, &action, nullptr);
}

struct ChatOptions {
  GenerationFlags flags;
  std::optional<std::string> system;
};

using Json = nlohmann::ordered_json;

class ChatSession {
 public:
  ChatSession(const ChatOptions& options, LoadedModel& loaded)
      : options_(options),
        loaded_(loaded),
        generate_options_(generate_options(options.flags, loaded)),
        generator_(*loaded.model, &*loaded.tokenizer, loaded.context_size, options.flags.kv_type),
        interactive_(::isatty(STDIN_FILENO)) {
    system_ = options.system;
    const auto& settings = loaded.tokenizer->settings();
    if (settings.bos_token) render_.bos_token = *settings.bos_token;
    if (settings.eos_token) render_.eos_token = *settings.eos_token;
  }

  int run() {
    if (!options_.flags.quiet)
      std::fprintf(stderr,
                   "chat: /help for commands, Ctrl-C stops an answer, Ctrl-D or /exit quits\n");
    std::string line;
    while (true) {
      if (interactive_) {
        std::printf("> ");
        std::fflush(stdout);
      }
      if (!std::getline(std::cin, line)) break;
      if (line.empty()) continue;
      try {
        if (line[0] == '/') {
          if (!command(line)) break;
        } else {
          answer(line);
        }
      } catch (const Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
      }
    }
    if (interactive_) std::printf("\n");
    return 0;
  }

 private:
  Json conversation() const {
    Json messages = Json::array();
    if (system_) messages.push_back({{"role", "system"}, {"content", *system_}});
    for (const auto& m : messages_) messages.push_back(m);
    return messages;
  }

  void answer(const std::string& user_text) {
    messages_.push_back({{"role", "user"}, {"content", user_text}});
    const Tokenizer& tokenizer = *loaded_.tokenizer;
    const std::string prompt =
        chat::render_chat(tokenizer.settings().chat_template, conversation(), render_);
    const auto ids = tokenizer.encode(prompt, {.parse_special = true});
    g_interrupted.store(false);
    GenerationResult result;
    try {
      result = generator_.generate(ids, generate_options_, [](const TokenEvent& event) {
        std::fwrite(event.text.data(), 1, event.text.size(), stdout);
        std::fflush(stdout);
        return !g_interrupted.load();
      });
    } catch (const Error&) {
      messages_.pop_back();  // the turn did not happen
      throw;
    }
    std::printf("\n");
    std::fflush(stdout);
    messages_.push_back({{"role", "assistant"}, {"content", result.text}});
    if (!options_.flags.quiet)
      std::fprintf(stderr, "[%s%s] %s\n", stop_reason_name(result.stop_reason),
                   result.stop_reason == StopReason::kInterrupted ? " by Ctrl-C" : "",
                   timings_line(result.timings).c_str());
  }

  // Returns false when the session should end.
  bool command(const std::string& line) {
    const std::size_t space = line.find(' ');
    const std::string name = line.substr(0, space);
    const std::string argument = space == std::string::npos ? "" : line.substr(space + 1);
    if (name == "/exit" || name == "/quit") return false;
    if (name == "/reset") {
      messages_.clear();
      generator_.reset();
      std::fprintf(stderr, "(conversation cleared)\n");
    } else if (name == "/system") {
      if (argument.empty())
        system_.reset();
      else
        system_ = argument;
      std::fprintf(stderr, "(system message %s)\n", system_ ? "set" : "removed");
    } else if (name == "/save") {
      if (argument.empty()) throw Error("/save needs a file name");
      std::ofstream out(argument, std::ios::binary);
      out << conversation().dump(2) << "\n";
      if (!out) throw Error("/save: cannot write '" + argument + "'");
      std::fprintf(stderr, "(saved %zu messages to %s)\n", conversation().size(), argument.c_str());
    } else if (name == "/load") {
      load(argument);
    } else if (name == "/help") {
      std::fprintf(stderr,
                   "/reset          forget the conversation\n"
                   "/system TEXT    set the system message (empty: remove it)\n"
                   "/save FILE      write the conversation as JSON\n"
                   "/load FILE      continue a saved conversation\n"
                   "/exit           quit (also Ctrl-D)\n");
    } else {
      throw Error("unknown command '" + name + "' (/help lists them)");
    }
    return true;
  }

  void load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("/load: cannot open '" + path + "'");
    Json messages;
    try {
      messages = Json::parse(std::string(std::istreambuf_iterator<char>(in), {}));
    } catch (const nlohmann::json::exception& e) {
      throw Error("/load '" + path + "': invalid JSON: " + e.what());
    }
    if (!messages.is_array())
      throw Error("/load '" + path + "': expected a JSON array of messages");
    std::optional<std::string> system;
    std::vector<Json> rest;
    for (const auto& m : messages) {
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content"))
        throw Error("/load '" + path + "': every message needs a 'role' and a 'content'");
      if (m["role"] == "system" && m["content"].is_string() && rest.empty() && !system)
        system = m["content"].get<std::string>();
      else
        rest.push_back(m);
    }
    system_ = system;
    messages_ = std::move(rest);
    std::fprintf(stderr, "(loaded %zu messages from %s)\n", messages.size(), path.c_str());
  }

  const ChatOptions& options_;
  LoadedModel& loaded_;
  GenerateOptions generate_options_;
  Generator generator_;
  chat::ChatRenderOptions render_;
  std::optional<std::string> system_;
  std::vector<Json> messages_;
  bool interactive_;
};

int run_chat(const ChatOptions& options) {
  LoadedModel loaded = load_for_generation(options.flags);
  if (!loaded.tokenizer)
    throw Error("model folder '" + options.flags.model_dir +
                "' has no tokenizer; chat needs tokenizer.json or tokenizer.model");
  install_interrupt_handler();
  ChatSession session(options, loaded);
  return session.run();
}

const CommandRegistration kChat{"chat",
                                "Interactive multi-turn chat (keeps the KV cache between turns)",
                                25, [](CLI::App& cmd) {
                                  auto o = std::make_shared<ChatOptions>();
                                  add_generation_flags(cmd, o->flags);
                                  cmd.add_option("--system", o->system, "System message");
                                  return [o] { return run_chat(*o); };
                                }};

}  // namespace
}  // namespace llama4::cli
