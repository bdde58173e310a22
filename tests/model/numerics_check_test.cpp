// The numerics guard: check_activations_finite names the first non-finite value, and a model whose
// checkpoint holds a NaN weight is stopped at the layer and tensor that weight feeds when the guard
// is on (and produces NaN logits silently when it is off, which is why the guard exists).
#include "model/numerics_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "checkpoint/safetensors.h"
#include "model/model.h"
#include "model/synthetic_model.h"
#include "util/error.h"

namespace llama4 {
namespace {

using ::testing::HasSubstr;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

std::string error_of(const std::vector<float>& values, std::int64_t width, std::int64_t layer,
                     std::string_view tensor) {
  try {
    check_activations_finite(values, width, layer, tensor);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(NumericsCheckTest, FiniteValuesPass) {
  const std::vector<float> values = {0.0f, -1.5f, std::numeric_limits<float>::max(),
                                     std::numeric_limits<float>::denorm_min()};
  EXPECT_EQ(error_of(values, 2, 0, "attention output"), "");
  EXPECT_EQ(error_of({}, 4, 0, "attention output"), "");
}

TEST(NumericsCheckTest, NamesLayerTensorRowAndColumnOfFirstNaN) {
  std::vector<float> values(12, 1.0f);
  values[7] = kNaN;  // row 1, column 3 of a [3, 4] matrix
  values[9] = kInf;  // later: not the one reported
  const std::string message = error_of(values, 4, 3, "attention output");
  EXPECT_THAT(message, HasSubstr("layer 3 attention output holds NaN at row 1, column 3"));
}

TEST(NumericsCheckTest, ReportsSignOfInfinityAndOmitsLayerWhenNone) {
  std::vector<float> values(4, 0.0f);
  values[2] = -kInf;
  EXPECT_THAT(error_of(values, 2, kNoLayer, "output logits"),
              HasSubstr("numerics check: output logits holds -Inf at row 1, column 0"));
  values[2] = kInf;
  EXPECT_THAT(error_of(values, 2, kNoLayer, "output logits"), HasSubstr("holds +Inf"));
}

// A tiny synthetic model whose layer-1 attention output projection is all NaN on disk.
class NaNWeightModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // One folder per process: CTest runs each test of this suite as a process of its own, in
    // parallel.
    dir_ = std::filesystem::temp_directory_path() /
           ("llama4_numerics_check_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    write_synthetic_model(dir_, synthetic_config("tiny", 3, 64), {DType::F32, 3});
    poison_tensor(dir_ / "model.safetensors",
                  "language_model.model.layers.1.self_attn.o_proj.weight");
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  // Overwrites every element of the (F32) tensor `name` with NaN, in place.
  static void poison_tensor(const std::filesystem::path& file, const std::string& name) {
    std::ifstream in(file, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
    in.close();
    const std::span<const std::byte> view(reinterpret_cast<const std::byte*>(bytes.data()),
                                          bytes.size());
    for (const TensorInfo& info : SafetensorsFile::parse(view, file.string())) {
      if (info.stored_name != name) continue;
      ASSERT_EQ(info.dtype, DType::F32);
      const std::ptrdiff_t offset = info.data - view.data();
      for (std::size_t i = 0; i < info.nbytes / sizeof(float); ++i)
        std::memcpy(bytes.data() + offset + i * sizeof(float), &kNaN, sizeof(float));
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      return;
    }
    FAIL() << "no tensor " << name;
  }

  static inline std::filesystem::path dir_;
};

TEST_F(NaNWeightModelTest, GuardStopsAtTheFirstBadLayerAndTensor) {
  const auto model = Model::load(dir_);
  model->set_check_numerics(true);
  InferenceState state(*model, 8);
  std::vector<float> logits;
  const std::vector<std::int32_t> tokens = {1, 2, 3};
  try {
    model->forward(tokens, state, LogitsFor::kAllPositions, logits);
    FAIL() << "expected a numerics error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("numerics check: layer 1 attention output holds NaN at row 0"));
  }
}

TEST_F(NaNWeightModelTest, WithoutTheGuardTheLogitsAreSilentlyNaN) {
  const auto model = Model::load(dir_);
  model->set_check_numerics(false);
  InferenceState state(*model, 8);
  std::vector<float> logits;
  const std::vector<std::int32_t> tokens = {1, 2};
  model->forward(tokens, state, LogitsFor::kLastPosition, logits);
  ASSERT_FALSE(logits.empty());
  EXPECT_TRUE(std::isnan(logits[0]));
}

}  // namespace
}  // namespace llama4
