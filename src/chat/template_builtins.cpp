// Filters, tests, methods and globals of the chat-template engine; see template_builtins.h.
// Semantics follow Jinja 3 with the tojson filter transformers installs (json.dumps with
// ensure_ascii=False, no HTML escaping).
#include "chat/template_builtins.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <functional>
#include <map>
#include <optional>
#include <utility>

#include "chat/template_limits.h"
#include "chat/template_text.h"

namespace llama4::chat {
namespace {

using FilterFn = std::function<Value(const Value&, const CallArgs&, RenderBudget&)>;
using MethodFn = std::function<Value(const Value&, const CallArgs&, RenderBudget&)>;

// Argument `index`/`name`, or `fallback` when not given.
Value arg(const CallArgs& args, std::size_t index, const std::string& name,
          const Value& fallback = Value::none()) {
  const Value* found = args.get(index, name);
  return found ? *found : fallback;
}

std::string string_arg(const CallArgs& args, std::size_t index, const std::string& name,
                       const std::string& what) {
  const Value* found = args.get(index, name);
  if (found == nullptr || !found->is_string())
    throw TemplateFault(what + ": argument '" + name + "' must be a string");
  return found->as_string();
}

std::optional<std::string> optional_string(const Value& v, const std::string& what) {
  if (v.is_none() || v.is_undefined()) return std::nullopt;
  if (!v.is_string()) throw TemplateFault(what + ": expected a string, got " + v.type_name());
  return v.as_string();
}

std::int64_t int_arg(const Value& v, const std::string& what) {
  if (v.is_int()) return v.as_int();
  if (v.is_bool()) return v.as_bool() ? 1 : 0;
  throw TemplateFault(what + ": expected an integer, got " + v.type_name());
}

const std::string& require_string(const Value& v, const std::string& what) {
  if (!v.is_string()) throw TemplateFault(what + " needs a string, got " + v.type_name());
  return v.as_string();
}

// Attribute path "a.b" used by map/selectattr/join(attribute=...); integers index lists.
Value lookup_path(const Value& item, const std::string& path) {
  Value current = item;
  std::size_t start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    const std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    std::int64_t index = 0;
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), index);
    const bool numeric = ec == std::errc() && ptr == part.data() + part.size() && !part.empty();
    if (current.is_undefined()) return current;
    current = numeric && current.is_list() ? get_item(current, Value(index))
                                           : get_item(current, Value(part));
    if (dot == std::string::npos) return current;
    start = dot + 1;
  }
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string capitalize(const std::string& s) {
  if (s.empty()) return s;
  return ascii_upper(s.substr(0, 1)) + ascii_lower(s.substr(1));
}

std::string title_case(const std::string& s) {
  std::string out = s;
  bool word_start = true;
  for (auto& c : out) {
    const bool alpha = std::isalpha(static_cast<unsigned char>(c)) != 0;
    if (alpha)
      c = static_cast<char>(word_start ? std::toupper(static_cast<unsigned char>(c))
                                       : std::tolower(static_cast<unsigned char>(c)));
    word_start = !alpha && !std::isdigit(static_cast<unsigned char>(c)) && c != '\'';
  }
  return out;
}

// Python int(text) for the `int` filter: optional sign, digits, underscores between digits.
std::optional<std::int64_t> parse_int(const std::string& text) {
  std::string s = python_strip(text, true, true);
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  if (!s.empty() && s[0] == '+') s.erase(0, 1);
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return value;
}

std::optional<double> parse_float(const std::string& text) {
  std::string s = python_strip(text, true, true);
  if (!s.empty() && s[0] == '+') s.erase(0, 1);
  double value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return value;
}

// The remaining positional arguments from `first` on, for tests called through select/selectattr.
CallArgs tail_args(const CallArgs& args, std::size_t first) {
  CallArgs out;
  for (std::size_t i = first; i < args.positional.size(); ++i)
    out.positional.push_back(args.positional[i]);
  return out;
}

ValueList select_items(const Value& input, const CallArgs& args, RenderBudget& budget,
                       bool by_attribute, bool keep_matching) {
  ValueList out;
  const std::size_t test_index = by_attribute ? 1 : 0;
  const std::string attribute = by_attribute ? string_arg(args, 0, "attribute", "selectattr") : "";
  const Value test_name = arg(args, test_index, "");
  const CallArgs test_args = tail_args(args, test_index + 1);
  for (const auto& item : iterate(input, budget)) {
    const Value subject = by_attribute ? lookup_path(item, attribute) : item;
    const bool passed = test_name.is_string()
                            ? apply_test(test_name.as_string(), subject, test_args)
                            : subject.truthy();
    if (passed == keep_matching) out.push_back(item);
  }
  return out;
}

Value map_items(const Value& input, const CallArgs& args, RenderBudget& budget) {
  ValueList out;
  if (const Value* attribute = args.get(99, "attribute")) {
    const std::string path = require_string(*attribute, "map(attribute=...)");
    const Value fallback = arg(args, 99, "default", Value::undefined());
    for (const auto& item : iterate(input, budget)) {
      Value mapped = lookup_path(item, path);
      out.push_back(mapped.is_undefined() && !fallback.is_undefined() ? fallback : mapped);
    }
    return Value(std::move(out));
  }
  if (args.positional.empty() || !args.positional[0].is_string())
    throw TemplateFault("map needs a filter name or attribute=");
  const std::string filter = args.positional[0].as_string();
  const CallArgs filter_args = tail_args(args, 1);
  for (const auto& item : iterate(input, budget))
    out.push_back(apply_filter(filter, item, filter_args, budget));
  return Value(std::move(out));
}

Value sort_items(const Value& input, const CallArgs& args, RenderBudget& budget) {
  ValueList items = iterate(input, budget);
  const bool reverse = arg(args, 0, "reverse", Value(false)).truthy();
  const bool case_sensitive = arg(args, 1, "case_sensitive", Value(false)).truthy();
  const auto attribute = optional_string(arg(args, 2, "attribute"), "sort(attribute=...)");
  const auto key = [&](const Value& item) {
    Value k = attribute ? lookup_path(item, *attribute) : item;
    if (!case_sensitive && k.is_string()) return Value(ascii_lower(k.as_string()));
    return k;
  };
  std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
    return reverse ? compare("<", key(b), key(a)) : compare("<", key(a), key(b));
  });
  return Value(std::move(items));
}

// Jinja's indent filter: indents every line but the first (and blank lines only if `blank`).
// The result is refused as it grows past the output limit, before a huge width is allocated.
std::string indent_text(const std::string& text, std::int64_t width, bool first, bool blank) {
  const auto spaces = static_cast<std::size_t>(std::max<std::int64_t>(width, 0));
  if (std::cmp_greater(width, kMaxOutputBytes))
    throw TemplateFault("indent: width " + std::to_string(width) + " is over the output limit");
  const auto lines = python_split(text, std::string("\n"), -1);
  std::string out = first ? std::string(spaces, ' ') : std::string();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      out += '\n';
      if (blank || !lines[i].empty()) out.append(spaces, ' ');
    }
    out += lines[i];
    if (out.size() > kMaxOutputBytes) throw TemplateFault("indent: result too large");
  }
  return out;
}

const std::map<std::string, FilterFn>& filters() {
  static const std::map<std::string, FilterFn> table = {
      {"trim",
       [](const Value& v, const CallArgs& a, RenderBudget&) {
         return Value(
             python_strip(v.to_string(), true, true, optional_string(arg(a, 0, "chars"), "trim")));
       }},
      {"length",
       [](const Value& v, const CallArgs&, RenderBudget&) {
         if (v.is_string())
           return Value(static_cast<std::int64_t>(code_point_count(v.as_string())));
         if (v.is_list()) return Value(static_cast<std::int64_t>(v.as_list().size()));
         if (v.is_dict()) return Value(static_cast<std::int64_t>(v.as_dict().entries.size()));
         if (v.is_undefined()) return Value(std::int64_t{0});
         throw TemplateFault("object of type '" + v.type_name() + "' has no len()");
       }},
      {"tojson",
       [](const Value& v, const CallArgs& a, RenderBudget&) {
         const Value indent = arg(a, 0, "indent");
         if (arg(a, 99, "ensure_ascii", Value(false)).truthy())
           throw TemplateFault("tojson: ensure_ascii=True is not supported");
         // Python indents by max(indent, 0) spaces; None (-1 here) writes one line.
         int spaces = -1;
         if (!indent.is_none()) {
           const std::int64_t given = int_arg(indent, "tojson indent");
           if (std::cmp_greater(given, kMaxOutputBytes))
             throw TemplateFault("tojson: indent " + std::to_string(given) +
                                 " is over the output limit");
           spaces = static_cast<int>(std::max<std::int64_t>(given, 0));
         }
         return Value(v.to_json(spaces, arg(a, 99, "sort_keys", Value(false)).truthy()));
       }},
      {"upper", [](const Value& v, const CallArgs&,
                   RenderBudget&) { return Value(ascii_upper(v.to_string())); }},
      {"lower", [](const Value& v, const CallArgs&,
                   RenderBudget&) { return Value(ascii_lower(v.to_string())); }},
      {"capitalize", [](const Value& v, const CallArgs&,
                        RenderBudget&) { return Value(capitalize(v.to_string())); }},
      {"title", [](const Value& v, const CallArgs&,
                   RenderBudget&) { return Value(title_case(v.to_string())); }},
      {"string",
       [](const Value& v, const CallArgs&, RenderBudget&) { return Value(v.to_string()); }},
      {"safe", [](const Value& v, const CallArgs&, RenderBudget&) { return v; }},
      {"escape", [](const Value& v, const CallArgs&,
                    RenderBudget&) { return Value(html_escape(v.to_string())); }},
      {"first",
       [](const Value& v, const CallArgs&, RenderBudget& b) {
         const ValueList items = iterate(v, b);
         return items.empty() ? Value::undefined("first item") : items.front();
       }},
      {"last",
       [](const Value& v, const CallArgs&, RenderBudget& b) {
         const ValueList items = iterate(v, b);
         return items.empty() ? Value::undefined("last item") : items.back();
       }},
      {"join",
       [](const Value& v, const CallArgs& a, RenderBudget& b) {
         const Value separator = arg(a, 0, "d", Value(""));
         const auto attribute = optional_string(arg(a, 1, "attribute"), "join(attribute=...)");
         std::string out;
         bool first = true;
         for (const auto& item : iterate(v, b)) {
           if (!first) out += separator.to_string();
           first = false;
           out += (attribute ? lookup_path(item, *attribute) : item).to_string();
           if (out.size() > kMaxOutputBytes) throw TemplateFault("join: result too large");
         }
         return Value(std::move(out));
       }},
      {"default",
       [](const Value& v, const CallArgs& a, RenderBudget&) {
         const bool boolean = arg(a, 1, "boolean", Value(false)).truthy();
         if (v.is_undefined() || (boolean && !v.truthy()))
           return arg(a, 0, "default_value", Value(""));
         return v;
       }},
      {"items",
       [](const Value& v, const CallArgs&, RenderBudget& b) {
         ValueList out;
         if (v.is_dict()) {
           b.spend(static_cast<std::int64_t>(v.as_dict().entries.size()));
           for (const auto& [key, item] : v.as_dict().entries)
             out.push_back(Value(ValueList{Value(key), item}));
         } else if (!v.is_undefined()) {
           throw TemplateFault("items filter needs a mapping, got " + v.type_name());
         }
         return Value(std::move(out));
       }},
      {"list",
       [](const Value& v, const CallArgs&, RenderBudget& b) { return Value(iterate(v, b)); }},
      {"reverse",
       [](const Value& v, const CallArgs&, RenderBudget& b) {
         ValueList items = iterate(v, b);
         std::reverse(items.begin(), items.end());
         if (!v.is_string()) return Value(std::move(items));
         std::string out;
         for (const auto& item : items) out += item.as_string();
         return Value(std::move(out));
       }},
      {"int",
       [](const Value& v, const CallArgs& a, RenderBudget&) {
         Value fallback = arg(a, 0, "default", Value(std::int64_t{0}));
         if (v.is_int()) return v;
         if (v.is_bool()) return Value(static_cast<std::int64_t>(v.as_bool()));
         if (v.is_float() && std::isfinite(v.as_float()) && std::fabs(v.as_float()) < 9.2e18)
           return Value(static_cast<std::int64_t>(v.as_float()));
         if (v.is_string()) {
           if (auto i = parse_int(v.as_string())) return Value(*i);
           if (auto d = parse_float(v.as_string());
               d && std::isfinite(*d) && std::fabs(*d) < 9.2e18)
             return Value(static_cast<std::int64_t>(*d));
         }
         return fallback;
       }},
      {"float",
       [](const Value& v, const CallArgs& a, RenderBudget&) {
         Value fallback = arg(a, 0, "default", Value(0.0));
         if (v.is_number() || v.is_bool()) return Value(v.as_number());
         if (v.is_string())
           if (auto d = parse_float(v.as_string())) return Value(*d);
         return fallback;
       }},
      {"abs",
       [](const Value& v, const CallArgs&, RenderBudget&) {
         if (v.is_int()) return v.as_int() < 0 ? negate(v) : v;
         if (v.is_float()) return Value(std::fabs(v.as_float()));
         throw TemplateFault("bad operand type for abs(): '" + v.type_name() + "'");
       }},
      {"replace",
       [](const Value& v, const CallArgs& a, RenderBudget&) {
         const Value count = arg(a, 2, "count");
         std::optional<std::string> out = python_replace(
             v.to_string(), string_arg(a, 0, "old", "replace"), string_arg(a, 1, "new", "replace"),
             count.is_none() ? -1 : static_cast<long>(int_arg(count, "replace count")),
             kMaxOutputBytes);
         if (!out) throw TemplateFault("replace: result too large");
         return Value(std::move(*out));
       }},
      {"indent",
       [](const Value& v, const CallArgs& a, RenderBudget&) {
         return Value(indent_text(
             v.to_string(), int_arg(arg(a, 0, "width", Value(4)), "indent width"),
             arg(a, 1, "first", Value(false)).truthy(), arg(a, 2, "blank", Value(false)).truthy()));
       }},
      {"selectattr", [](const Value& v, const CallArgs& a,
                        RenderBudget& b) { return Value(select_items(v, a, b, true, true)); }},
      {"rejectattr", [](const Value& v, const CallArgs& a,
                        RenderBudget& b) { return Value(select_items(v, a, b, true, false)); }},
      {"select", [](const Value& v, const CallArgs& a,
                    RenderBudget& b) { return Value(select_items(v, a, b, false, true)); }},
      {"reject", [](const Value& v, const CallArgs& a,
                    RenderBudget& b) { return Value(select_items(v, a, b, false, false)); }},
      {"map", map_items},
      {"sort", sort_items},
      {"sum",
       [](const Value& v, const CallArgs& a, RenderBudget& b) {
         const auto attribute = optional_string(arg(a, 0, "attribute"), "sum(attribute=...)");
         Value total = arg(a, 1, "start", Value(std::int64_t{0}));
         for (const auto& item : iterate(v, b))
           total = binary_operation("+", total, attribute ? lookup_path(item, *attribute) : item);
         return total;
       }},
  };
  return table;
}

const std::map<std::string, std::string>& filter_aliases() {
  static const std::map<std::string, std::string> aliases = {
      {"count", "length"}, {"d", "default"}, {"e", "escape"}};
  return aliases;
}

// ---- methods ----

Value string_startswith(const Value& self, const CallArgs& a, bool at_end) {
  const std::string& s = self.as_string();
  const Value prefix = arg(a, 0, "prefix");
  const auto matches = [&](const Value& p) {
    const std::string& text = require_string(p, at_end ? "endswith" : "startswith");
    return at_end ? s.size() >= text.size() &&
                        s.compare(s.size() - text.size(), text.size(), text) == 0
                  : s.compare(0, text.size(), text) == 0;
  };
  if (prefix.is_list()) {
    for (const auto& p : prefix.as_list())
      if (matches(p)) return Value(true);
    return Value(false);
  }
  return Value(matches(prefix));
}

const std::map<std::string, MethodFn>& string_methods() {
  static const std::map<std::string, MethodFn> table = {
      {"strip",
       [](const Value& s, const CallArgs& a, RenderBudget&) {
         return Value(
             python_strip(s.as_string(), true, true, optional_string(arg(a, 0, "chars"), "strip")));
       }},
      {"lstrip",
       [](const Value& s, const CallArgs& a, RenderBudget&) {
         return Value(python_strip(s.as_string(), true, false,
                                   optional_string(arg(a, 0, "chars"), "lstrip")));
       }},
      {"rstrip",
       [](const Value& s, const CallArgs& a, RenderBudget&) {
         return Value(python_strip(s.as_string(), false, true,
                                   optional_string(arg(a, 0, "chars"), "rstrip")));
       }},
      {"split",
       [](const Value& s, const CallArgs& a, RenderBudget& b) {
         const auto sep = optional_string(arg(a, 0, "sep"), "split");
         if (sep && sep->empty()) throw TemplateFault("split: empty separator");
         const Value maxsplit = arg(a, 1, "maxsplit", Value(std::int64_t{-1}));
         ValueList out;
         for (auto& part : python_split(s.as_string(), sep,
                                        static_cast<long>(int_arg(maxsplit, "split maxsplit"))))
           out.emplace_back(std::move(part));
         b.spend(static_cast<std::int64_t>(out.size()));
         return Value(std::move(out));
       }},
      {"startswith", [](const Value& s, const CallArgs& a,
                        RenderBudget&) { return string_startswith(s, a, false); }},
      {"endswith", [](const Value& s, const CallArgs& a,
                      RenderBudget&) { return string_startswith(s, a, true); }},
      {"upper", [](const Value& s, const CallArgs&,
                   RenderBudget&) { return Value(ascii_upper(s.as_string())); }},
      {"lower", [](const Value& s, const CallArgs&,
                   RenderBudget&) { return Value(ascii_lower(s.as_string())); }},
      {"title", [](const Value& s, const CallArgs&,
                   RenderBudget&) { return Value(title_case(s.as_string())); }},
      {"capitalize", [](const Value& s, const CallArgs&,
                        RenderBudget&) { return Value(capitalize(s.as_string())); }},
      {"replace", [](const Value& s, const CallArgs& a,
                     RenderBudget& b) { return filters().at("replace")(s, a, b); }},
      {"find",
       [](const Value& s, const CallArgs& a, RenderBudget&) {
         const auto at = s.as_string().find(string_arg(a, 0, "sub", "find"));
         if (at == std::string::npos) return Value(std::int64_t{-1});
         return Value(static_cast<std::int64_t>(code_point_count(s.as_string().substr(0, at))));
       }},
      {"count",
       [](const Value& s, const CallArgs& a, RenderBudget&) {
         const std::string sub = string_arg(a, 0, "sub", "count");
         if (sub.empty())
           return Value(static_cast<std::int64_t>(code_point_count(s.as_string()) + 1));
         std::int64_t n = 0;
         for (auto at = s.as_string().find(sub); at != std::string::npos;
              at = s.as_string().find(sub, at + sub.size()))
           ++n;
         return Value(n);
       }},
      {"join",
       [](const Value& s, const CallArgs& a, RenderBudget& b) {
         std::string out;
         bool first = true;
         for (const auto& item : iterate(arg(a, 0, "iterable"), b)) {
           if (!first) out += s.as_string();
           first = false;
           out += require_string(item, "str.join");
           if (out.size() > kMaxOutputBytes) throw TemplateFault("join: result too large");
         }
         return Value(std::move(out));
       }},
  };
  return table;
}

const std::map<std::string, MethodFn>& dict_methods() {
  static const std::map<std::string, MethodFn> table = {
      {"items", [](const Value& d, const CallArgs& a,
                   RenderBudget& b) { return filters().at("items")(d, a, b); }},
      {"keys",
       [](const Value& d, const CallArgs&, RenderBudget& b) { return Value(iterate(d, b)); }},
      {"values",
       [](const Value& d, const CallArgs&, RenderBudget& b) {
         ValueList out;
         b.spend(static_cast<std::int64_t>(d.as_dict().entries.size()));
         for (const auto& entry : d.as_dict().entries) out.push_back(entry.second);
         return Value(std::move(out));
       }},
      {"get",
       [](const Value& d, const CallArgs& a, RenderBudget&) {
         const Value key = arg(a, 0, "key");
         if (key.is_string())
           if (const Value* found = d.as_dict().find(key.as_string())) return *found;
         return arg(a, 1, "default");
       }},
  };
  return table;
}

// Methods that would change a list or dict; the immutable sandbox transformers uses forbids them.
bool is_mutating_method(const std::string& name) {
  static const char* const kMutating[] = {"append",  "extend", "insert", "pop",
                                          "remove",  "clear",  "update", "setdefault",
                                          "popitem", "sort",   "reverse"};
  return std::find(std::begin(kMutating), std::end(kMutating), name) != std::end(kMutating);
}

// ---- globals ----

Value range_function(const CallArgs& a, RenderBudget& budget) {
  std::int64_t start = 0, stop = 0, step = 1;
  if (a.positional.size() == 1) {
    stop = int_arg(a.positional[0], "range");
  } else if (a.positional.size() == 2 || a.positional.size() == 3) {
    start = int_arg(a.positional[0], "range");
    stop = int_arg(a.positional[1], "range");
    if (a.positional.size() == 3) step = int_arg(a.positional[2], "range");
  } else {
    throw TemplateFault("range expects 1 to 3 integer arguments");
  }
  if (step == 0) throw TemplateFault("range() step must not be zero");
  ValueList out;
  for (std::int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    budget.spend(1);
    out.emplace_back(i);
  }
  return Value(std::move(out));
}

Value make_dict(const CallArgs& a, bool as_namespace) {
  ValueDict dict;
  dict.is_namespace = as_namespace;
  if (!a.positional.empty()) {
    const Value& initial = a.positional[0];
    if (!initial.is_dict())
      throw TemplateFault("namespace()/dict() positional argument must be a mapping");
    dict.entries = initial.as_dict().entries;
  }
  for (const auto& [key, value] : a.keyword) dict.set(key, value);
  return Value(std::move(dict));
}

std::string format_time(const std::string& format, std::chrono::system_clock::time_point now) {
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm local{};
  localtime_r(&t, &local);
  constexpr std::size_t kMaxTimeText = 1024;
  if (format.size() > kMaxTimeText / 4) throw TemplateFault("strftime_now: format string too long");
  char buffer[kMaxTimeText];
  const std::size_t n = std::strftime(buffer, sizeof buffer, format.c_str(), &local);
  return std::string(buffer, n);
}

}  // namespace

Value apply_filter(const std::string& name, const Value& input, const CallArgs& args,
                   RenderBudget& budget) {
  const auto alias = filter_aliases().find(name);
  const std::string& resolved = alias == filter_aliases().end() ? name : alias->second;
  const auto found = filters().find(resolved);
  if (found == filters().end()) throw TemplateFault("unknown filter '" + name + "'");
  return found->second(input, args, budget);
}

bool apply_test(const std::string& name, const Value& v, const CallArgs& a) {
  const auto other = [&]() {
    if (a.positional.empty()) throw TemplateFault("test '" + name + "' needs an argument");
    return a.positional[0];
  };
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "string") return v.is_string();
  if (name == "number") return v.is_number() || v.is_bool();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "mapping") return v.is_dict();
  if (name == "iterable") return v.is_list() || v.is_dict() || v.is_string() || v.is_undefined();
  if (name == "sequence") return v.is_list() || v.is_dict() || v.is_string();
  if (name == "callable") return v.is_function();
  if (name == "lower") return v.is_string() && ascii_lower(v.as_string()) == v.as_string();
  if (name == "upper") return v.is_string() && ascii_upper(v.as_string()) == v.as_string();
  if (name == "odd" || name == "even") {
    const std::int64_t n = int_arg(v, "test '" + name + "'");
    return (n % 2 != 0) == (name == "odd");
  }
  if (name == "divisibleby") {
    const std::int64_t d = int_arg(other(), "divisibleby");
    if (d == 0) throw TemplateFault("divisibleby(0)");
    return int_arg(v, "divisibleby") % d == 0;
  }
  if (name == "eq" || name == "equalto" || name == "==" || name == "sameas")
    return compare("==", v, other());
  if (name == "ne" || name == "!=") return compare("!=", v, other());
  if (name == "lt" || name == "lessthan" || name == "<") return compare("<", v, other());
  if (name == "le" || name == "<=") return compare("<=", v, other());
  if (name == "gt" || name == "greaterthan" || name == ">") return compare(">", v, other());
  if (name == "ge" || name == ">=") return compare(">=", v, other());
  if (name == "in") return contains(other(), v);
  throw TemplateFault("unknown test '" + name + "'");
}

std::optional<Value> call_method(const Value& object, const std::string& name, const CallArgs& args,
                                 RenderBudget& budget) {
  const std::map<std::string, MethodFn>* table = nullptr;
  if (object.is_string()) table = &string_methods();
  if (object.is_dict() && !object.as_dict().is_namespace) table = &dict_methods();
  if (table != nullptr) {
    const auto found = table->find(name);
    if (found != table->end()) return found->second(object, args, budget);
  }
  if ((object.is_list() || object.is_dict()) && is_mutating_method(name))
    throw TemplateFault("cannot call '" + name + "': " + object.type_name() +
                        " values are read-only in chat templates");
  return std::nullopt;
}

ValueDict make_globals(RenderBudget& budget, std::chrono::system_clock::time_point now) {
  ValueDict globals;
  globals.set("range",
              Value::function([&budget](const CallArgs& a) { return range_function(a, budget); }));
  globals.set("namespace", Value::function([](const CallArgs& a) { return make_dict(a, true); }));
  globals.set("dict", Value::function([](const CallArgs& a) { return make_dict(a, false); }));
  globals.set("raise_exception", Value::function([](const CallArgs& a) -> Value {
                throw TemplateRaised(a.positional.empty() ? std::string("raise_exception() called")
                                                          : a.positional[0].to_string());
              }));
  globals.set("strftime_now", Value::function([now](const CallArgs& a) {
                return Value(format_time(string_arg(a, 0, "format", "strftime_now"), now));
              }));
  return globals;
}

}  // namespace llama4::chat
