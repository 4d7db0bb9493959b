// formats/display.cpp — human-readable sizes and counts.
#include "formats/display.hpp"

#include <cstdio>

namespace inference::formats {
namespace {

std::string scaled(double value, const char* unit) {
  char buf[32];
  if (value >= 100) {
    std::snprintf(buf, sizeof buf, "%.0f %s", value, unit);
  } else if (value >= 10) {
    std::snprintf(buf, sizeof buf, "%.1f %s", value, unit);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f %s", value, unit);
  }
  return buf;
}

}  // namespace

std::string format_bytes(uint64_t bytes) {
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 5) {
    value /= 1024;
    ++unit;
  }
  return scaled(value, kUnits[unit]);
}

std::string format_count(uint64_t count) {
  static const char* const kUnits[] = {"K", "M", "B", "T", "P", "E"};
  if (count < 1000) return std::to_string(count);
  double value = static_cast<double>(count) / 1000;
  int unit = 0;
  while (value >= 1000 && unit < 5) {
    value /= 1000;
    ++unit;
  }
  return scaled(value, kUnits[unit]);
}

}  // namespace inference::formats
