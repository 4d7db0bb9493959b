// Fuzz target: llama-server's LoRA scale lists — a request's `lora` field and the body of
// POST /lora-adapters — on arbitrary JSON. The first byte is the number of loaded adapters
// (0–7); the rest is the body. A list is accepted (one finite scale per adapter) or rejected
// with a 400 naming the field; nothing else may escape, crash or hang.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/api_error.hpp"
#include "server/json_fields.hpp"
#include "server/request_parsing.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace inference::server;
  if (size == 0) return 0;
  const size_t n_adapters = data[0] % 8;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  ParseLimits limits;
  limits.adapter_scales.assign(n_adapters, 1.0f);
  try {
    const json request = parse_json_body(body);
    const auto scales = (data[0] & 8) != 0 ? parse_lora_field(request, limits)
                                           : parse_lora_scales(request, "", n_adapters);
    if (scales.size() != n_adapters) __builtin_trap();
    for (float s : scales)
      if (!std::isfinite(s)) __builtin_trap();
  } catch (const ApiError& e) {
    if (e.status() != 400) __builtin_trap();
  }
  return 0;
}
