// Shared helpers of the tokenizer tests: where the real Llama 4 vocabulary and the built CLI are,
// running commands, and reading/writing JSON-lines files.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace llama4::test {

inline std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// $LLAMA4_SHARED_DIR/llama4-tokenizer/tokenizer.model (the real vocabulary; never copied here).
inline std::filesystem::path llama4_model_file() {
  std::string shared = env_or_empty("LLAMA4_SHARED_DIR");
  if (shared.empty()) shared = env_or_empty("LLAMA4_SOURCE_DIR") + "/../shared";
  return std::filesystem::path(shared) / "llama4-tokenizer" / "tokenizer.model";
}

inline std::filesystem::path source_dir() {
  const std::string dir = env_or_empty("LLAMA4_SOURCE_DIR");
  return dir.empty() ? std::filesystem::current_path() : std::filesystem::path(dir);
}

// The tokenizer loaded once per test binary (loading is cheap, but many tests need it).
inline const Tokenizer& llama4_tokenizer() {
  static const Tokenizer tokenizer = Tokenizer::load(llama4_model_file());
  return tokenizer;
}

// A fresh temporary folder, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "llama4-tok-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs `command` through /bin/sh; returns its exit status (-1 if it could not run).
inline int run_shell(const std::string& command) {
  const int status = std::system(command.c_str());
  if (status == -1 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return std::move(buffer).str();
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

inline void write_jsonl(const std::filesystem::path& path, const std::vector<std::string>& texts) {
  std::string out;
  for (const auto& t : texts) out += nlohmann::json(t).dump() + "\n";
  write_text(path, out);
}

inline std::vector<std::vector<TokenId>> read_id_lines(const std::filesystem::path& path) {
  std::vector<std::vector<TokenId>> result;
  std::istringstream in(read_text(path));
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) result.push_back(nlohmann::json::parse(line).get<std::vector<TokenId>>());
  return result;
}

}  // namespace llama4::test
