// formats/safetensors_dtype.cpp — the Safetensors dtype names and element sizes.
#include <array>

#include "formats/safetensors.hpp"

namespace inference::formats {
namespace {

struct DtypeInfo {
  SafetensorsDtype dtype;
  std::string_view name;
  uint32_t size;
};

constexpr std::array<DtypeInfo, 15> kDtypes = {{
    {SafetensorsDtype::BOOL, "BOOL", 1},
    {SafetensorsDtype::U8, "U8", 1},
    {SafetensorsDtype::I8, "I8", 1},
    {SafetensorsDtype::F8_E5M2, "F8_E5M2", 1},
    {SafetensorsDtype::F8_E4M3, "F8_E4M3", 1},
    {SafetensorsDtype::I16, "I16", 2},
    {SafetensorsDtype::U16, "U16", 2},
    {SafetensorsDtype::F16, "F16", 2},
    {SafetensorsDtype::BF16, "BF16", 2},
    {SafetensorsDtype::I32, "I32", 4},
    {SafetensorsDtype::U32, "U32", 4},
    {SafetensorsDtype::F32, "F32", 4},
    {SafetensorsDtype::F64, "F64", 8},
    {SafetensorsDtype::I64, "I64", 8},
    {SafetensorsDtype::U64, "U64", 8},
}};

}  // namespace

std::string_view to_string(SafetensorsDtype dtype) noexcept {
  for (const auto& d : kDtypes) {
    if (d.dtype == dtype) return d.name;
  }
  return "UNKNOWN";
}

std::optional<SafetensorsDtype> safetensors_dtype_from_name(std::string_view name) noexcept {
  for (const auto& d : kDtypes) {
    if (d.name == name) return d.dtype;
  }
  return std::nullopt;
}

uint32_t dtype_size(SafetensorsDtype dtype) noexcept {
  for (const auto& d : kDtypes) {
    if (d.dtype == dtype) return d.size;
  }
  return 0;
}

}  // namespace inference::formats
