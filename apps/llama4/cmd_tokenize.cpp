// `llama4 tokenize` and `llama4 detokenize`: text ↔ token ids from the command line, for checking
// prompts and for comparing with reference tokenizers (`--jsonl` streams many strings at once).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "command.h"
#include "token_list.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace llama4::cli {
namespace {

struct TokenizerSource {
  std::string model_dir;
  std::string tokenizer_file;

  void declare(CLI::App& cmd) {
    auto* m =
        cmd.add_option("-m,--model", model_dir, "Model folder (tokenizer.json or tokenizer.model)");
    auto* t =
        cmd.add_option("--tokenizer", tokenizer_file, "A tokenizer.json or tokenizer.model file");
    m->excludes(t);
  }
  Tokenizer load() const {
    if (model_dir.empty() && tokenizer_file.empty())
      throw Error("give the tokenizer with -m DIR or --tokenizer FILE");
    return Tokenizer::load(model_dir.empty() ? tokenizer_file : model_dir);
  }
};

constexpr std::size_t kOutputChunkBytes = 1 << 16;

void write_out(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
}

// A token's bytes for display: characters as they are, control characters and bytes that are not
// valid UTF-8 on their own escaped as \n, \t, \r, \xNN.
std::string printable_piece(const std::string& bytes) {
  std::string out;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const auto check = utf8::check_sequence(std::string_view(bytes).substr(pos));
    const auto byte = static_cast<unsigned char>(bytes[pos]);
    if (check.kind == utf8::SequenceCheck::Kind::kValid && (check.length > 1 || byte >= 0x20)) {
      if (byte == '\\')
        out += "\\\\";
      else
        out.append(bytes, pos, check.length);
      pos += check.length;
      continue;
    }
    if (byte == '\n')
      out += "\\n";
    else if (byte == '\t')
      out += "\\t";
    else if (byte == '\r')
      out += "\\r";
    else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02X", byte);
      out += hex;
    }
    ++pos;
  }
  return out;
}

std::string ids_json(const std::vector<TokenId>& ids) {
  std::string out = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ids[i]);
  }
  return out + "]";
}

int run_jsonl(const Tokenizer& tokenizer, const EncodeOptions& options) {
  std::string line, out;
  std::size_t line_number = 0;
  // Results of the lines before a bad one are written before the error is reported.
  auto fail = [&](const std::string& why) {
    write_out(out);
    std::fflush(stdout);
    throw Error("stdin line " + std::to_string(line_number) + ": " + why);
  };
  while (std::getline(std::cin, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    nlohmann::json value;
    try {
      value = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      fail(e.what());
    }
    if (!value.is_string()) fail("expected a JSON string");
    try {
      out += ids_json(tokenizer.encode(value.get<std::string>(), options));
    } catch (const Error& e) {
      fail(e.what());
    }
    out += '\n';
    if (out.size() > kOutputChunkBytes) {
      write_out(out);
      out.clear();
    }
  }
  write_out(out);
  return 0;
}

std::string read_all(std::istream& in) {
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return std::move(buffer).str();
}

static CommandRegistration tokenize_reg{
    "tokenize", "Text → token ids", 40, [](CLI::App& cmd) {
      struct Options {
        TokenizerSource source;
        std::string text, file;
        bool jsonl = false, bos = false, pieces = false, parse_special = false;
      };
      auto o = std::make_shared<Options>();
      o->source.declare(cmd);
      auto* text = cmd.add_option("--text", o->text, "Text to tokenize");
      auto* file = cmd.add_option("--file", o->file, "File whose contents to tokenize");
      auto* jsonl =
          cmd.add_flag("--jsonl", o->jsonl,
                       "Read one JSON string per stdin line, write one JSON array of ids per line");
      text->excludes(file)->excludes(jsonl);
      file->excludes(jsonl);
      cmd.add_flag("--bos", o->bos, "Prepend the BOS token");
      cmd.add_flag("--pieces", o->pieces, "Print one token per line with its text");
      cmd.add_flag("--parse-special", o->parse_special,
                   "Turn special-token text such as <|eot|> into special tokens");
      return [o, text, file] {
        const Tokenizer tokenizer = o->source.load();
        const EncodeOptions options{.add_bos = o->bos, .parse_special = o->parse_special};
        if (o->jsonl) return run_jsonl(tokenizer, options);
        std::string input;
        if (text->count()) {
          input = o->text;
        } else if (file->count()) {
          std::ifstream in(o->file, std::ios::binary);
          if (!in) throw Error(o->file + ": cannot open");
          input = read_all(in);
        } else {
          input = read_all(std::cin);
        }
        const auto ids = tokenizer.encode(input, options);
        std::string out;
        if (o->pieces) {
          for (const TokenId id : ids)
            out += std::to_string(id) + "\t" + printable_piece(tokenizer.token_bytes(id)) + "\n";
        } else {
          for (std::size_t i = 0; i < ids.size(); ++i)
            out += (i ? "," : "") + std::to_string(ids[i]);
          out += "\n";
        }
        write_out(out);
        return 0;
      };
    }};

static CommandRegistration detokenize_reg{
    "detokenize", "Token ids → text", 41, [](CLI::App& cmd) {
      struct Options {
        TokenizerSource source;
        std::string ids;
        bool skip_special = false;
      };
      auto o = std::make_shared<Options>();
      o->source.declare(cmd);
      cmd.add_option("--ids", o->ids, "Comma-separated token ids")->required();
      cmd.add_flag("--skip-special", o->skip_special, "Leave special tokens out of the text");
      return [o] {
        const Tokenizer tokenizer = o->source.load();
        const auto ids = parse_token_list(o->ids);
        write_out(tokenizer.decode(ids, o->skip_special));
        return 0;
      };
    }};

}  // namespace
}  // namespace llama4::cli
