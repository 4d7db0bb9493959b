// Fuzz target: the Safetensors reader on arbitrary bytes. Parse or throw inference::Error;
// every tensor view must lie inside the input.
#include <cstddef>
#include <cstdint>
#include <span>

#include "formats/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace inference::formats;
  try {
    SafetensorsFile file = SafetensorsFile::parse(std::as_bytes(std::span(data, size)), "fuzz");
    volatile uint8_t sink = 0;
    for (const auto& t : file.tensors()) {
      if (!t.data.empty()) {
        sink = sink ^ static_cast<uint8_t>(t.data.front()) ^ static_cast<uint8_t>(t.data.back());
      }
      (void)file.find(t.name);
    }
    (void)file.metadata().size();
  } catch (const inference::Error&) {
  }
  return 0;
}
