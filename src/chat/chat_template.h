// A compiled Jinja chat template (the `chat_template` of a model's tokenizer_config.json). Parsing
// happens once in the constructor; render() can then be called any number of times, from any
// number of threads. The environment matches the one transformers uses for chat templates:
// trim_blocks and lstrip_blocks on, a read-only sandbox, loop controls, and the globals
// raise_exception() and strftime_now().
//
//   ChatTemplate tmpl(source);
//   std::string prompt = tmpl.render({{"messages", messages}, {"add_generation_prompt", true}});
//
// Every problem — syntax, runtime, or a template calling raise_exception() — throws llama4::Error
// with the message "chat template line L: <problem>".
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "chat/template_ast.h"

namespace llama4::chat {

class ChatTemplate {
 public:
  explicit ChatTemplate(const std::string& source);

  // `context` must be a JSON object; its members become the template's variables. `now` is the
  // time strftime_now() formats (local time zone).
  std::string render(
      const nlohmann::ordered_json& context,
      std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;

 private:
  std::shared_ptr<const Body> body_;
};

}  // namespace llama4::chat
