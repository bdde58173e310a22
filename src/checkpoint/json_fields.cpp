// Typed, context-carrying reads of JSON config members (see json_fields.h).
#include "checkpoint/json_fields.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

namespace llama4 {
namespace {

// Values longer than this are cut in messages: a 48-entry list is noise, its start is enough.
constexpr std::size_t kMaxDescribedChars = 80;

// 2^63 as a double: the first value that no longer fits std::int64_t.
constexpr double kInt64Limit = 9223372036854775808.0;

std::string type_name(const nlohmann::json& value) {
  if (value.is_number_integer()) return "integer";
  if (value.is_number_float()) return "number";
  return value.type_name();  // "null", "boolean", "string", "array", "object"
}

std::string expected(const std::string& what, const nlohmann::json& value) {
  return "expected " + what + ", found " + type_name(value);
}

}  // namespace

Error field_error(const std::string& source, const std::string& field, const std::string& value,
                  const std::string& why) {
  return Error(source + ": field '" + field + "' = " + value + ": " + why);
}

std::string describe_json(const nlohmann::json& value) {
  std::string text = value.dump();
  if (text.size() > kMaxDescribedChars) text = text.substr(0, kMaxDescribedChars) + "...";
  return text;
}

std::string describe_number(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

JsonFields::JsonFields(const nlohmann::json& object, std::string source, std::string prefix)
    : object_(&object), source_(std::move(source)), prefix_(std::move(prefix)) {}

const nlohmann::json* JsonFields::find(const std::string& key) const {
  const auto it = object_->find(key);
  return it == object_->end() ? nullptr : &*it;
}

bool JsonFields::absent_or_null(const std::string& key) const {
  const nlohmann::json* value = find(key);
  return value == nullptr || value->is_null();
}

void JsonFields::fail(const std::string& key, const nlohmann::json& value,
                      const std::string& why) const {
  throw field_error(source_, path(key), describe_json(value), why);
}

std::int64_t JsonFields::to_integer(const std::string& field, const nlohmann::json& value) const {
  if (value.is_number_integer() && !value.is_number_unsigned()) return value.get<std::int64_t>();
  if (value.is_number_unsigned()) {
    const auto unsigned_value = value.get<std::uint64_t>();
    if (unsigned_value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      throw field_error(source_, field, describe_json(value), "out of range for a 64-bit integer");
    }
    return static_cast<std::int64_t>(unsigned_value);
  }
  if (value.is_number_float()) {
    const double number = value.get<double>();
    if (std::trunc(number) != number) {
      throw field_error(source_, field, describe_json(value), "expected an integer");
    }
    if (number >= kInt64Limit || number < -kInt64Limit) {
      throw field_error(source_, field, describe_json(value), "out of range for a 64-bit integer");
    }
    return static_cast<std::int64_t>(number);
  }
  throw field_error(source_, field, describe_json(value), expected("an integer", value));
}

std::int64_t JsonFields::integer(const std::string& key, std::int64_t fallback) const {
  const nlohmann::json* value = find(key);
  return value == nullptr ? fallback : to_integer(path(key), *value);
}

std::optional<std::int64_t> JsonFields::nullable_integer(
    const std::string& key, std::optional<std::int64_t> fallback) const {
  const nlohmann::json* value = find(key);
  if (value == nullptr) return fallback;
  if (value->is_null()) return std::nullopt;
  return to_integer(path(key), *value);
}

double JsonFields::number(const std::string& key, double fallback) const {
  const nlohmann::json* value = find(key);
  if (value == nullptr) return fallback;
  if (!value->is_number()) fail(key, *value, expected("a number", *value));
  return value->get<double>();
}

bool JsonFields::boolean(const std::string& key, bool fallback) const {
  const nlohmann::json* value = find(key);
  if (value == nullptr) return fallback;
  if (!value->is_boolean()) fail(key, *value, expected("true or false", *value));
  return value->get<bool>();
}

bool JsonFields::truthy(const std::string& key, bool fallback) const {
  const nlohmann::json* value = find(key);
  if (value == nullptr) return fallback;
  if (value->is_boolean()) return value->get<bool>();
  if (value->is_number_integer()) return to_integer(path(key), *value) != 0;
  fail(key, *value, expected("true, false or an integer", *value));
}

std::optional<std::string> JsonFields::string(const std::string& key) const {
  const nlohmann::json* value = find(key);
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (!value->is_string()) fail(key, *value, expected("a string", *value));
  return value->get<std::string>();
}

std::optional<std::vector<std::int64_t>> JsonFields::integer_list(const std::string& key) const {
  const nlohmann::json* value = find(key);
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (!value->is_array()) fail(key, *value, expected("a list of integers", *value));
  std::vector<std::int64_t> list;
  list.reserve(value->size());
  for (std::size_t i = 0; i < value->size(); ++i) {
    list.push_back(to_integer(path(key) + "[" + std::to_string(i) + "]", (*value)[i]));
  }
  return list;
}

std::optional<std::vector<std::string>> JsonFields::string_list(const std::string& key) const {
  const nlohmann::json* value = find(key);
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (!value->is_array()) fail(key, *value, expected("a list of strings", *value));
  std::vector<std::string> list;
  list.reserve(value->size());
  for (std::size_t i = 0; i < value->size(); ++i) {
    const nlohmann::json& entry = (*value)[i];
    if (!entry.is_string()) {
      throw field_error(source_, path(key) + "[" + std::to_string(i) + "]", describe_json(entry),
                        expected("a string", entry));
    }
    list.push_back(entry.get<std::string>());
  }
  return list;
}

std::vector<std::int64_t> JsonFields::integer_or_list(const std::string& key) const {
  const nlohmann::json* value = find(key);
  if (value == nullptr || value->is_null()) return {};
  if (value->is_array()) return *integer_list(key);
  return {to_integer(path(key), *value)};
}

std::optional<JsonFields> JsonFields::object(const std::string& key) const {
  const nlohmann::json* value = find(key);
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (!value->is_object()) fail(key, *value, expected("an object", *value));
  return JsonFields(*value, source_, path(key) + ".");
}

}  // namespace llama4
