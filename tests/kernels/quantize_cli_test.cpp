// `llama4 quantize` end to end, driven by tests/kernels/quantize_roundtrip.py: bit-exact packing
// against a numpy port of mlx's quantizer, the mlx tensor layout, and logits of the quantized
// model close to the original's (8-bit within 1%).
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace {

TEST(QuantizeCliTest, QuantizedFixturesMatchMlxAndTheOriginalLogits) {
  const char* bin = std::getenv("LLAMA4_BIN");
  const char* python = std::getenv("PYTHON");
  const char* source = std::getenv("LLAMA4_SOURCE_DIR");
  if (bin == nullptr || python == nullptr || source == nullptr)
    GTEST_SKIP() << "LLAMA4_BIN, PYTHON and LLAMA4_SOURCE_DIR are set by CTest";
  const std::string command =
      std::string(python) + " " + source + "/tests/kernels/quantize_roundtrip.py " + bin;
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

}  // namespace
