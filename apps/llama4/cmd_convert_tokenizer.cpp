// `llama4 convert-tokenizer tokenizer.model OUT_DIR [--chat-template FILE]`: turns Meta's original
// tiktoken file into a Hugging Face tokenizer folder (tokenizer.json + tokenizer_config.json).
#include <fstream>
#include <iostream>
#include <sstream>

#include "command.h"
#include "tokenizer/converter.h"
#include "util/error.h"

namespace llama4::cli {
namespace {

static CommandRegistration reg{
    "convert-tokenizer", "tokenizer.model → tokenizer.json + tokenizer_config.json", 42,
    [](CLI::App& cmd) {
      struct Options {
        std::string model_file, out_dir, chat_template_file;
      };
      auto o = std::make_shared<Options>();
      cmd.add_option("model_file", o->model_file, "Meta's tokenizer.model")->required();
      cmd.add_option("out_dir", o->out_dir, "Folder to write")->required();
      cmd.add_option("--chat-template", o->chat_template_file,
                     "Jinja chat template to store in tokenizer_config.json (instruct models; "
                     "also makes <|eot|> the EOS token)");
      return [o] {
        TokenizerConversion options;
        if (!o->chat_template_file.empty()) {
          std::ifstream in(o->chat_template_file, std::ios::binary);
          if (!in) throw Error(o->chat_template_file + ": cannot open");
          std::ostringstream buffer;
          buffer << in.rdbuf();
          options.chat_template = std::move(buffer).str();
        }
        convert_tiktoken_to_hf(o->model_file, o->out_dir, options);
        std::cout << "wrote " << o->out_dir << "/tokenizer.json and tokenizer_config.json\n";
        return 0;
      };
    }};

}  // namespace
}  // namespace llama4::cli
