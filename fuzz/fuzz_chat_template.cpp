// Fuzz target: the Jinja chat-template engine (lexer, parser, renderer) on arbitrary template
// source, rendered with a typical conversation. Templates come with downloaded models, so a
// hostile one may only ever produce an Error (the limits in chat/template_limits.h bound its
// time and memory).
#include <chrono>
#include <string>

#include "chat/chat_template.h"
#include "fuzz_support.h"

namespace {

const nlohmann::ordered_json& conversation() {
  static const nlohmann::ordered_json context = nlohmann::ordered_json::parse(R"({
    "messages": [
      {"role": "system", "content": "You are terse."},
      {"role": "user", "content": "Hi <|eot|> there"},
      {"role": "assistant", "content": [{"type": "text", "text": "Hello."}]},
      {"role": "user", "content": "Weather?"},
      {"role": "assistant", "tool_calls": [{"function": {"name": "w", "arguments": {"city": "Oslo"}}}]},
      {"role": "tool", "content": "12C"}
    ],
    "tools": [{"type": "function", "function": {"name": "w", "parameters": {"type": "object"}}}],
    "add_generation_prompt": true,
    "bos_token": "<|begin_of_text|>",
    "eos_token": "<|eot|>"
  })");
  return context;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string source(llama4::fuzz::as_text(data, size));
  llama4::fuzz::expect_only_llama4_errors([&] {
    const llama4::chat::ChatTemplate tmpl(source);
    // A fixed clock keeps every run of an input identical.
    (void)tmpl.render(conversation(), std::chrono::system_clock::time_point{});
  });
  return 0;
}
