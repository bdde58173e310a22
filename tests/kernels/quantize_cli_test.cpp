// `llama4 quantize` end to end, driven by Python scripts beside this file:
//  - quantize_roundtrip.py: bit-exact packing against a numpy port of the quantizer (mlx's scales,
//    levels chosen against their bf16 values), the mlx tensor layout, the engine on packed weights
//    equal to the numpy reference on the dequantized ones, and logits of the quantized model close
//    to the original's;
//  - quantized_agreement.py: 64 greedy tokens of 4- and 8-bit models against the bf16 original;
//  - bf16_activations_e2e.py: `--activations bf16` on bf16 models against a numpy reference that
//    rounds alike.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace {

void run_script(const std::string& script) {
  const char* bin = std::getenv("LLAMA4_BIN");
  const char* python = std::getenv("PYTHON");
  const char* source = std::getenv("LLAMA4_SOURCE_DIR");
  if (bin == nullptr || python == nullptr || source == nullptr)
    GTEST_SKIP() << "LLAMA4_BIN, PYTHON and LLAMA4_SOURCE_DIR are set by CTest";
  const std::string command =
      std::string(python) + " " + source + "/tests/kernels/" + script + " " + bin;
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

TEST(QuantizeCliTest, QuantizedFixturesMatchMlxAndTheOriginalLogits) {
  run_script("quantize_roundtrip.py");
}

TEST(QuantizeCliTest, QuantizedModelsKeepTheGreedyTokensOfTheOriginal) {
  run_script("quantized_agreement.py");
}

TEST(ActivationsCliTest, Bf16ActivationsMatchAReferenceThatRoundsAlike) {
  run_script("bf16_activations_e2e.py");
}

}  // namespace
