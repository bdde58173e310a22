// `llama4 generate -m DIR -p TEXT`: one prompt in, a streamed answer out.
//
// The prompt comes from -p, --file, or stdin (-p - or no -p with stdin not a terminal); it is
// wrapped in the model's chat template unless --raw (or the tokenizer has none), or given as ids
// with --ids (which works without tokenizer files; the output is then ids). Text streams to
// stdout as it is produced; timings go to stderr; --json prints one JSON object at the end instead.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "chat/chat_format.h"
#include "command.h"
#include "generate/prompt_cache.h"
#include "generation_flags.h"
#include "token_list.h"
#include "util/error.h"

namespace llama4::cli {
namespace {

struct GenerateCommandOptions {
  GenerationFlags flags;
  std::optional<std::string> prompt;
  std::string prompt_file;
  std::string ids;
  std::optional<std::string> system;
  bool raw = false;
  bool json = false;
  std::int32_t top_logprobs = 0;
  std::string prompt_cache;
};

std::string read_prompt_text(const GenerateCommandOptions& o) {
  if (!o.prompt_file.empty()) {
    std::ifstream in(o.prompt_file, std::ios::binary);
    if (!in) throw Error("--file '" + o.prompt_file + "': cannot open");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  if (o.prompt && *o.prompt != "-") return *o.prompt;
  if (!o.prompt && ::isatty(STDIN_FILENO))
    throw Error("no prompt: give -p TEXT, --file FILE, --ids 1,2,3, or pipe text to stdin");
  return std::string(std::istreambuf_iterator<char>(std::cin), {});
}

std::vector<std::int32_t> prompt_ids(const GenerateCommandOptions& o, const LoadedModel& loaded) {
  if (!o.ids.empty()) return parse_token_list(o.ids);
  if (!loaded.tokenizer)
    throw Error("model folder '" + o.flags.model_dir +
                "' has no tokenizer (tokenizer.json or tokenizer.model); " +
                "give the prompt as token ids with --ids");
  const Tokenizer& tokenizer = *loaded.tokenizer;
  const std::string text = read_prompt_text(o);
  const auto& chat_template = tokenizer.settings().chat_template;
  if (o.raw || !chat_template) {
    if (o.system) throw Error("--system needs the chat template (drop --raw)");
    return tokenizer.encode(
        text, {.add_bos = tokenizer.settings().add_bos_token && tokenizer.bos_id().has_value()});
  }
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  if (o.system) messages.push_back({{"role", "system"}, {"content", *o.system}});
  messages.push_back({{"role", "user"}, {"content", text}});
  chat::ChatRenderOptions render;
  if (tokenizer.settings().bos_token) render.bos_token = *tokenizer.settings().bos_token;
  if (tokenizer.settings().eos_token) render.eos_token = *tokenizer.settings().eos_token;
  return tokenizer.encode(chat::render_chat(chat_template, messages, render),
                          {.parse_special = true});
}

nlohmann::ordered_json result_json(const GenerationResult& r, const GenerateOptions& options,
                                   bool with_logprobs) {
  nlohmann::ordered_json timings = {
      {"prompt_tokens", r.timings.prompt_tokens},
      {"cached_prompt_tokens", r.timings.reused_tokens},
      {"prompt_seconds", r.timings.prompt_seconds},
      {"prompt_tokens_per_second", r.timings.prompt_tokens_per_second()},
      {"generated_tokens", r.timings.generated_tokens},
      {"generation_seconds", r.timings.generation_seconds},
      {"generation_tokens_per_second", r.timings.generation_tokens_per_second()},
      {"time_to_first_token", r.timings.time_to_first_token},
  };
  nlohmann::ordered_json out = {{"ids", r.ids},
                                {"text", r.text},
                                {"stop_reason", stop_reason_name(r.stop_reason)},
                                {"seed", options.sampling.seed},
                                {"truncated_prompt_tokens", r.truncated_tokens},
                                {"timings", timings}};
  if (with_logprobs) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const SampleResult& s : r.samples) {
      nlohmann::ordered_json top = nlohmann::ordered_json::array();
      for (const auto& t : s.top_logprobs) top.push_back({{"id", t.id}, {"logprob", t.value}});
      list.push_back({{"id", s.id}, {"logprob", s.logprob}, {"top_logprobs", top}});
    }
    out["logprobs"] = list;
  }
  return out;
}

int run_generate(const GenerateCommandOptions& o) {
  LoadedModel loaded = load_for_generation(o.flags);
  GenerateOptions options = generate_options(o.flags, loaded);
  options.sampling.top_logprobs = o.top_logprobs;
  const std::vector<std::int32_t> ids = prompt_ids(o, loaded);
  const Tokenizer* tokenizer = loaded.tokenizer ? &*loaded.tokenizer : nullptr;
  Generator generator(*loaded.model, tokenizer, loaded.context_size, o.flags.kv_type);

  if (!o.prompt_cache.empty()) {
    const std::string message = load_prompt_cache(o.prompt_cache, loaded.dir, generator);
    if (!message.empty() && !o.flags.quiet)
      std::fprintf(stderr, "prompt cache: %s\n", message.c_str());
  }

  const bool ids_out = !tokenizer;
  bool first_id = true;
  const auto on_token = [&](const TokenEvent& event) {
    if (o.json) return true;
    if (ids_out) {
      std::printf("%s%d", first_id ? "" : ",", event.id);
      first_id = false;
    } else {
      std::fwrite(event.text.data(), 1, event.text.size(), stdout);
    }
    std::fflush(stdout);
    return true;
  };
  const GenerationResult result = generator.generate(ids, options, on_token);

  if (!o.prompt_cache.empty()) {
    save_prompt_cache(o.prompt_cache, loaded.dir, generator);
  }
  if (o.json) {
    std::printf("%s\n", result_json(result, options, o.top_logprobs > 0).dump().c_str());
  } else {
    std::printf("\n");
  }
  std::fflush(stdout);
  if (!o.flags.quiet) {
    if (result.truncated_tokens > 0)
      std::fprintf(stderr, "note: dropped the first %lld prompt tokens to fit the context\n",
                   static_cast<long long>(result.truncated_tokens));
    std::fprintf(stderr, "[stop: %s] %s\n", stop_reason_name(result.stop_reason),
                 timings_line(result.timings).c_str());
    if (loaded.demo)
      std::fprintf(stderr, "(%s)\n", "demo model: random weights, so the text above is random");
  }
  return 0;
}

const CommandRegistration kGenerate{
    "generate", "Generate text from a prompt (streamed)", 20, [](CLI::App& cmd) {
      auto o = std::make_shared<GenerateCommandOptions>();
      add_generation_flags(cmd, o->flags);
      cmd.add_option("-p,--prompt", o->prompt, "Prompt text ('-': read stdin)");
      cmd.add_option("-f,--file", o->prompt_file, "Read the prompt from a file");
      cmd.add_option("--ids", o->ids, "Prompt as token ids, comma-separated (no tokenizer needed)");
      cmd.add_option("--system", o->system, "System message (chat template)");
      cmd.add_flag("--raw", o->raw, "Do not apply the chat template");
      cmd.add_flag("--json", o->json,
                   "Print one JSON object at the end (ids, text, stop_reason, timings)");
      cmd.add_option("--top-logprobs", o->top_logprobs,
                     "With --json: the N most likely tokens per step");
      cmd.add_option("--prompt-cache", o->prompt_cache,
                     "Reuse and save the KV state of the prompt in this file");
      return [o] { return run_generate(*o); };
    }};

}  // namespace
}  // namespace llama4::cli
