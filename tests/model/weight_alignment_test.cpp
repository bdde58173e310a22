// Tensor data must be aligned to its dtype for the kernels to read it in place. Found by the
// bad-input suite under UBSan: a safetensors file whose header was rewritten without padding put
// every F32 weight at an odd address, and rms_norm loaded floats from it (undefined behaviour).
// Such a file is now refused at load with the tensor and file named.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "model/model.h"
#include "model/synthetic_model.h"
#include "util/error.h"

namespace llama4 {
namespace {

using ::testing::HasSubstr;

constexpr std::size_t kLengthBytes = 8;  // u64 header length before the JSON

std::string load_error(const std::filesystem::path& dir) {
  try {
    Model::load(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Appends `extra` spaces to the header of `file` (still valid JSON), shifting the data area.
void pad_header(const std::filesystem::path& file, std::size_t extra) {
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  in.close();
  std::uint64_t length = 0;
  for (std::size_t i = 0; i < kLengthBytes; ++i)
    length |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  bytes.insert(kLengthBytes + length, std::string(extra, ' '));
  length += extra;
  for (std::size_t i = 0; i < kLengthBytes; ++i)
    bytes[i] = static_cast<char>((length >> (8 * i)) & 0xffu);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
}

class WeightAlignmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One folder per process: CTest runs the tests of this suite in parallel processes.
    dir_ = std::filesystem::temp_directory_path() /
           ("llama4_weight_alignment_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    write_synthetic_model(dir_, synthetic_config("tiny", 1, 64), {DType::F32, 1});
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(WeightAlignmentTest, PaddingThatKeepsAlignmentLoads) {
  pad_header(dir_ / "model.safetensors", 8);
  EXPECT_EQ(load_error(dir_), "");
}

TEST_F(WeightAlignmentTest, MisalignedF32DataIsRefusedWithTensorAndFileNamed) {
  pad_header(dir_ / "model.safetensors", 1);
  const std::string message = load_error(dir_);
  EXPECT_THAT(message, HasSubstr("is not aligned to its 4-byte dtype F32"));
  EXPECT_THAT(message, HasSubstr("model.safetensors"));
  EXPECT_THAT(message, HasSubstr("model.embed_tokens.weight"));
}

}  // namespace
}  // namespace llama4
