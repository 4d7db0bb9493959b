#include "tokenizer/regex_split.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "inference/error.hpp"

namespace inference::tokenizer {

struct SplitRegex::Impl {
  pcre2_code* code = nullptr;
  ~Impl() {
    if (code) pcre2_code_free(code);
  }
};

SplitRegex::SplitRegex(const std::string& pattern)
    : impl_(std::make_unique<Impl>()), pattern_(pattern) {
  int error = 0;
  PCRE2_SIZE error_offset = 0;
  impl_->code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                    PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &error, &error_offset, nullptr);
  if (!impl_->code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    throw Error(ErrorCode::invalid_model,
                "pre-tokenizer regex '" + pattern + "' does not compile at offset " +
                    std::to_string(error_offset) + ": " + reinterpret_cast<const char*>(message));
  }
  // JIT is an optimisation only: without it matching still works (interpreted).
  (void)pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE);
}

SplitRegex::~SplitRegex() = default;
SplitRegex::SplitRegex(SplitRegex&&) noexcept = default;
SplitRegex& SplitRegex::operator=(SplitRegex&&) noexcept = default;

namespace {

struct MatchData {
  pcre2_match_data* data;
  explicit MatchData(const pcre2_code* code)
      : data(pcre2_match_data_create_from_pattern(code, nullptr)) {
    if (!data) throw Error(ErrorCode::out_of_memory, "cannot allocate regex match data");
  }
  ~MatchData() { pcre2_match_data_free(data); }
};

// Finds the next match in subject[start..]; returns false when there is none.
bool next_match(const pcre2_code* code, std::string_view subject, size_t start,
                pcre2_match_data* md, size_t& match_begin, size_t& match_end) {
  auto run = [&](uint32_t options) {
    return pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), start,
                       PCRE2_NO_UTF_CHECK | options, md, nullptr);
  };
  int rc = run(0);
  // The JIT's fixed stack can run out on huge inputs; the interpreter uses the heap.
  if (rc == PCRE2_ERROR_JIT_STACKLIMIT) rc = run(PCRE2_NO_JIT);
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(rc, message, sizeof message);
    throw Error(ErrorCode::backend, std::string("pre-tokenizer regex failed: ") +
                                        reinterpret_cast<const char*>(message));
  }
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
  match_begin = ov[0];
  match_end = ov[1];
  return true;
}

}  // namespace

void SplitRegex::split(std::string_view text, std::vector<Chunk>& chunks,
                       SplitBehavior behavior) const {
  MatchData md(impl_->code);
  std::vector<Chunk> out;
  out.reserve(chunks.size() * 2);
  for (const Chunk& chunk : chunks) {
    const std::string_view subject = text.substr(chunk.offset, chunk.length);
    size_t pos = 0;  // search position
    size_t gap = 0;  // start of the text not yet emitted
    bool last_was_match = false;
    const size_t first_of_chunk = out.size();
    auto emit = [&](size_t begin, size_t end) {
      out.push_back(
          {static_cast<uint32_t>(chunk.offset + begin), static_cast<uint32_t>(end - begin)});
    };
    while (pos < subject.size()) {
      size_t mb = 0, me = 0;
      if (!next_match(impl_->code, subject, pos, md.data, mb, me)) break;
      if (me == mb) {
        // An empty match splits nothing: move on by one character.
        size_t step = 1;
        while (mb + step < subject.size() &&
               (static_cast<unsigned char>(subject[mb + step]) & 0xC0) == 0x80)
          ++step;
        pos = mb + step;
        continue;
      }
      switch (behavior) {
        case SplitBehavior::isolated:
          if (mb > gap) emit(gap, mb);
          emit(mb, me);
          break;
        case SplitBehavior::merged_with_previous:
          // HF: a match joins the segment before it unless that segment was itself a match.
          if (mb > gap) {
            emit(gap, mb);
            last_was_match = false;
          }
          if (!last_was_match && out.size() > first_of_chunk) {
            out.back().length += static_cast<uint32_t>(me - mb);
          } else {
            emit(mb, me);
          }
          break;
        case SplitBehavior::removed:
          if (mb > gap) emit(gap, mb);
          break;
      }
      last_was_match = true;
      gap = me;
      pos = me;
    }
    if (gap < subject.size()) emit(gap, subject.size());
  }
  chunks.swap(out);
}

std::string regex_escape(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    if (std::string_view("\\^$.|?*+()[]{}-/").find(c) != std::string_view::npos)
      out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace inference::tokenizer
