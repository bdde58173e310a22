// Tree-walking evaluator of parsed chat templates (ChatTemplate::render). Scoping follows Jinja:
// a for-loop body gets a fresh scope each iteration (so `set` inside a loop does not leak out —
// which is why templates use namespace()), while if-blocks share the enclosing scope. Errors raised
// while evaluating an expression or statement get that node's template line.
#include "chat/chat_template.h"

#include <unordered_map>

#include "chat/template_builtins.h"
#include "chat/template_lexer.h"
#include "chat/template_limits.h"
#include "chat/template_ops.h"
#include "chat/template_parser.h"
#include "util/error.h"

namespace llama4::chat {
namespace {

class Scope {
 public:
  explicit Scope(const Scope* parent) : parent_(parent) {}

  const Value* find(const std::string& name) const {
    for (const Scope* scope = this; scope != nullptr; scope = scope->parent_) {
      const auto found = scope->vars_.find(name);
      if (found != scope->vars_.end()) return &found->second;
    }
    return nullptr;
  }
  void set(const std::string& name, Value value) { vars_[name] = std::move(value); }

 private:
  std::unordered_map<std::string, Value> vars_;
  const Scope* parent_;
};

// Counts nested macro calls; a template that recurses without end fails instead of overflowing.
class CallDepthGuard {
 public:
  explicit CallDepthGuard(int& depth) : depth_(depth) {
    if (++depth_ > kMaxMacroCallDepth) {
      --depth_;
      throw TemplateFault("macro calls nest deeper than " + std::to_string(kMaxMacroCallDepth) +
                          " levels");
    }
  }
  ~CallDepthGuard() { --depth_; }
  CallDepthGuard(const CallDepthGuard&) = delete;
  CallDepthGuard& operator=(const CallDepthGuard&) = delete;

 private:
  int& depth_;
};

// What a statement asks of the enclosing loop.
enum class Flow { kNormal, kBreak, kContinue };

[[noreturn]] void fail_at(int line, const std::string& problem) {
  throw Error("chat template line " + std::to_string(line) + ": " + problem);
}

class Evaluator {
 public:
  explicit Evaluator(std::chrono::system_clock::time_point now)
      : globals_(make_globals(budget_, now)) {}

  std::string render(const Body& body, const nlohmann::ordered_json& context) {
    if (!context.is_object()) throw Error("chat template context must be a JSON object");
    Scope root(nullptr);
    root_ = &root;
    for (const auto& [key, value] : context.items()) root.set(key, Value::from_json(value));
    std::string out;
    exec_body(body, root, out);
    return out;
  }

 private:
  Flow exec_body(const Body& body, Scope& scope, std::string& out) {
    for (const auto& stmt : body) {
      const Flow flow = exec(*stmt, scope, out);
      if (flow != Flow::kNormal) return flow;
    }
    return Flow::kNormal;
  }

  Flow exec(const Stmt& stmt, Scope& scope, std::string& out) {
    try {
      return exec_unlocated(stmt, scope, out);
    } catch (const TemplateFault& fault) {
      fail_at(stmt.line, fault.what());
    }
  }

  static void append(std::string& out, const std::string& text) {
    if (out.size() + text.size() > kMaxOutputBytes)
      throw TemplateFault("rendered output exceeds the limit of " +
                          std::to_string(kMaxOutputBytes) + " bytes");
    out += text;
  }

  Flow exec_unlocated(const Stmt& stmt, Scope& scope, std::string& out) {
    switch (stmt.kind) {
      case Stmt::Kind::kText:
        append(out, stmt.text);
        return Flow::kNormal;
      case Stmt::Kind::kOutput:
        append(out, eval(*stmt.expr, scope).to_string());
        return Flow::kNormal;
      case Stmt::Kind::kIf:
        for (const auto& [condition, body] : stmt.branches)
          if (eval(*condition, scope).truthy()) return exec_body(body, scope, out);
        return exec_body(stmt.else_body, scope, out);
      case Stmt::Kind::kFor:
        exec_for(stmt, scope, out);
        return Flow::kNormal;
      case Stmt::Kind::kSet:
        exec_set(stmt, scope);
        return Flow::kNormal;
      case Stmt::Kind::kSetBlock: {
        std::string captured;
        Scope inner(&scope);
        exec_body(stmt.body, inner, captured);
        scope.set(stmt.targets[0], Value(std::move(captured)));
        return Flow::kNormal;
      }
      case Stmt::Kind::kMacro:
        scope.set(stmt.name, make_macro(stmt));
        return Flow::kNormal;
      case Stmt::Kind::kBreak:
        return Flow::kBreak;
      case Stmt::Kind::kContinue:
        return Flow::kContinue;
      case Stmt::Kind::kBlock:
        return exec_body(stmt.body, scope, out);
    }
    return Flow::kNormal;
  }

  static void bind_targets(const std::vector<std::string>& targets, const Value& value,
                           Scope& scope) {
    if (targets.size() == 1) {
      scope.set(targets[0], value);
      return;
    }
    if (!value.is_list() || value.as_list().size() != targets.size())
      throw TemplateFault("cannot unpack " + value.type_name() + " into " +
                          std::to_string(targets.size()) + " names");
    for (std::size_t i = 0; i < targets.size(); ++i) scope.set(targets[i], value.as_list()[i]);
  }

  void exec_for(const Stmt& stmt, Scope& scope, std::string& out) {
    ValueList items = iterate(eval(*stmt.expr, scope), budget_);
    if (stmt.filter) {
      ValueList kept;
      for (auto& item : items) {
        Scope filter_scope(&scope);
        bind_targets(stmt.targets, item, filter_scope);
        if (eval(*stmt.filter, filter_scope).truthy()) kept.push_back(std::move(item));
      }
      items = std::move(kept);
    }
    const auto length = static_cast<std::int64_t>(items.size());
    for (std::int64_t i = 0; i < length; ++i) {
      const auto at = static_cast<std::size_t>(i);
      Scope iteration(&scope);
      bind_targets(stmt.targets, items[at], iteration);
      ValueDict loop;
      loop.set("index", Value(i + 1));
      loop.set("index0", Value(i));
      loop.set("revindex", Value(length - i));
      loop.set("revindex0", Value(length - i - 1));
      loop.set("first", Value(i == 0));
      loop.set("last", Value(i == length - 1));
      loop.set("length", Value(length));
      loop.set("previtem", i > 0 ? items[at - 1] : Value::undefined("loop.previtem"));
      loop.set("nextitem", i + 1 < length ? items[at + 1] : Value::undefined("loop.nextitem"));
      loop.set("cycle", Value::function([i](const CallArgs& args) {
                 if (args.positional.empty())
                   throw TemplateFault("loop.cycle() needs at least one argument");
                 return args.positional[static_cast<std::size_t>(i) % args.positional.size()];
               }));
      iteration.set("loop", Value(std::move(loop)));
      if (exec_body(stmt.body, iteration, out) == Flow::kBreak) break;
    }
    if (items.empty()) exec_body(stmt.else_body, scope, out);
  }

  void exec_set(const Stmt& stmt, Scope& scope) {
    Value value = eval(*stmt.expr, scope);
    if (stmt.attribute.empty()) {
      bind_targets(stmt.targets, value, scope);
      return;
    }
    const Value* target = scope.find(stmt.targets[0]);
    if (target == nullptr || !target->is_dict() || !target->as_dict().is_namespace)
      throw TemplateFault("cannot assign attribute '" + stmt.attribute + "' on '" +
                          stmt.targets[0] + "': only namespace() objects can be changed");
    target->namespace_dict().set(stmt.attribute, std::move(value));
  }

  Value make_macro(const Stmt& stmt) {
    return Value::function([this, &stmt](const CallArgs& args) {
      CallDepthGuard depth(call_depth_);
      if (args.positional.size() > stmt.params.size())
        throw TemplateFault("macro '" + stmt.name + "' takes " +
                            std::to_string(stmt.params.size()) + " arguments");
      Scope local(root_);
      for (std::size_t i = 0; i < stmt.params.size(); ++i) {
        const MacroParam& param = stmt.params[i];
        const Value* given = args.get(i, param.name);
        local.set(param.name, given                 ? *given
                              : param.default_value ? eval(*param.default_value, local)
                                                    : Value::undefined(param.name));
      }
      std::string out;
      exec_body(stmt.body, local, out);
      return Value(std::move(out));
    });
  }

  Value eval(const Expr& expr, const Scope& scope) {
    try {
      budget_.spend(1);
      Value value = eval_unlocated(expr, scope);
      if (value.is_string()) budget_.spend_bytes(value.as_string().size());
      return value;
    } catch (const TemplateFault& fault) {
      fail_at(expr.line, fault.what());
    }
  }

  CallArgs eval_args(const Expr& expr, std::size_t first, const Scope& scope) {
    CallArgs args;
    for (std::size_t i = first; i < expr.args.size(); ++i)
      args.positional.push_back(eval(*expr.args[i], scope));
    for (const auto& [name, value] : expr.kwargs)
      args.keyword.emplace_back(name, eval(*value, scope));
    return args;
  }

  static Value invoke(const Value& function, const CallArgs& args, const std::string& name) {
    if (function.is_function()) return function.as_function()(args);
    if (function.is_undefined()) throw TemplateFault("'" + name + "' is undefined");
    throw TemplateFault("'" + name + "' (" + function.type_name() + ") is not callable");
  }

  Value eval_call(const Expr& expr, const Scope& scope) {
    const Expr& callee = *expr.args[0];
    if (callee.kind == Expr::Kind::kGetAttr) {
      const Value object = eval(*callee.args[0], scope);
      const CallArgs args = eval_args(expr, 1, scope);
      if (auto result = call_method(object, callee.name, args, budget_)) return *result;
      return invoke(get_attribute(object, callee.name), args, callee.name);
    }
    const Value function = eval(callee, scope);
    return invoke(function, eval_args(expr, 1, scope),
                  callee.kind == Expr::Kind::kName ? callee.name : "object");
  }

  Value eval_unlocated(const Expr& expr, const Scope& scope) {
    switch (expr.kind) {
      case Expr::Kind::kLiteral:
        return expr.literal;
      case Expr::Kind::kName: {
        if (const Value* found = scope.find(expr.name)) return *found;
        if (const Value* global = globals_.find(expr.name)) return *global;
        return Value::undefined(expr.name);
      }
      case Expr::Kind::kList: {
        ValueList items;
        for (const auto& item : expr.args) items.push_back(eval(*item, scope));
        return Value(std::move(items));
      }
      case Expr::Kind::kDict: {
        ValueDict dict;
        for (std::size_t i = 0; i + 1 < expr.args.size(); i += 2) {
          const Value key = eval(*expr.args[i], scope);
          if (!key.is_string())
            throw TemplateFault("dict keys must be strings, got " + key.type_name());
          dict.set(key.as_string(), eval(*expr.args[i + 1], scope));
        }
        return Value(std::move(dict));
      }
      case Expr::Kind::kGetAttr:
        return get_attribute(eval(*expr.args[0], scope), expr.name);
      case Expr::Kind::kGetItem:
        return get_item(eval(*expr.args[0], scope), eval(*expr.args[1], scope));
      case Expr::Kind::kSlice: {
        const auto part = [&](std::size_t i) {
          return expr.args[i] ? eval(*expr.args[i], scope) : Value::none();
        };
        return slice(eval(*expr.args[0], scope), part(1), part(2), part(3));
      }
      case Expr::Kind::kCall:
        return eval_call(expr, scope);
      case Expr::Kind::kFilter:
        return apply_filter(expr.name, eval(*expr.args[0], scope), eval_args(expr, 1, scope),
                            budget_);
      case Expr::Kind::kTest:
        return Value(apply_test(expr.name, eval(*expr.args[0], scope), eval_args(expr, 1, scope)) !=
                     expr.negated);
      case Expr::Kind::kUnaryMinus:
        return negate(eval(*expr.args[0], scope));
      case Expr::Kind::kNot:
        return Value(!eval(*expr.args[0], scope).truthy());
      case Expr::Kind::kAnd: {
        Value left = eval(*expr.args[0], scope);
        return left.truthy() ? eval(*expr.args[1], scope) : left;
      }
      case Expr::Kind::kOr: {
        Value left = eval(*expr.args[0], scope);
        return left.truthy() ? left : eval(*expr.args[1], scope);
      }
      case Expr::Kind::kBinary:
        return binary_operation(expr.name, eval(*expr.args[0], scope), eval(*expr.args[1], scope));
      case Expr::Kind::kCompare: {
        Value left = eval(*expr.args[0], scope);
        for (std::size_t i = 0; i < expr.ops.size(); ++i) {
          Value right = eval(*expr.args[i + 1], scope);
          if (!compare(expr.ops[i], left, right)) return Value(false);
          left = std::move(right);
        }
        return Value(true);
      }
      case Expr::Kind::kConditional:
        if (eval(*expr.args[1], scope).truthy()) return eval(*expr.args[0], scope);
        return expr.args[2] ? eval(*expr.args[2], scope) : Value::undefined();
    }
    throw TemplateFault("unknown expression");
  }

  RenderBudget budget_;
  ValueDict globals_;
  const Scope* root_ = nullptr;
  int call_depth_ = 0;
};

}  // namespace

ChatTemplate::ChatTemplate(const std::string& source)
    : body_(std::make_shared<const Body>(parse_template(tokenize_template(source)))) {}

std::string ChatTemplate::render(const nlohmann::ordered_json& context,
                                 std::chrono::system_clock::time_point now) const {
  Evaluator evaluator(now);
  return evaluator.render(*body_, context);
}

}  // namespace llama4::chat
