// Writing the demo model folder (see demo_model.h). The tokenizer is trained here, at write time,
// with plain byte-pair-encoding merges over the GPT-2 pre-tokenizer's pieces of kTrainingText, so
// the files are deterministic and no vocabulary has to be stored in the source.
#include "generate/demo_model.h"

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "model/synthetic_model.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/pretokenizer.h"
#include "util/error.h"

namespace llama4 {
namespace {

using nlohmann::ordered_json;

constexpr int kByteTokens = 256;
constexpr std::int64_t kDemoVocabTarget = 512;  // bytes + merges + special tokens
constexpr int kMinPairCount = 2;                // a merge must be seen at least twice
constexpr float kDemoTemperature = 0.6f;        // what Llama 4 instruct ships
constexpr float kDemoTopP = 0.9f;

// A short original English text: the merges learned from it make common words single tokens.
constexpr std::string_view kTrainingText =
    "The model reads a prompt, one token at a time, and writes the answer the same way. "
    "Each token is a small piece of text: a word, part of a word, or a single byte. "
    "When you ask a question, the model looks at every token it has seen so far and picks the next "
    "one. "
    "This demo model has random weights, so its answers are random text, but the engine that runs "
    "it "
    "is the same one that runs a real Llama 4 model with billions of parameters. "
    "The attention layers keep the keys and values of earlier tokens in a cache, so the next token "
    "does not need the whole history again. Some layers look only at a local chunk of the text, "
    "and "
    "other layers look at all of it. The experts in the feed-forward layers are chosen by a router "
    "for "
    "each token. Hello! How are you today? I am fine, thank you. What would you like to know? "
    "Tell me a story about the sea and the sky, about a ship that sails to the end of the world "
    "and "
    "comes back home with a new song. The user asks, the assistant answers, and the system sets "
    "the rules. "
    "Numbers like 1, 2, 3, 10, 42 and 2025 are text too.";

// Llama 4's special tokens that the chat format and generation use.
constexpr std::string_view kSpecialTokens[] = {
    "<|begin_of_text|>", "<|end_of_text|>",
    "<|header_start|>",  "<|header_end|>",
    "<|eom|>",           "<|eot|>",
    "<|step|>",          "<|python_start|>",
    "<|python_end|>",    "<|finetune_right_pad|>",
};
constexpr std::string_view kBosToken = "<|begin_of_text|>";
constexpr std::string_view kEndTokens[] = {"<|end_of_text|>", "<|eom|>", "<|eot|>"};

// The Llama 4 chat layout, written as a compact template of its own: BOS, then per message
// <|header_start|>ROLE<|header_end|>\n\nCONTENT<|eot|>, then an open assistant header.
const std::string kChatTemplate =
    "{{- bos_token -}}\n"
    "{%- for message in messages -%}\n"
    "{{- '<|header_start|>' + message['role'] + '<|header_end|>\\n\\n' -}}\n"
    "{%- if message['content'] is string -%}\n"
    "{{- message['content'] | trim -}}\n"
    "{%- else -%}\n"
    "{%- for part in message['content'] -%}\n"
    "{%- if part['type'] == 'text' -%}{{- part['text'] | trim -}}{%- endif -%}\n"
    "{%- endfor -%}\n"
    "{%- endif -%}\n"
    "{{- '<|eot|>' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}\n"
    "{{- '<|header_start|>assistant<|header_end|>\\n\\n' -}}\n"
    "{%- endif -%}\n";

struct Merges {
  std::vector<std::string> tokens;  // id → bytes (bytes first, then merged tokens)
  std::vector<std::pair<std::string, std::string>> pairs;
};

// Byte-pair encoding training: repeatedly merge the most frequent adjacent pair inside the
// pre-tokenizer's pieces (ties to the smaller pair, so the result is deterministic).
Merges learn_merges(std::size_t max_merges) {
  Merges merges;
  for (int b = 0; b < kByteTokens; ++b) merges.tokens.emplace_back(1, static_cast<char>(b));
  std::map<std::string, int> piece_counts;
  PreTokenizer(kGpt2Pattern).split(kTrainingText, [&](std::string_view piece) {
    ++piece_counts[std::string(piece)];
  });
  std::vector<std::pair<std::vector<std::string>, int>> words;
  for (const auto& [piece, count] : piece_counts) {
    std::vector<std::string> symbols;
    for (const char c : piece) symbols.emplace_back(1, c);
    words.emplace_back(std::move(symbols), count);
  }
  while (merges.pairs.size() < max_merges) {
    std::map<std::pair<std::string, std::string>, int> pair_counts;
    for (const auto& [symbols, count] : words)
      for (std::size_t i = 0; i + 1 < symbols.size(); ++i)
        pair_counts[{symbols[i], symbols[i + 1]}] += count;
    const std::pair<std::string, std::string>* best = nullptr;
    int best_count = kMinPairCount - 1;
    for (const auto& [pair, count] : pair_counts)
      if (count > best_count) best = &pair, best_count = count;
    if (!best) break;
    const auto chosen = *best;
    const std::string joined = chosen.first + chosen.second;
    for (auto& [symbols, count] : words) {
      std::vector<std::string> next;
      for (std::size_t i = 0; i < symbols.size(); ++i) {
        if (i + 1 < symbols.size() && symbols[i] == chosen.first &&
            symbols[i + 1] == chosen.second) {
          next.push_back(joined);
          ++i;
        } else {
          next.push_back(symbols[i]);
        }
      }
      symbols = std::move(next);
    }
    merges.pairs.push_back(chosen);
    merges.tokens.push_back(joined);
  }
  return merges;
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw Error(path.string() + ": cannot write");
}

std::int64_t special_id(std::int64_t first_special, std::string_view token) {
  std::int64_t id = first_special;
  for (const std::string_view special : kSpecialTokens) {
    if (special == token) return id;
    ++id;
  }
  throw Error("demo tokenizer: no special token " + std::string(token));
}

constexpr std::int64_t kSpecialCount = std::size(kSpecialTokens);

}  // namespace

const std::string& demo_chat_template() {
  return kChatTemplate;
}

std::int64_t write_demo_tokenizer(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const Merges merges =
      learn_merges(static_cast<std::size_t>(kDemoVocabTarget - kByteTokens - kSpecialCount));
  const auto first_special = static_cast<std::int64_t>(merges.tokens.size());

  ordered_json vocab = ordered_json::object();
  for (std::size_t id = 0; id < merges.tokens.size(); ++id)
    vocab[byte_level::encode(merges.tokens[id])] = id;
  ordered_json merge_list = ordered_json::array();
  for (const auto& [left, right] : merges.pairs)
    merge_list.push_back(byte_level::encode(left) + " " + byte_level::encode(right));
  ordered_json added = ordered_json::array();
  std::int64_t id = first_special;
  for (const std::string_view token : kSpecialTokens)
    added.push_back({{"id", id++},
                     {"content", token},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  const std::int64_t bos = special_id(first_special, kBosToken);
  ordered_json tokenizer = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "ByteLevel"},
        {"add_prefix_space", false},
        {"trim_offsets", true},
        {"use_regex", true}}},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", ordered_json::array({{{"SpecialToken", {{"id", kBosToken}, {"type_id", 0}}}},
                                        {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
        {"pair", ordered_json::array({{{"SpecialToken", {{"id", kBosToken}, {"type_id", 0}}}},
                                      {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                                      {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}})},
        {"special_tokens",
         {{kBosToken, {{"id", kBosToken}, {"ids", {bos}}, {"tokens", {kBosToken}}}}}}}},
      {"decoder",
       {{"type", "ByteLevel"},
        {"add_prefix_space", true},
        {"trim_offsets", true},
        {"use_regex", true}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr},
        {"fuse_unk", false},
        {"byte_fallback", false},
        {"ignore_merges", false},
        {"vocab", vocab},
        {"merges", merge_list}}},
  };
  write_text(dir / "tokenizer.json", tokenizer.dump(1) + "\n");
  const ordered_json config = {
      {"add_bos_token", true},          {"bos_token", kBosToken},
      {"eos_token", "<|eot|>"},         {"pad_token", "<|finetune_right_pad|>"},
      {"model_max_length", 4096},       {"tokenizer_class", "PreTrainedTokenizerFast"},
      {"chat_template", kChatTemplate},
  };
  write_text(dir / "tokenizer_config.json", config.dump(2) + "\n");
  return first_special + kSpecialCount;
}

void write_demo_model(const std::filesystem::path& dir, const DemoModelOptions& options) {
  const std::int64_t vocab = write_demo_tokenizer(dir);
  const std::int64_t first_special = vocab - kSpecialCount;
  ModelConfig config = synthetic_config("tiny", options.layers, vocab);
  config.bos_token_id = special_id(first_special, kBosToken);
  config.eos_token_ids.clear();
  for (const std::string_view token : kEndTokens)
    config.eos_token_ids.push_back(special_id(first_special, token));
  config.pad_token_id = special_id(first_special, "<|finetune_right_pad|>");
  SyntheticOptions synthetic;
  synthetic.seed = options.seed;
  write_synthetic_model(dir, config, synthetic);

  // Mark config.json so every command can say that this is the demo model.
  auto config_json = ordered_json::parse(config_to_json(config));
  config_json["llama4_cpp_demo"] = true;
  write_text(dir / "config.json", config_json.dump(2) + "\n");

  const ordered_json generation = {
      {"bos_token_id", *config.bos_token_id},
      {"eos_token_id", config.eos_token_ids},
      {"temperature", kDemoTemperature},
      {"top_p", kDemoTopP},
  };
  write_text(dir / "generation_config.json", generation.dump(2) + "\n");
  write_text(dir / "README.txt",
             std::string("This folder is a ") + kDemoModelNotice +
                 ".\nIt has the structure of Llama 4 (tiny sizes) and a small byte-level "
                 "BPE tokenizer, so every part of the engine runs on it.\n");
}

bool is_demo_model(const std::filesystem::path& dir) {
  std::ifstream in(dir / "config.json", std::ios::binary);
  if (!in) return false;
  try {
    const auto config = nlohmann::json::parse(in);
    return config.is_object() && config.value("llama4_cpp_demo", false);
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

}  // namespace llama4
