#include "tokenizer/hf_tokenizer.hpp"

#include <algorithm>

#include "inference/error.hpp"
#include "tokenizer/byte_level.hpp"
#include "tokenizer/text_cleanup.hpp"
#include "tokenizer/unicode_nfc.hpp"
#include "tokenizer/utf8.hpp"

namespace inference::tokenizer {
namespace {

constexpr std::string_view kEndOfGeneration[] = {
    "<|eot_id|>",    "<|im_end|>", "<|end|>",         "<end_of_turn>",
    "<|endoftext|>", "<|eom_id|>", "<|end_of_text|>",
};

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  for (size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size())
    s.replace(p, from.size(), to);
}

// "<0xAB>" -> 0xAB (HF ByteFallback accepts either case of hex digit).
std::optional<uint8_t> byte_token_value(std::string_view t) {
  if (t.size() != 6 || !t.starts_with("<0x") || t[5] != '>') return std::nullopt;
  int v = 0;
  for (char c : t.substr(3, 2)) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return std::nullopt;
    v = v * 16 + d;
  }
  return static_cast<uint8_t>(v);
}

}  // namespace

HfTokenizer::HfTokenizer(Settings s)
    : nfc_(s.nfc),
      replacements_(std::move(s.replacements)),
      prepend_(std::move(s.prepend)),
      splits_(std::move(s.splits)),
      byte_level_(s.byte_level),
      ignore_merges_(s.ignore_merges),
      byte_fallback_(s.byte_fallback),
      fuse_unk_(s.fuse_unk),
      unk_(s.unk),
      prefix_(std::move(s.prefix)),
      suffix_(std::move(s.suffix)),
      decoder_(std::move(s.decoder)),
      clean_up_spaces_(s.clean_up_spaces),
      bos_(s.bos),
      eos_(s.eos),
      pre_name_(std::move(s.pre_name)) {
  size_t n = s.model_texts.size();
  for (const auto& a : s.added) n = std::max(n, static_cast<size_t>(a.id) + 1);
  std::vector<std::string_view> texts(n);
  std::copy(s.model_texts.begin(), s.model_texts.end(), texts.begin());
  in_model_.assign(n, false);
  types_.assign(n, TokenType::undefined);
  for (size_t i = 0; i < s.model_texts.size(); ++i) {
    if (s.model_texts[i].empty()) continue;
    in_model_[i] = true;
    types_[i] =
        byte_fallback_ && byte_token_value(s.model_texts[i]) ? TokenType::byte : TokenType::normal;
  }
  if (unk_ >= 0 && static_cast<size_t>(unk_) < n) types_[unk_] = TokenType::unknown;
  vocab_ = std::make_unique<Vocab>(texts, types_, std::vector<float>{});

  std::vector<SpecialTokenMatcher::Entry> entries;
  for (auto& a : s.added) {
    types_[a.id] = a.special ? TokenType::control : TokenType::user_defined;
    auto& stored = added_text_[a.id] = a.content;
    if (std::find(std::begin(kEndOfGeneration), std::end(kEndOfGeneration), stored) !=
        std::end(kEndOfGeneration)) {
      end_of_generation_.push_back(a.id);
    }
  }
  // Entries point into added_text_, whose nodes never move.
  for (const auto& a : s.added) {
    entries.push_back({a.id, added_text_.at(a.id), a.lstrip, a.rstrip, !a.special});
  }
  added_ = SpecialTokenMatcher(std::move(entries));
  if (eos_ >= 0) end_of_generation_.push_back(eos_);
  std::sort(end_of_generation_.begin(), end_of_generation_.end());

  merges_.reserve(s.merges.size());
  std::string joined;
  for (size_t rank = 0; rank < s.merges.size(); ++rank) {
    const auto [l, r] = s.merges[rank];
    joined.assign(l).append(r);
    const int32_t a = model_find(l), b = model_find(r), m = model_find(joined);
    if (a >= 0 && b >= 0 && m >= 0) merges_.add(a, b, static_cast<int32_t>(rank), m);
  }
  for (int b = 0; b < 256; ++b) {
    byte_symbol_[b] = model_find(byte_to_unicode(static_cast<uint8_t>(b)));
    static constexpr char kHex[] = "0123456789ABCDEF";
    const char name[7] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>', 0};
    byte_token_[b] = model_find(name);
  }
}

int32_t HfTokenizer::model_find(std::string_view text) const noexcept {
  const int32_t id = vocab_->find(text);
  return id >= 0 && in_model_[id] ? id : -1;
}

void HfTokenizer::check_id(int32_t id) const {
  if (!vocab_->valid(id)) {
    throw Error(ErrorCode::invalid_argument, "token id " + std::to_string(id) +
                                                 " is outside the vocabulary (0.." +
                                                 std::to_string(vocab_->size() - 1) + ")");
  }
}

std::string HfTokenizer::normalize(std::string_view text) const {
  std::string out = nfc_ ? nfc_normalize(text) : std::string(text);
  for (const auto& [from, to] : replacements_) replace_all(out, from, to);
  if (!prepend_.empty() && !out.empty()) out.insert(0, prepend_);
  return out;
}

std::vector<int32_t> HfTokenizer::encode(std::string_view input, bool add_special,
                                         bool parse_special) const {
  // Hugging Face tokenizes strings; bytes that are not UTF-8 are read as U+FFFD.
  std::string owned;
  std::string_view text = input;
  if (!is_valid_utf8(input)) {
    owned = lossy_utf8(input);
    text = owned;
  }
  std::vector<int32_t> out;
  if (add_special) out.insert(out.end(), prefix_.begin(), prefix_.end());
  BpeScratch scratch;
  std::vector<BpeSymbol> symbols;
  for (const Fragment& f : added_.partition_leftmost_longest(text, parse_special)) {
    if (!f.is_text()) {
      out.push_back(f.token);
      continue;
    }
    std::string normalized = normalize(text.substr(f.offset, f.length));
    if (normalized.size() > UINT32_MAX)
      throw Error(ErrorCode::invalid_argument, "text too long to tokenize");
    // See GgufTokenizer: U+180E must not count as whitespace in the regexes.
    std::string match_copy;
    std::string_view subject = normalized;
    if (normalized.find("\xE1\xA0\x8E") != std::string::npos) {
      match_copy = normalized;
      replace_all(match_copy, "\xE1\xA0\x8E", "\xE2\x80\x8B");
      subject = match_copy;
    }
    std::vector<Chunk> chunks;
    if (!normalized.empty()) chunks.push_back({0, static_cast<uint32_t>(normalized.size())});
    for (const auto& step : splits_) step.regex.split(subject, chunks, step.behavior);
    for (const Chunk& c : chunks)
      encode_word(std::string_view(normalized).substr(c.offset, c.length), symbols, scratch, out);
  }
  if (add_special) out.insert(out.end(), suffix_.begin(), suffix_.end());
  return out;
}

void HfTokenizer::encode_word(std::string_view word, std::vector<BpeSymbol>& symbols,
                              BpeScratch& scratch, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    const int32_t id = byte_level_ ? model_find(encode_byte_level(word)) : model_find(word);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  symbols.clear();
  // Unknown characters become the unk token (consecutive ones fused into one if fuse_unk).
  bool pending_unk = false;
  uint32_t unk_offset = 0, unk_length = 0;
  auto flush_unk = [&] {
    if (pending_unk) symbols.push_back({unk_, unk_offset, unk_length});
    pending_unk = false;
  };
  auto unknown = [&](uint32_t offset, uint32_t length) {
    if (unk_ < 0) return;  // no unk token: the character is dropped, as HF does
    if (pending_unk && fuse_unk_) {
      unk_length += length;
      return;
    }
    flush_unk();
    pending_unk = true;
    unk_offset = offset;
    unk_length = length;
  };
  for (uint32_t pos = 0; pos < word.size();) {
    uint32_t len =
        byte_level_
            ? 1
            : static_cast<uint32_t>(std::min(
                  utf8_lead_length(static_cast<unsigned char>(word[pos])), word.size() - pos));
    const int32_t id = byte_level_ ? byte_symbol_[static_cast<unsigned char>(word[pos])]
                                   : model_find(word.substr(pos, len));
    if (id >= 0) {
      flush_unk();
      symbols.push_back({id, pos, len});
    } else {
      bool done = false;
      if (byte_fallback_) {
        done = true;
        for (uint32_t k = 0; k < len; ++k)
          done = done && byte_token_[static_cast<unsigned char>(word[pos + k])] >= 0;
        // HF adds the byte tokens without flushing a pending unk first.
        if (done) {
          for (uint32_t k = 0; k < len; ++k)
            symbols.push_back({byte_token_[static_cast<unsigned char>(word[pos + k])], pos + k, 1});
        }
      }
      if (!done) unknown(pos, len);
    }
    pos += len;
  }
  flush_unk();
  bpe_merge(symbols, merges_, scratch);
  for (const BpeSymbol& s : symbols) out.push_back(s.id);
}

std::string HfTokenizer::decode_tokens(std::span<const int32_t> ids, bool continued,
                                       bool lossy) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) tokens.emplace_back(token_text(id));
  for (const DecodeStep& step : decoder_) {
    switch (step.kind) {
      case DecodeStep::replace:
        for (auto& t : tokens) replace_all(t, step.from, step.to);
        break;
      case DecodeStep::byte_fallback: {
        // Runs of <0xXX> tokens become their bytes if those are valid UTF-8, otherwise one
        // U+FFFD per byte token.
        std::vector<std::string> merged;
        std::string run;
        size_t run_tokens = 0;
        auto flush = [&] {
          if (run_tokens == 0) return;
          if (is_valid_utf8(run)) {
            merged.push_back(run);
          } else {
            for (size_t k = 0; k < run_tokens; ++k) merged.emplace_back("\xEF\xBF\xBD");
          }
          run.clear();
          run_tokens = 0;
        };
        for (auto& t : tokens) {
          if (auto b = byte_token_value(t)) {
            run.push_back(static_cast<char>(*b));
            ++run_tokens;
          } else {
            flush();
            merged.push_back(std::move(t));
          }
        }
        flush();
        tokens.swap(merged);
        break;
      }
      case DecodeStep::fuse: {
        std::string all;
        for (const auto& t : tokens) all += t;
        tokens.assign(1, std::move(all));
        break;
      }
      case DecodeStep::strip:
        for (auto& t : tokens) {
          size_t start = 0, stop = t.size();
          for (size_t k = 0; k < step.strip_start && start < stop &&
                             t.compare(start, step.from.size(), step.from) == 0;
               ++k)
            start += step.from.size();
          for (size_t k = 0; k < step.strip_stop && stop >= start + step.from.size() &&
                             t.compare(stop - step.from.size(), step.from.size(), step.from) == 0;
               ++k)
            stop -= step.from.size();
          t = t.substr(start, stop - start);
        }
        break;
      case DecodeStep::metaspace:
        for (size_t i = 0; i < tokens.size(); ++i) {
          replace_all(tokens[i], step.from, " ");
          if (i == 0 && !continued && step.metaspace_strip_first && !tokens[i].empty() &&
              tokens[i][0] == ' ')
            tokens[i].erase(0, 1);
        }
        break;
      case DecodeStep::byte_level: {
        std::string bytes;
        for (const auto& t : tokens) {
          const size_t before = bytes.size();
          if (!decode_byte_level(t, bytes)) {
            bytes.resize(before);
            bytes += t;  // a token outside the byte map is kept as it is
          }
        }
        tokens.assign(1, std::move(bytes));
        break;
      }
    }
  }
  std::string out;
  for (const auto& t : tokens) out += t;
  return lossy ? lossy_utf8(out) : out;
}

std::string HfTokenizer::decode_with(std::span<const int32_t> ids,
                                     const DecodeOptions& options) const {
  std::string text = decode_tokens(ids, options.continued, true);
  if (options.clean_up_spaces.value_or(clean_up_spaces_)) text = hf_clean_up_tokenization(text);
  return text;
}

std::string HfTokenizer::token_to_piece(int32_t id) const {
  check_id(id);
  if (types_[id] == TokenType::byte && byte_fallback_) {
    if (auto b = byte_token_value(vocab_->text(id))) return std::string(1, static_cast<char>(*b));
  }
  const int32_t one[1] = {id};
  return decode_tokens(one, true, false);
}

std::string_view HfTokenizer::token_text(int32_t id) const {
  check_id(id);
  if (auto it = added_text_.find(id); it != added_text_.end()) return it->second;
  return vocab_->text(id);
}

TokenType HfTokenizer::token_type(int32_t id) const {
  check_id(id);
  return types_[id];
}

bool HfTokenizer::add_bos() const {
  return bos_ >= 0 && std::find(prefix_.begin(), prefix_.end(), bos_) != prefix_.end();
}

bool HfTokenizer::add_eos() const {
  return eos_ >= 0 && std::find(suffix_.begin(), suffix_.end(), eos_) != suffix_.end();
}

bool HfTokenizer::is_end_of_generation(int32_t id) const {
  return std::binary_search(end_of_generation_.begin(), end_of_generation_.end(), id);
}

}  // namespace inference::tokenizer
