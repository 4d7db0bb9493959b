// The interpreter's Python/jinja2 semantics, case by case. Expected strings are what jinja2 3.1
// renders in Hugging Face's environment (trim_blocks, lstrip_blocks, loopcontrols).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "chat/chat_template.hpp"
#include "chat/jinja/interpreter.hpp"
#include "inference/error.hpp"

namespace inference::chat {
namespace {

std::string render(const std::string& source, const char* variables = "{}",
                   RenderOptions options = {}) {
  return ChatTemplate::from_jinja(source).render_variables(nlohmann::ordered_json::parse(variables),
                                                           options);
}

// The code of the Error that parsing or rendering throws (ok when none).
ErrorCode failure(const std::string& source, const char* variables = "{}",
                  RenderOptions options = {}) {
  try {
    render(source, variables, options);
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::ok;
}

TEST(JinjaWhitespace, TrimBlocksAndLstripBlocks) {
  EXPECT_EQ(render("{% if true %}\nA\n{% endif %}\nB"), "A\nB");
  EXPECT_EQ(render("  {% if true %}x{% endif %}"), "x");
  EXPECT_EQ(render("a  {% if true %}x{% endif %}"), "a  x");
  EXPECT_EQ(render("line\n    {% if true %}\n  x\n    {% endif %}\nend"), "line\n  x\nend");
  EXPECT_EQ(render("  {%+ if true %}x{% endif %}"), "  x");
  EXPECT_EQ(render("{% if true +%}\nx{% endif %}"), "\nx");
  EXPECT_EQ(render("  {{ 'v' }}\n"), "  v");  // lstrip does not apply to {{ }}
  EXPECT_EQ(render("{# note #}\nA"), "A");
  EXPECT_EQ(render("  {# note #}  \nA"), "  \nA");
}

TEST(JinjaWhitespace, ExplicitControlAndNewlines) {
  EXPECT_EQ(render("x \n {{- 'a' -}} \n y"), "xay");
  EXPECT_EQ(render("x \n {%- if true -%} \n y{% endif %}"), "xy");
  EXPECT_EQ(render("hi\n"), "hi");
  EXPECT_EQ(render("hi\n\n"), "hi\n");
  EXPECT_EQ(render("a\r\nb\rc"), "a\nb\nc");
  EXPECT_EQ(render("{% raw %}{{ x }}{% endraw %}"), "{{ x }}");
  EXPECT_EQ(render("{{ {'a': {'b': 1}} }}"), "{'a': {'b': 1}}");
}

TEST(JinjaExpressions, ArithmeticLikePython) {
  EXPECT_EQ(render("{{ 1 + 2 * 3 }}"), "7");
  EXPECT_EQ(render("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % -3 }} {{ -7 % 3 }} {{ 2 ** 10 }}"),
            "3 -4 -2 2 1024");
  EXPECT_EQ(render("{{ 1 / 2 }} {{ 4 / 2 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1.5e-7 }}"),
            "0.5 2.0 0.30000000000000004 1e+20 1.5e-07");
  EXPECT_EQ(render("{{ 'ab' * 3 }} {{ [1] * 2 }} {{ [1] + [2] }}"), "ababab [1, 1] [1, 2]");
  EXPECT_EQ(render("{{ -3|abs }} {{ 2 ** -1 }} {{ 10 - 2.5 }}"), "3 0.5 7.5");
  EXPECT_EQ(render("{{ 0x1F }} {{ 1_000 }} {{ 0b101 }} {{ 0o17 }}"), "31 1000 5 15");
}

TEST(JinjaExpressions, ValuesPrintLikePython) {
  EXPECT_EQ(render("{{ true }} {{ none }} {{ 1.0 }} {{ undefined_name }}|"), "True None 1.0 |");
  EXPECT_EQ(render("{{ {'a': 1, 'b': [1, 'x', none, false]} }}"),
            "{'a': 1, 'b': [1, 'x', None, False]}");
  EXPECT_EQ(render("{{ (1, 2) }} {{ (1,) }} {{ [\"it's\"] }} {{ ['a\\nb'] }}"),
            "(1, 2) (1,) [\"it's\"] ['a\\nb']");
  EXPECT_EQ(render("{{ 'a' ~ 1 ~ none ~ missing }}"), "a1None");
  EXPECT_EQ(render("{{ 'x' if false }}|{{ 'y' if true else 'n' }}"), "|y");
  EXPECT_EQ(render("{{ 'a\\tb\\u00e9\\x41\\\\' }}"), "a\tb\u00e9A\\");
  EXPECT_EQ(render("{{ 'ab' 'cd' }}"), "abcd");
}

TEST(JinjaExpressions, LogicAndComparisons) {
  EXPECT_EQ(render("{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ not [] }} {{ '' and 1 }}|"), "x b True |");
  EXPECT_EQ(render("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ true == 1 }}"),
            "True False True True");
  EXPECT_EQ(render("{{ 'b' in 'abc' }} {{ 'k' in {'k': 1} }} {{ 3 not in [1, 2] }}"),
            "True True True");
  EXPECT_EQ(render("{{ [1, 2] == [1, 2] }} {{ {'a': 1} == {'a': 1} }} {{ 'a' < 'b' }}"),
            "True True True");
  EXPECT_EQ(render("{{ not x is defined }}"), "True");
}

TEST(JinjaExpressions, SubscriptsAndSlices) {
  EXPECT_EQ(render("{{ 'abc'[::-1] }} {{ 'hello'[-3:] }} {{ [1, 2, 3, 4][1:3] }}"),
            "cba llo [2, 3]");
  EXPECT_EQ(render("{{ [1, 2, 3, 4, 5][::2] }} {{ [1, 2, 3][-1] }} {{ [1, 2][5] }}|"),
            "[1, 3, 5] 3 |");
  EXPECT_EQ(render("{{ 'h\u00e9llo'[1] }} {{ 'h\u00e9llo'|length }} {{ 'h\u00e9llo'[::-1] }}"),
            "\u00e9 5 oll\u00e9h");
  EXPECT_EQ(
      render("{{ d.a }} {{ d['a'] }} {{ d.missing }}|{{ l.0 }}", R"({"d": {"a": 1}, "l": [7]})"),
      "1 1 |7");
  EXPECT_EQ(render("{{ d.items()|list }}", R"({"d": {"items": 5, "b": 2}})"),
            "[('items', 5), ('b', 2)]");
}

TEST(JinjaStrings, Methods) {
  EXPECT_EQ(render("{{ '  a b  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ ' a '.lstrip() }}|"
                   "{{ ' a '.rstrip() }}|"),
            "a b|a|a | a|");
  EXPECT_EQ(render("{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }}"),
            "['a', 'b', '', 'c'] ['a', 'b'] ['a', 'b c']");
  EXPECT_EQ(render("{{ 'a</think>b</think>c'.split('</think>')[-1] }}"), "c");
  EXPECT_EQ(
      render("{{ 'hello world'.title() }} {{ \"they're\".title() }} {{ 'aBC'.capitalize() }}"),
      "Hello World They'Re Abc");
  EXPECT_EQ(render("{{ 'abc'.startswith(('x', 'a')) }} {{ 'abc'.endswith('bc') }}"), "True True");
  EXPECT_EQ(render("{{ 'a-b-c'.replace('-', '+') }} {{ 'a-b-c'.replace('-', '', 1) }}"),
            "a+b+c ab-c");
  EXPECT_EQ(render("{{ 'Stra\u00dfe'.upper() }} {{ '\u00c9COLE'.lower() }}"), "STRASSE \u00e9cole");
  EXPECT_EQ(render("{{ 'abcabc'.find('c') }} {{ 'abc'.count('') }} {{ '-'.join(['a', 'b']) }}"),
            "2 4 a-b");
}

TEST(JinjaFilters, Common) {
  EXPECT_EQ(
      render("{{ [3, 1, 2]|sort }} {{ ['b', 'A', 'a']|sort }} {{ [3, 1]|sort(reverse=true) }}"),
      "[1, 2, 3] ['A', 'a', 'b'] [3, 1]");
  EXPECT_EQ(render("{{ [1, 2, 2, 3]|unique|list }} {{ {'b': 1, 'a': 2}|dictsort }}"),
            "[1, 2, 3] [('a', 2), ('b', 1)]");
  EXPECT_EQ(render("{{ [1, 2, 3]|join('-') }} {{ [1, 2, 3, 4]|select('even')|list }} "
                   "{{ [1, 2, 3, 4]|reject('odd')|list }}"),
            "1-2-3 [2, 4] [2, 4]");
  const char* users = R"({"users": [{"name": "a", "age": 30}, {"name": "b", "age": 10}]})";
  EXPECT_EQ(render("{{ users|map(attribute='name')|join(',') }}", users), "a,b");
  EXPECT_EQ(render("{{ users|selectattr('age', 'gt', 20)|map(attribute='name')|list }}", users),
            "['a']");
  EXPECT_EQ(render("{{ users|rejectattr('age', 'gt', 20)|map(attribute='name')|first }}", users),
            "b");
  EXPECT_EQ(render("{{ users|sort(attribute='age')|map(attribute='name')|join }}", users), "ba");
  EXPECT_EQ(render("{{ users|max(attribute='age') }}", users), "{'name': 'a', 'age': 30}");
  EXPECT_EQ(render("{{ ['a', 'B']|map('upper')|list }}"), "['A', 'B']");
  EXPECT_EQ(render("{{ 'x'|default('y') }} {{ nope|default('y') }} {{ ''|d('y', true) }}"),
            "x y y");
  EXPECT_EQ(render("{{ [1, 2, 3]|first }} {{ [1, 2, 3]|last }} {{ [1, 2, 3]|length }} "
                   "{{ [1, 2, 3]|sum }} {{ [1, 5, 3]|max }} {{ [4, 2]|min }} {{ {'a': 1}|count }}"),
            "1 3 3 6 5 2 1");
  EXPECT_EQ(render("{{ [1, 2, 3]|reverse|list }} {{ 'abc'|reverse }} {{ {'a': 1}|items|list }}"),
            "[3, 2, 1] cba [('a', 1)]");
  EXPECT_EQ(render("{{ [1, 2, 3, 4, 5]|batch(2)|list }}"), "[[1, 2], [3, 4], [5]]");
  EXPECT_EQ(render("{{ '<a href=\"x\">'|e }}"), "&lt;a href=&#34;x&#34;&gt;");
  EXPECT_EQ(render("{{ '  x  '|trim }}|{{ 'xax'|trim('x') }}|{{ 5|string ~ 'a' }}"), "x|a|5a");
  EXPECT_EQ(render("{{ 'hello'|capitalize }} {{ 'hello big-world'|title }} {{ 'Ab'|upper }}"),
            "Hello Hello Big-World AB");
}

TEST(JinjaFilters, Numbers) {
  EXPECT_EQ(render("{{ 2.5|round }} {{ 3.5|round }} {{ 3.14159|round(2) }} {{ 2.675|round(2) }}"),
            "2.0 4.0 3.14 2.67");
  EXPECT_EQ(render("{{ 3.2|round(method='ceil') }} {{ 3.8|round(method='floor') }} {{ 5|round }}"),
            "4.0 3.0 5");
  EXPECT_EQ(render("{{ '42'|int + 1 }} {{ 'x'|int }} {{ '3.9'|int }} {{ 3.9|int }} {{ "
                   "'0x1A'|int(base=16) }}"),
            "43 0 3 3 26");
  EXPECT_EQ(render("{{ '3.5'|float }} {{ 'x'|float }} {{ 2|float }}"), "3.5 0.0 2.0");
}

TEST(JinjaFilters, Indent) {
  EXPECT_EQ(render("{{ 'a\\nb\\n\\nc'|indent(2) }}"), "a\n  b\n\n  c");
  EXPECT_EQ(render("{{ 'a\\nb'|indent(2, first=true) }}"), "  a\n  b");
  EXPECT_EQ(render("{{ 'a\\n\\nb'|indent('> ', blank=true) }}"), "a\n> \n> b");
}

TEST(JinjaFilters, ToJsonIsJsonDumps) {
  EXPECT_EQ(render("{{ {'a': [1, 2.5, '\u00e9', none, true], 'b': {}}|tojson }}"),
            R"({"a": [1, 2.5, "é", null, true], "b": {}})");
  EXPECT_EQ(render("{{ {'a': 1, 'b': [1]}|tojson(indent=2) }}"),
            "{\n  \"a\": 1,\n  \"b\": [\n    1\n  ]\n}");
  EXPECT_EQ(render("{{ '\"\\n\\u0001<'|tojson }}"), R"("\"\n\u0001<")");
  EXPECT_EQ(render("{{ x|tojson }}", R"({"x": {"z": 1, "a": 2}})"), R"({"z": 1, "a": 2})");
  EXPECT_EQ(render("{{ x|tojson(sort_keys=true) }}", R"({"x": {"z": 1, "a": 2}})"),
            R"({"a": 2, "z": 1})");
  EXPECT_EQ(render("{{ '\u00e9'|tojson(ensure_ascii=true) }}"), R"("\u00e9")");
  EXPECT_EQ(render("{{ [1, 2]|tojson(separators=(',', ':')) }}"), "[1,2]");
}

TEST(JinjaTests, Builtins) {
  EXPECT_EQ(
      render("{{ x is defined }} {{ y is undefined }} {{ none is none }} {{ 'a' is string }} "
             "{{ {} is mapping }} {{ [] is iterable }} {{ 'a' is iterable }} {{ 1 is number }}",
             R"({"x": 1})"),
      "True True True True True True True True");
  EXPECT_EQ(render("{{ 1 is integer }} {{ 1.0 is float }} {{ 3 is odd }} {{ 4 is even }} "
                   "{{ 6 is divisibleby 3 }} {{ 'a' is equalto 'a' }} {{ true is boolean }} "
                   "{{ false is false }} {{ 'a' is sequence }} {{ true is integer }}"),
            "True True True True True True True True True False");
  EXPECT_EQ(
      render("{{ x is not none }} {{ {} is not mapping }} {{ 2 is gt 1 }} {{ 'a' is in 'abc' }}",
             R"({"x": null})"),
      "False False True True");
  EXPECT_EQ(render("{{ [1, 2, 3]|select('>', 1)|list }}"), "[2, 3]");
}

TEST(JinjaStatements, ForLoops) {
  EXPECT_EQ(render("{% for x in 'ab' %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}"
                   "{{ loop.last }}{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }}|"
                   "{% endfor %}"),
            "10TrueFalse221|21FalseTrue210|");
  EXPECT_EQ(render("{% for x in [] %}a{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(render("{% for x in [1, 2, 3, 4] if x is even %}{{ x }}{{ loop.index }}"
                   "{{ loop.length }}{% endfor %}"),
            "212422");
  EXPECT_EQ(render("{% for x in [1, 2, 3] %}{{ loop.previtem }}-{{ loop.nextitem }},{% endfor %}"),
            "-2,1-3,2-,");
  EXPECT_EQ(render("{% for x in range(3) %}{{ loop.cycle('a', 'b') }}{% endfor %}"), "aba");
  EXPECT_EQ(render("{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}"
                   "{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}"),
            "013");
  EXPECT_EQ(render("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}"),
            "a=1;b=2;");
  EXPECT_EQ(render("{% for k in {'a': 1, 'b': 2} %}{{ k }}{% endfor %}"), "ab");
  EXPECT_EQ(render("{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }},{% endfor %}"), "3,7,");
  EXPECT_EQ(render("{% for x in range(1, 10, 3) %}{{ x }}{% endfor %}{% for x in range(3, 0, -1) %}"
                   "{{ x }}{% endfor %}"),
            "147321");
  EXPECT_EQ(render("{% for x in missing %}a{% else %}none{% endfor %}"), "none");
}

TEST(JinjaStatements, ScopingSetAndNamespace) {
  EXPECT_EQ(render("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}"),
            "21");
  EXPECT_EQ(render("{% set x = 1 %}{% if true %}{% set x = 2 %}{% endif %}{{ x }}"), "2");
  EXPECT_EQ(render("{% set ns = namespace(x=1) %}{% for i in [1, 2] %}{% set ns.x = ns.x + i %}"
                   "{% endfor %}{{ ns.x }}"),
            "4");
  EXPECT_EQ(render("{% set ns = namespace() %}{% set ns.a = 'v' %}{{ ns.a }}{{ ns['a'] }}"), "vv");
  EXPECT_EQ(render("{% set s %}a{{ 1 }}{% endset %}[{{ s }}]"), "[a1]");
  EXPECT_EQ(render("{% set s | upper %}ab{% endset %}{{ s }}"), "AB");
  EXPECT_EQ(render("{% set a, b = 1, 2 %}{{ a }}{{ b }}"), "12");
  EXPECT_EQ(render("{% set messages = messages[1:] %}{{ messages|length }}",
                   R"({"messages": [1, 2, 3]})"),
            "2");
  EXPECT_EQ(render("{% with a = 1 %}{{ a }}{% endwith %}{{ a }}|"), "1|");
  EXPECT_EQ(render("{% filter upper %}abc{% endfilter %}"), "ABC");
  EXPECT_EQ(render("{% generation %}x{% endgeneration %}"), "x");
  EXPECT_EQ(render("{{ dict(a=1, b=2) }}"), "{'a': 1, 'b': 2}");
}

TEST(JinjaStatements, Macros) {
  EXPECT_EQ(render("{% macro greet(name, greeting='Hi') %}{{ greeting }} {{ name }}{% endmacro %}"
                   "{{ greet('Bob') }}|{{ greet('A', greeting='Yo') }}"),
            "Hi Bob|Yo A");
  EXPECT_EQ(render("{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
                   "{{ f(3) }}"),
            "321");
  EXPECT_EQ(render("{% set g = 'G' %}{% macro m() %}{{ g }}{% endmacro %}{{ m() }}{{ m() ~ 'x' }}"),
            "GGx");
  EXPECT_EQ(render("{% macro m(a) %}[{{ a }}]{% endmacro %}{{ m() }}"), "[]");
  EXPECT_EQ(failure("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}"), ErrorCode::invalid_argument);
}

TEST(JinjaGlobals, StrftimeNowUsesTheClock) {
  RenderOptions options;
  options.clock = [] {
    std::tm tm{};
    tm.tm_year = 125;
    tm.tm_mon = 2;
    tm.tm_mday = 4;
    tm.tm_hour = 15;
    tm.tm_min = 9;
    tm.tm_sec = 26;
    tm.tm_wday = 2;
    return tm;
  };
  EXPECT_EQ(render("{{ strftime_now('%d %b %Y %H:%M:%S %a') }}", "{}", options),
            "04 Mar 2025 15:09:26 Tue");
}

TEST(JinjaErrors, RuntimeErrorsLikePython) {
  try {
    render("{{ raise_exception('bad ' ~ 1) }}");
    FAIL() << "no exception";
  } catch (const jinja::TemplateRaise& e) {
    EXPECT_STREQ(e.what(), "bad 1");
  }
  EXPECT_EQ(failure("{{ none + 'a' }}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{{ 'a' + 1 }}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{{ 'a' < 1 }}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{% for x in none %}{% endfor %}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{{ x.y }}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{{ x + 1 }}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{{ x() }}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{{ [].append(1) }}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{{ {}.update({}) }}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{{ 1 / 0 }}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{{ none|length }}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{{ x|tojson }}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{% set x = 1 %}{% set x.a = 2 %}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{% for a, b in [1] %}{% endfor %}"), ErrorCode::invalid_argument);
  // Attribute access on None gives Undefined (jinja2), which prints as nothing.
  EXPECT_EQ(render("{{ x.y }}|", R"({"x": null})"), "|");
}

TEST(JinjaErrors, SyntaxAndUnsupported) {
  EXPECT_EQ(failure("{% if %}x{% endif %}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{% for x in y %}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{{ x "), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{# open"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{{ 'open }}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{% endif %}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{% break %}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{% do x %}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{{ x|no_such_filter }}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{{ x is no_such_test }}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{{ x|wordwrap }}"), ErrorCode::unsupported);
  EXPECT_EQ(failure("{{ x|groupby('a') }}"), ErrorCode::unsupported);
  EXPECT_EQ(failure("{% include 'other.jinja' %}"), ErrorCode::unsupported);
  EXPECT_EQ(failure("{% for x in y recursive %}{% endfor %}"), ErrorCode::unsupported);
  EXPECT_EQ(failure("{{ 'a %s' % 1 }}"), ErrorCode::unsupported);
  EXPECT_EQ(failure("{{ 'a'.format(1) }}"), ErrorCode::unsupported);
  EXPECT_EQ(failure("{{ 99999999999999999999 }}"), ErrorCode::unsupported);
  EXPECT_EQ(failure("{{ 2 ** 70 }}"), ErrorCode::unsupported);
  EXPECT_EQ(failure(std::string("\xff{{ x }}")), ErrorCode::invalid_argument);
}

TEST(JinjaLimits, HostileTemplatesFailCleanly) {
  EXPECT_EQ(failure("{{ range(10**9)|length }}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{{ 'a' * 10**9 }}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{{ [1] * 10**9 }}"), ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{{ 'a\\nb'|indent(10**6) }}"), ErrorCode::unsupported);
  RenderOptions small;
  small.max_steps = 100000;
  EXPECT_EQ(failure("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}"
                    "{% endfor %}",
                    "{}", small),
            ErrorCode::invalid_argument);
  small.max_output_bytes = 1000;
  EXPECT_EQ(failure("{% for i in range(1000) %}xx{% endfor %}", "{}", small),
            ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{% set ns = namespace(s='ab') %}{% for i in range(40) %}"
                    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                    "{}", small),
            ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"),
            ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}"),
            ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{% set ns = namespace(l=[]) %}{% for i in range(1000) %}"
                    "{% set ns.l = [ns.l] %}{% endfor %}"),
            ErrorCode::invalid_argument);
  EXPECT_EQ(failure("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}"),
            ErrorCode::invalid_argument);
  std::string chain = "{{ 1";
  for (int i = 0; i < 50000; ++i) chain += "+1";
  EXPECT_EQ(failure(chain + " }}"), ErrorCode::invalid_argument);
  std::string blocks;
  for (int i = 0; i < 5000; ++i) blocks += "{% if true %}";
  EXPECT_EQ(failure(blocks), ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace inference::chat
