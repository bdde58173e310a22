// Reading generation_config.json and merging its defaults with the user's settings.
#include "generate/generation_config.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace llama4 {
namespace {

using nlohmann::json;

template <typename T>
std::optional<T> number_field(const json& root, const char* name, const std::string& source) {
  const auto it = root.find(name);
  if (it == root.end() || it->is_null()) return std::nullopt;
  if (!it->is_number())
    throw Error(source + ": field '" + name + "' = " + it->dump() + ": expected a number");
  return it->get<T>();
}

}  // namespace

GenerationConfig GenerationConfig::load(const std::filesystem::path& model_dir) {
  const auto path = model_dir / "generation_config.json";
  GenerationConfig config;
  std::ifstream file(path, std::ios::binary);
  if (!file) return config;
  std::stringstream text;
  text << file.rdbuf();
  const std::string source = path.string();
  json root;
  try {
    root = json::parse(text.str());
  } catch (const json::exception& e) {
    throw Error(source + ": invalid JSON: " + e.what());
  }
  if (!root.is_object()) throw Error(source + ": expected a JSON object at the top level");
  config.temperature = number_field<float>(root, "temperature", source);
  config.top_p = number_field<float>(root, "top_p", source);
  config.top_k = number_field<std::int32_t>(root, "top_k", source);
  config.min_p = number_field<float>(root, "min_p", source);
  config.repetition_penalty = number_field<float>(root, "repetition_penalty", source);
  if (const auto it = root.find("do_sample"); it != root.end() && !it->is_null()) {
    if (!it->is_boolean())
      throw Error(source + ": field 'do_sample' = " + it->dump() + ": expected true or false");
    config.do_sample = it->get<bool>();
  }
  if (const auto it = root.find("eos_token_id"); it != root.end() && !it->is_null()) {
    const json list = it->is_array() ? *it : json::array({*it});
    for (const json& id : list) {
      if (!id.is_number_integer() || id.get<std::int64_t>() < 0)
        throw Error(source + ": field 'eos_token_id' entry " + id.dump() + ": expected a token id");
      config.eos_token_ids.push_back(id.get<std::int64_t>());
    }
  }
  return config;
}

SamplerSettings resolve_sampler_settings(const GenerationConfig& defaults,
                                         const SamplingOverrides& user, SamplerSettings base) {
  base.temperature = user.temperature.value_or(defaults.temperature.value_or(base.temperature));
  // do_sample=false in the folder means greedy, unless the user asked for a temperature.
  if (!user.temperature && defaults.do_sample == false) base.temperature = 0.0f;
  base.top_k = user.top_k.value_or(defaults.top_k.value_or(base.top_k));
  base.top_p = user.top_p.value_or(defaults.top_p.value_or(base.top_p));
  base.min_p = user.min_p.value_or(defaults.min_p.value_or(base.min_p));
  base.repeat_penalty =
      user.repeat_penalty.value_or(defaults.repetition_penalty.value_or(base.repeat_penalty));
  return base;
}

std::vector<std::int32_t> end_token_ids(const ModelConfig& config,
                                        const GenerationConfig& generation,
                                        const Tokenizer* tokenizer) {
  std::vector<std::int32_t> ids;
  for (const std::int64_t id : config.eos_token_ids) ids.push_back(static_cast<std::int32_t>(id));
  for (const std::int64_t id : generation.eos_token_ids)
    ids.push_back(static_cast<std::int32_t>(id));
  if (tokenizer && tokenizer->settings().eos_token)
    if (const auto id = tokenizer->token_id(*tokenizer->settings().eos_token)) ids.push_back(*id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace llama4
