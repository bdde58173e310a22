// Operator semantics of the chat-template engine, matching Python (and so Jinja) where chat
// templates can observe a difference: floor division and modulo signs, int/float promotion,
// negative indices, slices with negative steps, str vs code point lengths.
#include "chat/template_ops.h"

#include <cmath>
#include <limits>

#include "chat/template_limits.h"
#include "chat/template_text.h"

namespace llama4::chat {
namespace {

[[noreturn]] void fail_undefined(const Value& value) {
  const std::string& hint = value.undefined_hint();
  throw TemplateFault(hint.empty() ? "value is undefined" : "'" + hint + "' is undefined");
}

[[noreturn]] void fail_operands(const std::string& op, const Value& left, const Value& right) {
  if (left.is_undefined()) fail_undefined(left);
  if (right.is_undefined()) fail_undefined(right);
  throw TemplateFault("unsupported operand types for " + op + ": '" + left.type_name() + "' and '" +
                      right.type_name() + "'");
}

bool is_integral(const Value& v) {
  return v.is_int() || v.is_bool();
}
std::int64_t integral(const Value& v) {
  return v.is_int() ? v.as_int() : (v.as_bool() ? 1 : 0);
}
bool is_numeric(const Value& v) {
  return v.is_number() || v.is_bool();
}

void check_size(std::size_t bytes) {
  if (bytes > kMaxOutputBytes)
    throw TemplateFault("value larger than the limit of " + std::to_string(kMaxOutputBytes) +
                        " bytes");
}

std::int64_t checked(bool overflow, std::int64_t result) {
  if (overflow) throw TemplateFault("integer overflow");
  return result;
}

Value repeat(const Value& sequence, std::int64_t times) {
  if (times <= 0) return sequence.is_string() ? Value(std::string()) : Value(ValueList{});
  if (sequence.is_string()) {
    check_size(sequence.as_string().size() * static_cast<std::size_t>(times));
    std::string out;
    for (std::int64_t i = 0; i < times; ++i) out += sequence.as_string();
    return Value(std::move(out));
  }
  check_size(sequence.as_list().size() * static_cast<std::size_t>(times));
  ValueList out;
  for (std::int64_t i = 0; i < times; ++i)
    out.insert(out.end(), sequence.as_list().begin(), sequence.as_list().end());
  return Value(std::move(out));
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  if (b == -1 && a == std::numeric_limits<std::int64_t>::min())
    throw TemplateFault("integer overflow");
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::int64_t floor_mod(std::int64_t a, std::int64_t b) {
  if (b == -1) return 0;
  std::int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

// Python's slice.indices(): the visited positions for a sequence of `length`.
std::vector<std::int64_t> slice_positions(std::int64_t length, const Value& start,
                                          const Value& stop, const Value& step) {
  const auto optional_int = [](const Value& v, const char* what) -> std::optional<std::int64_t> {
    if (v.is_undefined() || v.is_none()) return std::nullopt;
    if (!is_integral(v)) throw TemplateFault(std::string("slice ") + what + " must be an integer");
    return integral(v);
  };
  const std::int64_t step_value = optional_int(step, "step").value_or(1);
  if (step_value == 0) throw TemplateFault("slice step cannot be zero");
  const std::int64_t lower = step_value > 0 ? 0 : -1;
  const std::int64_t upper = step_value > 0 ? length : length - 1;
  const auto clamp = [&](std::optional<std::int64_t> index, std::int64_t fallback) {
    if (!index) return fallback;
    if (*index < 0) return std::max(*index + length, lower);
    return std::min(*index, upper);
  };
  const std::int64_t first = clamp(optional_int(start, "start"), step_value > 0 ? lower : upper);
  const std::int64_t last = clamp(optional_int(stop, "stop"), step_value > 0 ? upper : lower);
  std::vector<std::int64_t> positions;
  for (std::int64_t i = first; step_value > 0 ? i < last : i > last; i += step_value)
    positions.push_back(i);
  return positions;
}

}  // namespace

void RenderBudget::spend(std::int64_t steps) {
  spent_ += steps;
  if (spent_ > kMaxRenderSteps)
    throw TemplateFault(
        "template exceeded the work limit of " + std::to_string(kMaxRenderSteps) +
        " steps (loop iterations, evaluated expressions, bytes of strings built / " +
        std::to_string(kBytesPerWorkStep) + ")");
}

Value get_attribute(const Value& object, const std::string& name) {
  if (object.is_undefined()) fail_undefined(object);
  if (object.is_dict()) {
    if (const Value* found = object.as_dict().find(name)) return *found;
  }
  return Value::undefined(name);
}

Value get_item(const Value& object, const Value& key) {
  if (object.is_undefined()) fail_undefined(object);
  if (object.is_dict()) {
    if (key.is_string()) {
      if (const Value* found = object.as_dict().find(key.as_string())) return *found;
      return Value::undefined(key.as_string());
    }
    return Value::undefined();
  }
  if ((object.is_list() || object.is_string()) && is_integral(key)) {
    const bool is_list = object.is_list();
    const auto offsets =
        is_list ? std::vector<std::size_t>{} : code_point_offsets(object.as_string());
    const auto length =
        static_cast<std::int64_t>(is_list ? object.as_list().size() : offsets.size() - 1);
    std::int64_t index = integral(key);
    if (index < 0) index += length;
    if (index < 0 || index >= length)
      return Value::undefined("index " + std::to_string(integral(key)));
    const auto i = static_cast<std::size_t>(index);
    if (is_list) return object.as_list()[i];
    return Value(object.as_string().substr(offsets[i], offsets[i + 1] - offsets[i]));
  }
  return Value::undefined();
}

Value slice(const Value& object, const Value& start, const Value& stop, const Value& step) {
  if (object.is_undefined()) fail_undefined(object);
  if (object.is_list()) {
    const auto& list = object.as_list();
    ValueList out;
    for (auto i : slice_positions(static_cast<std::int64_t>(list.size()), start, stop, step))
      out.push_back(list[static_cast<std::size_t>(i)]);
    return Value(std::move(out));
  }
  if (object.is_string()) {
    const std::string& s = object.as_string();
    const auto offsets = code_point_offsets(s);
    std::string out;
    for (auto i :
         slice_positions(static_cast<std::int64_t>(offsets.size() - 1), start, stop, step)) {
      const auto at = static_cast<std::size_t>(i);
      out += s.substr(offsets[at], offsets[at + 1] - offsets[at]);
    }
    return Value(std::move(out));
  }
  throw TemplateFault("'" + object.type_name() + "' object cannot be sliced");
}

Value binary_operation(const std::string& op, const Value& left, const Value& right) {
  if (op == "~") {
    if (left.is_function() || right.is_function()) fail_operands(op, left, right);
    std::string joined = left.to_string() + right.to_string();
    check_size(joined.size());
    return Value(std::move(joined));
  }
  if (is_numeric(left) && is_numeric(right)) {
    const bool ints = is_integral(left) && is_integral(right);
    const std::int64_t a = ints ? integral(left) : 0;
    const std::int64_t b = ints ? integral(right) : 0;
    const double x = left.as_number();
    const double y = right.as_number();
    std::int64_t r = 0;
    if (op == "+") {
      if (!ints) return Value(x + y);
      const bool overflow = __builtin_add_overflow(a, b, &r);
      return Value(checked(overflow, r));
    }
    if (op == "-") {
      if (!ints) return Value(x - y);
      const bool overflow = __builtin_sub_overflow(a, b, &r);
      return Value(checked(overflow, r));
    }
    if (op == "*") {
      if (!ints) return Value(x * y);
      const bool overflow = __builtin_mul_overflow(a, b, &r);
      return Value(checked(overflow, r));
    }
    if (op == "/") {
      if (y == 0) throw TemplateFault("division by zero");
      return Value(x / y);
    }
    if (op == "//" || op == "%") {
      if (y == 0) throw TemplateFault(op == "//" ? "integer division by zero" : "modulo by zero");
      if (ints) return Value(op == "//" ? floor_div(a, b) : floor_mod(a, b));
      if (op == "//") return Value(std::floor(x / y));
      double m = std::fmod(x, y);
      if (m != 0 && ((m < 0) != (y < 0))) m += y;
      return Value(m);
    }
    if (op == "**") {
      if (ints && b >= 0) {
        // 0, 1 and -1 never overflow; any other base overflows within 64 multiplications.
        if (a == 0 || a == 1) return Value(b == 0 ? std::int64_t{1} : a);
        if (a == -1) return Value(std::int64_t{b % 2 == 0 ? 1 : -1});
        std::int64_t result = 1;
        for (std::int64_t i = 0; i < b; ++i) {
          if (__builtin_mul_overflow(result, a, &result)) throw TemplateFault("integer overflow");
        }
        return Value(result);
      }
      return Value(std::pow(x, y));
    }
  }
  if (op == "+") {
    if (left.is_string() && right.is_string()) {
      check_size(left.as_string().size() + right.as_string().size());
      return Value(left.as_string() + right.as_string());
    }
    if (left.is_list() && right.is_list()) {
      check_size(left.as_list().size() + right.as_list().size());
      ValueList out = left.as_list();
      out.insert(out.end(), right.as_list().begin(), right.as_list().end());
      return Value(std::move(out));
    }
  }
  if (op == "*") {
    if ((left.is_string() || left.is_list()) && is_integral(right))
      return repeat(left, integral(right));
    if ((right.is_string() || right.is_list()) && is_integral(left))
      return repeat(right, integral(left));
  }
  fail_operands(op, left, right);
}

Value negate(const Value& operand) {
  if (operand.is_int()) {
    if (operand.as_int() == std::numeric_limits<std::int64_t>::min())
      throw TemplateFault("integer overflow");
    return Value(-operand.as_int());
  }
  if (operand.is_bool()) return Value(static_cast<std::int64_t>(operand.as_bool() ? -1 : 0));
  if (operand.is_float()) return Value(-operand.as_float());
  if (operand.is_undefined()) fail_undefined(operand);
  throw TemplateFault("bad operand type for unary -: '" + operand.type_name() + "'");
}

bool contains(const Value& haystack, const Value& needle) {
  if (haystack.is_string()) {
    if (!needle.is_string())
      throw TemplateFault("'in <string>' requires string as left operand, not " +
                          needle.type_name());
    return haystack.as_string().find(needle.as_string()) != std::string::npos;
  }
  if (haystack.is_list()) {
    for (const auto& item : haystack.as_list())
      if (item == needle) return true;
    return false;
  }
  if (haystack.is_dict())
    return needle.is_string() && haystack.as_dict().find(needle.as_string()) != nullptr;
  if (haystack.is_undefined()) return false;
  throw TemplateFault("argument of type '" + haystack.type_name() + "' is not iterable");
}

bool compare(const std::string& op, const Value& left, const Value& right) {
  if (op == "==") return left == right;
  if (op == "!=") return !(left == right);
  if (op == "in") return contains(right, left);
  if (op == "notin") return !contains(right, left);
  int order = 0;
  if (is_numeric(left) && is_numeric(right)) {
    if (is_integral(left) && is_integral(right)) {
      order = integral(left) < integral(right) ? -1 : integral(left) > integral(right) ? 1 : 0;
    } else {
      const double x = left.as_number();
      const double y = right.as_number();
      if (std::isnan(x) || std::isnan(y)) return false;
      order = x < y ? -1 : x > y ? 1 : 0;
    }
  } else if (left.is_string() && right.is_string()) {
    // Byte order of UTF-8 is code point order, which is Python's string order.
    order = left.as_string().compare(right.as_string());
  } else {
    if (left.is_undefined()) fail_undefined(left);
    if (right.is_undefined()) fail_undefined(right);
    throw TemplateFault("'" + op + "' not supported between instances of '" + left.type_name() +
                        "' and '" + right.type_name() + "'");
  }
  if (op == "<") return order < 0;
  if (op == "<=") return order <= 0;
  if (op == ">") return order > 0;
  return order >= 0;
}

ValueList iterate(const Value& iterable, RenderBudget& budget) {
  ValueList items;
  if (iterable.is_list()) {
    items = iterable.as_list();
  } else if (iterable.is_dict()) {
    for (const auto& entry : iterable.as_dict().entries) items.emplace_back(entry.first);
  } else if (iterable.is_string()) {
    const std::string& s = iterable.as_string();
    const auto offsets = code_point_offsets(s);
    for (std::size_t i = 0; i + 1 < offsets.size(); ++i)
      items.emplace_back(s.substr(offsets[i], offsets[i + 1] - offsets[i]));
  } else if (!iterable.is_undefined()) {
    throw TemplateFault("'" + iterable.type_name() + "' object is not iterable");
  }
  budget.spend(static_cast<std::int64_t>(items.size()));
  return items;
}

}  // namespace llama4::chat
