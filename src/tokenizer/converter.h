// Converts Meta's tiktoken `tokenizer.model` into a Hugging Face tokenizer folder
// (tokenizer.json + tokenizer_config.json), built as transformers' Llama4Converter builds it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace llama4 {

struct TokenizerConversion {
  std::optional<std::string> chat_template;  // instruct models: also makes "<|eot|>" the EOS
};

// Merges reconstructed from tiktoken ranks, in the order transformers' TikTokenConverter writes
// them: for every token (by rank), every split into two tokens, ordered by (left rank, right rank);
// then all merges stably sorted by the rank of the merged token. Entries are (left, right) ranks.
std::vector<std::pair<int, int>> merges_from_ranks(const std::vector<std::string>& tokens);

// Writes OUT_DIR/tokenizer.json and OUT_DIR/tokenizer_config.json (creating OUT_DIR). Throws Error.
void convert_tiktoken_to_hf(const std::filesystem::path& model_file,
                            const std::filesystem::path& out_dir,
                            const TokenizerConversion& options);

}  // namespace llama4
