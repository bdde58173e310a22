// Loader for Hugging Face `tokenizer.json` files of byte-level BPE tokenizers (Llama 4's, and
// others built the same way). Only components whose behaviour is implemented exactly are
// accepted; anything else is an Error naming the component, never a silently different
// tokenization.
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer_impl.h"
#include "util/error.h"

namespace llama4 {
namespace {

using nlohmann::json;

std::string type_of(const json& component) {
  if (!component.is_object() || !component.contains("type") || !component["type"].is_string())
    return "<no type>";
  return component["type"].get<std::string>();
}

[[noreturn]] void unsupported(const std::string& where, const std::string& what) {
  throw Error(where + ": " + what + " is not supported");
}

bool flag(const json& object, const char* key, bool fallback) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) throw Error(std::string(key) + ": expected true or false");
  return it->get<bool>();
}

// Pre-tokenizer → the regex its pieces come from. Accepted:
//   ByteLevel(add_prefix_space=false, use_regex=true)                  → GPT-2 pattern
//   Sequence[Split(Regex, Isolated, invert=false), ByteLevel(add_prefix_space=false,
//   use_regex=false)]
std::string pre_tokenizer_pattern(const json& pre) {
  const std::string where = "pre_tokenizer";
  auto check_byte_level = [&](const json& bl, bool expect_regex, const std::string& at) {
    if (flag(bl, "add_prefix_space", false)) unsupported(at, "ByteLevel add_prefix_space=true");
    if (flag(bl, "use_regex", true) != expect_regex)
      unsupported(at, std::string("ByteLevel use_regex=") + (expect_regex ? "false" : "true") +
                          " in this position");
  };
  const std::string type = type_of(pre);
  if (type == "ByteLevel") {
    check_byte_level(pre, true, where);
    return std::string(kGpt2Pattern);
  }
  if (type != "Sequence") unsupported(where, "type '" + type + "'");
  const json& items = pre.value("pretokenizers", json::array());
  if (items.size() != 2)
    unsupported(where, "a Sequence of " + std::to_string(items.size()) +
                           " pre-tokenizers (expected Split then ByteLevel)");
  const std::string split_at = where + ".pretokenizers[0]";
  if (type_of(items[0]) != "Split") unsupported(split_at, "type '" + type_of(items[0]) + "'");
  const json& split = items[0];
  const json& pattern = split.value("pattern", json::object());
  if (!pattern.contains("Regex") || !pattern["Regex"].is_string())
    unsupported(split_at, "pattern " + pattern.dump() + " (only {\"Regex\": …})");
  if (split.value("behavior", std::string()) != "Isolated")
    unsupported(split_at, "behavior '" + split.value("behavior", std::string()) + "'");
  if (flag(split, "invert", false)) unsupported(split_at, "invert=true");
  const std::string byte_level_at = where + ".pretokenizers[1]";
  if (type_of(items[1]) != "ByteLevel")
    unsupported(byte_level_at, "type '" + type_of(items[1]) + "'");
  check_byte_level(items[1], false, byte_level_at);
  return pattern["Regex"].get<std::string>();
}

// A token id field: an integer in [0, kMaxTokenId] (a float or a huge number must not be narrowed).
TokenId token_id_value(const json& value, const std::string& where) {
  if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
      value.get<std::int64_t>() > kMaxTokenId)
    throw Error(where + ": invalid token id " + value.dump() + " (ids run from 0 to " +
                std::to_string(kMaxTokenId) + ")");
  return static_cast<TokenId>(value.get<std::int64_t>());
}

struct PostProcessing {
  std::optional<std::string> bos_content;
  std::optional<TokenId> bos_id;
};

// TemplateProcessing whose single template is "$A" or "BOS $A".
PostProcessing template_processing(const json& tp, const std::string& where) {
  const json& single = tp.value("single", json::array());
  PostProcessing result;
  const std::string shape = single.dump();
  auto is_sequence_a = [](const json& item) {
    return item.is_object() && item.contains("Sequence") && item["Sequence"].value("id", "") == "A";
  };
  if (single.size() == 1 && is_sequence_a(single[0])) return result;
  if (single.size() != 2 || !single[0].contains("SpecialToken") || !is_sequence_a(single[1]))
    unsupported(where,
                "TemplateProcessing single template " + shape + " (only \"$A\" or \"BOS $A\")");
  const std::string name = single[0]["SpecialToken"].value("id", "");
  const json& specials = tp.value("special_tokens", json::object());
  if (!specials.contains(name) || !specials[name].contains("ids") ||
      specials[name]["ids"].size() != 1)
    throw Error(where + ": TemplateProcessing special token '" + name +
                "' needs exactly one id in special_tokens");
  result.bos_content = name;
  result.bos_id = token_id_value(specials[name]["ids"][0], where + ": special_tokens['" + name + "'].ids[0]");
  return result;
}

PostProcessing post_processor(const json& post) {
  const std::string where = "post_processor";
  if (post.is_null()) return {};
  const std::string type = type_of(post);
  if (type == "TemplateProcessing") return template_processing(post, where);
  if (type == "ByteLevel") return {};  // only adjusts offsets
  if (type != "Sequence") unsupported(where, "type '" + type + "'");
  PostProcessing result;
  const json& items = post.value("processors", json::array());
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string at = where + ".processors[" + std::to_string(i) + "]";
    const std::string t = type_of(items[i]);
    if (t == "ByteLevel") continue;
    if (t != "TemplateProcessing") unsupported(at, "type '" + t + "'");
    result = template_processing(items[i], at);
  }
  return result;
}

void check_model_options(const json& model) {
  const std::string where = "model";
  if (model.contains("type") && type_of(model) != "BPE")
    unsupported(where, "type '" + type_of(model) + "' (only BPE)");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const auto it = model.find(key);
    if (it != model.end() && !it->is_null() && !(it->is_string() && it->get<std::string>().empty()))
      unsupported(where, std::string(key) + " " + it->dump());
  }
  const auto dropout = model.find("dropout");
  if (dropout != model.end() && !dropout->is_null() && dropout->get<double>() != 0.0)
    unsupported(where, "dropout " + dropout->dump());
}

std::pair<std::string, std::string> merge_sides(const json& merge, std::size_t index) {
  if (merge.is_string()) {
    const std::string text = merge.get<std::string>();
    const std::size_t space = text.find(' ');
    if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos)
      throw Error("model.merges[" + std::to_string(index) + "]: expected \"left right\", got '" +
                  text + "'");
    return {text.substr(0, space), text.substr(space + 1)};
  }
  if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string())
    return {merge[0].get<std::string>(), merge[1].get<std::string>()};
  throw Error("model.merges[" + std::to_string(index) +
              "]: expected a string or a pair of strings");
}

std::unique_ptr<Tokenizer::Impl> build(const json& root) {
  if (!root.is_object()) throw Error("expected a JSON object at the top level");
  if (root.contains("normalizer") && !root["normalizer"].is_null())
    unsupported("normalizer", "type '" + type_of(root["normalizer"]) + "'");
  if (!root.contains("model") || !root["model"].is_object()) throw Error("model: missing");
  const json& model = root["model"];
  check_model_options(model);
  if (!root.contains("decoder") || type_of(root["decoder"]) != "ByteLevel")
    unsupported("decoder", root.contains("decoder") ? "type '" + type_of(root["decoder"]) + "'"
                                                    : std::string("a missing decoder"));
  if (!root.contains("pre_tokenizer")) unsupported("pre_tokenizer", "a missing pre-tokenizer");
  const std::string pattern = pre_tokenizer_pattern(root["pre_tokenizer"]);
  const PostProcessing post = post_processor(root.value("post_processor", json()));

  const json& vocab = model.value("vocab", json::object());
  if (!vocab.is_object() || vocab.empty()) throw Error("model.vocab: missing or empty");
  std::vector<std::string> tokens;
  for (const auto& [text, id_json] : vocab.items()) {
    if (!id_json.is_number_integer() || id_json.get<std::int64_t>() < 0 ||
        id_json.get<std::int64_t>() > kMaxTokenId)
      throw Error("model.vocab['" + text + "']: invalid id " + id_json.dump() + " (ids run from 0 to " +
                  std::to_string(kMaxTokenId) + ")");
    const auto id = id_json.get<TokenId>();
    auto bytes = byte_level::decode(text);
    if (!bytes || bytes->empty())
      throw Error("model.vocab: token '" + text + "' is not in the byte-level alphabet");
    if (static_cast<std::size_t>(id) >= tokens.size()) tokens.resize(id + 1);
    if (!tokens[id].empty()) throw Error("model.vocab: id " + std::to_string(id) + " used twice");
    tokens[id] = std::move(*bytes);
  }
  const json& merges_json = model.value("merges", json::array());
  std::vector<std::pair<TokenId, TokenId>> merges;
  merges.reserve(merges_json.size());
  {
    const BytesIndex index(tokens);
    auto id_of = [&](const std::string& side, std::size_t i) {
      const auto bytes = byte_level::decode(side);
      const TokenId id = bytes ? index.find(*bytes) : -1;
      if (id < 0)
        throw Error("model.merges[" + std::to_string(i) + "]: '" + side + "' is not in the vocab");
      return id;
    };
    for (std::size_t i = 0; i < merges_json.size(); ++i) {
      const auto [left, right] = merge_sides(merges_json[i], i);
      merges.emplace_back(id_of(left, i), id_of(right, i));
    }
  }
  BpeModel bpe = [&] {
    try {
      return BpeModel::from_merges(std::move(tokens), merges, flag(model, "ignore_merges", false));
    } catch (const Error& e) {
      rethrow_with_context("model", e);
    }
  }();
  auto impl = std::make_unique<Tokenizer::Impl>(std::move(bpe), PreTokenizer(pattern));

  const json& added = root.value("added_tokens", json::array());
  for (std::size_t i = 0; i < added.size(); ++i) {
    const json& t = added[i];
    const std::string at = "added_tokens[" + std::to_string(i) + "]";
    if (!t.is_object() || !t.contains("id") || !t.contains("content") || !t["content"].is_string())
      throw Error(at + ": expected an object with id and content");
    for (const char* option : {"lstrip", "rstrip", "single_word"})
      if (flag(t, option, false)) unsupported(at, std::string(option) + "=true");
    impl->add_token(t["content"].get<std::string>(), token_id_value(t["id"], at + ".id"),
                    flag(t, "special", false));
  }
  impl->finish();
  if (post.bos_content) {
    impl->bos = post.bos_id;
    impl->settings.bos_token = post.bos_content;
  }
  impl->settings.add_bos_token = post.bos_content.has_value();
  return impl;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return std::move(buffer).str();
}

json parse_json_file(const std::filesystem::path& path) {
  try {
    return json::parse(read_text(path));
  } catch (const json::exception& e) {
    throw Error(path.string() + ": invalid JSON: " + e.what());
  }
}

// bos_token / eos_token: a string, {"content": …} or null.
std::optional<std::string> token_setting(const json& config, const char* key) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return (*it)["content"].get<std::string>();
  throw Error(std::string(key) + ": expected a string or {\"content\": …}, got " + it->dump());
}

std::string chat_template_setting(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array()) {
    std::string names;
    for (const json& entry : value) {
      if (entry.value("name", "") == "default" && entry.contains("template"))
        return entry["template"].get<std::string>();
      names += (names.empty() ? "" : ", ") + entry.value("name", std::string("?"));
    }
    throw Error("chat_template: no template named 'default' (found: " + names + ")");
  }
  throw Error("chat_template: expected a string or a list of {name, template}");
}

}  // namespace

std::unique_ptr<Tokenizer::Impl> load_tokenizer_json(const std::filesystem::path& json_file) {
  const json root = parse_json_file(json_file);
  try {
    return build(root);
  } catch (const json::exception& e) {
    throw Error(json_file.string() + ": unexpected structure: " + e.what());
  } catch (const Error& e) {
    rethrow_with_context(json_file.string(), e);
  }
}

void read_tokenizer_config(const std::filesystem::path& dir, TokenizerSettings& settings) {
  std::error_code ec;
  const auto config_path = dir / "tokenizer_config.json";
  if (!std::filesystem::is_regular_file(config_path, ec)) return;
  {
    const json config = parse_json_file(config_path);
    try {
      if (!config.is_object()) throw Error("expected a JSON object");
      if (config.contains("chat_template") && !config["chat_template"].is_null())
        settings.chat_template = chat_template_setting(config["chat_template"]);
      if (const auto bos = token_setting(config, "bos_token")) settings.bos_token = bos;
      if (const auto eos = token_setting(config, "eos_token")) settings.eos_token = eos;
      settings.add_bos_token = flag(config, "add_bos_token", settings.add_bos_token);
    } catch (const Error& e) {
      rethrow_with_context(config_path.string(), e);
    } catch (const json::exception& e) {
      throw Error(config_path.string() + ": unexpected structure: " + e.what());
    }
  }
  // Newer Hugging Face folders keep the template in its own file next to tokenizer_config.json.
  const auto template_path = dir / "chat_template.jinja";
  if (!settings.chat_template && std::filesystem::is_regular_file(template_path, ec))
    settings.chat_template = read_text(template_path);
}

}  // namespace llama4
