#include "web/web_assets.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace inference::web {
namespace {

std::string source(const std::string& name) {
  std::ifstream in(std::string(WEB_SOURCE_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(WebAssets, EachFileIsEmbeddedByteForByteWithItsType) {
  const std::pair<const char*, const char*> files[] = {
      {"index.html", "text/html"}, {"app.js", "text/javascript"}, {"style.css", "text/css"}};
  for (const auto& [name, type] : files) {
    std::string_view content_type;
    const std::string_view bytes = web_asset(std::string("/") + name, content_type);
    EXPECT_EQ(bytes, source(name)) << name;
    EXPECT_EQ(content_type.substr(0, std::string_view(type).size()), type) << name;
  }
}

TEST(WebAssets, RootIsOneDocumentWithStyleAndScriptInlined) {
  std::string_view content_type;
  const std::string_view page = web_asset("/", content_type);
  EXPECT_EQ(page, chat_page());
  EXPECT_EQ(content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.find("<style>\n" + source("style.css") + "</style>"), std::string_view::npos);
  EXPECT_NE(page.find("<script>\n" + source("app.js") + "</script>"), std::string_view::npos);
  // Nothing left that would need another request.
  EXPECT_EQ(page.find("src=\"/app.js\""), std::string_view::npos);
  EXPECT_EQ(page.find("href=\"/style.css\""), std::string_view::npos);
}

TEST(WebAssets, UnknownPathIsEmpty) {
  std::string_view content_type = "stale";
  EXPECT_TRUE(web_asset("/etc/passwd", content_type).empty());
  EXPECT_TRUE(content_type.empty());
  EXPECT_TRUE(web_asset("/app.js/../index.html", content_type).empty());
}

}  // namespace
}  // namespace inference::web
