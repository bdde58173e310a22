// Recursive-descent parser for the Jinja subset used by chat templates; see template_parser.h.
#include "chat/template_parser.h"

#include <algorithm>
#include <cstdlib>
#include <initializer_list>
#include <string_view>

#include "chat/template_limits.h"
#include "util/error.h"

namespace llama4::chat {
namespace {

// Names after `is` that end a test instead of being its argument.
constexpr std::string_view kNotTestArguments[] = {"else", "or", "and", "if", "is", "in", "not"};

class Parser {
 public:
  explicit Parser(const std::vector<Token>& tokens) : tokens_(tokens) {}

  Body parse_all() {
    std::string terminator;
    Body body = parse_body({}, &terminator);
    return body;
  }

 private:
  // Counts nesting of blocks and expressions so a hostile template cannot overflow the stack.
  class DepthGuard {
   public:
    explicit DepthGuard(Parser& parser) : parser_(parser) {
      if (++parser_.depth_ > kMaxRecursionDepth)
        parser_.fail("template nests deeper than " + std::to_string(kMaxRecursionDepth) +
                     " levels");
    }
    ~DepthGuard() { --parser_.depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;

   private:
    Parser& parser_;
  };

  const Token& peek(std::size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& next() {
    const Token& token = peek();
    if (pos_ < tokens_.size() - 1) ++pos_;
    return token;
  }
  bool at_op(std::string_view op, std::size_t ahead = 0) const {
    return peek(ahead).kind == TokenKind::kOperator && peek(ahead).text == op;
  }
  bool at_name(std::string_view name, std::size_t ahead = 0) const {
    return peek(ahead).kind == TokenKind::kName && peek(ahead).text == name;
  }
  bool accept_op(std::string_view op) {
    if (!at_op(op)) return false;
    next();
    return true;
  }
  bool accept_name(std::string_view name) {
    if (!at_name(name)) return false;
    next();
    return true;
  }

  static std::string describe(const Token& token) {
    switch (token.kind) {
      case TokenKind::kText:
        return "text";
      case TokenKind::kVariableBegin:
        return "'{{'";
      case TokenKind::kVariableEnd:
        return "'}}'";
      case TokenKind::kBlockBegin:
        return "'{%'";
      case TokenKind::kBlockEnd:
        return "'%}'";
      case TokenKind::kEnd:
        return "end of template";
      case TokenKind::kString:
        return "string literal";
      default:
        return "'" + token.text + "'";
    }
  }

  [[noreturn]] void fail(const std::string& problem) const {
    throw Error("chat template line " + std::to_string(peek().line) + ": " + problem);
  }

  void expect_op(std::string_view op) {
    if (!accept_op(op)) fail("expected '" + std::string(op) + "', found " + describe(peek()));
  }
  void expect_kind(TokenKind kind, std::string_view what) {
    if (peek().kind != kind) fail("expected " + std::string(what) + ", found " + describe(peek()));
    next();
  }
  void expect_block_end() { expect_kind(TokenKind::kBlockEnd, "'%}'"); }
  std::string expect_name() {
    if (peek().kind != TokenKind::kName) fail("expected a name, found " + describe(peek()));
    return next().text;
  }

  static ExprPtr make(Expr::Kind kind, int line) {
    auto expr = std::make_unique<Expr>();
    expr->kind = kind;
    expr->line = line;
    return expr;
  }
  static StmtPtr make_stmt(Stmt::Kind kind, int line) {
    auto stmt = std::make_unique<Stmt>();
    stmt->kind = kind;
    stmt->line = line;
    return stmt;
  }

  // ---- statements ----

  // Parses until one of `terminators` opens a block tag (it is consumed, its name stored in *found)
  // or the template ends (only allowed when there are no terminators).
  Body parse_body(std::initializer_list<std::string_view> terminators, std::string* found) {
    DepthGuard guard(*this);
    Body body;
    while (true) {
      const Token& token = peek();
      switch (token.kind) {
        case TokenKind::kEnd:
          if (terminators.size() != 0)
            fail("missing '{% " + std::string(*(terminators.end() - 1)) +
                 " %}' before the end of the template");
          return body;
        case TokenKind::kText: {
          auto stmt = make_stmt(Stmt::Kind::kText, token.line);
          stmt->text = next().text;
          body.push_back(std::move(stmt));
          break;
        }
        case TokenKind::kVariableBegin: {
          auto stmt = make_stmt(Stmt::Kind::kOutput, next().line);
          stmt->expr = parse_expression();
          expect_kind(TokenKind::kVariableEnd, "'}}'");
          body.push_back(std::move(stmt));
          break;
        }
        case TokenKind::kBlockBegin: {
          const Token& tag = peek(1);
          if (tag.kind == TokenKind::kName &&
              std::find(terminators.begin(), terminators.end(), tag.text) != terminators.end()) {
            next();
            *found = next().text;
            return body;
          }
          next();
          body.push_back(parse_statement());
          break;
        }
        default:
          fail("unexpected " + describe(token));
      }
    }
  }

  StmtPtr parse_statement() {
    const Token& tag = peek();
    if (tag.kind != TokenKind::kName)
      fail("expected a tag name after '{%', found " + describe(tag));
    const std::string name = next().text;
    const int line = tag.line;
    if (name == "if") return parse_if(line);
    if (name == "for") return parse_for(line);
    if (name == "set") return parse_set(line);
    if (name == "macro") return parse_macro(line);
    if (name == "break" || name == "continue") {
      expect_block_end();
      return make_stmt(name == "break" ? Stmt::Kind::kBreak : Stmt::Kind::kContinue, line);
    }
    if (name == "generation") {
      expect_block_end();
      auto stmt = make_stmt(Stmt::Kind::kBlock, line);
      std::string found;
      stmt->body = parse_body({"endgeneration"}, &found);
      expect_block_end();
      return stmt;
    }
    if (name.rfind("end", 0) == 0 || name == "elif" || name == "else")
      fail("unexpected '{% " + name + " %}' with no open block it could close");
    fail("unsupported tag '{% " + name + " %}'");
  }

  StmtPtr parse_if(int line) {
    auto stmt = make_stmt(Stmt::Kind::kIf, line);
    std::string found = "elif";
    while (found == "elif") {
      ExprPtr condition = parse_expression();
      expect_block_end();
      Body body = parse_body({"elif", "else", "endif"}, &found);
      stmt->branches.emplace_back(std::move(condition), std::move(body));
    }
    if (found == "else") {
      expect_block_end();
      stmt->else_body = parse_body({"endif"}, &found);
    }
    expect_block_end();
    return stmt;
  }

  StmtPtr parse_for(int line) {
    auto stmt = make_stmt(Stmt::Kind::kFor, line);
    stmt->targets.push_back(expect_name());
    while (accept_op(",")) stmt->targets.push_back(expect_name());
    if (!accept_name("in")) fail("expected 'in' in for loop, found " + describe(peek()));
    stmt->expr = parse_expression(/*allow_conditional=*/false);
    if (accept_name("if")) stmt->filter = parse_expression();
    if (at_name("recursive")) fail("recursive for loops are not supported");
    expect_block_end();
    std::string found;
    stmt->body = parse_body({"else", "endfor"}, &found);
    if (found == "else") {
      expect_block_end();
      stmt->else_body = parse_body({"endfor"}, &found);
    }
    expect_block_end();
    return stmt;
  }

  StmtPtr parse_set(int line) {
    auto stmt = make_stmt(Stmt::Kind::kSet, line);
    stmt->targets.push_back(expect_name());
    if (accept_op(".")) {
      stmt->attribute = expect_name();
    } else {
      while (accept_op(",")) stmt->targets.push_back(expect_name());
    }
    if (peek().kind == TokenKind::kBlockEnd && stmt->targets.size() == 1 &&
        stmt->attribute.empty()) {
      next();
      stmt->kind = Stmt::Kind::kSetBlock;
      std::string found;
      stmt->body = parse_body({"endset"}, &found);
      expect_block_end();
      return stmt;
    }
    expect_op("=");
    stmt->expr = parse_tuple_or_expression();
    expect_block_end();
    return stmt;
  }

  StmtPtr parse_macro(int line) {
    auto stmt = make_stmt(Stmt::Kind::kMacro, line);
    stmt->name = expect_name();
    expect_op("(");
    while (!at_op(")")) {
      MacroParam param;
      param.name = expect_name();
      if (accept_op("=")) param.default_value = parse_expression();
      stmt->params.push_back(std::move(param));
      if (!accept_op(",")) break;
    }
    expect_op(")");
    expect_block_end();
    std::string found;
    stmt->body = parse_body({"endmacro"}, &found);
    expect_block_end();
    return stmt;
  }

  // ---- expressions ----

  // `a, b` without brackets (as in `set x = a, b`) is a tuple, represented as a list.
  ExprPtr parse_tuple_or_expression() {
    const int line = peek().line;
    ExprPtr first = parse_expression();
    if (!at_op(",")) return first;
    auto tuple = make(Expr::Kind::kList, line);
    tuple->args.push_back(std::move(first));
    while (accept_op(",")) {
      if (peek().kind == TokenKind::kBlockEnd) break;
      tuple->args.push_back(parse_expression());
    }
    return tuple;
  }

  ExprPtr parse_expression(bool allow_conditional = true) {
    DepthGuard guard(*this);
    return allow_conditional ? parse_conditional() : parse_or();
  }

  ExprPtr parse_conditional() {
    ExprPtr expr = parse_or();
    while (at_name("if")) {
      const int line = next().line;
      auto conditional = make(Expr::Kind::kConditional, line);
      ExprPtr condition = parse_or();
      ExprPtr otherwise = accept_name("else") ? parse_conditional() : nullptr;
      conditional->args.push_back(std::move(expr));
      conditional->args.push_back(std::move(condition));
      conditional->args.push_back(std::move(otherwise));
      expr = std::move(conditional);
    }
    return expr;
  }

  ExprPtr binary(Expr::Kind kind, std::string op, ExprPtr left, ExprPtr right, int line) {
    auto expr = make(kind, line);
    expr->name = std::move(op);
    expr->args.push_back(std::move(left));
    expr->args.push_back(std::move(right));
    return expr;
  }

  ExprPtr parse_or() {
    ExprPtr expr = parse_and();
    while (at_name("or")) {
      const int line = next().line;
      expr = binary(Expr::Kind::kOr, "or", std::move(expr), parse_and(), line);
    }
    return expr;
  }

  ExprPtr parse_and() {
    ExprPtr expr = parse_not();
    while (at_name("and")) {
      const int line = next().line;
      expr = binary(Expr::Kind::kAnd, "and", std::move(expr), parse_not(), line);
    }
    return expr;
  }

  ExprPtr parse_not() {
    if (at_name("not")) {
      DepthGuard guard(*this);
      auto expr = make(Expr::Kind::kNot, next().line);
      expr->args.push_back(parse_not());
      return expr;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const int line = peek().line;
    ExprPtr first = parse_math1();
    ExprPtr compare;
    while (true) {
      std::string op;
      if (peek().kind == TokenKind::kOperator &&
          (peek().text == "==" || peek().text == "!=" || peek().text == "<" ||
           peek().text == "<=" || peek().text == ">" || peek().text == ">=")) {
        op = next().text;
      } else if (at_name("in")) {
        next();
        op = "in";
      } else if (at_name("not") && at_name("in", 1)) {
        next();
        next();
        op = "notin";
      } else {
        break;
      }
      if (!compare) {
        compare = make(Expr::Kind::kCompare, line);
        compare->args.push_back(std::move(first));
      }
      compare->ops.push_back(op);
      compare->args.push_back(parse_math1());
    }
    return compare ? std::move(compare) : std::move(first);
  }

  ExprPtr parse_math1() {
    ExprPtr expr = parse_concat();
    while (at_op("+") || at_op("-")) {
      const Token& op = next();
      expr = binary(Expr::Kind::kBinary, op.text, std::move(expr), parse_concat(), op.line);
    }
    return expr;
  }

  ExprPtr parse_concat() {
    ExprPtr expr = parse_math2();
    while (at_op("~")) {
      const Token& op = next();
      expr = binary(Expr::Kind::kBinary, op.text, std::move(expr), parse_math2(), op.line);
    }
    return expr;
  }

  ExprPtr parse_math2() {
    ExprPtr expr = parse_pow();
    while (at_op("*") || at_op("/") || at_op("//") || at_op("%")) {
      const Token& op = next();
      expr = binary(Expr::Kind::kBinary, op.text, std::move(expr), parse_pow(), op.line);
    }
    return expr;
  }

  ExprPtr parse_pow() {
    ExprPtr expr = parse_unary(true);
    while (at_op("**")) {
      const Token& op = next();
      expr = binary(Expr::Kind::kBinary, op.text, std::move(expr), parse_unary(true), op.line);
    }
    return expr;
  }

  ExprPtr parse_unary(bool with_filters) {
    DepthGuard guard(*this);
    ExprPtr expr;
    if (at_op("-")) {
      expr = make(Expr::Kind::kUnaryMinus, next().line);
      expr->args.push_back(parse_unary(false));
    } else if (at_op("+")) {
      next();
      expr = parse_unary(false);
    } else {
      expr = parse_primary();
    }
    expr = parse_postfix(std::move(expr));
    if (with_filters) expr = parse_filters_and_tests(std::move(expr));
    return expr;
  }

  ExprPtr parse_primary() {
    const Token& token = peek();
    switch (token.kind) {
      case TokenKind::kName: {
        next();
        auto expr = make(Expr::Kind::kLiteral, token.line);
        if (token.text == "true" || token.text == "True") {
          expr->literal = Value(true);
        } else if (token.text == "false" || token.text == "False") {
          expr->literal = Value(false);
        } else if (token.text == "none" || token.text == "None") {
          expr->literal = Value::none();
        } else {
          expr->kind = Expr::Kind::kName;
          expr->name = token.text;
        }
        return expr;
      }
      case TokenKind::kString: {
        auto expr = make(Expr::Kind::kLiteral, token.line);
        std::string text;
        while (peek().kind == TokenKind::kString) text += next().text;  // "a" "b" concatenates
        expr->literal = Value(std::move(text));
        return expr;
      }
      case TokenKind::kInteger: {
        auto expr = make(Expr::Kind::kLiteral, token.line);
        expr->literal = Value(static_cast<std::int64_t>(std::stoll(next().text)));
        return expr;
      }
      case TokenKind::kFloat: {
        auto expr = make(Expr::Kind::kLiteral, token.line);
        // As Python's float(): out-of-range literals become inf or 0.0, never an exception.
        expr->literal = Value(std::strtod(next().text.c_str(), nullptr));
        return expr;
      }
      case TokenKind::kOperator:
        if (token.text == "(") return parse_parenthesized();
        if (token.text == "[") return parse_list();
        if (token.text == "{") return parse_dict();
        break;
      default:
        break;
    }
    fail("expected an expression, found " + describe(token));
  }

  ExprPtr parse_parenthesized() {
    const int line = next().line;
    if (accept_op(")")) return make(Expr::Kind::kList, line);  // empty tuple
    ExprPtr first = parse_expression();
    if (accept_op(")")) return first;
    auto tuple = make(Expr::Kind::kList, line);
    tuple->args.push_back(std::move(first));
    while (accept_op(",")) {
      if (at_op(")")) break;
      tuple->args.push_back(parse_expression());
    }
    expect_op(")");
    return tuple;
  }

  ExprPtr parse_list() {
    auto list = make(Expr::Kind::kList, next().line);
    while (!at_op("]")) {
      list->args.push_back(parse_expression());
      if (!accept_op(",")) break;
    }
    expect_op("]");
    return list;
  }

  ExprPtr parse_dict() {
    auto dict = make(Expr::Kind::kDict, next().line);
    while (!at_op("}")) {
      dict->args.push_back(parse_expression());
      expect_op(":");
      dict->args.push_back(parse_expression());
      if (!accept_op(",")) break;
    }
    expect_op("}");
    return dict;
  }

  ExprPtr parse_postfix(ExprPtr expr) {
    while (true) {
      if (at_op(".")) {
        const int line = next().line;
        if (peek().kind == TokenKind::kInteger) {  // x.0 is x[0]
          auto index = make(Expr::Kind::kLiteral, line);
          index->literal = Value(static_cast<std::int64_t>(std::stoll(next().text)));
          auto item = make(Expr::Kind::kGetItem, line);
          item->args.push_back(std::move(expr));
          item->args.push_back(std::move(index));
          expr = std::move(item);
          continue;
        }
        auto attr = make(Expr::Kind::kGetAttr, line);
        attr->name = expect_name();
        attr->args.push_back(std::move(expr));
        expr = std::move(attr);
      } else if (at_op("[")) {
        expr = parse_subscript(std::move(expr));
      } else if (at_op("(")) {
        expr = parse_call(std::move(expr));
      } else {
        return expr;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr object) {
    const int line = next().line;
    ExprPtr parts[3];
    int part = 0;
    bool is_slice = false;
    while (true) {
      if (at_op(":")) {
        next();
        is_slice = true;
        if (++part > 2) fail("a slice takes at most three parts");
        continue;
      }
      if (at_op("]")) break;
      if (parts[part]) fail("expected ']' or ':' in subscript, found " + describe(peek()));
      parts[part] = parse_expression();
    }
    expect_op("]");
    if (!is_slice) {
      if (!parts[0]) fail("empty subscript '[]'");
      auto item = make(Expr::Kind::kGetItem, line);
      item->args.push_back(std::move(object));
      item->args.push_back(std::move(parts[0]));
      return item;
    }
    auto slice = make(Expr::Kind::kSlice, line);
    slice->args.push_back(std::move(object));
    for (auto& p : parts) slice->args.push_back(std::move(p));
    return slice;
  }

  // Parses `(args, name=value)` into expr->args (after any existing ones) and expr->kwargs.
  void parse_arguments(Expr& expr) {
    expect_op("(");
    while (!at_op(")")) {
      if (peek().kind == TokenKind::kName && at_op("=", 1)) {
        std::string name = next().text;
        next();
        expr.kwargs.emplace_back(std::move(name), parse_expression());
      } else {
        if (!expr.kwargs.empty()) fail("positional argument after keyword argument");
        expr.args.push_back(parse_expression());
      }
      if (!accept_op(",")) break;
    }
    expect_op(")");
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto call = make(Expr::Kind::kCall, peek().line);
    call->args.push_back(std::move(callee));
    parse_arguments(*call);
    return call;
  }

  ExprPtr parse_filters_and_tests(ExprPtr expr) {
    while (true) {
      if (at_op("|")) {
        const int line = next().line;
        auto filter = make(Expr::Kind::kFilter, line);
        filter->name = expect_name();
        filter->args.push_back(std::move(expr));
        if (at_op("(")) parse_arguments(*filter);
        expr = std::move(filter);
      } else if (at_name("is")) {
        const int line = next().line;
        auto test = make(Expr::Kind::kTest, line);
        test->negated = accept_name("not");
        test->name = expect_name();
        test->args.push_back(std::move(expr));
        if (at_op("(")) {
          parse_arguments(*test);
        } else if (starts_test_argument()) {
          test->args.push_back(parse_postfix(parse_primary()));
        }
        expr = std::move(test);
      } else if (at_op("(")) {
        expr = parse_call(std::move(expr));
      } else {
        return expr;
      }
    }
  }

  bool starts_test_argument() const {
    const Token& token = peek();
    if (token.kind == TokenKind::kName)
      return std::find(std::begin(kNotTestArguments), std::end(kNotTestArguments), token.text) ==
             std::end(kNotTestArguments);
    if (token.kind == TokenKind::kString || token.kind == TokenKind::kInteger ||
        token.kind == TokenKind::kFloat)
      return true;
    return token.kind == TokenKind::kOperator && (token.text == "[" || token.text == "{");
  }

  const std::vector<Token>& tokens_;
  std::size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

Body parse_template(const std::vector<Token>& tokens) {
  return Parser(tokens).parse_all();
}

}  // namespace llama4::chat
