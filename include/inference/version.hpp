// inference/version.hpp — the library version.
#pragma once

#include <string_view>

namespace inference {

/// "MAJOR.MINOR.PATCH" of this build.
std::string_view version() noexcept;

}  // namespace inference
