// llama4.cpp public C++ API: load a Llama 4 model folder, open a session, generate with a
// streaming callback. Only the standard library appears here; the engine stays behind pimpl.
//
//   auto model = llama4::api::Model::load("path/to/model");
//   llama4::api::Session session(model);
//   session.chat("Hello!", {}, [](std::string_view text) { std::cout << text; return true; });
//
// Use it from another CMake project with add_subdirectory(llama4.cpp) and
// target_link_libraries(app PRIVATE llama4_generate). Errors are thrown as std::runtime_error
// with a message naming the file, field or value at fault.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llama4::api {

// Unset fields take the model folder's generation_config.json values, then the engine defaults.
struct SamplingParams {
  std::optional<float> temperature;  // 0: greedy
  std::optional<int> top_k;
  std::optional<float> top_p;
  std::optional<float> min_p;
  std::optional<float> repeat_penalty;
  std::uint64_t seed = 0;
};

struct GenerateParams {
  int max_tokens = 256;
  SamplingParams sampling;
  std::vector<std::string> stop;  // stop strings (not part of the result)
};

struct Timings {
  std::int64_t prompt_tokens = 0;
  std::int64_t cached_prompt_tokens = 0;
  double prompt_tokens_per_second = 0.0;
  std::int64_t generated_tokens = 0;
  double generation_tokens_per_second = 0.0;
  double time_to_first_token = 0.0;  // seconds
};

struct Completion {
  std::string text;
  std::vector<std::int32_t> ids;
  std::string stop_reason;  // "eos", "stop", "length", "context" or "interrupted"
  Timings timings;
};

// Receives text as it becomes printable (whole UTF-8 characters); return false to stop.
using StreamCallback = std::function<bool(std::string_view text)>;

// Precision of the activations entering weight products: f32 (exact); int8 per block of 32
// inputs for 4/8-bit weights (faster with AVX-512 VNNI or AVX2, approximate); int16 likewise
// (faster with AVX-512 VNNI, each input within 2^-16 of its block's largest); or bf16 for bf16
// weights (faster prompts with AVX-512 BF16, approximate). Other weights keep f32. kAuto, the
// default, picks int16 for 4/8-bit weights on CPUs with AVX-512 VNNI and f32 otherwise.
enum class QuantizedActivations { kAuto, kF32, kInt8, kInt16, kBf16 };

class Model {
 public:
  // Loads config.json, the safetensors weights and the tokenizer of `dir`.
  static std::shared_ptr<Model> load(
      const std::string& dir, QuantizedActivations activations = QuantizedActivations::kAuto);
  ~Model();

  // The precision the products run with (never kAuto: what it was resolved to).
  QuantizedActivations activations() const;
  std::int64_t vocab_size() const;
  std::int64_t max_context() const;
  bool has_tokenizer() const;
  bool is_demo() const;  // the random-weight demo model `llama4 make-demo` writes

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Element type of a Session's KV cache: bf16 halves its memory (keys and values rounded to bf16).
enum class KvCacheType { kF32, kBf16 };

// One sequence: its KV caches and, for chat(), the conversation so far. Later calls reuse the
// cached prefix, so a chat turn only processes the new message.
class Session {
 public:
  // context_size ≤ 0: min(4096, the model's maximum).
  explicit Session(std::shared_ptr<const Model> model, std::int64_t context_size = 0,
                   KvCacheType kv_type = KvCacheType::kF32);
  ~Session();
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;

  // Continues `prompt` as plain text (BOS added when the tokenizer asks for it).
  Completion generate(const std::string& prompt, const GenerateParams& params = {},
                      const StreamCallback& on_text = {});
  // Continues token ids (works without a tokenizer; the text is then empty).
  Completion generate_ids(const std::vector<std::int32_t>& ids, const GenerateParams& params = {},
                          const StreamCallback& on_text = {});
  // Adds a user message to the conversation, answers it with the chat template, and keeps the
  // answer.
  Completion chat(const std::string& user_message, const GenerateParams& params = {},
                  const StreamCallback& on_text = {});
  void set_system_message(std::optional<std::string> system);
  // Forgets the conversation and the caches.
  void reset();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llama4::api
