// Command-line tests: `llama4 generate --ids ... --json` checked against the numpy reference,
// text generation and stop strings on the demo model, the prompt cache (reuse equals a cold run,
// a damaged file is refused safely), and a two-turn `llama4 chat` driven through a pipe whose
// second turn reuses the first turn's cache.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>

#include "generate/demo_model.h"
#include "kernels/bf16_activations.h"
#include "kernels/int8_activations.h"
#include "test_support.h"

namespace llama4 {
namespace {

using testing::quoted;
using testing::TempDir;

std::string llama4_bin() {
  return testing::env_or_empty("LLAMA4_BIN");
}

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("llama4-cli");
    fixture_ok_ = testing::make_fixture_model(dir_->path() / "fixture");
    DemoModelOptions demo;
    demo.layers = 2;
    write_demo_model(dir_->path() / "demo", demo);
  }
  static void TearDownTestSuite() { delete dir_; }
  void SetUp() override {
    if (llama4_bin().empty()) GTEST_SKIP() << "LLAMA4_BIN is not set";
  }
  static std::string demo() { return (dir_->path() / "demo").string(); }

  // The demo model quantized by `llama4 quantize` into `name` (group size 32); stderr into `err`,
  // the exit status into `status`.
  static std::string quantized_demo(const std::string& name, int bits, int& status,
                                    std::string& err, const std::string& options = "") {
    const std::string out = (dir_->path() / name).string();
    llama4("quantize -m " + quoted(demo()) + " -o " + quoted(out) + " --bits " +
               std::to_string(bits) + " --group-size 32" + options,
           status, &err);
    return out;
  }

  // Runs llama4 with `args`; stdout returned, stderr into `err`.
  static std::string llama4(const std::string& args, int& status, std::string* err = nullptr,
                            const std::string& stdin_text = "") {
    const auto err_file = dir_->path() / "stderr.txt";
    std::string command = quoted(llama4_bin()) + " " + args + " 2>" + quoted(err_file.string());
    if (!stdin_text.empty()) {
      const auto in_file = dir_->path() / "stdin.txt";
      std::ofstream(in_file) << stdin_text;
      command += " <" + quoted(in_file.string());
    } else {
      command += " </dev/null";
    }
    std::string out = testing::run_command(command, status);
    if (err) {
      std::ifstream in(err_file);
      *err = std::string(std::istreambuf_iterator<char>(in), {});
    }
    return out;
  }

  static TempDir* dir_;
  static bool fixture_ok_;
};
TempDir* CliTest::dir_ = nullptr;
bool CliTest::fixture_ok_ = false;

TEST_F(CliTest, GenerateIdsJsonEqualsReference) {
  if (!fixture_ok_) GTEST_SKIP() << "fixture checkpoint could not be written";
  const std::string fixture = (dir_->path() / "fixture").string();
  const std::vector<int> prompt = {1, 10, 20, 30};
  const std::vector<int> expected = testing::reference_greedy(fixture, prompt, 5);
  ASSERT_EQ(expected.size(), 5u);
  int status = 0;
  std::string err;
  const std::string out = llama4(
      "generate -m " + quoted(fixture) + " --ids 1,10,20,30 -n 5 --temp 0 --json", status, &err);
  ASSERT_EQ(status, 0) << err;
  const auto json = nlohmann::json::parse(out);
  // The fixture's end ids are 2 and 3: generation stops early if greedy picks one.
  std::vector<int> want = expected;
  for (std::size_t i = 0; i < want.size(); ++i)
    if (want[i] == 2 || want[i] == 3) {
      want.resize(i + 1);
      break;
    }
  EXPECT_EQ(json["ids"].get<std::vector<int>>(), want);
  EXPECT_EQ(json["stop_reason"], want.size() == 5 ? "length" : "eos");
  EXPECT_EQ(json["timings"]["prompt_tokens"], 4);
  EXPECT_EQ(json["timings"]["generated_tokens"], static_cast<int>(want.size()));
  EXPECT_GE(json["timings"]["time_to_first_token"].get<double>(), 0.0);
}

TEST_F(CliTest, GenerateWithoutTokenizerPrintsIdsAndRejectsText) {
  if (!fixture_ok_) GTEST_SKIP() << "fixture checkpoint could not be written";
  const std::string fixture = (dir_->path() / "fixture").string();
  int status = 0;
  const std::string out =
      llama4("generate -m " + quoted(fixture) + " --ids 5,6 -n 3 --temp 0 -q", status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(std::count(out.begin(), out.end(), ','), 2) << out;
  std::string err;
  llama4("generate -m " + quoted(fixture) + " -p hello", status, &err);
  EXPECT_EQ(status, 1);
  EXPECT_NE(err.find("has no tokenizer"), std::string::npos) << err;
  llama4("generate -m /nonexistent/folder -p hi", status, &err);
  EXPECT_EQ(status, 1);
  EXPECT_NE(err.find("does not exist"), std::string::npos) << err;
}

TEST_F(CliTest, DemoModelStreamsTextSaysItIsADemoAndHonoursContext) {
  int status = 0;
  std::string err;
  const std::string out =
      llama4("generate -m " + quoted(demo()) + " -p 'Hello there' -n 12 --seed 3", status, &err);
  ASSERT_EQ(status, 0) << err;
  EXPECT_NE(err.find("demo model"), std::string::npos) << err;
  EXPECT_NE(err.find("prompt:"), std::string::npos) << err;
  // The JSON text equals what streams to stdout (plus the final newline).
  const std::string json_out = llama4(
      "generate -m " + quoted(demo()) + " -p 'Hello there' -n 12 --seed 3 --json -q", status);
  ASSERT_EQ(status, 0);
  EXPECT_EQ(nlohmann::json::parse(json_out)["text"].get<std::string>() + "\n", out);
  // Same prompt from stdin.
  EXPECT_EQ(llama4("generate -m " + quoted(demo()) + " -n 12 --seed 3 -q", status, nullptr,
                   "Hello there"),
            out);
  // A prompt that does not fit the context.
  llama4("generate -m " + quoted(demo()) + " -p 'Hello there, how are you today?' -c 8", status,
         &err);
  EXPECT_EQ(status, 1);
  EXPECT_NE(err.find("context"), std::string::npos) << err;
}

TEST_F(CliTest, PromptCacheReuseEqualsColdRunAndDamageIsSafe) {
  const std::string cache = (dir_->path() / "prompt.cache").string();
  const std::string base =
      "generate -m " + quoted(demo()) + " -p 'Tell me a story about the sea' -n 10 --temp 0 --json";
  int status = 0;
  std::string err;
  const auto cold = nlohmann::json::parse(llama4(base, status, &err));
  ASSERT_EQ(status, 0) << err;
  const auto first =
      nlohmann::json::parse(llama4(base + " --prompt-cache " + quoted(cache), status, &err));
  ASSERT_EQ(status, 0) << err;
  EXPECT_EQ(first["timings"]["cached_prompt_tokens"], 0);
  const auto warm =
      nlohmann::json::parse(llama4(base + " --prompt-cache " + quoted(cache), status, &err));
  ASSERT_EQ(status, 0) << err;
  EXPECT_NE(err.find("restored"), std::string::npos) << err;
  EXPECT_EQ(warm["timings"]["cached_prompt_tokens"].get<int>(),
            cold["timings"]["prompt_tokens"].get<int>() - 1);
  EXPECT_EQ(warm["ids"], cold["ids"]);
  EXPECT_EQ(warm["text"], cold["text"]);

  // Flip a byte in the middle: refused with a warning, the result is still the cold one.
  {
    std::fstream file(cache, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(0, std::ios::end);
    const auto size = static_cast<std::streamoff>(file.tellg());
    file.seekp(size / 2);
    file.put('\x5a');
  }
  const auto damaged =
      nlohmann::json::parse(llama4(base + " --prompt-cache " + quoted(cache), status, &err));
  ASSERT_EQ(status, 0) << err;
  EXPECT_NE(err.find("ignoring"), std::string::npos) << err;
  EXPECT_EQ(damaged["timings"]["cached_prompt_tokens"], 0);
  EXPECT_EQ(damaged["ids"], cold["ids"]);
  // Garbage and a file from another model are refused the same way.
  std::ofstream(cache, std::ios::trunc) << "not a cache";
  llama4(base + " --prompt-cache " + quoted(cache), status, &err);
  EXPECT_EQ(status, 0);
  EXPECT_NE(err.find("ignoring"), std::string::npos) << err;
}

// A bf16 KV cache: generation works, a prompt cache saved from it restores exactly (the file keeps
// the bf16 values as f32), and an unknown type is refused naming the flag.
TEST_F(CliTest, Bf16KvCacheGeneratesAndItsPromptCacheRestoresExactly) {
  const std::string cache = (dir_->path() / "bf16.cache").string();
  const std::string base =
      "generate -m " + quoted(demo()) +
      " -p 'Tell me a story about the sea' -n 10 --temp 0 --json --kv-type bf16";
  int status = 0;
  std::string err;
  const auto cold = nlohmann::json::parse(llama4(base, status, &err));
  ASSERT_EQ(status, 0) << err;
  EXPECT_EQ(cold["ids"].size(), 10u);
  llama4(base + " --prompt-cache " + quoted(cache), status, &err);
  ASSERT_EQ(status, 0) << err;
  const auto warm =
      nlohmann::json::parse(llama4(base + " --prompt-cache " + quoted(cache), status, &err));
  ASSERT_EQ(status, 0) << err;
  EXPECT_NE(err.find("restored"), std::string::npos) << err;
  EXPECT_GT(warm["timings"]["cached_prompt_tokens"].get<int>(), 0);
  EXPECT_EQ(warm["ids"], cold["ids"]);

  llama4("generate -m " + quoted(demo()) + " -p hi -n 1 --kv-type f16", status, &err);
  EXPECT_NE(status, 0);
  EXPECT_NE(err.find("--kv-type"), std::string::npos) << err;
  EXPECT_NE(err.find("f16"), std::string::npos) << err;
}

// A prompt cache made with rounded activations (int8 or int16 on a quantized model, bf16 on the
// bf16 demo) is restored only with the same precision: f32 would continue from keys and values it
// did not compute.
TEST_F(CliTest, PromptCacheRemembersTheActivationPrecision) {
  int status = 0;
  std::string err;
  const std::string quantized = quantized_demo("demo-q8", 8, status, err);
  ASSERT_EQ(status, 0) << err;
  for (const auto& [model, precision] :
       {std::pair{quantized, std::string("int8")}, std::pair{quantized, std::string("int16")},
        std::pair{demo(), std::string("bf16")}}) {
    const std::string cache = (dir_->path() / (precision + ".cache")).string();
    const std::string base = "generate -m " + quoted(model) +
                             " -p 'Tell me a story' -n 4 --temp 0 --json --prompt-cache " +
                             quoted(cache);
    llama4(base + " --activations " + precision, status, &err);
    ASSERT_EQ(status, 0) << err;
    const auto warm =
        nlohmann::json::parse(llama4(base + " --activations " + precision, status, &err));
    ASSERT_EQ(status, 0) << err;
    EXPECT_GT(warm["timings"]["cached_prompt_tokens"].get<int>(), 0) << precision << ": " << err;
    const auto other = nlohmann::json::parse(llama4(base + " --activations f32", status, &err));
    ASSERT_EQ(status, 0) << err;
    EXPECT_NE(err.find("ignoring"), std::string::npos) << precision << ": " << err;
    EXPECT_EQ(other["timings"]["cached_prompt_tokens"], 0) << precision;
  }
}

// --activations: int8 on a model without 4/8-bit weights says it has no effect and still runs;
// an unknown precision is refused naming the flag and the value.
TEST_F(CliTest, ActivationsFlagIsValidatedAndExplained) {
  int status = 0;
  std::string err;
  llama4("generate -m " + quoted(demo()) + " -p hi -n 1 --activations int8", status, &err);
  EXPECT_EQ(status, 0) << err;
  EXPECT_NE(err.find("--activations int8 has no effect"), std::string::npos) << err;
  llama4("generate -m " + quoted(demo()) + " -p hi -n 1 --activations int4", status, &err);
  EXPECT_NE(status, 0);
  EXPECT_NE(err.find("--activations"), std::string::npos) << err;
  EXPECT_NE(err.find("int4"), std::string::npos) << err;
}

// `llama4 bench --json`: both tests with positive speeds, the machine's limits it measured, the
// pages its weights lay in, and the KV cache type it ran with (a bf16 cache is half the bytes of
// an f32 one). With --profile, each test's extra run split by part: every part of a MoE model,
// their times within the run's, and for decoding the weights the products read: one decode step's
// bytes but for the embedding row, which no product reads.
TEST_F(CliTest, BenchReportsSpeedsTheMachinesLimitsAndTheKvCache) {
  if (!fixture_ok_) GTEST_SKIP() << "fixture checkpoint could not be written";
  const std::string base =
      "bench -m " + quoted((dir_->path() / "fixture").string()) + " -p 8 -n 4 --repeat 2 --json";
  int status = 0;
  std::string err;
  const auto f32 = nlohmann::json::parse(llama4(base, status, &err));
  ASSERT_EQ(status, 0) << err;
  ASSERT_EQ(f32["tests"].size(), 2u);
  EXPECT_EQ(f32["tests"][0]["test"], "pp8");
  EXPECT_EQ(f32["tests"][1]["test"], "tg4");
  for (const auto& test : f32["tests"]) EXPECT_GT(test["tokens_per_second"].get<double>(), 0.0);
  EXPECT_GT(f32["tests"][1]["fraction_of_bandwidth"].get<double>(), 0.0);
  EXPECT_GT(f32["read_bandwidth_bytes_per_second"].get<double>(), 0.0);
  EXPECT_GT(f32["read_bandwidth_small_pages_bytes_per_second"].get<double>(), 0.0);
  EXPECT_GE(f32["read_bandwidth_probe_bytes"].get<std::uint64_t>(), std::uint64_t{1} << 30);
  // The probe also runs before the tests, but its buffer is not counted as the model's memory.
  EXPECT_LT(f32["peak_rss_bytes"].get<double>(),
            f32["read_bandwidth_probe_bytes"].get<std::uint64_t>());
  // The fixture's weights were read through their map, in pages of some size.
  EXPECT_GT(f32["weights_resident_bytes"].get<std::uint64_t>(), 0u);
  EXPECT_LE(f32["weights_in_huge_pages_bytes"].get<std::uint64_t>(),
            f32["weights_resident_bytes"].get<std::uint64_t>());
  EXPECT_GT(f32["f32_fma_peak_flops"].get<double>(), 0.0);
  EXPECT_EQ(f32["kv_type"], "f32");
  EXPECT_EQ(f32["warmup"], true);
  EXPECT_EQ(f32["experts_in_major"], true);  // the fixture's experts are HF's fused tensors
  EXPECT_FALSE(f32["tests"][0].contains("profile"));
  const auto bf16 =
      nlohmann::json::parse(llama4(base + " --kv-type bf16 --no-warmup --profile", status, &err));
  ASSERT_EQ(status, 0) << err;
  EXPECT_EQ(bf16["kv_type"], "bf16");
  EXPECT_EQ(bf16["warmup"], false);
  EXPECT_EQ(2 * bf16["kv_cache_bytes"].get<std::int64_t>(),
            f32["kv_cache_bytes"].get<std::int64_t>());

  for (const auto& test : bf16["tests"]) {
    const auto& profile = test["profile"];
    std::set<std::string> names;
    double seconds = 0.0, bytes = 0.0;
    for (const auto& part : profile["parts"]) {
      names.insert(part["part"].get<std::string>());
      EXPECT_GE(part["seconds"].get<double>(), 0.0);
      seconds += part["seconds"].get<double>();
      bytes += part["weight_bytes"].get<double>();
    }
    EXPECT_EQ(names, (std::set<std::string>{"attention projections", "attention", "shared expert",
                                            "router", "routed experts", "output head"}))
        << test["test"];
    EXPECT_LE(seconds, profile["seconds"].get<double>());
    if (test["test"] == "tg4") {
      const double per_token = bytes / 4.0;
      const auto decode_bytes = bf16["decode_bytes_per_token"].get<double>();
      EXPECT_LT(per_token, decode_bytes);
      EXPECT_GT(per_token, 0.98 * decode_bytes);
    }
  }
}

// With int8 activations on a quantized model, bench names the format and the kernel it ran on:
// the fastest this CPU runs; with f32 activations neither.
TEST_F(CliTest, BenchNamesTheInt8KernelItRanOn) {
  int status = 0;
  std::string err;
  const std::string quantized = quantized_demo("demo-q4", 4, status, err);
  ASSERT_EQ(status, 0) << err;
  const std::string base = "bench -m " + quoted(quantized) + " -p 4 -n 2 --repeat 1 --json";
  const auto int8 = nlohmann::json::parse(llama4(base + " --activations int8", status, &err));
  ASSERT_EQ(status, 0) << err;
  EXPECT_EQ(int8["format"], "q4 g32, int8 act.");
  EXPECT_EQ(int8["int8_kernel"], std::string(int8_kernel_name(int8_kernels_available().front())));
  const auto f32 = nlohmann::json::parse(llama4(base + " --activations f32", status, &err));
  ASSERT_EQ(status, 0) << err;
  EXPECT_EQ(f32["format"], "q4 g32");
  EXPECT_FALSE(f32.contains("int8_kernel"));
  EXPECT_EQ(f32["experts_in_major"], false);  // quantized experts are in mlx's out-major layout
}

// A model quantized with parts kept in 16 bits is named by its main format and the share of the
// weights in the other.
TEST_F(CliTest, BenchNamesEveryWeightFormatOfAMixedModel) {
  int status = 0;
  std::string err;
  const std::string mixed = quantized_demo("demo-q8-kept", 8, status, err, " --keep attention");
  ASSERT_EQ(status, 0) << err;
  const auto report = nlohmann::json::parse(
      llama4("bench -m " + quoted(mixed) + " -p 4 -n 2 --repeat 1 --json --activations f32", status,
             &err));
  ASSERT_EQ(status, 0) << err;
  const std::string format = report["format"];
  std::smatch share;
  ASSERT_TRUE(std::regex_match(format, share, std::regex(R"(q8 g32 \+ (\d+)% bf16)"))) << format;
  EXPECT_GE(std::stoi(share[1]), 1) << format;
  EXPECT_LT(std::stoi(share[1]), 50) << format;
}

// Without --activations (or with `auto`), 4/8-bit weights run with int16 activations where that
// is the faster path (AVX-512 VNNI), f32 elsewhere; bf16 weights always with f32.
TEST_F(CliTest, ActivationsDefaultToInt16WhereItPaysOff) {
  int status = 0;
  std::string err;
  const std::string quantized = quantized_demo("demo-q4", 4, status, err);
  ASSERT_EQ(status, 0) << err;
  const bool int16 = int16_activations_pay_off();
  for (const std::string flag : {"", " --activations auto"}) {
    const auto q4 = nlohmann::json::parse(llama4(
        "bench -m " + quoted(quantized) + " -p 4 -n 2 --repeat 1 --json" + flag, status, &err));
    ASSERT_EQ(status, 0) << err;
    EXPECT_EQ(q4["activations"], int16 ? "int16" : "f32") << flag;
    EXPECT_EQ(q4["format"], int16 ? "q4 g32, int16 act." : "q4 g32") << flag;
    const auto bf16 = nlohmann::json::parse(
        llama4("bench -m " + quoted(demo()) + " -p 4 -n 2 --repeat 1 --json" + flag, status, &err));
    ASSERT_EQ(status, 0) << err;
    EXPECT_EQ(bf16["activations"], "f32") << flag;
    EXPECT_EQ(err.find("no effect"), std::string::npos) << err;  // auto picks only what acts
  }
  // The table's prompt line measures 16-bit products against the int8 peak, and says so.
  const std::string table =
      llama4("bench -m " + quoted(quantized) + " -p 4 -n 0 --repeat 1", status, &err);
  ASSERT_EQ(status, 0) << err;
  EXPECT_EQ(table.find("two int8 products per multiply-add") != std::string::npos, int16) << table;
}

// The demo model's weights are bf16: --activations bf16 acts on them, and bench says which kernel
// ran the products.
TEST_F(CliTest, BenchNamesTheBf16KernelItRanOn) {
  int status = 0;
  std::string err;
  const std::string base = "bench -m " + quoted(demo()) + " -p 8 -n 2 --repeat 1 --json";
  const auto bf16 = nlohmann::json::parse(llama4(base + " --activations bf16", status, &err));
  ASSERT_EQ(status, 0) << err;
  EXPECT_EQ(bf16["format"], "bf16, bf16 act.");
  EXPECT_EQ(bf16["activations"], "bf16");
  EXPECT_EQ(bf16["bf16_kernel"], std::string(bf16_kernel_name(bf16_kernels_available().front())));
  EXPECT_FALSE(bf16.contains("int8_kernel"));
  const auto f32 = nlohmann::json::parse(llama4(base, status, &err));
  ASSERT_EQ(status, 0) << err;
  EXPECT_EQ(f32["format"], "bf16");
  EXPECT_FALSE(f32.contains("bf16_kernel"));
}

TEST_F(CliTest, ChatSecondTurnReusesTheFirstTurnsCache) {
  const std::string save = (dir_->path() / "conversation.json").string();
  int status = 0;
  std::string err;
  const std::string script = "Hello there\nTell me more\n/save " + save + "\n/exit\n";
  llama4("chat -m " + quoted(demo()) + " -n 6 --temp 0", status, &err, script);
  ASSERT_EQ(status, 0) << err;
  // Two timing lines; the second turn's cached tokens cover at least the whole first prompt.
  std::vector<std::pair<long, long>> turns;  // (prompt tokens, cached)
  std::size_t pos = 0;
  while ((pos = err.find("prompt: ", pos)) != std::string::npos) {
    long prompt = 0, cached = 0;
    std::sscanf(err.c_str() + pos, "prompt: %ld tokens (%ld cached)", &prompt, &cached);
    turns.emplace_back(prompt, cached);
    ++pos;
  }
  ASSERT_EQ(turns.size(), 2u) << err;
  EXPECT_EQ(turns[0].second, 0);
  EXPECT_GE(turns[1].second, turns[0].first);
  EXPECT_GT(turns[1].first, turns[1].second);
  std::ifstream in(save);
  const auto conversation = nlohmann::json::parse(in);
  ASSERT_EQ(conversation.size(), 4u);
  EXPECT_EQ(conversation[0]["role"], "user");
  EXPECT_EQ(conversation[0]["content"], "Hello there");
  EXPECT_EQ(conversation[3]["role"], "assistant");
}

TEST_F(CliTest, ChatInATerminalSurvivesCtrlCAndReusesTheCache) {
  const std::string python = testing::python();
  int status = 0;
  const std::string driver = (testing::source_dir() / "tests/generate/chat_pty_driver.py").string();
  // The full-size demo model: its greedy answers run long enough to be interrupted (the 2-layer
  // one used elsewhere answers in a few tokens, before any Ctrl-C could arrive).
  const std::filesystem::path long_demo = dir_->path() / "demo-long";
  write_demo_model(long_demo);
  const std::string out =
      testing::run_command(quoted(python) + " " + quoted(driver) + " " + quoted(llama4_bin()) +
                               " " + quoted(long_demo.string()),
                           status);
  ASSERT_EQ(status, 0) << out;
  const auto report = nlohmann::json::parse(out);
  EXPECT_EQ(report["exit_status"], 0);
  EXPECT_EQ(report["interrupted"], 2);  // both long answers stopped by Ctrl-C, the session went on
  ASSERT_EQ(report["turns"].size(), 2u) << out;
  EXPECT_EQ(report["turns"][0][1], 0);
  // The second turn does not prefill the first turn's prompt again.
  EXPECT_GE(report["turns"][1][1].get<int>(), report["turns"][0][0].get<int>());
}

}  // namespace
}  // namespace llama4
