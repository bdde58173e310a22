// Fuzz target: the HTTP API's request-body handling — JSON parsing as the server does it, then
// parse_chat_request / parse_completion_request (field types and ranges, chat-template rendering,
// tokenization, prompt length against the context) for the demo model. A body from a stranger may
// only ever produce an ApiError (a 4xx answer) or an llama4::Error; anything else would be a 500
// or a crash, and is a finding.
#include <memory>
#include <nlohmann/json.hpp>

#include "fuzz_support.h"
#include "generate/demo_model.h"
#include "generate/generation_config.h"
#include "model/model.h"
#include "server/api_error.h"
#include "server/completion_request.h"
#include "tokenizer/tokenizer.h"

namespace {

constexpr std::int64_t kContextSize = 256;
constexpr std::uint64_t kSeed = 1;

struct Fixture {
  std::unique_ptr<llama4::Model> model;
  std::unique_ptr<llama4::Tokenizer> tokenizer;
  llama4::server::ServedModel served;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture made;
    const auto dir = llama4::fuzz::scratch_dir() / "demo-model";
    llama4::write_demo_model(dir, {.layers = 1, .seed = 0});
    made.model = llama4::Model::load(dir);
    made.tokenizer = std::make_unique<llama4::Tokenizer>(llama4::Tokenizer::load(dir));
    made.served.model = made.model.get();
    made.served.tokenizer = made.tokenizer.get();
    made.served.generation = llama4::GenerationConfig::load(dir);
    made.served.name = "demo";
    made.served.context_size = kContextSize;
    made.served.end_token_ids =
        llama4::end_token_ids(made.model->config(), made.served.generation, made.tokenizer.get());
    return made;
  }();
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Fixture& f = fixture();
  nlohmann::ordered_json body;
  try {
    body = nlohmann::ordered_json::parse(llama4::fuzz::as_text(data, size));
  } catch (const nlohmann::ordered_json::exception&) {
    return 0;  // the server answers 400 "the body is not valid JSON"
  }
  for (const bool chat : {true, false}) {
    try {
      (void)(chat ? llama4::server::parse_chat_request(body, f.served, kSeed)
                  : llama4::server::parse_completion_request(body, f.served, kSeed));
    } catch (const llama4::server::ApiError&) {
    } catch (const llama4::Error&) {
    }
  }
  return 0;
}
