// Loading UX: the progress bar (formatting, rate limiting, drawn only on a terminal and not with
// --quiet), the memory check against injected /proc/meminfo numbers, and the messages a person
// gets for a wrong path, a file instead of a folder, or a folder without weights.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "generate/demo_model.h"
#include "model/memory_check.h"
#include "model/model.h"
#include "test_support.h"
#include "util/error.h"
#include "util/progress.h"

namespace llama4 {
namespace {

using testing::quoted;
using testing::TempDir;

constexpr std::uint64_t kGiB = 1024ull * 1024 * 1024;

// --- ProgressBar -------------------------------------------------------------------------------

TEST(ProgressBar, RendersFilledPartPercentAndDetail) {
  EXPECT_EQ(ProgressBar::render(45, 100, "loading model.safetensors", 10),
            "[####      ]  45% loading model.safetensors");
  EXPECT_EQ(ProgressBar::render(0, 4, "", 4), "[    ]   0%");
  EXPECT_EQ(ProgressBar::render(4, 4, "done", 4), "[####] 100% done");
  EXPECT_EQ(ProgressBar::render(9, 4, "", 4), "[####] 100%");  // clamped
  EXPECT_EQ(ProgressBar::render(1, 0, "", 2), "[##] 100%");    // total 0 counts as 1
}

TEST(ProgressBar, RedrawsInPlaceAndEndsTheLine) {
  std::ostringstream out;
  {
    ProgressBar bar(out, 4, true, std::chrono::milliseconds(0), 4);
    bar.update(1, "reading a long description");
    bar.update(2, "short");
    bar.finish("ok");
  }
  const std::string first = "\r[#   ]  25% reading a long description";
  const std::string second = "\r[##  ]  50% short";
  const std::string padding(first.size() - second.size(), ' ');
  const std::string third = "\r[####] 100% ok";
  EXPECT_EQ(out.str(), first + second + padding + third +
                           std::string(second.size() - third.size(), ' ') + "\n");
}

TEST(ProgressBar, RateLimitsIntermediateDrawsButNotTheFirstOrLast) {
  std::ostringstream out;
  ProgressBar bar(out, 100, true, std::chrono::hours(1), 10);
  bar.update(1, "a");
  bar.update(2, "b");    // within the interval: skipped
  bar.update(50, "c");   // skipped
  bar.update(100, "d");  // complete: always drawn
  const std::string text = out.str();
  EXPECT_NE(text.find("1% a"), std::string::npos);
  EXPECT_EQ(text.find("2% b"), std::string::npos);
  EXPECT_EQ(text.find("50% c"), std::string::npos);
  EXPECT_NE(text.find("100% d"), std::string::npos);
}

TEST(ProgressBar, DisabledBarWritesNothing) {
  std::ostringstream out;
  {
    ProgressBar bar(out, 3, false);
    bar.update(1, "x");
    bar.finish("y");
    EXPECT_FALSE(bar.enabled());
  }
  EXPECT_EQ(out.str(), "");
}

TEST(ProgressBar, InterruptedBarStillEndsItsLine) {
  std::ostringstream out;
  { ProgressBar(out, 3, true, std::chrono::milliseconds(0), 3).update(1, "x"); }
  EXPECT_EQ(out.str(), "\r[#  ]  33% x\n");
}

TEST(ProgressBar, OnStderrOnlyWhenATerminalAndNotSuppressed) {
  set_progress_suppressed(false);
  EXPECT_EQ(ProgressBar::for_stderr(3).enabled(), stderr_is_terminal());
  set_progress_suppressed(true);
  EXPECT_FALSE(ProgressBar::for_stderr(3).enabled());
  set_progress_suppressed(false);
}

// --- Memory check ------------------------------------------------------------------------------

TEST(MemoryCheck, ParsesMeminfo) {
  const MemoryInfo info = parse_meminfo(
      "MemTotal:       16314316 kB\nMemFree:         1000 kB\nMemAvailable:    8000000 kB\n"
      "Buffers:          2000 kB\n");
  ASSERT_TRUE(info.total_bytes && info.available_bytes);
  EXPECT_EQ(*info.total_bytes, 16314316ull * 1024);
  EXPECT_EQ(*info.available_bytes, 8000000ull * 1024);
  const MemoryInfo broken = parse_meminfo("MemTotal: lots\nMemAvailableX: 5 kB\nnonsense");
  EXPECT_FALSE(broken.total_bytes);
  EXPECT_FALSE(broken.available_bytes);
  EXPECT_FALSE(read_meminfo("/nonexistent/meminfo").total_bytes);
}

TEST(MemoryCheck, WarnsOnlyWhenTheWeightsDoNotFit) {
  const MemoryInfo memory{.total_bytes = 64 * kGiB, .available_bytes = 20 * kGiB};
  EXPECT_EQ(memory_warning(10 * kGiB, memory, "small"), "");
  EXPECT_EQ(memory_warning(20 * kGiB, memory, "exact"), "");
  const std::string tight = memory_warning(30 * kGiB, memory, "scout");
  EXPECT_NE(tight.find("warning: the weights of scout take 30.0 GiB"), std::string::npos) << tight;
  EXPECT_NE(tight.find("only 20.0 GiB of memory is available"), std::string::npos) << tight;
  EXPECT_NE(tight.find("memory-mapped"), std::string::npos) << tight;
  const std::string huge = memory_warning(200 * kGiB, memory, "maverick");
  EXPECT_NE(huge.find("this machine has only 64.0 GiB of memory"), std::string::npos) << huge;
  EXPECT_EQ(memory_warning(200 * kGiB, MemoryInfo{}, "unknown"), "");  // nothing to compare with
}

TEST(MemoryCheck, FormatsSizes) {
  EXPECT_EQ(format_bytes(12), "12 bytes");
  EXPECT_EQ(format_bytes(3 * 1024 * 1024 / 2), "1.5 MiB");
  EXPECT_EQ(format_bytes(5 * kGiB / 2), "2.5 GiB");
}

// --- Messages and the bar through the CLI ------------------------------------------------------

class LoadingUxTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("llama4-loading-ux");
    DemoModelOptions demo;
    demo.layers = 1;
    write_demo_model(dir_->path() / "demo", demo);
  }
  static void TearDownTestSuite() { delete dir_; }
  void SetUp() override {
    if (bin().empty()) GTEST_FAIL() << "LLAMA4_BIN does not name the built llama4 program";
  }
  static std::string bin() { return testing::env_or_empty("LLAMA4_BIN"); }
  static std::filesystem::path demo() { return dir_->path() / "demo"; }

  // Runs `llama4 generate` with stderr captured in a file (not a terminal); returns stderr.
  static std::string generate_stderr(const std::string& args, int& status) {
    const auto err_file = dir_->path() / "stderr.txt";
    testing::run_command(quoted(bin()) + " generate " + args + " 2>" + quoted(err_file.string()) +
                             " </dev/null >/dev/null",
                         status);
    std::ifstream in(err_file);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // Runs `llama4 generate ARGS` in a pseudo-terminal; returns everything it wrote there.
  static std::string generate_in_terminal(const std::string& args, int& status) {
    const std::string script =
        "import os, pty, sys\n"
        "pid, fd = pty.fork()\n"
        "if pid == 0:\n"
        "    os.execv(sys.argv[1], [sys.argv[1], 'generate'] + sys.argv[2].split())\n"
        "out = b''\n"
        "while True:\n"
        "    try:\n"
        "        chunk = os.read(fd, 4096)\n"
        "    except OSError:\n"
        "        break\n"
        "    if not chunk:\n"
        "        break\n"
        "    out += chunk\n"
        "_, code = os.waitpid(pid, 0)\n"
        "sys.stdout.buffer.write(out)\n"
        "sys.exit(os.waitstatus_to_exitcode(code))\n";
    return testing::run_command(quoted(testing::python()) + " -c " + quoted(script) + " " +
                                    quoted(bin()) + " " + quoted(args),
                                status);
  }

  static TempDir* dir_;
};
TempDir* LoadingUxTest::dir_ = nullptr;

TEST_F(LoadingUxTest, WrongPathIsNamed) {
  int status = 0;
  const auto missing = (dir_->path() / "no-such-model").string();
  const std::string err = generate_stderr("-m " + quoted(missing) + " -p hi -n 1", status);
  EXPECT_NE(status, 0);
  EXPECT_NE(err.find("error: model folder '" + missing + "' does not exist"), std::string::npos)
      << err;
  try {
    Model::load(missing);
    FAIL() << "loaded a missing folder";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "model folder not found: " + missing);
  }
}

TEST_F(LoadingUxTest, FileInsteadOfFolderIsExplained) {
  const auto file = dir_->path() / "config-only.json";
  std::ofstream(file) << "{}";
  try {
    Model::load(file);
    FAIL() << "loaded a file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a model folder: " + file.string() + " is a file"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(LoadingUxTest, FolderWithoutWeightsIsExplained) {
  const auto empty = dir_->path() / "empty";
  std::filesystem::create_directories(empty);
  int status = 0;
  std::string err = generate_stderr("-m " + quoted(empty.string()) + " -p hi -n 1", status);
  EXPECT_NE(status, 0);
  EXPECT_NE(err.find("error: not a model folder: " + empty.string() +
                     " has neither config.json nor *.safetensors weights"),
            std::string::npos)
      << err;

  const auto no_weights = dir_->path() / "no-weights";
  std::filesystem::create_directories(no_weights);
  std::filesystem::copy_file(demo() / "config.json", no_weights / "config.json");
  err = generate_stderr("-m " + quoted(no_weights.string()) + " -p hi -n 1", status);
  EXPECT_NE(status, 0);
  EXPECT_NE(err.find("error: model folder " + no_weights.string() +
                     " has no weights: expected model.safetensors"),
            std::string::npos)
      << err;
}

TEST_F(LoadingUxTest, NoProgressBarWhenStderrIsNotATerminal) {
  int status = 0;
  const std::string err =
      generate_stderr("-m " + quoted(demo().string()) + " -p hi -n 2 --temp 0", status);
  EXPECT_EQ(status, 0) << err;
  EXPECT_EQ(err.find('\r'), std::string::npos) << err;
  EXPECT_EQ(err.find("% loaded"), std::string::npos) << err;
  EXPECT_NE(err.find("generated:"), std::string::npos) << err;  // stderr was written, just no bar
}

TEST_F(LoadingUxTest, ProgressBarOnATerminalUnlessQuiet) {
  int status = 0;
  const std::string shown =
      generate_in_terminal("-m " + demo().string() + " -p hi -n 2 --temp 0", status);
  ASSERT_EQ(status, 0) << shown;
  EXPECT_NE(
      shown.find("\r[" + std::string(ProgressBar::kDefaultWidth, '#') + "] 100% loaded demo ("),
      std::string::npos)
      << shown;
  EXPECT_NE(shown.find("mapped from 1 file(s))"), std::string::npos) << shown;
  const std::string quiet =
      generate_in_terminal("-m " + demo().string() + " -p hi -n 2 --temp 0 --quiet", status);
  ASSERT_EQ(status, 0) << quiet;
  EXPECT_EQ(quiet.find("% loaded"), std::string::npos) << quiet;
  EXPECT_EQ(quiet.find("\r["), std::string::npos) << quiet;
}

}  // namespace
}  // namespace llama4
