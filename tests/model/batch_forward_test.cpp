// Batched forward: several sequences in one pass must give each sequence exactly the logits it
// gets alone (the server's continuous batching relies on it), and prefill-then-decode must match a
// single full forward.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "model/model.h"
#include "model/synthetic_model.h"
#include "util/error.h"

namespace llama4 {
namespace {

class BatchForwardTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // One folder per process: CTest runs this suite's tests as parallel processes.
    dir_ = std::filesystem::temp_directory_path() /
           ("llama4_batch_forward_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    ModelConfig config = synthetic_config("tiny", 4, 300);
    config.attention_chunk_size = 5;  // sequences below cross several chunk boundaries
    config.num_experts_per_tok = 2;
    write_synthetic_model(dir_, config, {DType::BF16, 7});
    model_ = Model::load(dir_).release();
  }
  static void TearDownTestSuite() {
    delete model_;
    std::filesystem::remove_all(dir_);
  }

  static std::vector<float> run_alone(const std::vector<std::int32_t>& tokens) {
    InferenceState state(*model_, 64);
    std::vector<float> logits;
    model_->forward(tokens, state, LogitsFor::kAllPositions, logits);
    return logits;
  }

  static inline std::filesystem::path dir_;
  static inline Model* model_ = nullptr;
};

// The activations live in scratch buffers that keep whatever the previous call left
// (model/scratch.h): a value read before it is written would make a call's logits depend on the
// calls before it on the same thread.
TEST_F(BatchForwardTest, LogitsDoNotDependOnEarlierCalls) {
  const std::vector<std::int32_t> longer{5, 17, 42, 99, 3, 250, 7, 8, 9, 10, 11, 12, 13, 14};
  const std::vector<std::int32_t> shorter{299, 0, 150, 151};
  std::vector<float> first, after_longer;
  std::thread([&] {  // a thread of its own: its buffers start out fresh
    first = run_alone(shorter);
    run_alone(longer);
    after_longer = run_alone(shorter);
  })
      .join();
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(after_longer, first);
  EXPECT_EQ(run_alone(shorter), first);
}

TEST_F(BatchForwardTest, EachSequenceGetsItsOwnLogitsExactly) {
  const std::vector<std::int32_t> a{5, 17, 42, 99, 3, 250, 7, 8, 9, 10, 11, 12};
  const std::vector<std::int32_t> b{1, 2, 3};
  const std::vector<std::int32_t> c{299, 0, 150, 151, 152, 153, 154};
  const auto alone_a = run_alone(a), alone_b = run_alone(b), alone_c = run_alone(c);

  InferenceState sa(*model_, 64), sb(*model_, 64), sc(*model_, 64);
  std::vector<float> la, lb, lc;
  const std::vector<SequenceStep> steps{{a, &sa, LogitsFor::kAllPositions, &la},
                                        {b, &sb, LogitsFor::kAllPositions, &lb},
                                        {c, &sc, LogitsFor::kAllPositions, &lc}};
  model_->forward_batch(steps);
  EXPECT_EQ(la, alone_a);
  EXPECT_EQ(lb, alone_b);
  EXPECT_EQ(lc, alone_c);
  EXPECT_EQ(sa.position(), 12);
  EXPECT_EQ(sb.position(), 3);
}

TEST_F(BatchForwardTest, BatchedDecodeStepsMatchSingleSequenceDecoding) {
  const std::vector<std::int32_t> a{5, 17, 42, 99, 3, 250, 7};
  const std::vector<std::int32_t> b{1, 2, 3, 4, 5, 6, 7, 8, 9};
  const auto alone_a = run_alone(a), alone_b = run_alone(b);
  const auto vocab = static_cast<std::size_t>(model_->config().vocab_size);

  // Prefill 2 tokens of each together, then decode the rest one token per sequence per step,
  // with sequence a finishing early (as in continuous batching).
  InferenceState sa(*model_, 64), sb(*model_, 64);
  std::vector<float> la, lb;
  const std::span<const std::int32_t> ta(a), tb(b);
  model_->forward_batch(std::vector<SequenceStep>{{ta.first(2), &sa, LogitsFor::kNone, nullptr},
                                                  {tb.first(2), &sb, LogitsFor::kNone, nullptr}});
  for (std::size_t t = 2; t < b.size(); ++t) {
    std::vector<SequenceStep> steps{{tb.subspan(t, 1), &sb, LogitsFor::kLastPosition, &lb}};
    if (t < a.size()) steps.push_back({ta.subspan(t, 1), &sa, LogitsFor::kLastPosition, &la});
    model_->forward_batch(steps);
    EXPECT_EQ(std::vector<float>(alone_b.begin() + static_cast<std::ptrdiff_t>(t * vocab),
                                 alone_b.begin() + static_cast<std::ptrdiff_t>((t + 1) * vocab)),
              lb)
        << "sequence b, position " << t;
    if (t < a.size()) {
      // Decoding one token gives the same math as the full forward up to summation order.
      for (std::size_t i = 0; i < vocab; ++i)
        ASSERT_NEAR(la[i], alone_a[t * vocab + i], 1e-4f) << "sequence a, position " << t;
    }
  }
}

TEST_F(BatchForwardTest, ContextOverflowIsAnErrorNotACrash) {
  InferenceState state(*model_, 4);
  std::vector<float> logits;
  const std::vector<std::int32_t> tokens{1, 2, 3, 4, 5};
  EXPECT_THROW(model_->forward(tokens, state, LogitsFor::kLastPosition, logits), Error);
  const std::vector<std::int32_t> bad{1, 300};
  EXPECT_THROW(model_->forward(bad, state, LogitsFor::kLastPosition, logits), Error);
}

}  // namespace
}  // namespace llama4
