// The real Llama 4 chat template rendered by our engine, byte for byte against the reference
// renderer @huggingface/jinja, over conversations.json: system or not, multi-turn, list-of-parts
// content, images, tools in the user or system message, tool calls with object and string
// arguments, tool/ipython results, generation prompt on and off, unicode, and an error case.
// Node and the npm package are required: when missing, the test fails with install advice.
#include <gtest/gtest.h>

#include "chat/chat_format.h"
#include "chat_test_support.h"
#include "util/error.h"

namespace llama4::chat {
namespace {

using testing::llama4_template_path;
using testing::load_conversations;
using testing::options_for;
using testing::read_file;
using testing::reference_render;

constexpr std::size_t kMinimumConversations = 20;

TEST(ReferenceTemplate, RealLlama4TemplateMatchesHuggingFaceJinja) {
  const std::string source = read_file(llama4_template_path());
  const auto conversations = load_conversations();
  ASSERT_GE(conversations.size(), kMinimumConversations);

  nlohmann::ordered_json contexts = nlohmann::ordered_json::array();
  for (const auto& conversation : conversations)
    contexts.push_back(chat_template_context(conversation["messages"], options_for(conversation)));
  nlohmann::ordered_json expected;
  try {
    expected = reference_render(source, contexts);
  } catch (const std::exception& e) {
    FAIL() << e.what();
  }
  ASSERT_EQ(expected.size(), conversations.size());

  std::size_t compared = 0;
  for (std::size_t i = 0; i < conversations.size(); ++i) {
    const auto& conversation = conversations[i];
    const std::string name = conversation["name"].get<std::string>();
    const bool expect_error = conversation.value("expect_error", false);
    if (expect_error) {
      ASSERT_TRUE(expected[i].contains("error")) << name << ": the reference did not fail";
      try {
        render_chat(source, conversation["messages"], options_for(conversation));
        ADD_FAILURE() << name << ": expected a template error";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(expected[i]["error"].get<std::string>()),
                  std::string::npos)
            << name << ": ours: " << e.what() << "\nreference: " << expected[i]["error"];
        EXPECT_EQ(std::string(e.what()).rfind("chat template line ", 0), 0u) << e.what();
      }
      continue;
    }
    ASSERT_TRUE(expected[i].contains("output"))
        << name << ": reference failed: " << expected[i].dump();
    std::string ours;
    try {
      ours = render_chat(source, conversation["messages"], options_for(conversation));
    } catch (const Error& e) {
      ADD_FAILURE() << name << ": " << e.what();
      continue;
    }
    EXPECT_EQ(ours, expected[i]["output"].get<std::string>()) << "conversation " << name;
    ++compared;
  }
  EXPECT_GE(compared, kMinimumConversations);
}

// A few hand-checked facts about the real template's output, independent of any reference.
TEST(ReferenceTemplate, RealTemplateKnownLayout) {
  const std::string source = read_file(llama4_template_path());
  const nlohmann::ordered_json messages = {{{"role", "system"}, {"content", " Be nice. "}},
                                           {{"role", "user"}, {"content", "Hi"}}};
  EXPECT_EQ(
      render_chat(source, messages),
      "<|begin_of_text|><|header_start|>system<|header_end|>\n\nBe nice.<|eot|>"
      "<|header_start|>user<|header_end|>\n\nHi<|eot|><|header_start|>assistant<|header_end|>\n\n");
  ChatRenderOptions no_prompt;
  no_prompt.add_generation_prompt = false;
  EXPECT_EQ(
      render_chat(source, nlohmann::ordered_json::array({{{"role", "user"}, {"content", "Hi"}}}),
                  no_prompt),
      "<|begin_of_text|><|header_start|>user<|header_end|>\n\nHi<|eot|>");
}

}  // namespace
}  // namespace llama4::chat
