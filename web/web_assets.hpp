// The chat page's files, compiled into the binary (see web/CMakeLists.txt). The server answers
// GET / and GET /<file> from here, so it needs nothing on disk at run time.
#pragma once

#include <string_view>

namespace inference::web {

/// The whole chat page as one HTML document (index.html with style.css and app.js inlined):
/// what GET / answers, with Content-Type "text/html; charset=utf-8".
std::string_view chat_page();

/// The bytes of the embedded file at URL `path` ("/index.html", "/app.js", "/style.css"; "/"
/// is chat_page()), with its Content-Type in `content_type`. Unknown paths: an empty view and
/// an empty content_type.
std::string_view web_asset(std::string_view path, std::string_view& content_type);

}  // namespace inference::web
