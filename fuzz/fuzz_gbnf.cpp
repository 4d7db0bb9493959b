// Fuzz target: parse arbitrary bytes as a GBNF grammar; when it parses, run a matcher over the
// same bytes (every byte through the lazy DFA) and compact it. Errors must be inference::Error;
// anything else (crash, sanitizer report, other exception, hang) is a bug.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "grammar/gbnf_parser.hpp"
#include "grammar/matcher.hpp"
#include "inference/error.hpp"

namespace {
constexpr size_t kMaxMatcherBytes = size_t{1} << 20;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (size_t{1} << 16)) return 0;
  const std::string source(reinterpret_cast<const char*>(data), size);
  try {
    auto g =
        std::make_shared<const inference::grammar::Grammar>(inference::grammar::parse_gbnf(source));
    inference::grammar::Matcher m(g);
    // Like the token masker, stop growing the caches past a bound (the masker compacts there):
    // an ambiguous grammar may keep thousands of stacks per byte, each byte a new state.
    auto s = m.start();
    for (char c : source) {
      if (s == inference::grammar::Matcher::kDead || m.memory_bytes() > kMaxMatcherBytes) break;
      s = m.advance(s, static_cast<uint8_t>(c));
    }
    (void)m.accepts(s);
    s = m.compact(s);
    (void)m.can_continue(s);
  } catch (const inference::Error&) {
  }
  return 0;
}
