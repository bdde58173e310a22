// Rendering of every supported template construct, one case per construct, with the exact output
// Python Jinja2 3.1 gives under the chat-template environment transformers uses (trim_blocks,
// lstrip_blocks, loop controls, json.dumps-based tojson). Each case names what it checks.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "chat/chat_template.h"

namespace llama4::chat {
namespace {

struct ConstructCase {
  const char* name;
  const char* template_source;
  const char* context_json;
  const char* expected;
};

const ConstructCase kCases[] = {
    {"TextPassesThrough", R"__(Hello, world!)__", R"__({})__", R"__(Hello, world!)__"},
    {"TrailingNewlineDropped",
     R"__(a
)__",
     R"__({})__", R"__(a)__"},
    {"OnlyOneTrailingNewlineDropped",
     R"__(a

)__",
     R"__({})__",
     R"__(a
)__"},
    {"VariableOutput", R"__({{ name }}!)__", R"__({"name": "Ada"})__", R"__(Ada!)__"},
    {"UndefinedRendersEmpty", R"__([{{ missing }}])__", R"__({})__", R"__([])__"},
    {"CommentRemoved", R"__(a{# note #}b)__", R"__({})__", R"__(ab)__"},
    {"WhitespaceControlMinus",
     R"__(a  
 {{- 'b' -}} 
  c)__",
     R"__({})__", R"__(abc)__"},
    {"BlockMinusStripsNewlines",
     R"__(x

{%- if true -%}

y{%- endif %})__",
     R"__({})__", R"__(xy)__"},
    {"TrimBlocksDropsNewlineAfterTag",
     R"__({% if true %}
yes
{% endif %}
after)__",
     R"__({})__",
     R"__(yes
after)__"},
    {"LstripBlocksDropsIndent",
     R"__(  {% if true %}
  body
  {% endif %}
end)__",
     R"__({})__",
     R"__(  body
end)__"},
    {"LstripBlocksNotForVariables",
     R"__(  {{ 'v' }}
)__",
     R"__({})__", R"__(  v)__"},
    {"PlusDisablesLstrip", R"__(  {%+ if true %}x{% endif %})__", R"__({})__", R"__(  x)__"},
    {"PlusDisablesTrim",
     R"__({% if true +%}
x{% endif %})__",
     R"__({})__",
     R"__(
x)__"},
    {"CommentTrimmedAndLstripped",
     R"__(a
  {# c #}
b)__",
     R"__({})__",
     R"__(a
b)__"},
    {"TextBeforeTagOnSameLineKept", R"__(a {% if true %}b{% endif %})__", R"__({})__",
     R"__(a b)__"},
    {"IfElifElse",
     R"__({% for n in [1, 2, 3] %}{% if n == 1 %}one{% elif n == 2 %}two{% else %}many{% endif %},{% endfor %})__",
     R"__({})__", R"__(one,two,many,)__"},
    {"ForLoopVariables",
     R"__({% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}|{% endfor %})__",
     R"__({})__", R"__(10TrueFalse33|21FalseFalse32|32FalseTrue31|)__"},
    {"ForElse", R"__({% for x in [] %}x{% else %}empty{% endfor %})__", R"__({})__",
     R"__(empty)__"},
    {"ForFilter",
     R"__({% for m in messages if m.role != 'system' %}{{ loop.index }}:{{ m.role }} {% endfor %})__",
     R"__({"messages": [{"role": "system"}, {"role": "user"}, {"role": "assistant"}]})__",
     R"__(1:user 2:assistant )__"},
    {"ForUnpackItems", R"__({% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %})__",
     R"__({"d": {"b": 1, "a": 2}})__", R"__(b=1;a=2;)__"},
    {"ForOverDictKeys", R"__({% for k in d %}{{ k }}{% endfor %})__",
     R"__({"d": {"x": 1, "y": 2}})__", R"__(xy)__"},
    {"LoopScopeDoesNotLeak",
     R"__({% set x = 0 %}{% for i in range(3) %}{% set x = x + 1 %}{{ x }}{% endfor %}{{ x }})__",
     R"__({})__", R"__(1110)__"},
    {"NamespaceCarriesOut",
     R"__({% set ns = namespace(count=0) %}{% for i in range(4) %}{% set ns.count = ns.count + i %}{% endfor %}{{ ns.count }})__",
     R"__({})__", R"__(6)__"},
    {"BreakAndContinue",
     R"__({% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %})__",
     R"__({})__", R"__(0134)__"},
    {"LoopPrevNext",
     R"__({% for i in [1, 2, 3] %}{{ loop.previtem }}-{{ loop.nextitem }};{% endfor %})__",
     R"__({})__", R"__(-2;1-3;2-;)__"},
    {"LoopCycle", R"__({% for i in range(4) %}{{ loop.cycle('a', 'b') }}{% endfor %})__",
     R"__({})__", R"__(abab)__"},
    {"SetBlock", R"__({% set greeting %}Hi {{ name }}{% endset %}[{{ greeting }}])__",
     R"__({"name": "Bo"})__", R"__([Hi Bo])__"},
    {"SetTuple", R"__({% set a, b = 1, 2 %}{{ a }}{{ b }})__", R"__({})__", R"__(12)__"},
    {"Macro",
     R"__({% macro tag(name, kind='x') %}<{{ kind }}:{{ name }}>{% endmacro %}{{ tag('a') }}{{ tag('b', kind='y') }})__",
     R"__({})__", R"__(<x:a><y:b>)__"},
    {"StringEscapes", R"__({{ 'a\tb\n\'q\' \u00e9 \x41' }}|{{ "dq\"" }})__", R"__({})__",
     R"__(a	b
'q' é A|dq")__"},
    {"Literals",
     R"__({{ 42 }} {{ -7 }} {{ 1.5 }} {{ 2.0 }} {{ 1e3 }} {{ true }} {{ false }} {{ none }} {{ True }})__",
     R"__({})__", R"__(42 -7 1.5 2.0 1000.0 True False None True)__"},
    {"ListAndDictLiterals", R"__({{ [1, 'a', none, [true]] }} {{ {'k': 'v', 'n': 1} }})__",
     R"__({})__", R"__([1, 'a', None, [True]] {'k': 'v', 'n': 1})__"},
    {"AttributeAndSubscript",
     R"__({{ m.role }} {{ m['content'] }} {{ m.parts[1].text }} {{ m.parts[-1]['text'] }})__",
     R"__({"m": {"role": "user", "content": "hi", "parts": [{"text": "p0"}, {"text": "p1"}]}})__",
     R"__(user hi p1 p1)__"},
    {"MissingKeyIsUndefined", R"__([{{ m.nope }}][{{ m['nope'] }}][{{ items[9] }}])__",
     R"__({"m": {}, "items": [1]})__", R"__([][][])__"},
    {"Slicing",
     R"__({{ xs[1:] }} {{ xs[:2] }} {{ xs[::-1] }} {{ xs[-2:] }} {{ xs[::2] }} {{ 'héllo'[1:3] }} {{ 'abc'[::-1] }})__",
     R"__({"xs": [1, 2, 3, 4]})__", R"__([2, 3, 4] [1, 2] [4, 3, 2, 1] [3, 4] [1, 3] él cba)__"},
    {"Arithmetic",
     R"__({{ 7 + 3 }} {{ 7 - 10 }} {{ 6 * 7 }} {{ 7 / 2 }} {{ 8 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 1.5 + 1 }})__",
     R"__({})__", R"__(10 -3 42 3.5 4.0 3 -4 1 2 1024 2.5)__"},
    {"StringOperators",
     R"__({{ 'a' + 'b' }} {{ 'ab' * 3 }} {{ 1 ~ 'x' ~ none }} {{ [1] + [2] }})__", R"__({})__",
     R"__(ab ababab 1xNone [1, 2])__"},
    {"Comparisons",
     R"__({{ 1 < 2 }} {{ 2 <= 1 }} {{ 'a' < 'b' }} {{ 1 == 1.0 }} {{ 'x' != 'y' }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }})__",
     R"__({})__", R"__(True False True True True True False)__"},
    {"BooleanLogic",
     R"__({{ true and 'yes' }} {{ false or 'fallback' }} {{ not none }} {{ '' or 0 or 'last' }} {{ not (1 and 0) }})__",
     R"__({})__", R"__(yes fallback True last True)__"},
    {"InAndNotIn",
     R"__({{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'abc' }} {{ 'tool_calls' in m }})__",
     R"__({"m": {"role": "user"}})__", R"__(True True True True False)__"},
    {"Tests",
     R"__({{ x is defined }} {{ y is undefined }} {{ x is string }} {{ n is number }} {{ d is mapping }} {{ l is iterable }} {{ x is iterable }} {{ none is none }} {{ l is sequence }} {{ t is true }} {{ f is false }} {{ n is not string }} {{ d is not mapping }})__",
     R"__({"x": "s", "n": 3, "d": {}, "l": [], "t": true, "f": false})__",
     R"__(True True True True True True True True True True True True False)__"},
    {"TestsWithArguments",
     R"__({{ 6 is divisibleby 3 }} {{ 6 is divisibleby(4) }} {{ 3 is odd }} {{ 4 is even }} {{ 'a' is eq 'a' }})__",
     R"__({})__", R"__(True False True True True)__"},
    {"Ternary",
     R"__({{ 'yes' if flag else 'no' }} {{ 'yes' if not flag else 'no' }} [{{ 'only' if false }}])__",
     R"__({"flag": true})__", R"__(yes no [])__"},
    {"FiltersText",
     R"__([{{ '  pad  ' | trim }}] {{ 'Hello' | upper }} {{ 'Hello' | lower }} {{ 'hello world' | capitalize }} {{ 'hello world' | title }} {{ 'a-b-a' | replace('a', 'x') }} {{ 'xxx' | replace('x', 'y', 2) }})__",
     R"__({})__", R"__([pad] HELLO hello Hello world Hello World x-b-x yyx)__"},
    {"FiltersSequences",
     R"__({{ [1, 2, 3] | length }} {{ 'héllo' | length }} {{ {'a': 1} | length }} {{ [4, 5] | first }} {{ [4, 5] | last }} {{ ['a', 'b'] | join(', ') }} {{ [1, 2] | join }} {{ 'ab' | list }} {{ [3, 1, 2] | sort }} {{ [1, 2] | reverse | list }})__",
     R"__({})__", R"__(3 5 1 4 5 a, b 12 ['a', 'b'] [1, 2, 3] [2, 1])__"},
    {"FilterDefault",
     R"__({{ missing | default('dflt') }} {{ '' | default('empty', true) }} {{ 'set' | default('x') }} {{ missing | d('d') }})__",
     R"__({})__", R"__(dflt empty set d)__"},
    {"FilterItems", R"__({% for k, v in d | items %}{{ k }}{{ v }}{% endfor %})__",
     R"__({"d": {"a": 1, "b": 2}})__", R"__(a1b2)__"},
    {"FilterConversions",
     R"__({{ '42' | int + 1 }} {{ 'x' | int }} {{ 3.9 | int }} {{ 5 | string ~ '!' }} {{ '2.5' | float }} {{ -3 | abs }})__",
     R"__({})__", R"__(43 0 3 5! 2.5 3)__"},
    {"FilterSelectMap",
     R"__({{ users | selectattr('active') | map(attribute='name') | join(',') }} {{ users | rejectattr('active') | map(attribute='name') | list }} {{ users | map(attribute='name') | map('upper') | join }} {{ [1, 2, 3, 4] | select('even') | list }})__",
     R"__({"users": [{"name": "a", "active": true}, {"name": "b", "active": false}, {"name": "c", "active": true}]})__",
     R"__(a,c ['b'] ABC [2, 4])__"},
    {"SelectattrWithTest",
     R"__({{ ms | selectattr('role', 'equalto', 'user') | list | length }})__",
     R"__({"ms": [{"role": "user"}, {"role": "system"}, {"role": "user"}]})__", R"__(2)__"},
    {"TojsonCompact", R"__({{ v | tojson }})__",
     R"__({"v": {"b": [1, 2.5, "x"], "a": null, "t": true, "s": "q\"\\\né\u0001", "e": {}, "l": []}})__",
     R"__({"b": [1, 2.5, "x"], "a": null, "t": true, "s": "q\"\\\né\u0001", "e": {}, "l": []})__"},
    {"TojsonIndent", R"__({{ v | tojson(indent=4) }})__",
     R"__({"v": {"name": "get_weather", "parameters": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}}, "empty": [], "none": {}}})__",
     R"__({
    "name": "get_weather",
    "parameters": {
        "type": "object",
        "required": [
            "city"
        ],
        "properties": {
            "city": {
                "type": "string"
            }
        }
    },
    "empty": [],
    "none": {}
})__"},
    {"TojsonIndent2Scalars",
     R"__({{ 'x' | tojson(indent=2) }} {{ [1] | tojson(indent=2) }} {{ 1.0 | tojson }} {{ 1e20 | tojson }})__",
     R"__({})__",
     R"__("x" [
  1
] 1.0 1e+20)__"},
    {"TojsonSortKeys", R"__({{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }})__", R"__({})__",
     R"__({"a": 2, "b": 1})__"},
    {"StringMethods",
     R"__([{{ '  x  '.strip() }}][{{ 'xxhixx'.strip('x') }}][{{ '  x'.lstrip() }}][{{ 'x  '.rstrip() }}] {{ 'a b  c'.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }} {{ 'hello'.startswith('he') }} {{ 'hello'.endswith('lo') }} {{ 'hello'.startswith(('x', 'h')) }} {{ 'MiXed'.upper() }} {{ 'MiXed'.lower() }} {{ 'a-b'.replace('-', '+') }} {{ ', '.join(['x', 'y']) }})__",
     R"__({})__",
     R"__([x][hi][x][x] ['a', 'b', 'c'] ['a', 'b', '', 'c'] ['a', 'b,c'] True True True MIXED mixed a+b x, y)__"},
    {"DictMethods",
     R"__({{ d.keys() | list }} {{ d.values() | list }} {{ d.get('a') }} {{ d.get('z', 'none!') }} {{ d.get('z') }} {% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %})__",
     R"__({"d": {"a": 1, "b": 2}})__", R"__(['a', 'b'] [1, 2] 1 none! None a1b2)__"},
    {"UnicodeText", R"__({{ s | length }} {{ s[0] }} {{ s[-1] }} {{ s | upper }})__",
     R"__({"s": "日本語😀"})__", R"__(4 日 😀 日本語😀)__"},
    {"RawBlock", R"__({% raw %}{{ not rendered }}{% endraw %})__", R"__({})__",
     R"__({{ not rendered }})__"},
    {"GenerationBlock", R"__(a{% generation %}b{% endgeneration %}c)__", R"__({})__", R"__(abc)__"},
    {"Range",
     R"__({{ range(3) | list }} {{ range(1, 7, 2) | list }} {{ range(3, 0, -1) | list }})__",
     R"__({})__", R"__([0, 1, 2] [1, 3, 5] [3, 2, 1])__"},
    {"NestedLoopsAndNamespace",
     R"__({% set ns = namespace(found=false) %}{% for m in ms %}{% for p in m.parts %}{% if p == 'x' %}{% set ns.found = true %}{% endif %}{% endfor %}{% endfor %}{{ ns.found }})__",
     R"__({"ms": [{"parts": ["a"]}, {"parts": ["b", "x"]}]})__", R"__(True)__"},
    {"OperatorPrecedence",
     R"__({{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 'a' ~ 1 * 2 }} {{ not 1 == 2 }} {{ 10 - 2 - 3 }})__",
     R"__({})__", R"__(7 9 64 4 a2 True 5)__"},
    {"FilterOnNegative", R"__({{ -3 | abs }} {{ [3, 1] | sort | first }})__", R"__({})__",
     R"__(3 1)__"},
    {"IndentFilter",
     R"__({{ 'a
b

c' | indent(2) }}|{{ 'a
b' | indent(2, true) }})__",
     R"__({})__",
     R"__(a
  b

  c|  a
  b)__"},
    {"StrftimeNowIsDefined", R"__({{ strftime_now is defined }})__", R"__({})__", R"__(True)__"},
    // Float literals beyond double range become inf / 0.0, as Python's float() makes them (this
    // once escaped the parser as std::out_of_range: found by fuzz_chat_template).
    {"FloatLiteralsOutOfRange",
     R"__({{ 1e400 }}|{{ -1e400 }}|{{ 1e-400 }}|{% set ns = ---0---00000800000000e003000000000 %}{{ ns }})__",
     R"__({})__", R"__(inf|-inf|0.0|-inf)__"},
};

class TemplateConstructTest : public ::testing::TestWithParam<ConstructCase> {};

TEST_P(TemplateConstructTest, RendersLikeJinja) {
  const ConstructCase& c = GetParam();
  const ChatTemplate tmpl(c.template_source);
  EXPECT_EQ(tmpl.render(nlohmann::ordered_json::parse(c.context_json)), c.expected)
      << "template: " << c.template_source;
}

INSTANTIATE_TEST_SUITE_P(Constructs, TemplateConstructTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<ConstructCase>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace llama4::chat
