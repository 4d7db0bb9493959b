// formats/display.hpp — numbers for people: byte sizes and parameter counts (infer info/models/
// fit print them; machines get the exact integers through --json).
#pragma once

#include <cstdint>
#include <string>

namespace inference::formats {

/// "884.4 KiB", "4.07 GiB", "512 B" (binary units, 3 significant digits).
std::string format_bytes(uint64_t bytes);
/// "1.24 B", "494 M", "28.7 K", "12" (decimal units, as model cards count parameters).
std::string format_count(uint64_t count);

}  // namespace inference::formats
