// Prompt-cache files with a valid frame (magic, version, model fingerprint, checksum) but a damaged
// payload: the reader must refuse them with a reason and leave the generator empty, never throw or
// allocate from a lying count. The first case is the one found while writing
// fuzz/fuzz_prompt_cache.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include "generate/demo_model.h"
#include "generate/generator.h"
#include "generate/prompt_cache.h"
#include "model/model.h"
#include "test_support.h"

namespace llama4 {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

constexpr std::int64_t kContext = 32;
constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ull;  // the checksum prompt_cache.h names
constexpr std::uint64_t kFnvPrime = 0x100000001b3ull;

template <typename T>
void append(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

class PromptCacheBadInputTest : public ::testing::Test {
 protected:
  PromptCacheBadInputTest() : dir_("llama4-prompt-cache-bad") {
    write_demo_model(dir_.path() / "model", {.layers = 1, .seed = 0});
    model_ = Model::load(dir_.path() / "model");
    generator_ = std::make_unique<Generator>(*model_, nullptr, kContext);
  }

  // Writes "L4PC" | version | fingerprint | payload | checksum and loads it.
  std::string load_with_payload(const std::string& payload) {
    std::string file = "L4PC";
    append(file, kPromptCacheVersion);
    append(file, model_fingerprint(dir_.path() / "model", *model_));
    file += payload;
    std::uint64_t hash = kFnvOffset;
    for (const char c : file) hash = (hash ^ static_cast<unsigned char>(c)) * kFnvPrime;
    append(file, hash);
    const auto path = dir_.path() / "prompt.cache";
    std::ofstream(path, std::ios::binary) << file;
    return load_prompt_cache(path, dir_.path() / "model", *generator_);
  }

  TempDir dir_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Generator> generator_;
};

// n_tokens = 2^62 + 1: n_tokens * 4 wraps to 4, which once passed the bounds check and then asked
// for a vector of 2^62 ids.
TEST_F(PromptCacheBadInputTest, TokenCountWhoseByteSizeWrapsIsRefused) {
  std::string payload;
  append(payload, (std::uint64_t{1} << 62) + 1);
  append(payload, std::int32_t{1});
  const std::string message = load_with_payload(payload);
  EXPECT_THAT(message, HasSubstr("truncated token list"));
  EXPECT_TRUE(generator_->cached_tokens().empty());
  EXPECT_EQ(generator_->state().position(), 0);
}

// Found by fuzz_prompt_cache: an empty token list made the reader memcpy zero bytes into the null
// data() of an empty vector (undefined behaviour, reported by UBSan in the sanitized build).
TEST_F(PromptCacheBadInputTest, EmptyTokenListWithNoLayersIsRefusedCleanly) {
  std::string payload;
  append(payload, std::uint64_t{0});  // no tokens
  append(payload, std::uint32_t{0});  // no layers: the model has one
  EXPECT_THAT(load_with_payload(payload), HasSubstr("layer count differs"));
  EXPECT_TRUE(generator_->cached_tokens().empty());
}

TEST_F(PromptCacheBadInputTest, TokenOutsideTheVocabularyIsRefused) {
  std::string payload;
  append(payload, std::uint64_t{1});
  append(payload, std::int32_t{1 << 30});
  EXPECT_THAT(load_with_payload(payload), HasSubstr("outside the vocabulary"));
  EXPECT_TRUE(generator_->cached_tokens().empty());
}

TEST_F(PromptCacheBadInputTest, LayerTableThatDisagreesWithTheModelIsRefused) {
  std::string payload;
  append(payload, std::uint64_t{1});
  append(payload, std::int32_t{1});
  append(payload, std::uint32_t{1});  // one layer, as the model has
  append(payload, std::int64_t{0});   // begin
  append(payload, std::int64_t{1});   // end
  append(payload, std::int64_t{3});   // row: not kv_heads x head_dim
  EXPECT_THAT(load_with_payload(payload), HasSubstr("layer table does not match the model"));
  EXPECT_EQ(generator_->state().position(), 0);
}

}  // namespace
}  // namespace llama4
