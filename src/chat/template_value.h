// The value type of the chat-template engine: what Jinja (Python) values look like to a template —
// undefined, none, booleans, integers, floats, strings, lists, ordered dicts, namespaces and
// callables. Lists and dicts are shared (reference semantics, as in Python) and never mutated after
// construction, except namespace attributes, which `{% set ns.x = ... %}` is allowed to change.
// Conversions follow Python: str() for rendering, json.dumps for `tojson`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace llama4::chat {

// A problem found while evaluating; the evaluator adds the template line and turns it into Error.
class TemplateFault : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Value;
using ValueList = std::vector<Value>;

// Insertion-ordered string-keyed map (Python dict order), optionally a namespace() object.
struct ValueDict {
  std::vector<std::pair<std::string, Value>> entries;
  bool is_namespace = false;

  const Value* find(const std::string& key) const;
  void set(const std::string& key, Value value);
};

// Arguments of a call: positional then keyword, as written in the template.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;

  // The argument named `name`, or the positional one at `index`, or nullptr when absent.
  const Value* get(std::size_t index, const std::string& name) const;
};

using NativeFunction = std::function<Value(const CallArgs&)>;

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kFunction };

  Value() = default;  // undefined
  static Value undefined(std::string hint = {});
  static Value none();
  Value(bool b);
  Value(std::int64_t i);
  Value(int i) : Value(static_cast<std::int64_t>(i)) {}
  Value(double d);
  Value(std::string s);
  Value(const char* s) : Value(std::string(s)) {}
  Value(ValueList list);
  Value(ValueDict dict);
  static Value function(NativeFunction fn);
  static Value from_json(const nlohmann::ordered_json& json);

  Kind kind() const { return static_cast<Kind>(storage_.index()); }
  bool is_undefined() const { return kind() == Kind::kUndefined; }
  bool is_none() const { return kind() == Kind::kNone; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_float() const { return kind() == Kind::kFloat; }
  bool is_number() const { return is_int() || is_float(); }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_list() const { return kind() == Kind::kList; }
  bool is_dict() const { return kind() == Kind::kDict; }
  bool is_function() const { return kind() == Kind::kFunction; }

  bool as_bool() const { return std::get<bool>(storage_); }
  std::int64_t as_int() const { return std::get<std::int64_t>(storage_); }
  double as_float() const { return std::get<double>(storage_); }
  // Numeric value of an int, float or bool (Python treats bool as int).
  double as_number() const;
  const std::string& as_string() const { return std::get<std::string>(storage_); }
  const ValueList& as_list() const { return *std::get<std::shared_ptr<ValueList>>(storage_); }
  const ValueDict& as_dict() const { return *std::get<std::shared_ptr<ValueDict>>(storage_); }
  // Writable access for namespace attributes only; the dict is shared by every copy of this value.
  ValueDict& namespace_dict() const { return *std::get<std::shared_ptr<ValueDict>>(storage_); }
  const NativeFunction& as_function() const {
    return *std::get<std::shared_ptr<NativeFunction>>(storage_);
  }
  // For undefined values: the expression that produced it, for error messages.
  const std::string& undefined_hint() const { return std::get<UndefinedTag>(storage_).hint; }

  // Python truthiness (undefined, none, 0, 0.0, "", [], {} are false).
  bool truthy() const;
  // Python str(): what `{{ value }}` renders.
  std::string to_string() const;
  // Python repr(), used for strings inside lists/dicts rendered with str().
  std::string to_repr() const;
  // json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=sort_keys); indent < 0 means
  // none.
  std::string to_json(int indent = -1, bool sort_keys = false) const;
  // Python type name for error messages ("str", "list", "dict", ...).
  std::string type_name() const;

  // Python ==.
  friend bool operator==(const Value& a, const Value& b);

 private:
  struct UndefinedTag {
    std::string hint;
  };
  struct NoneTag {};
  using Storage = std::variant<UndefinedTag, NoneTag, bool, std::int64_t, double, std::string,
                               std::shared_ptr<ValueList>, std::shared_ptr<ValueDict>,
                               std::shared_ptr<NativeFunction>>;
  Storage storage_;
};

// Python float repr(): shortest round-trip digits, exponent form outside [1e-4, 1e16).
std::string python_float_repr(double value);

}  // namespace llama4::chat
