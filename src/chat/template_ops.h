// Python/Jinja semantics of the template operators: attribute and item access, slicing,
// arithmetic, comparison, membership, and iteration. Problems throw TemplateFault (the evaluator
// adds the line).
#pragma once

#include <optional>
#include <string>

#include "chat/template_limits.h"
#include "chat/template_value.h"

namespace llama4::chat {

// Counts the steps of work done in one render against kMaxRenderSteps.
class RenderBudget {
 public:
  void spend(std::int64_t steps);
  // The steps of producing a string of `bytes` bytes.
  void spend_bytes(std::size_t bytes) {
    spend(static_cast<std::int64_t>(bytes) / kBytesPerWorkStep);
  }

 private:
  std::int64_t spent_ = 0;
};

// `object.name`: dict key (missing → undefined); undefined object → error, as in Jinja.
Value get_attribute(const Value& object, const std::string& name);
// `object[key]`: dict key, list/str index (negative from the end); missing → undefined.
Value get_item(const Value& object, const Value& key);
// `object[start:stop:step]` on lists and strings (code points); absent parts are undefined.
Value slice(const Value& object, const Value& start, const Value& stop, const Value& step);

// `left op right` for + - * / // % ** ~.
Value binary_operation(const std::string& op, const Value& left, const Value& right);
Value negate(const Value& operand);
// `left op right` for == != < <= > >= in notin.
bool compare(const std::string& op, const Value& left, const Value& right);
// `needle in haystack`.
bool contains(const Value& haystack, const Value& needle);

// Items a for-loop visits: list items, dict keys, string code points; undefined → none.
ValueList iterate(const Value& iterable, RenderBudget& budget);

}  // namespace llama4::chat
