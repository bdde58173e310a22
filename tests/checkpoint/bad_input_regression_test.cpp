// Regression tests for checkpoint-reading problems found by the bad-input suite
// (tests/bad_input/) and the fuzz targets (fuzz/): each names the input that once misbehaved.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "checkpoint/model_config.h"
#include "checkpoint/safetensors.h"
#include "checkpoint/test_tensor_files.h"
#include "util/error.h"

namespace llama4 {
namespace {

using test_support::TempDir;
using ::testing::HasSubstr;

std::string open_error(const std::filesystem::path& dir) {
  try {
    Checkpoint::open(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A folder where model.safetensors.index.json should be once read as an empty file and was
// reported as "index is not valid JSON ... unexpected end of input".
TEST(CheckpointBadInputTest, IndexThatIsADirectoryIsNamedAsSuch) {
  TempDir dir;
  std::filesystem::create_directory(dir.path() / "model.safetensors.index.json");
  const std::string message = open_error(dir.path());
  EXPECT_THAT(message, HasSubstr("model.safetensors.index.json: is a directory, expected a file"));
}

// Found by fuzz_model_config: a number beyond double range made nlohmann throw out_of_range,
// which escaped as a bare std::exception without the file name.
TEST(CheckpointBadInputTest, ConfigNumberBeyondDoubleRangeIsAnErrorNamingTheFile) {
  try {
    ModelConfig::from_json_text(R"({"vocab_size": 128, "rms_norm_eps": 1e10000})",
                                "dir/config.json");
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("dir/config.json: invalid JSON"));
    EXPECT_THAT(e.what(), HasSubstr("number overflow"));
  }
}

}  // namespace
}  // namespace llama4
