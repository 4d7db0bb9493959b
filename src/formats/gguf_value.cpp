// formats/gguf_value.cpp — the typed views of one GGUF metadata value.
#include <limits>

#include "formats/gguf.hpp"

namespace inference::formats {

std::string_view to_string(GgufType type) noexcept {
  switch (type) {
    case GgufType::UINT8:
      return "UINT8";
    case GgufType::INT8:
      return "INT8";
    case GgufType::UINT16:
      return "UINT16";
    case GgufType::INT16:
      return "INT16";
    case GgufType::UINT32:
      return "UINT32";
    case GgufType::INT32:
      return "INT32";
    case GgufType::FLOAT32:
      return "FLOAT32";
    case GgufType::BOOL:
      return "BOOL";
    case GgufType::STRING:
      return "STRING";
    case GgufType::ARRAY:
      return "ARRAY";
    case GgufType::UINT64:
      return "UINT64";
    case GgufType::INT64:
      return "INT64";
    case GgufType::FLOAT64:
      return "FLOAT64";
  }
  return "UNKNOWN";
}

std::optional<int64_t> GgufValue::as_int() const noexcept {
  return std::visit(
      [](const auto& v) -> std::optional<int64_t> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return v ? 1 : 0;
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
          return static_cast<int64_t>(v);
        } else if constexpr (std::is_integral_v<T>) {
          return static_cast<int64_t>(v);
        } else {
          return std::nullopt;
        }
      },
      value);
}

std::optional<double> GgufValue::as_double() const noexcept {
  return std::visit(
      [](const auto& v) -> std::optional<double> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return std::nullopt;
        } else if constexpr (std::is_arithmetic_v<T>) {
          return static_cast<double>(v);
        } else {
          return std::nullopt;
        }
      },
      value);
}

std::optional<bool> GgufValue::as_bool() const noexcept {
  if (const bool* b = std::get_if<bool>(&value)) return *b;
  // Some converters store flags as integers; 0/1 mean what they say.
  if (type != GgufType::FLOAT32 && type != GgufType::FLOAT64) {
    if (auto i = as_int()) return *i != 0;
  }
  return std::nullopt;
}

const std::string* GgufValue::as_string() const noexcept {
  return std::get_if<std::string>(&value);
}

const GgufArray* GgufValue::as_array() const noexcept {
  return std::get_if<GgufArray>(&value);
}

}  // namespace inference::formats
