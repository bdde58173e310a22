// The 2,048 special tokens Llama 4 appends after the 200,000 tiktoken ranks, in the order of Meta's
// models/llama4/tokenizer.py (id = number of base tokens + index), and the names generation needs.
#pragma once

#include <string>
#include <vector>

namespace llama4 {

inline constexpr int kLlama4NumSpecialTokens = 2048;
inline constexpr const char* kLlama4BosToken = "<|begin_of_text|>";
inline constexpr const char* kLlama4EosToken = "<|end_of_text|>";
inline constexpr const char* kLlama4EotToken = "<|eot|>";

// All 2,048 names, index 0 = "<|begin_of_text|>", the last "<|reserved_special_token_903|>".
const std::vector<std::string>& llama4_special_tokens();

}  // namespace llama4
