// Sampler tests: every filter against a hand-computed distribution, penalties against exact
// values, seeded reproducibility and empirical frequencies.
#include "generate/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "util/error.h"

namespace llama4 {
namespace {

// Logits whose softmax is exactly {0.5, 0.3, 0.15, 0.05}.
std::vector<float> four_way_logits() {
  return {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
}

std::map<std::int32_t, float> as_map(const std::vector<TokenProbability>& dist) {
  std::map<std::int32_t, float> m;
  for (const auto& e : dist) m[e.id] = e.value;
  return m;
}

constexpr float kTol = 1e-5f;

TEST(Sampler, PlainDistributionIsSoftmax) {
  const auto dist = as_map(Sampler({}).distribution(four_way_logits()));
  ASSERT_EQ(dist.size(), 4u);
  EXPECT_NEAR(dist.at(0), 0.5f, kTol);
  EXPECT_NEAR(dist.at(1), 0.3f, kTol);
  EXPECT_NEAR(dist.at(2), 0.15f, kTol);
  EXPECT_NEAR(dist.at(3), 0.05f, kTol);
}

TEST(Sampler, TopKKeepsTheKMostLikely) {
  SamplerSettings s;
  s.top_k = 3;
  const auto dist = as_map(Sampler(s).distribution(four_way_logits()));
  ASSERT_EQ(dist.size(), 3u);
  EXPECT_NEAR(dist.at(0), 0.5f / 0.95f, kTol);
  EXPECT_NEAR(dist.at(2), 0.15f / 0.95f, kTol);
}

TEST(Sampler, TopPKeepsTheSmallestSetReachingP) {
  SamplerSettings s;
  s.top_p = 0.75f;  // 0.5 < 0.75 ≤ 0.5 + 0.3
  auto dist = as_map(Sampler(s).distribution(four_way_logits()));
  ASSERT_EQ(dist.size(), 2u);
  EXPECT_NEAR(dist.at(0), 0.625f, kTol);
  EXPECT_NEAR(dist.at(1), 0.375f, kTol);
  s.top_p = 0.85f;  // needs the third token
  dist = as_map(Sampler(s).distribution(four_way_logits()));
  ASSERT_EQ(dist.size(), 3u);
  EXPECT_NEAR(dist.at(2), 0.15f / 0.95f, kTol);
}

TEST(Sampler, MinPDropsTokensBelowTheScaledTop) {
  SamplerSettings s;
  s.min_p = 0.35f;  // threshold 0.175: keeps 0.5 and 0.3
  auto dist = as_map(Sampler(s).distribution(four_way_logits()));
  ASSERT_EQ(dist.size(), 2u);
  EXPECT_NEAR(dist.at(1), 0.375f, kTol);
  s.min_p = 0.25f;  // threshold 0.125: keeps 0.15 too
  dist = as_map(Sampler(s).distribution(four_way_logits()));
  EXPECT_EQ(dist.size(), 3u);
}

TEST(Sampler, TemperatureSharpensBeforeFiltering) {
  SamplerSettings s;
  s.temperature = 0.5f;  // p^2 renormalized
  const auto dist = as_map(Sampler(s).distribution(four_way_logits()));
  const float total = 0.25f + 0.09f + 0.0225f + 0.0025f;
  EXPECT_NEAR(dist.at(0), 0.25f / total, kTol);
  EXPECT_NEAR(dist.at(3), 0.0025f / total, kTol);
  // top-p sees the tempered distribution: 0.685 alone does not reach 0.7, 0.685 + 0.247 does.
  s.top_p = 0.7f;
  EXPECT_EQ(Sampler(s).distribution(four_way_logits()).size(), 2u);
}

TEST(Sampler, PenaltiesChangeExactValues) {
  SamplerSettings s;
  s.repeat_penalty = 2.0f;
  s.presence_penalty = 0.5f;
  s.frequency_penalty = 0.25f;
  Sampler sampler(s);
  for (const std::int32_t id : {0, 1, 1}) sampler.accept(id);
  const std::vector<float> logits = {2.0f, -1.0f, 0.5f, 0.0f};
  // id 0: 2 / 2 − 0.5 − 0.25·1 = 0.25;  id 1: −1 · 2 − 0.5 − 0.25·2 = −3;  ids 2, 3 unchanged.
  const std::vector<double> expected_logits = {0.25, -3.0, 0.5, 0.0};
  double total = 0.0;
  for (const double l : expected_logits) total += std::exp(l);
  const auto dist = as_map(sampler.distribution(logits));
  for (std::int32_t id = 0; id < 4; ++id)
    EXPECT_NEAR(dist.at(id), std::exp(expected_logits[static_cast<std::size_t>(id)]) / total, kTol)
        << id;
}

TEST(Sampler, PenaltyWindowForgetsOldTokens) {
  SamplerSettings s;
  s.repeat_penalty = 10.0f;
  s.repeat_last_n = 2;
  s.temperature = 0.0f;
  Sampler sampler(s);
  for (const std::int32_t id : {0, 1, 1}) sampler.accept(id);  // window holds {1, 1}
  EXPECT_EQ(sampler.sample(std::vector<float>{3.0f, 2.0f, 1.0f}).id, 0);
  sampler.accept(0);  // window {1, 0}: 3/10 < 1
  EXPECT_EQ(sampler.sample(std::vector<float>{3.0f, 2.0f, 1.0f}).id, 2);
}

TEST(Sampler, LogitBiasAndGreedyTies) {
  SamplerSettings s;
  s.temperature = 0.0f;
  EXPECT_EQ(Sampler(s).sample(std::vector<float>{1.0f, 3.0f, 3.0f}).id, 1);  // tie → lower id
  s.logit_bias[2] = 0.5f;
  EXPECT_EQ(Sampler(s).sample(std::vector<float>{1.0f, 3.0f, 3.0f}).id, 2);
  s.logit_bias[0] = -100.0f;
  s.temperature = 1.0f;
  EXPECT_EQ(as_map(Sampler(s).distribution(std::vector<float>{1.0f, 1.0f})).at(0) < 1e-30f, true);
}

TEST(Sampler, SameSeedSameTokensDifferentSeedDifferent) {
  SamplerSettings s;
  s.seed = 1234;
  Sampler a(s), b(s);
  s.seed = 99;
  Sampler c(s);
  std::vector<std::int32_t> ta, tb, tc;
  for (int i = 0; i < 200; ++i) {
    ta.push_back(a.sample(four_way_logits()).id);
    tb.push_back(b.sample(four_way_logits()).id);
    tc.push_back(c.sample(four_way_logits()).id);
  }
  EXPECT_EQ(ta, tb);
  EXPECT_NE(ta, tc);
  a.reset();
  EXPECT_EQ(a.sample(four_way_logits()).id, ta[0]);
}

TEST(Sampler, EmpiricalFrequenciesMatchProbabilities) {
  SamplerSettings s;
  s.seed = 7;
  Sampler sampler(s);
  constexpr int kDraws = 40000;
  std::vector<int> counts(4);
  for (int i = 0; i < kDraws; ++i)
    ++counts[static_cast<std::size_t>(sampler.sample(four_way_logits()).id)];
  const std::vector<double> p = {0.5, 0.3, 0.15, 0.05};
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double sigma = std::sqrt(p[i] * (1 - p[i]) / kDraws);
    EXPECT_NEAR(counts[i] / static_cast<double>(kDraws), p[i], 5 * sigma) << "token " << i;
  }
}

TEST(Sampler, LogprobsAreLogSoftmaxOfRawLogits) {
  SamplerSettings s;
  s.temperature = 0.0f;
  s.top_logprobs = 2;
  s.logit_bias[3] = 100.0f;  // chooses token 3, but log-probabilities stay the model's
  const SampleResult r = Sampler(s).sample(four_way_logits());
  EXPECT_EQ(r.id, 3);
  EXPECT_NEAR(r.logprob, std::log(0.05f), kTol);
  ASSERT_EQ(r.top_logprobs.size(), 2u);
  EXPECT_EQ(r.top_logprobs[0].id, 0);
  EXPECT_NEAR(r.top_logprobs[0].value, std::log(0.5f), kTol);
  EXPECT_EQ(r.top_logprobs[1].id, 1);
  EXPECT_NEAR(r.top_logprobs[1].value, std::log(0.3f), kTol);
}

TEST(Sampler, RejectsInvalidSettings) {
  SamplerSettings s;
  s.top_p = 0.0f;
  EXPECT_THROW(Sampler{s}, Error);
  s = {};
  s.min_p = 1.5f;
  EXPECT_THROW(Sampler{s}, Error);
  s = {};
  s.repeat_penalty = 0.0f;
  EXPECT_THROW(Sampler{s}, Error);
  EXPECT_THROW(Sampler({}).sample(std::vector<float>{}), Error);
}

}  // namespace
}  // namespace llama4
