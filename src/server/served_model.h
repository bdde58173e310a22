// ServedModel: what every request handler needs to know about the one model the server runs —
// the model, its tokenizer, its generation defaults, the name clients address it by and the
// per-request context size.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "generate/generation_config.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace llama4::server {

struct ServedModel {
  const Model* model = nullptr;
  const Tokenizer* tokenizer = nullptr;
  GenerationConfig generation;
  std::string name;               // the "model" field clients send and /v1/models lists
  std::int64_t context_size = 0;  // per request (prompt + generated tokens)
  std::vector<std::int32_t> end_token_ids;
};

}  // namespace llama4::server
