// AttentionWindow and KvCache: the visibility rule of chunked and global layers, and that the
// chunked cache keeps exactly the current chunk (its memory never exceeds one chunk).
#include <gtest/gtest.h>

#include <vector>

#include "model/attention_window.h"
#include "model/kv_cache.h"
#include "tensor/dtype.h"
#include "util/error.h"

namespace llama4 {
namespace {

TEST(AttentionWindow, GlobalSeesEveryEarlierPosition) {
  const AttentionWindow global;
  EXPECT_TRUE(global.visible(10, 0));
  EXPECT_TRUE(global.visible(10, 10));
  EXPECT_FALSE(global.visible(10, 11));
  EXPECT_EQ(global.first_visible(12345), 0);
}

TEST(AttentionWindow, ChunkedSeesOnlyItsOwnChunk) {
  const AttentionWindow chunked{4};
  // Chunks are [0,4), [4,8), [8,12) in absolute positions.
  EXPECT_TRUE(chunked.visible(3, 0));
  EXPECT_FALSE(chunked.visible(4, 3));  // first token of a chunk sees only itself
  EXPECT_TRUE(chunked.visible(4, 4));
  EXPECT_TRUE(chunked.visible(7, 4));
  EXPECT_FALSE(chunked.visible(7, 8));
  EXPECT_EQ(chunked.first_visible(9), 8);
  for (std::int64_t q = 0; q < 20; ++q)
    for (std::int64_t k = 0; k < 20; ++k)
      EXPECT_EQ(chunked.visible(q, k), k <= q && k / 4 == q / 4) << q << " " << k;
}

std::vector<float> filled(std::int64_t positions, std::int64_t row, float first_value) {
  std::vector<float> v(static_cast<std::size_t>(positions * row));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = first_value + static_cast<float>(i / row);
  return v;
}

TEST(KvCache, ChunkedCacheHoldsOneChunkWhateverTheContext) {
  constexpr std::int64_t kChunk = 4, kHeads = 2, kDim = 3, kContext = 1000;
  KvCache cache(AttentionWindow{kChunk}, kContext, kHeads, kDim);
  EXPECT_EQ(cache.capacity(), kChunk);
  EXPECT_EQ(cache.bytes(), 2 * kChunk * kHeads * kDim * sizeof(float));

  // A batch of 6 crossing a chunk boundary: only positions 4 and 5 can be seen later.
  const auto k = filled(6, kHeads * kDim, 0.0f), v = filled(6, kHeads * kDim, 100.0f);
  cache.append(k.data(), v.data(), 0, 6);
  EXPECT_EQ(cache.begin(), 4);
  EXPECT_EQ(cache.end(), 6);
  EXPECT_EQ(cache.key<float>(5, 1)[0], 5.0f);
  EXPECT_EQ(cache.value<float>(4, 0)[2], 104.0f);

  // Two more tokens end exactly at a chunk boundary: nothing is needed any more.
  const auto k2 = filled(2, kHeads * kDim, 6.0f), v2 = filled(2, kHeads * kDim, 106.0f);
  cache.append(k2.data(), v2.data(), 6, 2);
  EXPECT_EQ(cache.begin(), 8);
  EXPECT_EQ(cache.end(), 8);
}

TEST(KvCache, GlobalCacheKeepsEverythingAndRejectsOverflow) {
  KvCache cache(AttentionWindow{}, 5, 1, 2);
  const auto k = filled(5, 2, 0.0f);
  cache.append(k.data(), k.data(), 0, 5);
  EXPECT_EQ(cache.begin(), 0);
  EXPECT_EQ(cache.key<float>(0, 0)[0], 0.0f);
  EXPECT_EQ(cache.key<float>(4, 0)[1], 4.0f);
  EXPECT_THROW(cache.append(k.data(), k.data(), 5, 1), Error);
}

TEST(KvCache, AppendMustContinueWhereTheCacheEnds) {
  KvCache cache(AttentionWindow{}, 8, 1, 2);
  const auto k = filled(2, 2, 0.0f);
  cache.append(k.data(), k.data(), 0, 2);
  EXPECT_THROW(cache.append(k.data(), k.data(), 3, 2), Error);
}

TEST(KvCache, TruncateWithinTheRetainedRangeOnly) {
  KvCache cache(AttentionWindow{4}, 100, 1, 1);
  const auto k = filled(7, 1, 0.0f);
  cache.append(k.data(), k.data(), 0, 7);  // retains [4, 7)
  EXPECT_FALSE(cache.truncate(2));         // positions 2, 3 were dropped
  EXPECT_TRUE(cache.truncate(5));
  EXPECT_EQ(cache.end(), 5);
}

TEST(KvCache, Bf16CacheHalvesTheMemoryAndRoundsToNearestEven) {
  constexpr std::int64_t kHeads = 1, kDim = 4, kContext = 3;
  const KvCache f32(AttentionWindow{}, kContext, kHeads, kDim, KvType::kF32);
  KvCache bf16(AttentionWindow{}, kContext, kHeads, kDim, KvType::kBf16);
  EXPECT_EQ(bf16.type(), KvType::kBf16);
  EXPECT_EQ(bf16.bytes() * 2, f32.bytes());

  // 1 + 2^-8 is halfway between bf16 neighbours 1 and 1 + 2^-7: ties go to the even one (1);
  // 1 + 3·2^-8 rounds up to 1 + 2^-6.
  const std::vector<float> k{1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, -2.5f, 1e-3f};
  const std::vector<float> v{3.0f, 0.1f, -0.0f, 65504.0f};
  bf16.append(k.data(), v.data(), 0, 1);
  const std::uint16_t* key = bf16.key<std::uint16_t>(0, 0);
  EXPECT_EQ(bf16_to_f32(key[0]), 1.0f);
  EXPECT_EQ(bf16_to_f32(key[1]), 1.0f + 0x1p-6f);
  EXPECT_EQ(bf16_to_f32(key[2]), -2.5f);
  EXPECT_EQ(key[3], f32_to_bf16(1e-3f));

  std::vector<float> key_row(kDim), value_row(kDim);
  bf16.read_f32(0, key_row.data(), value_row.data());
  EXPECT_EQ(key_row[1], 1.0f + 0x1p-6f);
  EXPECT_EQ(value_row[0], 3.0f);
  EXPECT_EQ(value_row[1], bf16_to_f32(f32_to_bf16(0.1f)));
  EXPECT_NE(value_row[1], 0.1f);
  EXPECT_EQ(value_row[3], 65536.0f);  // 65504 is not a bf16 value; its nearest is 2^16
}

TEST(KvCache, TypeNamesRoundTrip) {
  EXPECT_EQ(kv_type_from_name("bf16"), KvType::kBf16);
  EXPECT_EQ(kv_type_from_name("f32"), KvType::kF32);
  EXPECT_EQ(kv_type_from_name("f16"), std::nullopt);
  EXPECT_EQ(kv_type_name(KvType::kBf16), "bf16");
}

}  // namespace
}  // namespace llama4
