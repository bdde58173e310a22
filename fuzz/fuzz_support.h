// Shared pieces of the libFuzzer targets: a private scratch folder for inputs that the code under
// test reads from disk, and the rule every target enforces — bad input may only ever end in a
// llama4::Error. Any other exception escapes to libFuzzer, which reports it as a finding.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "util/error.h"

namespace llama4::fuzz {

// A folder of this process's own under the system temp folder, created on first use and reused
// for every input (libFuzzer runs inputs one after another in one process).
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::string pattern = (std::filesystem::temp_directory_path() / "llama4-fuzz-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();  // the harness itself cannot run
    return std::filesystem::path(pattern);
  }();
  return dir;
}

// Writes `bytes` to `path`, replacing what was there.
inline void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) std::abort();  // the harness itself cannot run
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs `body`; an llama4::Error is the expected outcome for most inputs and is swallowed.
template <typename Body>
void expect_only_llama4_errors(Body&& body) {
  try {
    body();
  } catch (const Error&) {
  }
}

}  // namespace llama4::fuzz
