// Fuzz target: config.json parsing on arbitrary text. Parse or throw inference::Error; the
// per-layer sliding-window query must be safe on whatever was accepted.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/hf_config.hpp"
#include "inference/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace inference::formats;
  try {
    HfConfig config =
        parse_hf_config(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
    for (int64_t layer = -1; layer <= config.num_hidden_layers && layer < 64; ++layer) {
      (void)config.is_sliding_layer(layer);
    }
  } catch (const inference::Error&) {
  }
  return 0;
}
