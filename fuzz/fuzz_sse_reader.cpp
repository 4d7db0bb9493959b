// Fuzz target: the load generator's parsers of what a server (or a user) hands it: the
// server-sent-event stream, split at an input-chosen point, and the server URL.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "inference/error.hpp"
#include "loadgen/server_url.hpp"
#include "loadgen/sse_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t total = 0;
  inference::loadgen::SseReader reader(
      [&](std::string_view event) {
        total += event.size();
        return true;
      },
      4096);
  const size_t cut = size > 0 ? data[0] % (size + 1) : 0;
  if (reader.feed(input.substr(0, cut))) reader.feed(input.substr(cut));
  try {
    (void)inference::loadgen::parse_server_url(input.substr(0, 256));
  } catch (const inference::Error&) {
    // Rejecting a bad URL with a message is the expected outcome.
  }
  return 0;
}
