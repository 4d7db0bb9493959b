// ml/jsonl_reader.hpp — reading JSON Lines input that may be large, hostile or partly broken.
//
// Lines are read with a hard length cap (a 10 GB line never becomes a 10 GB string), blank and
// `#` lines are skipped, and a line that is not a JSON object is reported with its number and
// counted instead of aborting the whole run.
#pragma once

#include <cstddef>
#include <functional>
#include <istream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace inference::ml {

inline constexpr size_t kMaxJsonlLine = size_t{1} << 20;  // 1 MiB

/// A line that could not be used, by 1-based line number.
struct LineProblem {
  size_t line = 0;
  std::string message;
};

/// Reads one line into `out` (without the '\n'; a trailing '\r' is dropped). Returns false at
/// end of input. When the line is longer than `max_bytes`, the rest is discarded, `out` holds
/// the first max_bytes and `too_long` is set.
bool read_bounded_line(std::istream& in, std::string& out, size_t max_bytes, bool& too_long);

/// Calls `on_object(line_number, line_text, object)` for every line holding a JSON object.
/// Blank lines and lines whose first non-space character is '#' are skipped silently; overlong,
/// unparsable and non-object lines are appended to `problems`. If `on_object` throws
/// std::exception, the message is recorded as a problem for that line and reading goes on.
/// Returns the number of lines read.
size_t for_each_json_line(std::istream& in,
                          const std::function<void(size_t line, std::string_view text,
                                                   nlohmann::json&& object)>& on_object,
                          std::vector<LineProblem>& problems, size_t max_bytes = kMaxJsonlLine);

}  // namespace inference::ml
