// Template errors and resource limits: every problem is a llama4::Error whose message names the
// template line ("chat template line L: ..."), and hostile templates hit a named limit instead of
// exhausting memory, stack or time.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "chat/chat_template.h"
#include "chat/template_limits.h"
#include "util/error.h"

namespace llama4::chat {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The message of the Error that compiling and rendering `source` throws ("" when none is thrown).
std::string error_of(const std::string& source,
                     const nlohmann::ordered_json& context = nlohmann::ordered_json::object()) {
  try {
    ChatTemplate(source).render(context);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// What rendering `source` with an empty context gives.
std::string render_of(const std::string& source) {
  return ChatTemplate(source).render(nlohmann::ordered_json::object());
}

TEST(TemplateErrors, SyntaxErrorsNameTheLine) {
  EXPECT_THAT(error_of("line one\n{{ 1 + }}"),
              StartsWith("chat template line 2: expected an expression"));
  EXPECT_THAT(error_of("a\nb\n{% if x %}\nunclosed"),
              StartsWith("chat template line 4: missing '{% endif %}'"));
  EXPECT_THAT(error_of("{% for x in y %}{% endif %}"),
              StartsWith("chat template line 1: unexpected '{% endif %}'"));
  EXPECT_THAT(error_of("{% for x in y %}\n"),
              StartsWith("chat template line 1: missing '{% endfor %}'"));
  EXPECT_THAT(error_of("\n\n{{ 'unterminated }}"),
              StartsWith("chat template line 3: unterminated string literal"));
  EXPECT_THAT(error_of("{{ a"), StartsWith("chat template line 1: unterminated '{{'"));
  EXPECT_THAT(error_of("x\n{# never closed"),
              StartsWith("chat template line 2: unterminated comment"));
  EXPECT_THAT(error_of("{% frobnicate %}"),
              StartsWith("chat template line 1: unsupported tag '{% frobnicate %}'"));
  EXPECT_THAT(error_of("{% endif %}"), HasSubstr("no open block"));
  EXPECT_THAT(error_of("{{ a ? b }}"),
              StartsWith("chat template line 1: unexpected character '?'"));
  EXPECT_THAT(error_of("{{ 99999999999999999999 }}"), HasSubstr("out of range"));
}

TEST(TemplateErrors, RuntimeErrorsNameTheLine) {
  EXPECT_EQ(error_of("ok\n\n{{ raise_exception('bad conversation') }}"),
            "chat template line 3: bad conversation");
  EXPECT_EQ(error_of("{{ 1 }}\n{{ 'a' + 1 }}"),
            "chat template line 2: unsupported operand types for +: 'str' and 'int'");
  EXPECT_EQ(error_of("\n{{ missing.attr }}"), "chat template line 2: 'missing' is undefined");
  EXPECT_EQ(error_of("{{ 1 // 0 }}"), "chat template line 1: integer division by zero");
  EXPECT_EQ(error_of("{{ x | nosuchfilter }}"),
            "chat template line 1: unknown filter 'nosuchfilter'");
  EXPECT_EQ(error_of("{{ x is nosuchtest }}"), "chat template line 1: unknown test 'nosuchtest'");
  EXPECT_EQ(error_of("{% for x in 5 %}{% endfor %}"),
            "chat template line 1: 'int' object is not iterable");
  EXPECT_EQ(error_of("{{ nosuchfunction() }}"),
            "chat template line 1: 'nosuchfunction' is undefined");
  EXPECT_THAT(error_of("{% set d = {} %}\n{% set d.x = 1 %}"),
              StartsWith("chat template line 2: cannot assign attribute 'x' on 'd'"));
  EXPECT_THAT(error_of("{{ xs.append(1) }}", {{"xs", nlohmann::ordered_json::array()}}),
              HasSubstr("read-only"));
  EXPECT_EQ(error_of("{{ 9223372036854775807 + 1 }}"), "chat template line 1: integer overflow");
}

TEST(TemplateErrors, ErrorInsideLoopNamesTheInnerLine) {
  const std::string source =
      "{% for m in messages %}\n{% if m.role == 'bad' %}\n{{ raise_exception('role ' + m.role) "
      "}}\n{% endif %}\n{% endfor %}";
  nlohmann::ordered_json context = {{"messages", {{{"role", "user"}}, {{"role", "bad"}}}}};
  EXPECT_EQ(error_of(source, context), "chat template line 3: role bad");
}

TEST(TemplateErrors, ContextMustBeAnObject) {
  EXPECT_THROW(ChatTemplate("x").render(nlohmann::ordered_json::array()), Error);
}

TEST(TemplateLimits, EndlessLoopsHitTheWorkLimit) {
  const std::string message = error_of("{% for i in range(1000000000) %}{% endfor %}");
  EXPECT_THAT(message, StartsWith("chat template line 1: "));
  EXPECT_THAT(message, HasSubstr("work limit of " + std::to_string(kMaxRenderSteps) + " steps"));
  // Nested loops each under the limit still add up against it.
  EXPECT_THAT(
      error_of("{% for i in range(2000) %}{% for j in range(2000) %}{% endfor %}{% endfor %}"),
      HasSubstr("work limit"));
}

// Few loop iterations can still be much work: macros calling macros, or megabyte strings copied
// on every turn. Found by fuzz_chat_template: a 1.3 KB template of nested loops over macro calls
// that ran for 50 s under the sanitizers within the old limit of a million loop iterations.
TEST(TemplateLimits, ExpensiveIterationsHitTheWorkLimit) {
  EXPECT_THAT(error_of("{% macro m(x) %}{{ x ~ x ~ x ~ x }}{% endmacro %}"
                       "{% for i in range(300000) %}{{ m(i) }}{% endfor %}"),
              HasSubstr("work limit"));
  EXPECT_THAT(error_of("{% set s = 'x' * 10000000 %}{% for i in range(1000) %}"
                       "{% set t = s ~ s %}{% endfor %}"),
              HasSubstr("work limit"));
}

TEST(TemplateLimits, HugeOutputHitsTheSizeLimit) {
  EXPECT_THAT(error_of("{{ 'x' * 1000000000 }}"), HasSubstr("limit"));
  EXPECT_THAT(
      error_of("{% set s = 'x' * 1000000 %}{% for i in range(100000) %}{{ s }}{% endfor %}"),
      HasSubstr("rendered output exceeds the limit"));
}

// Filters whose output grows with an argument refuse it before building it: a short string and a
// long replacement, or a huge width, would otherwise ask for gigabytes.
TEST(TemplateLimits, FiltersThatMultiplyTheirInputHitTheSizeLimit) {
  const std::string long_string = "{% set s = 'a' * 100000 %}";
  EXPECT_THAT(error_of(long_string + "{{ s | replace('a', s) }}"),
              HasSubstr("replace: result too large"));
  EXPECT_THAT(error_of(long_string + "{{ s.replace('', s) }}"),
              HasSubstr("replace: result too large"));
  EXPECT_THAT(error_of("{{ 'a\nb' | indent(100000000000) }}"),
              HasSubstr("indent: width 100000000000 is over the output limit"));
  EXPECT_THAT(error_of("{% set s = 'a\n' * 100000 %}{{ s | indent(1000) }}"),
              HasSubstr("indent: result too large"));
  EXPECT_THAT(error_of("{{ [[1]] | tojson(indent=100000000000) }}"),
              HasSubstr("tojson: indent 100000000000 is over the output limit"));
  // 30 MB of indentation at depth 1, then 60 MB at depth 2: refused before the second.
  EXPECT_THAT(error_of("{{ [[[1]]] | tojson(indent=30000000) }}"),
              HasSubstr("tojson: output too large"));
  // Within the limits they still work.
  EXPECT_EQ(render_of("{{ 'ab' | replace('', '-') }}"), "-a-b-");
  EXPECT_EQ(render_of("{{ 'a\nb' | indent(2, first=true) }}"), "  a\n  b");
}

// Python's json.dumps indents by max(indent, 0) spaces: a negative indent still breaks lines.
TEST(TemplateRender, TojsonWithANegativeIndentBreaksLinesAsPythonDoes) {
  EXPECT_EQ(render_of("{{ [1, 2] | tojson(indent=-1) }}"), "[\n1,\n2\n]");
  EXPECT_EQ(render_of("{{ [1, 2] | tojson(indent=2) }}"), "[\n  1,\n  2\n]");
}

TEST(TemplateLimits, RecursionHitsTheDepthLimit) {
  EXPECT_THAT(error_of("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"),
              HasSubstr("macro calls nest deeper than " + std::to_string(kMaxMacroCallDepth)));
  const std::string deep_expression = std::string(5000, '(') + "1" + std::string(5000, ')');
  EXPECT_THAT(error_of("{{ " + deep_expression + " }}"), HasSubstr("nests deeper than"));
  std::string deep_ifs;
  for (int i = 0; i < 1000; ++i) deep_ifs += "{% if true %}";
  EXPECT_THAT(error_of(deep_ifs), HasSubstr("nests deeper than"));
}

TEST(TemplateLimits, ReasonableTemplatesStayWellInside) {
  const ChatTemplate tmpl(
      "{% for i in range(1000) %}{% for j in range(100) %}.{% endfor %}{% endfor %}");
  EXPECT_EQ(tmpl.render(nlohmann::ordered_json::object()).size(), 100000u);
}

TEST(TemplateRender, StrftimeNowUsesTheGivenTime) {
  // 2024-07-26 12:00:00 UTC is the 26th in every time zone within ±11 h.
  const auto now = std::chrono::system_clock::from_time_t(1721995200);
  EXPECT_EQ(
      ChatTemplate("{{ strftime_now('%d %b %Y') }}").render(nlohmann::ordered_json::object(), now),
      "26 Jul 2024");
}

TEST(TemplateRender, CompiledTemplateRendersRepeatedlyWithFreshState) {
  const ChatTemplate tmpl(
      "{% set ns = namespace(n=0) %}{% for m in xs %}{% set ns.n = ns.n + m %}{% endfor %}{{ ns.n "
      "}}");
  EXPECT_EQ(tmpl.render({{"xs", {1, 2, 3}}}), "6");
  EXPECT_EQ(tmpl.render({{"xs", {10}}}), "10");
}

}  // namespace
}  // namespace llama4::chat
