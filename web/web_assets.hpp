// The chat page's files, compiled into the binary (see web/CMakeLists.txt). The server answers
// GET / and GET /<file> from here, so it needs nothing on disk at run time.
#pragma once

#include <string_view>

namespace inference::web {

/// The bytes of the embedded file at URL `path` ("/" means "/index.html"), with its
/// Content-Type in `content_type`. Unknown paths: an empty view and an empty content_type.
std::string_view web_asset(std::string_view path, std::string_view& content_type);

}  // namespace inference::web
