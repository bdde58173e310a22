// JsonFields: typed reads of the members of one JSON object in a config file.
// Config files are written by hand, by converters and by several library versions, so every read
// checks the JSON type and reports the field's full path, the value found and what was expected,
// instead of letting nlohmann throw a type_error without context.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace llama4 {

// The error every config check throws: "<source>: field '<field>' = <value>: <why>".
Error field_error(const std::string& source, const std::string& field, const std::string& value,
                  const std::string& why);

// A JSON value rendered compactly for an error message (long values are shortened).
std::string describe_json(const nlohmann::json& value);

// Shortest text that reads back as the same double (e.g. "1e-05", "0.1", "-3").
std::string describe_number(double value);

// Value text used in messages about a field that is not in the file.
inline constexpr const char* kMissingValue = "(missing)";

class JsonFields {
 public:
  // `object` must outlive this view. `prefix` is prepended to every field name in messages,
  // e.g. "text_config." for the nested text fields of a multimodal config.
  JsonFields(const nlohmann::json& object, std::string source, std::string prefix);

  const std::string& source() const { return source_; }
  const std::string& prefix() const { return prefix_; }
  std::string path(const std::string& key) const { return prefix_ + key; }

  // The member, or nullptr when the key is absent. A JSON null is returned as present.
  const nlohmann::json* find(const std::string& key) const;
  // True when the key is absent or its value is null.
  bool absent_or_null(const std::string& key) const;

  [[noreturn]] void fail(const std::string& key, const nlohmann::json& value,
                         const std::string& why) const;

  // Integers: absent → `fallback`; null, non-integral or out-of-range values are errors.
  // Integral floating-point values such as 8192.0 are accepted.
  std::int64_t integer(const std::string& key, std::int64_t fallback) const;
  // Like integer(), but null → nullopt.
  std::optional<std::int64_t> nullable_integer(const std::string& key,
                                               std::optional<std::int64_t> fallback) const;
  double number(const std::string& key, double fallback) const;
  bool boolean(const std::string& key, bool fallback) const;
  // A bool, or an integer read as "non-zero" (older configs store flags such as 4 for true).
  bool truthy(const std::string& key, bool fallback) const;
  // absent or null → nullopt.
  std::optional<std::string> string(const std::string& key) const;
  std::optional<std::vector<std::int64_t>> integer_list(const std::string& key) const;
  std::optional<std::vector<std::string>> string_list(const std::string& key) const;
  // A single integer or a list of them (e.g. eos_token_id); absent or null → empty.
  std::vector<std::int64_t> integer_or_list(const std::string& key) const;
  // A nested object as a view whose prefix is "<prefix><key>."; absent or null → nullopt.
  std::optional<JsonFields> object(const std::string& key) const;

 private:
  std::int64_t to_integer(const std::string& field, const nlohmann::json& value) const;

  const nlohmann::json* object_;
  std::string source_;
  std::string prefix_;
};

}  // namespace llama4
