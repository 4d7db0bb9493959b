// Fuzz target: the GGUF reader on arbitrary bytes. Any input must parse or throw
// inference::Error; then every accessor must be safe on what was parsed.
#include <cstddef>
#include <cstdint>
#include <span>

#include "formats/gguf.hpp"
#include "inference/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace inference::formats;
  try {
    GgufFile file = GgufFile::parse(std::as_bytes(std::span(data, size)), "fuzz.gguf");
    (void)file.architecture();
    (void)file.arch_int("context_length");
    (void)gguf_file_type_name(file);
    (void)gguf_parameter_count(file);
    for (const auto& [key, value] : file.metadata()) {
      (void)value.as_int();
      (void)value.as_double();
      (void)value.as_bool();
      try {
        (void)file.get_string_array(key);
      } catch (const inference::Error&) {
      }
      try {
        (void)file.get_int_array(key);
      } catch (const inference::Error&) {
      }
      try {
        (void)file.get_float_array(key);
      } catch (const inference::Error&) {
      }
    }
    // Touch the first and last byte of every tensor: the views must lie inside the input.
    volatile uint8_t sink = 0;
    for (const auto& t : file.tensors()) {
      if (!t.data.empty()) {
        sink = sink ^ static_cast<uint8_t>(t.data.front()) ^ static_cast<uint8_t>(t.data.back());
      }
      (void)t.n_rows();
    }
  } catch (const inference::Error&) {
  }
  return 0;
}
