// Prompt cache files (`--prompt-cache FILE`): the token ids a Generator's KV caches hold and every
// layer's keys and values, so the next run with a prompt sharing a prefix skips its prefill.
//
// Format (little-endian, version 1):
//   "L4PC" | u32 version | u64 model fingerprint | u64 n_tokens | i32 tokens[n_tokens]
//   | u32 n_layers | per layer: i64 begin, i64 end, i64 row (kv_heads × head_dim),
//     f32 keys[(end − begin) × row], f32 values[(end − begin) × row]
//   | u64 FNV-1a checksum of everything before it
// The fingerprint hashes config.json and the tensor table (names, dtypes, shapes, first bytes of
// each tensor), so a file made with another model is refused. Any mismatch or damage gives a
// warning and a fresh start, never a crash.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "generate/generator.h"

namespace llama4 {

inline constexpr std::uint32_t kPromptCacheVersion = 1;

std::uint64_t model_fingerprint(const std::filesystem::path& model_dir, const Model& model);

// Restores `generator` from `file`. Returns a message for the user: how many tokens were restored,
// or why the file was ignored ("" when the file does not exist). Never throws for file content.
std::string load_prompt_cache(const std::filesystem::path& file,
                              const std::filesystem::path& model_dir, Generator& generator);

// Writes what `generator` holds (written to a temporary file, then renamed). Throws Error when the
// file cannot be written.
void save_prompt_cache(const std::filesystem::path& file, const std::filesystem::path& model_dir,
                       Generator& generator);

}  // namespace llama4
