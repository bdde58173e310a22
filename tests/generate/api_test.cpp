// Public API tests (include/llama4/llama4.h) on the demo model: streaming equals the result,
// chat turns reuse the cache, reset forgets it, and errors surface as std::runtime_error.
#include <llama4/llama4.h>

#include <gtest/gtest.h>

#include "generate/demo_model.h"
#include "test_support.h"

namespace llama4 {
namespace {

TEST(PublicApi, ChatStreamsAndReusesTheCache) {
  testing::TempDir dir("llama4-api");
  DemoModelOptions demo;
  demo.layers = 2;
  write_demo_model(dir.path(), demo);
  const auto model = api::Model::load(dir.path().string());
  EXPECT_TRUE(model->is_demo());
  EXPECT_TRUE(model->has_tokenizer());
  // The default, kAuto, rounds activations only for 4/8-bit weights; the demo's are bf16.
  EXPECT_EQ(model->activations(), api::QuantizedActivations::kF32);
  api::Session session(model, 256);
  api::GenerateParams params;
  params.max_tokens = 6;
  params.sampling.temperature = 0.0f;
  std::string streamed;
  const auto first = session.chat("Hello", params, [&](std::string_view text) {
    streamed += text;
    return true;
  });
  EXPECT_EQ(streamed, first.text);
  EXPECT_FALSE(first.ids.empty());
  const auto second = session.chat("And then?", params);
  EXPECT_GE(second.timings.cached_prompt_tokens, first.timings.prompt_tokens);
  session.reset();
  const auto again = session.chat("Hello", params);
  EXPECT_EQ(again.timings.cached_prompt_tokens, 0);
  EXPECT_EQ(again.ids, first.ids);
  EXPECT_THROW(api::Model::load((dir.path() / "missing").string()), std::runtime_error);

  // The demo's weights are bf16: int8 activations apply only to 4/8-bit weights, so the answer
  // is the same token for token.
  const auto int8_model = api::Model::load(dir.path().string(), api::QuantizedActivations::kInt8);
  EXPECT_EQ(int8_model->activations(), api::QuantizedActivations::kInt8);
  api::Session int8_session(int8_model, 256);
  EXPECT_EQ(int8_session.chat("Hello", params).ids, first.ids);
}

}  // namespace
}  // namespace llama4
