// Value construction, conversion from JSON, and the Python-compatible conversions (str, repr,
// json.dumps, ==) that decide the exact bytes a chat template renders.
#include "chat/template_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "chat/template_limits.h"

namespace llama4::chat {

const Value* ValueDict::find(const std::string& key) const {
  for (const auto& [k, v] : entries)
    if (k == key) return &v;
  return nullptr;
}

void ValueDict::set(const std::string& key, Value value) {
  for (auto& [k, v] : entries) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  entries.emplace_back(key, std::move(value));
}

const Value* CallArgs::get(std::size_t index, const std::string& name) const {
  for (const auto& [k, v] : keyword)
    if (k == name) return &v;
  return index < positional.size() ? &positional[index] : nullptr;
}

Value Value::undefined(std::string hint) {
  Value v;
  v.storage_ = UndefinedTag{std::move(hint)};
  return v;
}
Value Value::none() {
  Value v;
  v.storage_ = NoneTag{};
  return v;
}
Value::Value(bool b) : storage_(b) {}
Value::Value(std::int64_t i) : storage_(i) {}
Value::Value(double d) : storage_(d) {}
Value::Value(std::string s) : storage_(std::move(s)) {}
Value::Value(ValueList list) : storage_(std::make_shared<ValueList>(std::move(list))) {}
Value::Value(ValueDict dict) : storage_(std::make_shared<ValueDict>(std::move(dict))) {}
Value Value::function(NativeFunction fn) {
  Value v;
  v.storage_ = std::make_shared<NativeFunction>(std::move(fn));
  return v;
}

Value Value::from_json(const nlohmann::ordered_json& json) {
  using Type = nlohmann::ordered_json::value_t;
  switch (json.type()) {
    case Type::null:
      return none();
    case Type::boolean:
      return Value(json.get<bool>());
    case Type::number_integer:
      return Value(json.get<std::int64_t>());
    case Type::number_unsigned: {
      auto u = json.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(INT64_MAX)) return Value(static_cast<double>(u));
      return Value(static_cast<std::int64_t>(u));
    }
    case Type::number_float:
      return Value(json.get<double>());
    case Type::string:
      return Value(json.get<std::string>());
    case Type::array: {
      ValueList list;
      list.reserve(json.size());
      for (const auto& item : json) list.push_back(from_json(item));
      return Value(std::move(list));
    }
    case Type::object: {
      ValueDict dict;
      dict.entries.reserve(json.size());
      for (const auto& [key, item] : json.items()) dict.entries.emplace_back(key, from_json(item));
      return Value(std::move(dict));
    }
    default:
      throw TemplateFault("unsupported JSON value of type " + std::string(json.type_name()));
  }
}

double Value::as_number() const {
  if (is_int()) return static_cast<double>(as_int());
  if (is_bool()) return as_bool() ? 1.0 : 0.0;
  return as_float();
}

bool Value::truthy() const {
  switch (kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return as_bool();
    case Kind::kInt:
      return as_int() != 0;
    case Kind::kFloat:
      return as_float() != 0.0;
    case Kind::kString:
      return !as_string().empty();
    case Kind::kList:
      return !as_list().empty();
    case Kind::kDict:
      return !as_dict().entries.empty();
    case Kind::kFunction:
      return true;
  }
  return false;
}

std::string python_float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  // Shortest round-trip digits in scientific form, e.g. "1.5e+00", then laid out as Python does.
  char buffer[64];
  auto [end, ec] =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  std::string sci(buffer, end);
  const bool negative = sci[0] == '-';
  if (negative) sci.erase(0, 1);
  const auto e_pos = sci.find('e');
  std::string digits = sci.substr(0, e_pos);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exponent = std::stoi(sci.substr(e_pos + 1));
  constexpr int kMinFixedExponent = -4;  // Python switches to 1e-05 below 0.0001
  constexpr int kMaxFixedExponent = 16;  // ... and to 1e+16 from 10**16 on
  std::string out;
  if (exponent < kMinFixedExponent || exponent >= kMaxFixedExponent) {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out.append(".").append(digits, 1);
    char exp_text[16];
    std::snprintf(exp_text, sizeof exp_text, "e%c%02d", exponent < 0 ? '-' : '+',
                  std::abs(exponent));
    out += exp_text;
  } else if (exponent < 0) {
    out = "0.";
    out.append(static_cast<std::size_t>(-exponent) - 1, '0').append(digits);
  } else {
    const auto int_digits = static_cast<std::size_t>(exponent + 1);
    if (digits.size() <= int_digits) {
      out = digits + std::string(int_digits - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, int_digits) + "." + digits.substr(int_digits);
    }
  }
  if (negative) out.insert(out.begin(), '-');
  return out;
}

std::string Value::to_string() const {
  switch (kind()) {
    case Kind::kUndefined:
      return "";
    case Kind::kNone:
      return "None";
    case Kind::kBool:
      return as_bool() ? "True" : "False";
    case Kind::kInt:
      return std::to_string(as_int());
    case Kind::kFloat:
      return python_float_repr(as_float());
    case Kind::kString:
      return as_string();
    case Kind::kList: {
      std::string out = "[";
      bool first = true;
      for (const auto& item : as_list()) {
        if (!first) out += ", ";
        first = false;
        out += item.to_repr();
      }
      return out + "]";
    }
    case Kind::kDict: {
      const auto& dict = as_dict();
      std::string out = dict.is_namespace ? "<Namespace {" : "{";
      bool first = true;
      for (const auto& [key, item] : dict.entries) {
        if (!first) out += ", ";
        first = false;
        out += Value(key).to_repr() + ": " + item.to_repr();
      }
      return out + (dict.is_namespace ? "}>" : "}");
    }
    case Kind::kFunction:
      return "<function>";
  }
  return "";
}

std::string Value::to_repr() const {
  if (!is_string()) return to_string();
  const std::string& s = as_string();
  // Python prefers single quotes unless the text contains one and no double quote.
  const char quote =
      (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
  std::string out(1, quote);
  for (unsigned char c : s) {
    if (c == '\\' || c == static_cast<unsigned char>(quote)) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + quote;
}

namespace {

void append_json_string(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          char hex[8];
          std::snprintf(hex, sizeof hex, "\\u%04x", c);
          out += hex;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void append_json(std::string& out, const Value& value, int indent, bool sort_keys, int depth) {
  if (depth > kMaxRecursionDepth) throw TemplateFault("tojson: value nested too deeply");
  if (out.size() > kMaxOutputBytes) throw TemplateFault("tojson: output too large");
  const std::string item_separator = indent >= 0 ? "," : ", ";
  const auto newline_at = [&](int level) {
    if (indent < 0) return;
    const std::size_t spaces = static_cast<std::size_t>(indent) * static_cast<std::size_t>(level);
    if (spaces >= kMaxOutputBytes - std::min(out.size(), kMaxOutputBytes))
      throw TemplateFault("tojson: output too large");
    out.append(1, '\n').append(spaces, ' ');
  };
  switch (value.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
      out += "null";
      return;
    case Value::Kind::kBool:
      out += value.as_bool() ? "true" : "false";
      return;
    case Value::Kind::kInt:
      out += std::to_string(value.as_int());
      return;
    case Value::Kind::kFloat: {
      const double d = value.as_float();
      out += std::isnan(d)   ? "NaN"
             : std::isinf(d) ? (d > 0 ? "Infinity" : "-Infinity")
                             : python_float_repr(d);
      return;
    }
    case Value::Kind::kString:
      append_json_string(out, value.as_string());
      return;
    case Value::Kind::kList: {
      const auto& list = value.as_list();
      if (list.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (std::size_t i = 0; i < list.size(); ++i) {
        if (i > 0) out += item_separator;
        newline_at(depth + 1);
        append_json(out, list[i], indent, sort_keys, depth + 1);
      }
      newline_at(depth);
      out += ']';
      return;
    }
    case Value::Kind::kDict: {
      auto entries = value.as_dict().entries;
      if (entries.empty()) {
        out += "{}";
        return;
      }
      if (sort_keys)
        std::stable_sort(entries.begin(), entries.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
      out += '{';
      for (std::size_t i = 0; i < entries.size(); ++i) {
        if (i > 0) out += item_separator;
        newline_at(depth + 1);
        append_json_string(out, entries[i].first);
        out += ": ";
        append_json(out, entries[i].second, indent, sort_keys, depth + 1);
      }
      newline_at(depth);
      out += '}';
      return;
    }
    case Value::Kind::kFunction:
      throw TemplateFault("tojson: a function is not JSON serializable");
  }
}

}  // namespace

std::string Value::to_json(int indent, bool sort_keys) const {
  std::string out;
  append_json(out, *this, indent, sort_keys, 0);
  return out;
}

std::string Value::type_name() const {
  switch (kind()) {
    case Kind::kUndefined:
      return "undefined";
    case Kind::kNone:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kList:
      return "list";
    case Kind::kDict:
      return as_dict().is_namespace ? "Namespace" : "dict";
    case Kind::kFunction:
      return "function";
  }
  return "?";
}

bool operator==(const Value& a, const Value& b) {
  const bool a_numeric = a.is_number() || a.is_bool();
  const bool b_numeric = b.is_number() || b.is_bool();
  if (a_numeric && b_numeric) {
    if (a.is_int() && b.is_int()) return a.as_int() == b.as_int();
    return a.as_number() == b.as_number();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
      return true;
    case Value::Kind::kString:
      return a.as_string() == b.as_string();
    case Value::Kind::kList: {
      const auto& x = a.as_list();
      const auto& y = b.as_list();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i)
        if (!(x[i] == y[i])) return false;
      return true;
    }
    case Value::Kind::kDict: {
      const auto& x = a.as_dict();
      const auto& y = b.as_dict();
      if (x.entries.size() != y.entries.size()) return false;
      for (const auto& [key, item] : x.entries) {
        const Value* other = y.find(key);
        if (other == nullptr || !(item == *other)) return false;
      }
      return true;
    }
    case Value::Kind::kFunction:
      return &a.as_function() == &b.as_function();
    default:
      return false;
  }
}

}  // namespace llama4::chat
