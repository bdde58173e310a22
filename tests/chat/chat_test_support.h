// Shared helpers of the chat tests: locating the real Llama 4 chat template and the conversation
// set, building render options from a conversation, and running the reference renderer
// (@huggingface/jinja under node, tests/chat/reference/render.mjs).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "chat/chat_format.h"

namespace llama4::chat::testing {

inline std::string env_or_fail(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0')
    throw std::runtime_error(std::string("environment variable ") + name +
                             " is not set (run the tests through ctest)");
  return value;
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot open " + path.string());
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The project root: LLAMA4_SOURCE_DIR when set (ctest sets it), else found from this file's path.
inline std::filesystem::path source_dir() {
  if (const char* value = std::getenv("LLAMA4_SOURCE_DIR"); value != nullptr && *value != '\0')
    return value;
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
}

// The shared test data folder: LLAMA4_SHARED_DIR when set, else ../shared beside the project root.
inline std::filesystem::path shared_dir() {
  if (const char* value = std::getenv("LLAMA4_SHARED_DIR"); value != nullptr && *value != '\0')
    return value;
  return source_dir() / ".." / "shared";
}

inline std::filesystem::path llama4_template_path() {
  return shared_dir() / "llama4-tokenizer" / "chat_template.jinja";
}

inline std::filesystem::path chat_tests_dir() {
  return source_dir() / "tests" / "chat";
}

inline nlohmann::ordered_json load_conversations() {
  return nlohmann::ordered_json::parse(read_file(chat_tests_dir() / "conversations.json"));
}

// Render options for one entry of conversations.json, with a fixed clock.
inline ChatRenderOptions options_for(const nlohmann::ordered_json& conversation) {
  ChatRenderOptions options;
  options.add_generation_prompt = conversation.at("add_generation_prompt").get<bool>();
  if (conversation.contains("tools")) options.tools = conversation["tools"];
  if (conversation.contains("extra_context")) options.extra_context = conversation["extra_context"];
  options.now = std::chrono::system_clock::from_time_t(1721995200);
  return options;
}

// Renders `template_source` once per context with the reference renderer; returns its JSON answer
// ([{"output": ...} | {"error": ...}, ...]). Throws with installation advice when node or the
// package is missing, so the calling test fails loudly instead of skipping.
inline nlohmann::ordered_json reference_render(const std::string& template_source,
                                               const nlohmann::ordered_json& contexts) {
  const auto reference_dir = chat_tests_dir() / "reference";
  if (std::system("node --version > /dev/null 2>&1") != 0)
    throw std::runtime_error(
        "node is not installed; the chat-template reference needs it (apt-get install nodejs npm)");
  if (!std::filesystem::exists(reference_dir / "node_modules" / "@huggingface" / "jinja" /
                               "package.json"))
    throw std::runtime_error("@huggingface/jinja is not installed; run: npm install --prefix " +
                             reference_dir.string());
  static int calls = 0;
  const auto work =
      std::filesystem::temp_directory_path() /
      ("llama4_chat_reference_" + std::to_string(::getpid()) + "_" + std::to_string(++calls));
  std::filesystem::create_directories(work);
  {
    std::ofstream request(work / "request.json", std::ios::binary);
    request << nlohmann::ordered_json{{"template", template_source}, {"contexts", contexts}}.dump();
  }
  const std::string command = "cd '" + reference_dir.string() + "' && node render.mjs < '" +
                              (work / "request.json").string() + "' > '" +
                              (work / "response.json").string() + "' 2> '" +
                              (work / "stderr.txt").string() + "'";
  const int status = std::system(command.c_str());
  const std::string answer = read_file(work / "response.json");
  const std::string errors = read_file(work / "stderr.txt");
  std::filesystem::remove_all(work);
  if (status != 0) throw std::runtime_error("reference renderer failed: " + errors);
  return nlohmann::ordered_json::parse(answer);
}

}  // namespace llama4::chat::testing
