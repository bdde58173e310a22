// Fuzz target: the prompt-cache reader (load_prompt_cache). A real cache file is guarded by a
// magic, a version, the model's fingerprint and a checksum, which random bytes would almost never
// get past; so the fuzzer's bytes become the payload after the fingerprint, and the harness writes
// a valid header and checksum around them. That puts the token list and layer tables — the parts
// that size allocations and copies — under the fuzzer. The reader must never throw for content: it
// either restores the caches or returns the reason it ignored the file.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "fuzz_support.h"
#include "generate/demo_model.h"
#include "generate/generator.h"
#include "generate/prompt_cache.h"
#include "model/model.h"

namespace {

constexpr std::int64_t kContextSize = 64;
constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ull;  // the checksum prompt_cache.h names
constexpr std::uint64_t kFnvPrime = 0x100000001b3ull;

struct Fixture {
  std::filesystem::path model_dir;
  std::unique_ptr<llama4::Model> model;
  std::unique_ptr<llama4::Generator> generator;
  std::uint64_t fingerprint = 0;
};

Fixture& fixture() {
  static Fixture f = [] {
    Fixture made;
    made.model_dir = llama4::fuzz::scratch_dir() / "demo-model";
    llama4::write_demo_model(made.model_dir, {.layers = 2, .seed = 0});
    made.model = llama4::Model::load(made.model_dir);
    made.generator = std::make_unique<llama4::Generator>(*made.model, nullptr, kContextSize);
    made.fingerprint = llama4::model_fingerprint(made.model_dir, *made.model);
    return made;
  }();
  return f;
}

std::uint64_t fnv1a(std::string_view bytes) {
  std::uint64_t hash = kFnvOffset;
  for (const char c : bytes) hash = (hash ^ static_cast<unsigned char>(c)) * kFnvPrime;
  return hash;
}

template <typename T>
void append(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Fixture& f = fixture();
  std::string file = "L4PC";
  append(file, llama4::kPromptCacheVersion);
  append(file, f.fingerprint);
  file.append(llama4::fuzz::as_text(data, size));
  append(file, fnv1a(file));
  const auto path = llama4::fuzz::scratch_dir() / "prompt.cache";
  llama4::fuzz::write_file(path, file);
  const std::string message = llama4::load_prompt_cache(path, f.model_dir, *f.generator);
  if (message.empty()) std::abort();  // the file exists, so there is always a verdict
  const auto held = static_cast<std::int64_t>(f.generator->cached_tokens().size());
  if (held != f.generator->state().position() || held >= kContextSize) std::abort();
  f.generator->reset();
  return 0;
}
