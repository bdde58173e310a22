// Splits a Jinja template into tokens: raw text between tags, and the names, literals and operators
// inside `{{ }}` and `{% %}`. Comments `{# #}` vanish here, and all whitespace control is applied
// here too — `-` markers, `+` markers, and the trim_blocks / lstrip_blocks behaviour that
// transformers enables for chat templates — so the parser only ever sees the text to emit.
#pragma once

#include <string>
#include <vector>

namespace llama4::chat {

enum class TokenKind {
  kText,           // literal template text (already whitespace-controlled)
  kVariableBegin,  // {{
  kVariableEnd,    // }}
  kBlockBegin,     // {%
  kBlockEnd,       // %}
  kName,           // identifier or keyword
  kString,         // string literal, escapes resolved
  kInteger,
  kFloat,
  kOperator,  // punctuation: + - * / // % ** ~ == != < <= > >= = ( ) [ ] { } , . : |
  kEnd,       // end of template
};

struct Token {
  TokenKind kind;
  std::string text;
  int line;  // 1-based line of the token's first character
};

struct LexerOptions {
  bool trim_blocks = true;    // drop the first newline after a block or comment tag
  bool lstrip_blocks = true;  // drop spaces/tabs between a line start and a block or comment tag
};

// Throws llama4::Error("chat template line L: ...") on unterminated tags, strings or bad
// characters.
std::vector<Token> tokenize_template(const std::string& source, const LexerOptions& options = {});

}  // namespace llama4::chat
