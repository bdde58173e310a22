// tokenizer.model → tokenizer.json + tokenizer_config.json; see converter.h.
//
// Differences from transformers' Llama4Converter, chosen so the written folder tokenizes exactly
// like tokenizer.model does here: all 2,048 special tokens are written with Meta's names
// (transformers registers only ids 200000–201133 and names 200019–200079
// "<|text_post_train_reserved_special_token_6..66|>" where Meta's tokenizer.py has 8..68), and the
// pad token is "<|finetune_right_pad|>" (transformers passes "<|finetune_right_pad_id|>", which is
// not a token).
#include "tokenizer/converter.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tokenizer/byte_level.h"
#include "tokenizer/llama4_special_tokens.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/token_index.h"
#include "tokenizer/tokenizer_impl.h"
#include "util/error.h"

namespace llama4 {
namespace {

using nlohmann::json;

std::string json_string(std::string_view text) {
  return json(std::string(text)).dump();
}

std::string tokenizer_json(const std::vector<std::string>& tokens,
                           const std::vector<std::pair<int, int>>& merges) {
  const auto& specials = llama4_special_tokens();
  const std::size_t base_count = tokens.size();
  std::string out;
  out.reserve(base_count * 64);
  out += "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n";
  out += "  \"added_tokens\": [";
  for (std::size_t i = 0; i < specials.size(); ++i) {
    out += i ? ",\n    " : "\n    ";
    out += "{\"id\": " + std::to_string(base_count + i) +
           ", \"content\": " + json_string(specials[i]) +
           ", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, "
           "\"special\": true}";
  }
  out += "\n  ],\n  \"normalizer\": null,\n";
  const json pre = {
      {"type", "Sequence"},
      {"pretokenizers", json::array({{{"type", "Split"},
                                      {"pattern", {{"Regex", std::string(kO200kPattern)}}},
                                      {"behavior", "Isolated"},
                                      {"invert", false}},
                                     {{"type", "ByteLevel"},
                                      {"add_prefix_space", false},
                                      {"trim_offsets", true},
                                      {"use_regex", false}}})}};
  const std::string bos = kLlama4BosToken;
  const json bos_item = {{"SpecialToken", {{"id", bos}, {"type_id", 0}}}};
  const json post = {
      {"type", "Sequence"},
      {"processors",
       json::array(
           {{{"type", "ByteLevel"},
             {"add_prefix_space", true},
             {"trim_offsets", false},
             {"use_regex", true}},
            {{"type", "TemplateProcessing"},
             {"single", json::array({bos_item, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
             {"pair", json::array({bos_item,
                                   {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                                   {{"SpecialToken", {{"id", bos}, {"type_id", 1}}}},
                                   {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}})},
             {"special_tokens",
              {{bos,
                {{"id", bos},
                 {"ids", json::array({base_count})},
                 {"tokens", json::array({bos})}}}}}}})}};
  const json decoder = {{"type", "ByteLevel"},
                        {"add_prefix_space", true},
                        {"trim_offsets", true},
                        {"use_regex", true}};
  out += "  \"pre_tokenizer\": " + pre.dump() + ",\n";
  out += "  \"post_processor\": " + post.dump() + ",\n";
  out += "  \"decoder\": " + decoder.dump() + ",\n";
  out +=
      "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n"
      "    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n"
      "    \"fuse_unk\": false,\n    \"byte_fallback\": false,\n    \"ignore_merges\": true,\n"
      "    \"vocab\": {";
  std::vector<std::string> mapped(tokens.size());
  for (std::size_t id = 0; id < tokens.size(); ++id) {
    mapped[id] = json_string(byte_level::encode(tokens[id]));
    out += id ? ",\n      " : "\n      ";
    out += mapped[id] + ": " + std::to_string(id);
  }
  out += "\n    },\n    \"merges\": [";
  for (std::size_t i = 0; i < merges.size(); ++i) {
    out += i ? ",\n      [" : "\n      [";
    out += mapped[merges[i].first] + ", " + mapped[merges[i].second] + "]";
  }
  out += "\n    ]\n  }\n}\n";
  return out;
}

std::string tokenizer_config_json(const TokenizerConversion& options) {
  json config = json::object();
  config["bos_token"] = kLlama4BosToken;
  config["eos_token"] = options.chat_template ? kLlama4EotToken : kLlama4EosToken;
  config["pad_token"] = "<|finetune_right_pad|>";
  config["add_bos_token"] = true;
  config["clean_up_tokenization_spaces"] = false;
  config["model_input_names"] = json::array({"input_ids", "attention_mask"});
  config["tokenizer_class"] = "PreTrainedTokenizerFast";
  if (options.chat_template) config["chat_template"] = *options.chat_template;
  return config.dump(2) + "\n";
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw Error(path.string() + ": cannot write");
}

}  // namespace

std::vector<std::pair<int, int>> merges_from_ranks(const std::vector<std::string>& tokens) {
  const BytesIndex index(tokens);
  struct Entry {
    int left, right, merged;
  };
  std::vector<Entry> entries;
  for (std::size_t rank = 0; rank < tokens.size(); ++rank) {
    const std::string_view token = tokens[rank];
    if (token.size() < 2) continue;
    const std::size_t first = entries.size();
    for (std::size_t split = 1; split < token.size(); ++split) {
      const TokenId left = index.find(token.substr(0, split));
      const TokenId right = index.find(token.substr(split));
      if (left >= 0 && right >= 0) entries.push_back({left, right, static_cast<int>(rank)});
    }
    std::sort(entries.begin() + static_cast<std::ptrdiff_t>(first), entries.end(),
              [](const Entry& a, const Entry& b) {
                return a.left != b.left ? a.left < b.left : a.right < b.right;
              });
  }
  // Ranks were visited in increasing order, so entries are already in the order of transformers'
  // final stable sort by merged rank.
  std::vector<std::pair<int, int>> merges;
  merges.reserve(entries.size());
  for (const auto& e : entries) merges.emplace_back(e.left, e.right);
  return merges;
}

void convert_tiktoken_to_hf(const std::filesystem::path& model_file,
                            const std::filesystem::path& out_dir,
                            const TokenizerConversion& options) {
  const std::vector<std::string> tokens = read_tiktoken_ranks(model_file);
  for (std::size_t rank = 0; rank < tokens.size(); ++rank)
    if (tokens[rank].empty())
      throw Error(model_file.string() + ": rank " + std::to_string(rank) +
                  " is missing (conversion needs ranks 0…N-1 without gaps)");
  const auto merges = merges_from_ranks(tokens);
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) throw Error(out_dir.string() + ": cannot create folder: " + ec.message());
  write_file(out_dir / "tokenizer.json", tokenizer_json(tokens, merges));
  write_file(out_dir / "tokenizer_config.json", tokenizer_config_json(options));
}

}  // namespace llama4
