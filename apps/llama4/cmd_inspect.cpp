// `llama4 inspect -m DIR`: what a model folder holds — the config summary, the layer plan, and the
// tensors by dtype — without running anything.
#include <cstdio>
#include <map>
#include <string>

#include "command.h"
#include "model/model.h"

namespace llama4::cli {
namespace {

constexpr double kBytesPerGiB = 1024.0 * 1024.0 * 1024.0;

int run_inspect(const std::string& model_dir) {
  const auto model = Model::load(model_dir);
  const ModelConfig& c = model->config();
  std::printf("model: %s (%s)\n", model_dir.c_str(), c.architecture.c_str());
  std::printf("hidden %lld, layers %lld, heads %lld (kv %lld, head_dim %lld), vocab %lld\n",
              static_cast<long long>(c.hidden_size), static_cast<long long>(c.num_hidden_layers),
              static_cast<long long>(c.num_attention_heads),
              static_cast<long long>(c.num_key_value_heads), static_cast<long long>(c.head_dim),
              static_cast<long long>(c.vocab_size));
  std::printf(
      "experts %lld (top-%lld, width %lld), dense width %lld\n",
      static_cast<long long>(c.num_local_experts), static_cast<long long>(c.num_experts_per_tok),
      static_cast<long long>(c.intermediate_size), static_cast<long long>(c.intermediate_size_mlp));
  std::printf("rope theta %g, scaling %s, qk-norm %s, rms eps %g, tied embeddings %s\n",
              c.rope_theta, c.rope_scaling.type == RopeScaling::Type::kLlama3 ? "llama3" : "none",
              c.use_qk_norm ? "yes" : "no", c.rms_norm_eps, c.tie_word_embeddings ? "yes" : "no");
  std::printf(
      "attention chunk %s, temperature tuning %s (floor_scale %g, attn_scale %g)\n\n",
      c.attention_chunk_size ? std::to_string(*c.attention_chunk_size).c_str() : "none (causal)",
      c.attn_temperature_tuning ? "on" : "off", c.floor_scale, c.attn_scale);
  std::printf("%s\n", model->plan().to_table().c_str());

  std::map<std::string, std::pair<std::size_t, std::size_t>> by_dtype;  // dtype → (count, bytes)
  std::size_t total_bytes = 0;
  for (const auto& [name, info] : model->checkpoint().tensors()) {
    auto& entry = by_dtype[std::string(dtype_name(info.dtype))];
    ++entry.first;
    entry.second += info.nbytes;
    total_bytes += info.nbytes;
  }
  std::printf("tensors: %zu in %zu file(s), %.3f GiB", model->checkpoint().tensors().size(),
              model->checkpoint().files().size(), static_cast<double>(total_bytes) / kBytesPerGiB);
  if (model->checkpoint().skipped_vision_tensors() > 0)
    std::printf(" (%zu vision tensors skipped)", model->checkpoint().skipped_vision_tensors());
  std::printf("\n");
  for (const auto& [dtype, entry] : by_dtype)
    std::printf("  %-5s %6zu tensors %12zu bytes\n", dtype.c_str(), entry.first, entry.second);
  return 0;
}

const CommandRegistration kInspect{
    "inspect", "Show a model's config, layer plan and tensors", 40, [](CLI::App& cmd) {
      auto model_dir = std::make_shared<std::string>();
      cmd.add_option("-m,--model", *model_dir, "Model folder (config.json + *.safetensors)")
          ->required();
      return [model_dir] { return run_inspect(*model_dir); };
    }};

}  // namespace
}  // namespace llama4::cli
