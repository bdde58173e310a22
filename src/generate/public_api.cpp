// The public API (include/llama4/llama4.h) on top of Model, Tokenizer, chat formatting and
// Generator.
#include <llama4/llama4.h>

#include <nlohmann/json.hpp>

#include "chat/chat_format.h"
#include "generate/demo_model.h"
#include "generate/generation_config.h"
#include "generate/generator.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace llama4::api {

namespace {
constexpr std::int64_t kDefaultContextCap = 4096;

// The public QuantizedActivations mirrors the engine's value for value, so converting is a cast.
template <QuantizedActivations kPublic, llama4::QuantizedActivations kEngine>
constexpr bool kSameValue = static_cast<int>(kPublic) == static_cast<int>(kEngine);
static_assert(kSameValue<QuantizedActivations::kAuto, llama4::QuantizedActivations::kAuto> &&
              kSameValue<QuantizedActivations::kF32, llama4::QuantizedActivations::kF32> &&
              kSameValue<QuantizedActivations::kInt8, llama4::QuantizedActivations::kInt8> &&
              kSameValue<QuantizedActivations::kInt16, llama4::QuantizedActivations::kInt16> &&
              kSameValue<QuantizedActivations::kBf16, llama4::QuantizedActivations::kBf16>);

llama4::QuantizedActivations internal_precision(QuantizedActivations precision) {
  return static_cast<llama4::QuantizedActivations>(precision);
}
}  // namespace

struct Model::Impl {
  std::filesystem::path dir;
  std::unique_ptr<llama4::Model> model;
  std::optional<Tokenizer> tokenizer;
  GenerationConfig generation;
  bool demo = false;
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::shared_ptr<Model> Model::load(const std::string& dir, QuantizedActivations activations) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->model = llama4::Model::load(dir);
  impl->model->set_quantized_activations(internal_precision(activations));
  if (Tokenizer::available(dir)) impl->tokenizer.emplace(Tokenizer::load(dir));
  impl->generation = GenerationConfig::load(dir);
  impl->demo = is_demo_model(dir);
  return std::shared_ptr<Model>(new Model(std::move(impl)));
}

QuantizedActivations Model::activations() const {
  return static_cast<QuantizedActivations>(impl_->model->quantized_activations());
}

std::int64_t Model::vocab_size() const {
  return impl_->model->config().vocab_size;
}
std::int64_t Model::max_context() const {
  return impl_->model->config().max_position_embeddings;
}
bool Model::has_tokenizer() const {
  return impl_->tokenizer.has_value();
}
bool Model::is_demo() const {
  return impl_->demo;
}

struct Session::Impl {
  std::shared_ptr<const Model> model;
  Generator generator;
  std::optional<std::string> system;
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();

  Impl(std::shared_ptr<const Model> m, std::int64_t context, KvCacheType kv_type)
      : model(std::move(m)),
        generator(*model->impl().model,
                  model->impl().tokenizer ? &*model->impl().tokenizer : nullptr, context,
                  kv_type == KvCacheType::kBf16 ? KvType::kBf16 : KvType::kF32) {}

  const Model::Impl& m() const { return model->impl(); }

  Completion run(const std::vector<std::int32_t>& ids, const GenerateParams& params,
                 const StreamCallback& on_text) {
    GenerateOptions options;
    options.max_tokens = params.max_tokens;
    options.stop_strings = params.stop;
    options.end_token_ids = end_token_ids(m().model->config(), m().generation,
                                          m().tokenizer ? &*m().tokenizer : nullptr);
    SamplingOverrides overrides;
    overrides.temperature = params.sampling.temperature;
    overrides.top_k = params.sampling.top_k;
    overrides.top_p = params.sampling.top_p;
    overrides.min_p = params.sampling.min_p;
    overrides.repeat_penalty = params.sampling.repeat_penalty;
    SamplerSettings base;
    base.seed = params.sampling.seed;
    options.sampling = resolve_sampler_settings(m().generation, overrides, base);
    const GenerationResult r = generator.generate(ids, options, [&](const TokenEvent& event) {
      return !on_text || event.text.empty() || on_text(event.text);
    });
    Completion c;
    c.text = r.text;
    c.ids = r.ids;
    c.stop_reason = stop_reason_name(r.stop_reason);
    c.timings = {r.timings.prompt_tokens,
                 r.timings.reused_tokens,
                 r.timings.prompt_tokens_per_second(),
                 r.timings.generated_tokens,
                 r.timings.generation_tokens_per_second(),
                 r.timings.time_to_first_token};
    return c;
  }

  const Tokenizer& tokenizer() const {
    if (!m().tokenizer)
      throw Error("model folder '" + m().dir.string() + "' has no tokenizer files");
    return *m().tokenizer;
  }
};

Session::Session(std::shared_ptr<const Model> model, std::int64_t context_size,
                 KvCacheType kv_type) {
  if (!model) throw Error("Session: no model");
  const std::int64_t max = model->max_context();
  const std::int64_t context =
      context_size > 0 ? std::min(context_size, max) : std::min(kDefaultContextCap, max);
  impl_ = std::make_unique<Impl>(std::move(model), context, kv_type);
}
Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

Completion Session::generate(const std::string& prompt, const GenerateParams& params,
                             const StreamCallback& on_text) {
  const Tokenizer& tokenizer = impl_->tokenizer();
  const bool bos = tokenizer.settings().add_bos_token && tokenizer.bos_id().has_value();
  return impl_->run(tokenizer.encode(prompt, {.add_bos = bos}), params, on_text);
}

Completion Session::generate_ids(const std::vector<std::int32_t>& ids, const GenerateParams& params,
                                 const StreamCallback& on_text) {
  return impl_->run(ids, params, on_text);
}

Completion Session::chat(const std::string& user_message, const GenerateParams& params,
                         const StreamCallback& on_text) {
  const Tokenizer& tokenizer = impl_->tokenizer();
  nlohmann::ordered_json conversation = nlohmann::ordered_json::array();
  if (impl_->system) conversation.push_back({{"role", "system"}, {"content", *impl_->system}});
  for (const auto& message : impl_->messages) conversation.push_back(message);
  conversation.push_back({{"role", "user"}, {"content", user_message}});
  chat::ChatRenderOptions render;
  if (tokenizer.settings().bos_token) render.bos_token = *tokenizer.settings().bos_token;
  if (tokenizer.settings().eos_token) render.eos_token = *tokenizer.settings().eos_token;
  const std::string prompt =
      chat::render_chat(tokenizer.settings().chat_template, conversation, render);
  Completion c = impl_->run(tokenizer.encode(prompt, {.parse_special = true}), params, on_text);
  impl_->messages.push_back({{"role", "user"}, {"content", user_message}});
  impl_->messages.push_back({{"role", "assistant"}, {"content", c.text}});
  return c;
}

void Session::set_system_message(std::optional<std::string> system) {
  impl_->system = std::move(system);
}

void Session::reset() {
  impl_->messages = nlohmann::ordered_json::array();
  impl_->generator.reset();
}

}  // namespace llama4::api
