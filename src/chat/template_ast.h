// Syntax tree of a parsed chat template. Expressions and statements are plain structs with a kind
// tag; each carries the template line it came from so evaluation errors can name it.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/template_value.h"

namespace llama4::chat {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kLiteral,      // literal
    kName,         // name
    kList,         // [args...] or a tuple (a, b)
    kDict,         // {args[0]: args[1], args[2]: args[3], ...}
    kGetAttr,      // args[0].name
    kGetItem,      // args[0][args[1]]
    kSlice,        // args[0][args[1]:args[2]:args[3]] (null entries when omitted)
    kCall,         // args[0](args[1..], kwargs)
    kFilter,       // args[0] | name(args[1..], kwargs)
    kTest,         // args[0] is [not] name(args[1..])
    kUnaryMinus,   // -args[0]
    kNot,          // not args[0]
    kAnd,          // args[0] and args[1]
    kOr,           // args[0] or args[1]
    kBinary,       // args[0] op args[1] with op in + - * / // % ** ~
    kCompare,      // args[0] ops[0] args[1] ops[1] args[2] ... (Python chained comparison)
    kConditional,  // args[0] if args[1] else args[2] (args[2] may be null)
  };

  Kind kind;
  int line;
  Value literal;
  std::string name;  // variable, attribute, filter, test or operator name
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;  // comparison operators: == != < <= > >= in notin
  bool negated = false;          // `is not`
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // null when required
};

struct Stmt {
  enum class Kind {
    kText,      // text
    kOutput,    // {{ expr }}
    kIf,        // branches (condition, body)..., else_body
    kFor,       // for targets in expr [if filter]: body else else_body
    kSet,       // set targets / target.attr = expr
    kSetBlock,  // set target %}body{% endset
    kMacro,     // macro name(params): body
    kBreak,
    kContinue,
    kBlock,  // a transparent body, e.g. {% generation %}...{% endgeneration %}
  };

  Kind kind;
  int line;
  std::string text;
  ExprPtr expr;
  std::vector<std::pair<ExprPtr, Body>> branches;
  std::vector<std::string> targets;
  std::string attribute;  // for `set ns.attr = ...`
  ExprPtr filter;
  Body body;
  Body else_body;
  std::string name;
  std::vector<MacroParam> params;
};

}  // namespace llama4::chat
