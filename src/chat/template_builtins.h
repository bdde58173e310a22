// The filters (`x | name`), tests (`x is name`), methods (`x.name()`) and global functions that
// chat templates use, with Jinja's (Python's) semantics. Problems throw TemplateFault.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "chat/template_ops.h"
#include "chat/template_value.h"

namespace llama4::chat {

Value apply_filter(const std::string& name, const Value& input, const CallArgs& args,
                   RenderBudget& budget);
bool apply_test(const std::string& name, const Value& value, const CallArgs& args);
// A built-in method of a str, dict or list, or nullopt when `object` has no method `name`.
std::optional<Value> call_method(const Value& object, const std::string& name, const CallArgs& args,
                                 RenderBudget& budget);

// Global functions every template sees: range, namespace, dict, raise_exception, strftime_now.
// strftime_now formats `now` in local time.
ValueDict make_globals(RenderBudget& budget, std::chrono::system_clock::time_point now);

// The error raise_exception() throws; carries the template's own message.
class TemplateRaised : public TemplateFault {
 public:
  using TemplateFault::TemplateFault;
};

}  // namespace llama4::chat
