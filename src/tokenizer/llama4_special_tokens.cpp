// Llama 4 special-token names, built exactly as Meta's tokenizer.py builds them: the basic five,
// the text post-training tokens (75), the vision tokens (1,054), the reasoning tokens (10), then
// "<|reserved_special_token_N|>" up to 2,048 in all.
#include "tokenizer/llama4_special_tokens.h"

#include <string_view>

namespace llama4 {
namespace {

void add_reserved(std::vector<std::string>& out, std::string_view group, int count, int start) {
  for (int i = start; i < start + count; ++i)
    out.push_back("<|" + std::string(group) + "_reserved_special_token_" + std::to_string(i) +
                  "|>");
}

// Counts as in tokenizer.py's get_reserved_special_tokens calls.
constexpr int kTextPostTrainTailCount = 61, kTextPostTrainTailStart = 8;
constexpr int kVisionTailCount = 1041, kVisionTailStart = 7;
constexpr int kReasoningReservedCount = 8;

std::vector<std::string> build() {
  std::vector<std::string> t = {"<|begin_of_text|>", "<|end_of_text|>", "<|fim_prefix|>",
                                "<|fim_middle|>", "<|fim_suffix|>"};
  // 200005 … 200079
  for (const char* name : {"<|header_start|>", "<|header_end|>", "<|eom|>", "<|eot|>", "<|step|>"})
    t.emplace_back(name);
  add_reserved(t, "text_post_train", 6, 0);
  for (const char* name : {"<|python_start|>", "<|python_end|>", "<|finetune_right_pad|>"})
    t.emplace_back(name);
  add_reserved(t, "text_post_train", kTextPostTrainTailCount, kTextPostTrainTailStart);
  // 200080 … 201133
  t.emplace_back("<|image_start|>");
  t.emplace_back("<|image_end|>");
  add_reserved(t, "vision", 2, 0);
  t.emplace_back("<|tile_x_separator|>");
  t.emplace_back("<|tile_y_separator|>");
  add_reserved(t, "vision", 4, 2);
  t.emplace_back("<|image|>");
  add_reserved(t, "vision", 1, 6);
  t.emplace_back("<|patch|>");
  add_reserved(t, "vision", kVisionTailCount, kVisionTailStart);
  // 201134 … 201143
  add_reserved(t, "reasoning", kReasoningReservedCount, 0);
  t.emplace_back("<|reasoning_thinking_start|>");
  t.emplace_back("<|reasoning_thinking_end|>");
  // 201144 … 202047
  const int named = static_cast<int>(t.size());
  for (int i = 0; i < kLlama4NumSpecialTokens - named; ++i)
    t.push_back("<|reserved_special_token_" + std::to_string(i) + "|>");
  return t;
}

}  // namespace

const std::vector<std::string>& llama4_special_tokens() {
  static const std::vector<std::string> tokens = build();
  return tokens;
}

}  // namespace llama4
