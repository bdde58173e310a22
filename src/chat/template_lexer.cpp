// Jinja tokenizer with whitespace control; see template_lexer.h. The rules mirror Jinja's lexer:
// `{%-`/`{{-`/`{#-` strip all whitespace before the tag, `-%}`/`-}}`/`-#}` all whitespace after it;
// lstrip_blocks removes spaces and tabs between a line start and a block or comment tag unless the
// tag opens with `+`; trim_blocks removes one newline after a block or comment tag unless it closes
// with `+`. Like Jinja, newlines are normalised to "\n" and one trailing newline is dropped.
#include "chat/template_lexer.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <string_view>

#include "chat/template_text.h"
#include "util/error.h"
#include "util/utf8_encode.h"

namespace llama4::chat {
namespace {

enum class TagKind { kVariable, kBlock, kComment };

constexpr std::array<std::string_view, 6> kTwoCharOperators = {"//", "**", "==", "!=", "<=", ">="};
constexpr std::string_view kOneCharOperators = "+-*/%~<>=()[]{},.:|";

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_name_char(char c) {
  return is_name_start(c) || is_digit(c);
}
bool is_inline_space(char c) {
  return c == ' ' || c == '\t';
}

std::string normalize_newlines(const std::string& source) {
  std::string out;
  out.reserve(source.size());
  for (std::size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class Lexer {
 public:
  Lexer(const std::string& source, const LexerOptions& options)
      : src_(normalize_newlines(source)), options_(options) {
    for (std::size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') newlines_.push_back(i);
  }

  std::vector<Token> run() {
    while (pos_ <= src_.size()) {
      const auto [tag, kind] = find_next_tag(pos_);
      const std::size_t text_begin = pos_;
      std::string text = src_.substr(pos_, (tag == std::string::npos ? src_.size() : tag) - pos_);
      if (tag == std::string::npos) {
        emit_text(std::move(text), text_begin);
        break;
      }
      const char marker = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
      strip_before_tag(text, text_begin, kind, marker);
      emit_text(std::move(text), text_begin);
      pos_ = tag + 2 + (marker == '-' || marker == '+' ? 1 : 0);
      if (kind == TagKind::kComment) {
        skip_comment(tag);
      } else {
        lex_tag(tag, kind);
      }
    }
    tokens_.push_back({TokenKind::kEnd, "", line_at(src_.size())});
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void fail(std::size_t at, const std::string& problem) const {
    throw Error("chat template line " + std::to_string(line_at(at)) + ": " + problem);
  }

  int line_at(std::size_t at) const {
    return 1 + static_cast<int>(std::lower_bound(newlines_.begin(), newlines_.end(), at) -
                                newlines_.begin());
  }

  std::pair<std::size_t, TagKind> find_next_tag(std::size_t from) const {
    for (std::size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1)) {
      if (i + 1 >= src_.size()) break;
      if (src_[i + 1] == '{') return {i, TagKind::kVariable};
      if (src_[i + 1] == '%') return {i, TagKind::kBlock};
      if (src_[i + 1] == '#') return {i, TagKind::kComment};
    }
    return {std::string::npos, TagKind::kVariable};
  }

  // Applies `{%-` (strip all whitespace) or lstrip_blocks (strip the indentation of the tag's
  // line).
  void strip_before_tag(std::string& text, std::size_t text_begin, TagKind kind,
                        char marker) const {
    if (marker == '-') {
      text = python_strip(text, false, true);
      return;
    }
    if (kind == TagKind::kVariable || marker == '+' || !options_.lstrip_blocks) return;
    const auto newline = text.rfind('\n');
    const std::size_t line_begin = newline == std::string::npos ? 0 : newline + 1;
    const bool at_line_start =
        newline != std::string::npos || text_begin == 0 || src_[text_begin - 1] == '\n';
    if (at_line_start &&
        std::all_of(text.begin() + static_cast<long>(line_begin), text.end(), is_inline_space))
      text.erase(line_begin);
  }

  // Applies `-%}` (strip all following whitespace) or trim_blocks (drop one following newline).
  void strip_after_tag(TagKind kind, char marker) {
    if (marker == '-') {
      while (pos_ < src_.size() && (is_inline_space(src_[pos_]) || src_[pos_] == '\n' ||
                                    src_[pos_] == '\v' || src_[pos_] == '\f'))
        ++pos_;
    } else if (kind != TagKind::kVariable && marker != '+' && options_.trim_blocks &&
               pos_ < src_.size() && src_[pos_] == '\n') {
      ++pos_;
    }
  }

  void emit_text(std::string text, std::size_t at) {
    if (!text.empty()) tokens_.push_back({TokenKind::kText, std::move(text), line_at(at)});
  }

  void skip_comment(std::size_t tag) {
    const auto end = src_.find("#}", pos_);
    if (end == std::string::npos) fail(tag, "unterminated comment '{#'");
    const char marker = end > pos_ ? src_[end - 1] : '\0';
    pos_ = end + 2;
    strip_after_tag(TagKind::kComment, marker);
  }

  void lex_tag(std::size_t tag, TagKind kind) {
    const std::size_t first_token = tokens_.size();
    tokens_.push_back(
        {kind == TagKind::kVariable ? TokenKind::kVariableBegin : TokenKind::kBlockBegin, "",
         line_at(tag)});
    int depth = 0;  // open brackets: a `}}` inside a dict literal does not close the tag
    while (true) {
      while (pos_ < src_.size() && (is_inline_space(src_[pos_]) || src_[pos_] == '\n')) ++pos_;
      if (pos_ >= src_.size())
        fail(tag, kind == TagKind::kVariable ? "unterminated '{{' (missing '}}')"
                                             : "unterminated '{%' (missing '%}')");
      if (depth == 0) {
        const std::string_view closer = kind == TagKind::kVariable ? "}}" : "%}";
        const std::string_view rest(src_.data() + pos_, src_.size() - pos_);
        char marker = '\0';
        if ((rest.size() > 2 && (rest[0] == '-' || rest[0] == '+') && rest.substr(1, 2) == closer))
          marker = rest[0];
        if (marker != '\0' || rest.substr(0, 2) == closer) {
          pos_ += 2 + (marker != '\0' ? 1 : 0);
          tokens_.push_back(
              {kind == TagKind::kVariable ? TokenKind::kVariableEnd : TokenKind::kBlockEnd, "",
               line_at(pos_)});
          strip_after_tag(kind, marker);
          if (kind == TagKind::kBlock && tokens_.size() == first_token + 3 &&
              tokens_[first_token + 1].kind == TokenKind::kName &&
              tokens_[first_token + 1].text == "raw") {
            tokens_.resize(first_token);
            lex_raw(tag);
          }
          return;
        }
      }
      lex_inner_token(depth);
    }
  }

  // `{% raw %}...{% endraw %}`: everything in between is text.
  void lex_raw(std::size_t tag) {
    for (std::size_t at = src_.find("{%", pos_); at != std::string::npos;
         at = src_.find("{%", at + 2)) {
      std::size_t i = at + 2;
      const char open_marker = i < src_.size() ? src_[i] : '\0';
      if (open_marker == '-' || open_marker == '+') ++i;
      while (i < src_.size() && is_inline_space(src_[i])) ++i;
      if (src_.compare(i, 6, "endraw") != 0) continue;
      i += 6;
      while (i < src_.size() && is_inline_space(src_[i])) ++i;
      char close_marker = '\0';
      if (i < src_.size() && (src_[i] == '-' || src_[i] == '+')) close_marker = src_[i++];
      if (src_.compare(i, 2, "%}") != 0) continue;
      std::string text = src_.substr(pos_, at - pos_);
      strip_before_tag(text, pos_, TagKind::kBlock, open_marker);
      emit_text(std::move(text), pos_);
      pos_ = i + 2;
      strip_after_tag(TagKind::kBlock, close_marker);
      return;
    }
    fail(tag, "'{% raw %}' without '{% endraw %}'");
  }

  void lex_inner_token(int& depth) {
    const std::size_t start = pos_;
    const int line = line_at(start);
    const char c = src_[pos_];
    if (is_name_start(c)) {
      while (pos_ < src_.size() && is_name_char(src_[pos_])) ++pos_;
      tokens_.push_back({TokenKind::kName, src_.substr(start, pos_ - start), line});
    } else if (is_digit(c)) {
      lex_number(line);
    } else if (c == '\'' || c == '"') {
      tokens_.push_back({TokenKind::kString, lex_string(), line});
    } else {
      const std::string_view rest(src_.data() + pos_, src_.size() - pos_);
      for (auto op : kTwoCharOperators) {
        if (rest.substr(0, 2) == op) {
          tokens_.push_back({TokenKind::kOperator, std::string(op), line});
          pos_ += 2;
          return;
        }
      }
      if (kOneCharOperators.find(c) == std::string_view::npos)
        fail(start, std::string("unexpected character '") + c + "' in tag");
      if (c == '(' || c == '[' || c == '{') ++depth;
      if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
      tokens_.push_back({TokenKind::kOperator, std::string(1, c), line});
      ++pos_;
    }
  }

  void lex_number(int line) {
    std::string digits;
    bool is_float = false;
    const auto take_digits = [&] {
      while (pos_ < src_.size() && (is_digit(src_[pos_]) || src_[pos_] == '_')) {
        if (src_[pos_] != '_') digits += src_[pos_];
        ++pos_;
      }
    };
    take_digits();
    if (pos_ + 1 < src_.size() && src_[pos_] == '.' && is_digit(src_[pos_ + 1])) {
      is_float = true;
      digits += src_[pos_++];
      take_digits();
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      std::size_t i = pos_ + 1;
      if (i < src_.size() && (src_[i] == '+' || src_[i] == '-')) ++i;
      if (i < src_.size() && is_digit(src_[i])) {
        is_float = true;
        digits += 'e';
        digits += src_.substr(pos_ + 1, i - pos_ - 1);
        pos_ = i;
        take_digits();
      }
    }
    if (!is_float) {
      std::int64_t value = 0;
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (ec != std::errc() || ptr != digits.data() + digits.size())
        throw Error("chat template line " + std::to_string(line) + ": integer literal " + digits +
                    " is out of range");
    }
    tokens_.push_back({is_float ? TokenKind::kFloat : TokenKind::kInteger, digits, line});
  }

  // Reads a quoted literal and resolves Python escapes (\n, \t, \xHH, \uHHHH, \UHHHHHHHH, ...).
  std::string lex_string() {
    const std::size_t start = pos_;
    const char quote = src_[pos_++];
    std::string out;
    while (true) {
      if (pos_ >= src_.size()) fail(start, "unterminated string literal");
      const char c = src_[pos_++];
      if (c == quote) return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= src_.size()) fail(start, "unterminated string literal");
      const char e = src_[pos_++];
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'v':
          out += '\v';
          break;
        case 'a':
          out += '\a';
          break;
        case '0':
          out += '\0';
          break;
        case '\\':
          out += '\\';
          break;
        case '\'':
          out += '\'';
          break;
        case '"':
          out += '"';
          break;
        case '\n':
          break;  // line continuation
        case 'x':
        case 'u':
        case 'U': {
          const std::size_t width = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          std::uint32_t cp = 0;
          const char* begin = src_.data() + pos_;
          auto [ptr, ec] =
              std::from_chars(begin, begin + std::min(width, src_.size() - pos_), cp, 16);
          if (ec != std::errc() || ptr != begin + width || cp > 0x10FFFF)
            fail(pos_, std::string("invalid \\") + e + " escape in string literal");
          pos_ += width;
          utf8::append_code_point(out, cp);
          break;
        }
        default:  // Python keeps unknown escapes as written
          out += '\\';
          out += e;
      }
    }
  }

  std::string src_;
  std::vector<std::size_t> newlines_;  // positions of '\n', for line numbers
  LexerOptions options_;
  std::size_t pos_ = 0;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize_template(const std::string& source, const LexerOptions& options) {
  return Lexer(source, options).run();
}

}  // namespace llama4::chat
