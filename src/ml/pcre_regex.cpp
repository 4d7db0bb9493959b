#define PCRE2_CODE_UNIT_WIDTH 8
#include "ml/pcre_regex.hpp"

#include <pcre2.h>

#include "inference/error.hpp"

namespace inference::ml {
namespace {

// One match-data block per thread, shared by every pattern: only the whole-match offsets are
// read, so a small ovector suffices and no allocation happens per match.
pcre2_match_data* thread_match_data() {
  struct Holder {
    pcre2_match_data* data = pcre2_match_data_create(8, nullptr);
    ~Holder() { pcre2_match_data_free(data); }
  };
  thread_local Holder holder;
  return holder.data;
}

}  // namespace

PcreRegex::PcreRegex(std::string_view pattern, bool multiline) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  uint32_t options = PCRE2_CASELESS | PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF;
  if (multiline) options |= PCRE2_MULTILINE;
  auto* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options,
                             &error, &offset, nullptr);
  if (!code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    throw Error(ErrorCode::invalid_argument, "regex '" + std::string(pattern) + "' at " +
                                                 std::to_string(offset) + ": " +
                                                 reinterpret_cast<const char*>(message));
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if unavailable
  code_ = code;
}

PcreRegex::~PcreRegex() {
  pcre2_code_free(static_cast<pcre2_code*>(code_));
}

bool PcreRegex::find(std::string_view text, size_t start, size_t& begin, size_t& end) const {
  pcre2_match_data* md = thread_match_data();
  const int rc =
      pcre2_match(static_cast<pcre2_code*>(code_), reinterpret_cast<PCRE2_SPTR>(text.data()),
                  text.size(), start, 0, md, nullptr);
  if (rc < 0) return false;  // no match, or a matching error (treated as no match)
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
  begin = ov[0];
  end = ov[1];
  return true;
}

size_t PcreRegex::count(std::string_view text) const {
  size_t n = 0, pos = 0, b = 0, e = 0;
  while (pos <= text.size() && find(text, pos, b, e)) {
    ++n;
    if (e == b) {
      // Empty match: step over one whole UTF-8 character.
      pos = e + 1;
      while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
    } else {
      pos = e;
    }
  }
  return n;
}

bool PcreRegex::search(std::string_view text) const {
  size_t b = 0, e = 0;
  return find(text, 0, b, e);
}

}  // namespace inference::ml
