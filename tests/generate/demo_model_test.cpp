// Demo model tests: the written folder loads, its tokenizer round-trips text and knows the Llama 4
// special tokens, its chat template renders the Llama 4 layout, and generation on it honours stop
// strings that span token boundaries.
#include "generate/demo_model.h"

#include <gtest/gtest.h>

#include "chat/chat_format.h"
#include "generate/generation_config.h"
#include "generate/generator.h"
#include "test_support.h"

namespace llama4 {
namespace {

using testing::TempDir;

class DemoModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("llama4-demo");
    DemoModelOptions options;
    options.layers = 2;
    write_demo_model(dir_->path(), options);
    model_ = Model::load(dir_->path()).release();
    tokenizer_ = new Tokenizer(Tokenizer::load(dir_->path()));
  }
  static void TearDownTestSuite() {
    delete tokenizer_;
    delete model_;
    delete dir_;
  }
  static TempDir* dir_;
  static Model* model_;
  static Tokenizer* tokenizer_;
};
TempDir* DemoModelTest::dir_ = nullptr;
Model* DemoModelTest::model_ = nullptr;
Tokenizer* DemoModelTest::tokenizer_ = nullptr;

TEST_F(DemoModelTest, FolderIsMarkedAndConsistent) {
  EXPECT_TRUE(is_demo_model(dir_->path()));
  EXPECT_EQ(static_cast<std::int64_t>(tokenizer_->vocab_size()), model_->config().vocab_size);
  const GenerationConfig generation = GenerationConfig::load(dir_->path());
  ASSERT_TRUE(generation.temperature.has_value());
  EXPECT_FLOAT_EQ(*generation.temperature, 0.6f);
  EXPECT_FLOAT_EQ(*generation.top_p, 0.9f);
  const auto ends = end_token_ids(model_->config(), generation, tokenizer_);
  ASSERT_EQ(ends.size(), 3u);
  EXPECT_EQ(ends[0], *tokenizer_->token_id("<|end_of_text|>"));
  EXPECT_EQ(*tokenizer_->token_id("<|eot|>"), ends[2]);
}

TEST_F(DemoModelTest, TokenizerRoundTripsAndMergesCommonWords) {
  const std::string text = "The model reads a prompt. Ünïcödé 42!";
  const auto ids = tokenizer_->encode(text);
  EXPECT_EQ(tokenizer_->decode(ids), text);
  EXPECT_EQ(tokenizer_->encode(" the").size(), 1u);  // learned from the training text
  EXPECT_LT(ids.size(), text.size());
  const auto with_bos = tokenizer_->encode("hi", {.add_bos = true});
  EXPECT_EQ(with_bos.front(), *tokenizer_->token_id("<|begin_of_text|>"));
}

TEST_F(DemoModelTest, ChatTemplateRendersTheLlama4Layout) {
  const nlohmann::ordered_json messages = {{{"role", "system"}, {"content", "Be brief."}},
                                           {{"role", "user"}, {"content", " Hello "}}};
  const std::string prompt = chat::render_chat(tokenizer_->settings().chat_template, messages);
  EXPECT_EQ(prompt,
            "<|begin_of_text|><|header_start|>system<|header_end|>\n\nBe brief.<|eot|>"
            "<|header_start|>user<|header_end|>\n\nHello<|eot|><|header_start|>assistant<|header_"
            "end|>\n\n");
  const auto ids = tokenizer_->encode(prompt, {.parse_special = true});
  EXPECT_EQ(ids.front(), *tokenizer_->token_id("<|begin_of_text|>"));
  EXPECT_EQ(tokenizer_->decode(ids), prompt);
}

TEST_F(DemoModelTest, StopStringAcrossTokenBoundaryIsNotEmitted) {
  GenerateOptions options;
  options.max_tokens = 24;
  options.sampling.temperature = 0.0f;
  const auto prompt = tokenizer_->encode("Tell me a story", {.add_bos = true});
  Generator generator(*model_, tokenizer_, 128);
  std::vector<std::string> pieces;
  const auto free_run = generator.generate(prompt, options, [&](const TokenEvent& e) {
    pieces.emplace_back(e.text);
    return true;
  });
  // A stop string made of the last byte of one token's text and the first byte of the next.
  std::size_t offset = 0;  // end of the text of piece i
  bool found = false;
  for (std::size_t i = 0; i + 1 < pieces.size() && !found; ++i) {
    offset += pieces[i].size();
    found = i >= 1 && !pieces[i].empty() && !pieces[i + 1].empty();
  }
  ASSERT_TRUE(found) << "the free run produced too little text: " << free_run.text;
  const std::string stop = free_run.text.substr(offset - 1, 2);
  const std::size_t first = free_run.text.find(stop);

  options.stop_strings = {stop};
  std::string streamed;
  const auto stopped = generator.generate(prompt, options, [&](const TokenEvent& e) {
    streamed += e.text;
    return true;
  });
  EXPECT_EQ(stopped.stop_reason, StopReason::kStopString);
  EXPECT_EQ(stopped.text, free_run.text.substr(0, first));
  EXPECT_EQ(streamed, stopped.text);
  EXPECT_EQ(stopped.text.find(stop), std::string::npos);
}

}  // namespace
}  // namespace llama4
