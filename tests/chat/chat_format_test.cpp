// Chat formatting API: the built-in Llama 4 format against the real template, message validation,
// tokenizer_config.json loading (string and named-list chat templates, token objects), and the
// `llama4 chat-format` command.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "chat/chat_format.h"
#include "chat_test_support.h"
#include "util/error.h"

namespace llama4::chat {
namespace {

using ::testing::HasSubstr;
using testing::llama4_template_path;
using testing::load_conversations;
using testing::options_for;
using testing::read_file;

using Json = nlohmann::ordered_json;

TEST(BuiltinFormat, PlainConversationLayout) {
  const Json messages = {{{"role", "system"}, {"content", "S"}},
                         {{"role", "user"}, {"content", "U"}},
                         {{"role", "assistant"}, {"content", "A"}}};
  EXPECT_EQ(render_chat(std::nullopt, messages),
            "<|begin_of_text|><|header_start|>system<|header_end|>\n\nS<|eot|>"
            "<|header_start|>user<|header_end|>\n\nU<|eot|>"
            "<|header_start|>assistant<|header_end|>\n\nA<|eot|>"
            "<|header_start|>assistant<|header_end|>\n\n");
  ChatRenderOptions options;
  options.add_generation_prompt = false;
  options.bos_token = "";
  EXPECT_EQ(render_chat(std::nullopt, Json::array({{{"role", "user"}, {"content", "U"}}}), options),
            "<|header_start|>user<|header_end|>\n\nU<|eot|>");
}

// The fallback must give the same prompt as the model's template, so that a folder without
// tokenizer_config.json behaves like one with it — for every conversation, not only plain ones.
TEST(BuiltinFormat, MatchesRealTemplateOnEveryConversation) {
  const std::string source = read_file(llama4_template_path());
  std::size_t plain = 0;
  for (const auto& conversation : load_conversations()) {
    const std::string name = conversation["name"].get<std::string>();
    const auto options = options_for(conversation);
    if (conversation.value("expect_error", false)) {
      EXPECT_THROW(render_chat(std::nullopt, conversation["messages"], options), Error) << name;
      continue;
    }
    EXPECT_EQ(render_chat(std::nullopt, conversation["messages"], options),
              render_chat(source, conversation["messages"], options))
        << "conversation " << name;
    plain += conversation.value("plain", false) ? 1 : 0;
  }
  EXPECT_GE(plain, 10u);
}

TEST(RenderChat, AcceptsPlainNlohmannJson) {
  const nlohmann::json messages = nlohmann::json::array({{{"role", "user"}, {"content", "U"}}});
  EXPECT_EQ(render_chat(std::nullopt, messages),
            "<|begin_of_text|><|header_start|>user<|header_end|>\n\nU<|eot|><|header_start|>"
            "assistant<|header_end|>\n\n");
}

TEST(RenderChat, RejectsMalformedMessages) {
  EXPECT_THAT([] { render_chat(std::nullopt, Json::object()); },
              ::testing::ThrowsMessage<Error>(HasSubstr("array")));
  EXPECT_THAT([] { render_chat(std::nullopt, Json::array({"text"})); },
              ::testing::ThrowsMessage<Error>(HasSubstr("chat message 0 must be a JSON object")));
  EXPECT_THAT(
      [] {
        render_chat(std::nullopt, Json::array({{{"content", "x"}}}));
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("chat message 0 has no string field 'role'")));
}

TEST(RenderChat, TemplateErrorsCarryTheLine) {
  EXPECT_THAT([] { render_chat(std::string("ok\n{{ raise_exception('no') }}"), Json::array()); },
              ::testing::ThrowsMessage<Error>(::testing::StrEq("chat template line 2: no")));
}

TEST(RenderChat, ExtraContextReachesTheTemplate) {
  ChatRenderOptions options;
  options.extra_context = {{"date_string", "01 Jan 2025"}};
  EXPECT_EQ(render_chat(std::string("{{ date_string }}|{{ eos_token }}|{{ tools is none }}"),
                        Json::array(), options),
            "01 Jan 2025|<|eot|>|True");
}

class TempDir {
 public:
  TempDir()
      : path_(
            std::filesystem::temp_directory_path() /
            ("llama4_chat_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter_))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

TEST(TokenizerChatConfig, StringTemplateAndTokenObjects) {
  TempDir dir;
  dir.write("tokenizer_config.json",
            Json{{"chat_template", "T"}, {"bos_token", {{"content", "<s>"}}}, {"eos_token", "</s>"}}
                .dump());
  const auto config = load_tokenizer_chat_config(dir.path());
  EXPECT_EQ(config.chat_template, "T");
  EXPECT_EQ(config.bos_token, "<s>");
  EXPECT_EQ(config.eos_token, "</s>");
}

TEST(TokenizerChatConfig, NamedTemplateList) {
  TempDir dir;
  dir.write(
      "tokenizer_config.json",
      Json{{"chat_template",
            {{{"name", "default"}, {"template", "D"}}, {{"name", "tool_use"}, {"template", "X"}}}}}
          .dump());
  EXPECT_EQ(load_tokenizer_chat_config(dir.path()).chat_template, "D");
  EXPECT_EQ(load_tokenizer_chat_config(dir.path(), true).chat_template, "X");
}

TEST(TokenizerChatConfig, MissingFileOrFieldGivesNoTemplate) {
  TempDir dir;
  EXPECT_FALSE(load_tokenizer_chat_config(dir.path()).chat_template.has_value());
  dir.write("tokenizer_config.json", R"({"bos_token": "<|begin_of_text|>"})");
  EXPECT_FALSE(load_tokenizer_chat_config(dir.path()).chat_template.has_value());
}

TEST(TokenizerChatConfig, MalformedConfigNamesTheFile) {
  TempDir dir;
  dir.write("tokenizer_config.json", "{not json");
  EXPECT_THAT([&] { load_tokenizer_chat_config(dir.path()); },
              ::testing::ThrowsMessage<Error>(HasSubstr("tokenizer_config.json: invalid JSON")));
  dir.write("tokenizer_config.json", R"({"chat_template": 5})");
  EXPECT_THAT([&] { load_tokenizer_chat_config(dir.path()); },
              ::testing::ThrowsMessage<Error>(HasSubstr("'chat_template' must be a string")));
  dir.write("tokenizer_config.json", R"({"chat_template": [{"name": "other", "template": "x"}]})");
  EXPECT_THAT([&] { load_tokenizer_chat_config(dir.path()); },
              ::testing::ThrowsMessage<Error>(HasSubstr("no template named 'default'")));
}

// Runs the llama4 binary with `arguments`; returns its stdout, and its exit status in *status.
std::string run_cli(const std::string& arguments, int* status) {
  const std::string command = testing::env_or_fail("LLAMA4_BIN") + " " + arguments + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run " + command);
  std::string out;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  *status = pclose(pipe);
  return out;
}

TEST(ChatFormatCommand, RendersModelTemplateFromConfig) {
  TempDir dir;
  const std::string source = read_file(llama4_template_path());
  dir.write("tokenizer_config.json",
            Json{{"chat_template", source}, {"bos_token", "<|begin_of_text|>"}}.dump());
  const Json messages = {{{"role", "system"}, {"content", "Sys"}},
                         {{"role", "user"}, {"content", "Héllo"}}};
  dir.write("messages.json", messages.dump());
  int status = 0;
  const std::string out = run_cli("chat-format -m '" + dir.path().string() + "' --messages '" +
                                      (dir.path() / "messages.json").string() + "'",
                                  &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out, render_chat(source, messages));

  const std::string no_prompt = run_cli(
      "chat-format -m '" + dir.path().string() + "' --system Sys --user Hi --no-generation-prompt",
      &status);
  EXPECT_EQ(status, 0) << no_prompt;
  EXPECT_EQ(no_prompt,
            "<|begin_of_text|><|header_start|>system<|header_end|>\n\nSys<|eot|>"
            "<|header_start|>user<|header_end|>\n\nHi<|eot|>");
}

TEST(ChatFormatCommand, ToolsFileAndBuiltinFallback) {
  TempDir dir;  // no tokenizer_config.json: built-in format
  const Json tools =
      Json::parse(R"([{"type": "function", "function": {"name": "f", "parameters": {}}}])");
  dir.write("tools.json", tools.dump());
  int status = 0;
  const std::string out =
      run_cli("chat-format -m '" + dir.path().string() + "' --user Q --tools '" +
                  (dir.path() / "tools.json").string() + "'",
              &status);
  EXPECT_EQ(status, 0) << out;
  ChatRenderOptions options;
  options.tools = tools;
  EXPECT_EQ(out, render_chat(read_file(llama4_template_path()),
                             Json::array({{{"role", "user"}, {"content", "Q"}}}), options));
  EXPECT_THAT(out, HasSubstr("\"name\": \"f\""));
}

TEST(ChatFormatCommand, ReportsTemplateErrorsWithLine) {
  TempDir dir;
  dir.write("bad.jinja", "line1\n{% if %}");
  int status = 0;
  const std::string out = run_cli(
      "chat-format --user x --template '" + (dir.path() / "bad.jinja").string() + "'", &status);
  EXPECT_NE(status, 0);
  EXPECT_THAT(out, HasSubstr("chat template line 2: "));
}

}  // namespace
}  // namespace llama4::chat
