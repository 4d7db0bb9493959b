// Fuzz target: arbitrary bytes as a server's event stream, fed to the SSE parser in two pieces
// (split where the first byte says, so line ends straddling reads are covered), and every event
// decoded by the OpenAI, Anthropic and llama.cpp decoders. A malformed stream may only produce
// an error Status or a decoder exception (nlohmann::json / inference::Error); anything else —
// crash, sanitizer report, hang, unbounded allocation — is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "backends/remote/anthropic_protocol.hpp"
#include "backends/remote/llamacpp_protocol.hpp"
#include "backends/remote/openai_protocol.hpp"
#include "net/sse_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t split = bytes.empty() ? 0 : data[0] % (bytes.size() + 1);
  inference::net::SseParser parser(1 << 16);
  auto on_event = [](const inference::net::SseEvent& event) {
    for (auto decode :
         {inference::remote::openai::decode_event, inference::remote::anthropic::decode_event,
          inference::remote::llamacpp::decode_event}) {
      inference::remote::ChunkUpdate update;
      try {
        decode(event, update);
      } catch (const std::exception&) {
        // Malformed JSON or fields of the wrong type: the stream reports it as an error.
      }
    }
  };
  (void)parser.feed(bytes.substr(0, split), on_event);
  (void)parser.feed(bytes.substr(split), on_event);
  return 0;
}
