// Renders every (template, case) of ../shared/testdata/templates and compares with what Python
// jinja2 rendered in Hugging Face's environment: byte-identical text, or a failure where jinja2
// raised (with the exact message for the template's own raise_exception).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "chat/chat_template.hpp"
#include "chat/jinja/interpreter.hpp"
#include "inference/error.hpp"
#include "support/testdata.hpp"

namespace inference::chat {
namespace {

using Json = nlohmann::ordered_json;

struct ReferenceCase {
  std::string name;  // gtest-safe "template__case"
  Json expected;
};

std::filesystem::path templates_dir() {
  return test::testdata_dir() / "templates";
}

std::vector<ReferenceCase> load_cases() {
  std::vector<ReferenceCase> out;
  auto path = templates_dir() / "expected.json";
  if (!std::filesystem::exists(path)) return {{"testdata_missing", Json()}};
  Json expected = Json::parse(test::read_file(path));
  for (const auto& result : expected["results"]) {
    std::string name =
        result["template"].get<std::string>() + "__" + result["case"].get<std::string>();
    for (char& c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    out.push_back({name, result});
  }
  return out;
}

// strftime_now's fixed clock in the reference: 2025-03-14T15:09:26 local time.
std::tm reference_clock() {
  std::tm tm{};
  tm.tm_year = 2025 - 1900;
  tm.tm_mon = 2;
  tm.tm_mday = 14;
  tm.tm_hour = 15;
  tm.tm_min = 9;
  tm.tm_sec = 26;
  std::time_t t = timegm(&tm);
  gmtime_r(&t, &tm);  // fills in the weekday and day of the year
  return tm;
}

class TemplateReference : public ::testing::TestWithParam<ReferenceCase> {};

TEST_P(TemplateReference, RendersLikeJinja2) {
  INFERENCE_REQUIRE_TESTDATA();
  const Json& expected = GetParam().expected;
  ASSERT_FALSE(expected.is_null()) << "expected.json missing";
  Json templates = Json::parse(test::read_file(templates_dir() / "templates.json"));
  Json cases = Json::parse(test::read_file(templates_dir() / "cases.json"));
  const std::string template_name = expected["template"];
  const std::string case_name = expected["case"];
  const Json& info = templates["templates"][template_name];
  const Json* found = nullptr;
  for (const auto& c : cases["cases"]) {
    if (c["name"] == case_name) found = &c;
  }
  ASSERT_NE(found, nullptr) << case_name;
  const Json& c = *found;

  Json variables = Json::object();
  variables["messages"] = c["messages"];
  variables["tools"] = c.contains("tools") ? c["tools"] : Json();
  variables["documents"] = nullptr;
  variables["add_generation_prompt"] = c["add_generation_prompt"];
  for (const auto& [key, value] : info["special_tokens"].items()) variables[key] = value;
  if (c.contains("kwargs")) {
    for (const auto& [key, value] : c["kwargs"].items()) variables[key] = value;
  }

  auto tmpl =
      ChatTemplate::from_jinja(test::read_file(templates_dir() / info["file"].get<std::string>()));
  RenderOptions options;
  options.clock = reference_clock;
  if (expected["ok"].get<bool>()) {
    std::string text = tmpl.render_variables(variables, options);
    EXPECT_EQ(text, expected["text"].get<std::string>());
  } else {
    try {
      std::string text = tmpl.render_variables(variables, options);
      ADD_FAILURE() << "jinja2 raised " << expected["error_type"] << " but we rendered:\n" << text;
    } catch (const jinja::TemplateRaise& e) {
      EXPECT_EQ(expected["error_type"], "TemplateError");
      EXPECT_EQ(std::string(e.what()), expected["error"].get<std::string>());
    } catch (const Error& e) {
      EXPECT_NE(expected["error_type"], "TemplateError") << e.what();
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << e.what();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Templates, TemplateReference, ::testing::ValuesIn(load_cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace inference::chat
