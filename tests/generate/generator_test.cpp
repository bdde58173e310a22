// Generator tests on a tiny fixture checkpoint: greedy ids equal the numpy reference, end tokens,
// max tokens, context overflow (error and truncation), and chat-style prefix reuse giving the same
// ids as a full re-prefill.
#include "generate/generator.h"

#include <gtest/gtest.h>

#include "test_support.h"
#include "util/error.h"

namespace llama4 {
namespace {

using testing::TempDir;

constexpr std::int64_t kContext = 64;

class GeneratorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("llama4-generator");
    if (!testing::make_fixture_model(dir_->path())) return;
    model_ = Model::load(dir_->path()).release();
  }
  static void TearDownTestSuite() {
    delete model_;
    delete dir_;
    model_ = nullptr;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!model_)
      GTEST_SKIP()
          << "fixture checkpoint could not be written (no Python with numpy, or no tests/fixtures)";
  }
  static GenerateOptions greedy(std::int64_t max_tokens) {
    GenerateOptions options;
    options.max_tokens = max_tokens;
    options.sampling.temperature = 0.0f;
    return options;
  }

  static TempDir* dir_;
  static Model* model_;
};
TempDir* GeneratorTest::dir_ = nullptr;
Model* GeneratorTest::model_ = nullptr;

TEST_F(GeneratorTest, GreedyEqualsNumpyReference) {
  const std::vector<int> prompt = {1, 17, 42, 99, 5, 63};
  constexpr int kSteps = 8;
  const std::vector<int> expected = testing::reference_greedy(dir_->path(), prompt, kSteps);
  ASSERT_EQ(expected.size(), static_cast<std::size_t>(kSteps));
  Generator generator(*model_, nullptr, kContext);
  const std::vector<std::int32_t> ids(prompt.begin(), prompt.end());
  const GenerationResult r = generator.generate(ids, greedy(kSteps));
  EXPECT_EQ(std::vector<int>(r.ids.begin(), r.ids.end()), expected);
  EXPECT_EQ(r.stop_reason, StopReason::kLength);
  EXPECT_EQ(r.timings.prompt_tokens, 6);
  EXPECT_EQ(r.timings.generated_tokens, kSteps);
  // The caches hold the prompt and every generated token except the last (never fed back).
  EXPECT_EQ(generator.state().position(), 6 + kSteps - 1);
}

TEST_F(GeneratorTest, StopsOnEndTokenAndMaxTokens) {
  Generator generator(*model_, nullptr, kContext);
  const std::vector<std::int32_t> prompt = {1, 7, 8, 9};
  const GenerationResult free_run = generator.generate(prompt, greedy(6));
  ASSERT_EQ(free_run.ids.size(), 6u);
  GenerateOptions options = greedy(6);
  options.end_token_ids = {free_run.ids[2]};
  const GenerationResult stopped = generator.generate(prompt, options);
  // Stops at the first occurrence of the end token (which may come before index 2).
  ASSERT_FALSE(stopped.ids.empty());
  EXPECT_EQ(stopped.ids.back(), free_run.ids[2]);
  EXPECT_LE(stopped.ids.size(), 3u);
  EXPECT_EQ(stopped.stop_reason, StopReason::kEndToken);
  const GenerationResult short_run = generator.generate(prompt, greedy(2));
  EXPECT_EQ(short_run.ids,
            std::vector<std::int32_t>(free_run.ids.begin(), free_run.ids.begin() + 2));
  EXPECT_EQ(short_run.stop_reason, StopReason::kLength);
}

TEST_F(GeneratorTest, PromptLongerThanContextIsAnErrorUnlessTruncating) {
  Generator generator(*model_, nullptr, 8);
  const std::vector<std::int32_t> prompt = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_THROW(generator.generate(prompt, greedy(2)), Error);
  GenerateOptions options = greedy(2);
  options.truncate_prompt = true;
  const GenerationResult r = generator.generate(prompt, options);
  EXPECT_EQ(r.truncated_tokens, 4);  // keeps 8 − 2 tokens, leaving room for 2
  EXPECT_EQ(r.timings.prompt_tokens, 6);
  EXPECT_EQ(r.ids.size(), 2u);
  // Generation stops when the context is full.
  const std::vector<std::int32_t> nearly_full = {1, 2, 3, 4, 5, 6};
  const GenerationResult full = generator.generate(nearly_full, greedy(10));
  EXPECT_EQ(full.stop_reason, StopReason::kContextFull);
  EXPECT_EQ(full.ids.size(), 3u);  // positions 6 and 7 fed back, the third token has no room
}

TEST_F(GeneratorTest, RejectsOutOfVocabularyIdsAndStopStringsWithoutTokenizer) {
  Generator generator(*model_, nullptr, kContext);
  EXPECT_THROW(generator.generate(std::vector<std::int32_t>{1, 128}, greedy(1)), Error);
  GenerateOptions options = greedy(1);
  options.stop_strings = {"x"};
  EXPECT_THROW(generator.generate(std::vector<std::int32_t>{1, 2}, options), Error);
}

TEST_F(GeneratorTest, NextTurnReusesTheCacheAndMatchesAFullPrefill) {
  Generator chat(*model_, nullptr, kContext);
  const std::vector<std::int32_t> turn1 = {1, 30, 31, 32, 33};
  const GenerationResult answer1 = chat.generate(turn1, greedy(4));
  std::vector<std::int32_t> turn2 = turn1;
  turn2.insert(turn2.end(), answer1.ids.begin(), answer1.ids.end());
  turn2.insert(turn2.end(), {3, 40, 41, 42});
  const GenerationResult answer2 = chat.generate(turn2, greedy(5));
  // Everything but the last answer token (sampled, not fed) was already cached.
  EXPECT_EQ(answer2.timings.reused_tokens,
            static_cast<std::int64_t>(turn1.size() + answer1.ids.size() - 1));

  Generator fresh(*model_, nullptr, kContext);
  const GenerationResult cold = fresh.generate(turn2, greedy(5));
  EXPECT_EQ(cold.timings.reused_tokens, 0);
  EXPECT_EQ(answer2.ids, cold.ids);

  // A prompt diverging early rewinds to the common prefix.
  std::vector<std::int32_t> other = {1, 30, 50, 51};
  const GenerationResult diverged = chat.generate(other, greedy(3));
  EXPECT_EQ(diverged.timings.reused_tokens, 2);
  Generator fresh2(*model_, nullptr, kContext);
  EXPECT_EQ(diverged.ids, fresh2.generate(other, greedy(3)).ids);
}

TEST_F(GeneratorTest, SeededSamplingIsReproducible) {
  GenerateOptions options;
  options.max_tokens = 12;
  options.sampling.temperature = 1.5f;
  options.sampling.seed = 2024;
  const std::vector<std::int32_t> prompt = {1, 4, 5};
  Generator a(*model_, nullptr, kContext), b(*model_, nullptr, kContext);
  const auto ra = a.generate(prompt, options);
  EXPECT_EQ(ra.ids, b.generate(prompt, options).ids);
  options.sampling.seed = 7;
  EXPECT_NE(ra.ids, b.generate(prompt, options).ids);
}

TEST_F(GeneratorTest, CallbackCanInterrupt) {
  Generator generator(*model_, nullptr, kContext);
  int calls = 0;
  const auto r = generator.generate(std::vector<std::int32_t>{1, 2, 3}, greedy(10),
                                    [&](const TokenEvent&) { return ++calls < 3; });
  EXPECT_EQ(r.stop_reason, StopReason::kInterrupted);
  EXPECT_EQ(r.ids.size(), 3u);
}

}  // namespace
}  // namespace llama4
