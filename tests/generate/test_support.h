// Helpers for the generation tests: temporary folders, tiny fixture checkpoints written by
// tests/fixtures/make_fixture.py, the numpy reference's greedy continuation, and running commands.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace llama4::testing {

inline std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// The environment of CTest when set; otherwise derived from this file's place in the source tree
// (tests/generate/test_support.h), so the tests also run when only some variables are passed.
inline std::filesystem::path source_dir() {
  const std::string from_env = env_or_empty("LLAMA4_SOURCE_DIR");
  if (!from_env.empty()) return from_env;
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
}

inline std::string python() {
  const std::string from_env = env_or_empty("PYTHON");
  return from_env.empty() ? "/usr/bin/python3" : from_env;
}

// Runs a shell command; returns its stdout and sets `status` to the exit status.
inline std::string run_command(const std::string& command, int& status) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) {
    status = -1;
    return output;
  }
  std::array<char, 4096> buffer{};
  std::size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    output.append(buffer.data(), n);
  const int raw = ::pclose(pipe);
  status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return output;
}

inline std::string quoted(const std::string& text) {
  std::string out = "'";
  for (const char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A fresh temporary folder, removed when the object goes away.
class TempDir {
 public:
  explicit TempDir(const std::string& name) {
    path_ = std::filesystem::temp_directory_path() /
            (name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::filesystem::path path_;
};

// Writes the default tiny fixture (vocab 128, 4 layers, eos ids 2 and 3) as float32; false when
// Python or the fixture script is unavailable.
inline bool make_fixture_model(const std::filesystem::path& dir) {
  if (!std::filesystem::exists(python()) ||
      !std::filesystem::exists(source_dir() / "tests/fixtures"))
    return false;
  std::filesystem::create_directories(dir);
  const auto config = dir / "fixture-config.json";
  std::ofstream(config) << "{}";
  int status = 0;
  run_command(
      quoted(python()) + " " + quoted((source_dir() / "tests/fixtures/make_fixture.py").string()) +
          " " + quoted(dir.string()) + " --config " + quoted(config.string()) + " >/dev/null 2>&1",
      status);
  return status == 0;
}

// The numpy reference's greedy continuation of `ids`.
inline std::vector<int> reference_greedy(const std::filesystem::path& dir,
                                         const std::vector<int>& ids, int n) {
  std::ostringstream script;
  script << "import sys; sys.path.insert(0, " << quoted((source_dir() / "tests/reference").string())
         << "); import llama4_ref; print(','.join(str(t) for t in llama4_ref.greedy("
         << quoted(dir.string()) << ", [";
  for (std::size_t i = 0; i < ids.size(); ++i) script << (i ? "," : "") << ids[i];
  script << "], " << n << ")))";
  int status = 0;
  const std::string out =
      run_command(quoted(python()) + " -c " + quoted(script.str()) + " 2>/dev/null", status);
  std::vector<int> result;
  if (status != 0) return result;
  std::stringstream stream(out);
  std::string item;
  while (std::getline(stream, item, ',')) result.push_back(std::stoi(item));
  return result;
}

}  // namespace llama4::testing
