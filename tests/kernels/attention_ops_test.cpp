// Grouped attention (kernels/attention_ops.h) on every SIMD target this CPU runs: each query's
// context against a double-precision softmax-attention over its own visible keys, bit for bit
// the same whether the query is attended alone or in a group with others of other ranges, and
// with keys and values stored as bf16 equal to f32 storage of the same values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/attention_ops.h"
#include "kernels/simd_targets.h"
#include "tensor/dtype.h"

namespace llama4 {
namespace {

using test::for_each_target;

// `count` rows of n random values, stored as bf16 and as f32 copies of the same values.
struct Rows {
  std::vector<std::vector<std::uint16_t>> bf16;
  std::vector<std::vector<float>> f32;
  std::vector<const std::uint16_t*> bf16_pointers;
  std::vector<const float*> f32_pointers;
};

Rows make_rows(std::int64_t count, std::int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Rows rows;
  rows.bf16.resize(static_cast<std::size_t>(count));
  rows.f32.resize(static_cast<std::size_t>(count));
  for (std::size_t j = 0; j < rows.f32.size(); ++j) {
    for (std::int64_t i = 0; i < n; ++i) {
      rows.bf16[j].push_back(f32_to_bf16(normal(rng)));
      rows.f32[j].push_back(bf16_to_f32(rows.bf16[j].back()));
    }
    rows.bf16_pointers.push_back(rows.bf16[j].data());
    rows.f32_pointers.push_back(rows.f32[j].data());
  }
  return rows;
}

// A group of queries over one set of keys and values, each with its own visible range.
struct Group {
  std::int64_t head_dim, n_keys;
  Rows keys, values;
  std::vector<std::vector<float>> q;
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;  // [first, last]

  // Contexts of queries `which` attended together, keys and values read from `bf16` storage.
  std::vector<std::vector<float>> attend(const std::vector<std::size_t>& which, bool bf16) const {
    std::vector<std::vector<float>> ctx(
        which.size(), std::vector<float>(static_cast<std::size_t>(head_dim), NAN));
    std::vector<AttentionQuery> queries;
    for (std::size_t i = 0; i < which.size(); ++i)
      queries.push_back(
          {q[which[i]].data(), ctx[i].data(), ranges[which[i]].first, ranges[which[i]].second});
    const auto n = static_cast<std::int64_t>(queries.size());
    if (bf16)
      attend_group(queries.data(), n, keys.bf16_pointers.data(), values.bf16_pointers.data(),
                   n_keys, head_dim, kScale);
    else
      attend_group(queries.data(), n, keys.f32_pointers.data(), values.f32_pointers.data(), n_keys,
                   head_dim, kScale);
    return ctx;
  }

  static constexpr float kScale = 0.125f;
};

Group make_group(std::int64_t head_dim, std::int64_t n_keys, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Group g{head_dim, n_keys, make_rows(n_keys, head_dim, rng), make_rows(n_keys, head_dim, rng),
          {},       {}};
  // Ranges like a chunked and a causal window: a key alone, a prefix, an interior run, all keys.
  for (auto range : {std::pair<std::int64_t, std::int64_t>{0, 0},
                     {0, n_keys / 2},
                     {n_keys / 3, n_keys - 2},
                     {0, n_keys - 1},
                     {n_keys - 1, n_keys - 1}}) {
    std::vector<float> q(static_cast<std::size_t>(head_dim));
    for (float& v : q) v = normal(rng);
    g.q.push_back(std::move(q));
    g.ranges.push_back(
        {std::min(range.first, n_keys - 1), std::max<std::int64_t>(range.second, 0)});
  }
  return g;
}

// Query i's context against a double-precision softmax-attention over its visible keys.
void expect_matches_reference(const Group& g, std::size_t i, const std::vector<float>& ctx,
                              const std::string& what) {
  const auto [first, last] = g.ranges[i];
  std::vector<double> weights;
  double max_score = -std::numeric_limits<double>::infinity();
  for (std::int64_t p = first; p <= last; ++p) {
    double score = 0.0;
    for (std::int64_t d = 0; d < g.head_dim; ++d)
      score += static_cast<double>(g.q[i][static_cast<std::size_t>(d)]) *
               g.keys.f32[static_cast<std::size_t>(p)][static_cast<std::size_t>(d)];
    weights.push_back(score * Group::kScale);
    max_score = std::max(max_score, weights.back());
  }
  double total = 0.0;
  for (double& w : weights) total += (w = std::exp(w - max_score));
  for (std::int64_t d = 0; d < g.head_dim; ++d) {
    double expected = 0.0, magnitude = 0.0;
    for (std::int64_t p = first; p <= last; ++p) {
      const double term = weights[static_cast<std::size_t>(p - first)] / total *
                          g.values.f32[static_cast<std::size_t>(p)][static_cast<std::size_t>(d)];
      expected += term;
      magnitude += std::abs(term);
    }
    EXPECT_NEAR(ctx[static_cast<std::size_t>(d)], expected, 1e-5 * magnitude + 1e-6)
        << what << " query " << i << " element " << d;
  }
}

TEST(AttentionOpsTest, EachQueryMatchesADoublePrecisionSoftmaxAttention) {
  std::mt19937 rng(31);
  for_each_target([&](const std::string& target) {
    for (std::int64_t head_dim : {5, 64, 128, 131})
      for (std::int64_t n_keys : {1, 7, 37}) {
        const Group g = make_group(head_dim, n_keys, rng);
        const std::vector<std::size_t> all = {0, 1, 2, 3, 4};
        const auto ctx = g.attend(all, false);
        for (std::size_t i : all)
          expect_matches_reference(
              g, i, ctx[i],
              target + " head_dim " + std::to_string(head_dim) + " keys " + std::to_string(n_keys));
      }
  });
}

// A prompt's work item: `rows` consecutive query rows at the end of n_keys positions, each with
// `heads` query heads (which share the row's range), over a causal window from `first` on.
Group make_prompt_rows(std::int64_t head_dim, std::int64_t n_keys, std::int64_t rows,
                       std::int64_t heads, std::int64_t first, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Group g{head_dim, n_keys, make_rows(n_keys, head_dim, rng), make_rows(n_keys, head_dim, rng),
          {},       {}};
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t h = 0; h < heads; ++h) {
      std::vector<float> q(static_cast<std::size_t>(head_dim));
      for (float& v : q) v = normal(rng);
      g.q.push_back(std::move(q));
      g.ranges.push_back({first, n_keys - rows + r});
    }
  return g;
}

// Many queries sharing most of their keys, as a prompt's rows and heads do, go through the kernel
// together (score tiles of several queries, weighted sums that pass the values once for several
// queries, blocks of keys): each gets the bits it gets alone, and the right values.
TEST(AttentionOpsTest, APromptsRowsAndHeadsGetWhatEachGetsAlone) {
  std::mt19937 rng(33);
  for_each_target([&](const std::string& target) {
    for (std::int64_t head_dim : {128, 131})
      for (std::int64_t first : {0, 50}) {
        // 7 rows of 5 heads: 35 queries, over 150 keys (blocks of keys and a partial one).
        const Group g = make_prompt_rows(head_dim, 150, 7, 5, first, rng);
        std::vector<std::size_t> all(g.q.size());
        for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
        const auto together = g.attend(all, false);
        const std::string what =
            target + " head_dim " + std::to_string(head_dim) + " first " + std::to_string(first);
        for (std::size_t i : all) {
          EXPECT_EQ(g.attend({i}, false)[0], together[i]) << what << " query " << i;
          expect_matches_reference(g, i, together[i], what);
        }
        // Six of them, in another order: a tile of four and one of two.
        const auto six = g.attend({34, 0, 17, 5, 6, 33}, true);
        EXPECT_EQ(six[0], together[34]) << what;
        EXPECT_EQ(six[2], together[17]) << what;
        EXPECT_EQ(six[5], together[33]) << what;
      }
  });
}

// A group whose scores would exceed the budget goes in parts of as many queries as fit (here 3
// of 35, then single queries), with each query's bits unchanged.
TEST(AttentionOpsTest, AGroupPastTheScoreBudgetGoesInPartsWithTheSameBits) {
  std::mt19937 rng(34);
  const Group g = make_prompt_rows(128, 150, 7, 5, 0, rng);
  std::vector<std::size_t> all(g.q.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  const auto whole = g.attend(all, false);
  for (std::int64_t budget : {3 * 150, 1}) {
    attention_set_score_budget(budget);
    const auto in_parts = g.attend(all, false);
    attention_set_score_budget(std::nullopt);
    for (std::size_t i : all)
      EXPECT_EQ(in_parts[i], whole[i]) << "budget " << budget << " query " << i;
  }
  EXPECT_EQ(attention_score_budget(), kDefaultAttentionScoreBudget);
}

TEST(AttentionOpsTest, AQueryGetsTheSameBitsAloneOrInAnyGroupFromEitherStorage) {
  std::mt19937 rng(32);
  for_each_target([&](const std::string& target) {
    for (std::int64_t head_dim : {5, 128, 131}) {
      const Group g = make_group(head_dim, 29, rng);
      const auto together = g.attend({0, 1, 2, 3, 4}, false);
      const auto reordered = g.attend({3, 1, 4}, true);
      for (std::size_t i = 0; i < 5; ++i) {
        EXPECT_EQ(g.attend({i}, false)[0], together[i]) << target << " query " << i;
        EXPECT_EQ(g.attend({i}, true)[0], together[i]) << target << " query " << i << ", bf16";
      }
      EXPECT_EQ(reordered[0], together[3]) << target;
      EXPECT_EQ(reordered[1], together[1]) << target;
      EXPECT_EQ(reordered[2], together[4]) << target;
    }
  });
}

}  // namespace
}  // namespace llama4
