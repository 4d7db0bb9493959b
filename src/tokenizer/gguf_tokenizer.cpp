#include "tokenizer/gguf_tokenizer.hpp"

#include <algorithm>

#include "inference/error.hpp"
#include "tokenizer/byte_level.hpp"
#include "tokenizer/spm.hpp"
#include "tokenizer/text_cleanup.hpp"
#include "tokenizer/utf8.hpp"

namespace inference::tokenizer {

GgufTokenizer::GgufTokenizer(std::unique_ptr<Vocab> vocab, Settings s)
    : vocab_(std::move(vocab)),
      spm_(s.spm),
      pre_(std::move(s.pre)),
      bos_(s.bos),
      eos_(s.eos),
      add_bos_(s.add_bos),
      add_eos_(s.add_eos),
      add_space_prefix_(s.add_space_prefix),
      end_of_generation_(std::move(s.end_of_generation)) {
  std::sort(end_of_generation_.begin(), end_of_generation_.end());
  const int32_t unk = s.unk;
  for (int b = 0; b < 256; ++b) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    const char name[7] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>', 0};
    int32_t id = vocab_->find(name);
    if (id < 0) id = vocab_->find(std::string(1, static_cast<char>(b)));  // llama.cpp's fallback
    byte_token_[b] = id >= 0 ? id : unk;
  }
  if (!spm_) {
    for (const auto& r : pre_.regexes) regexes_.emplace_back(r);
    for (int b = 0; b < 256; ++b)
      byte_symbol_[b] = bpe_symbol_id(byte_to_unicode(static_cast<uint8_t>(b)));
    merges_.reserve(s.merges.size());
    std::string joined;
    for (size_t rank = 0; rank < s.merges.size(); ++rank) {
      const auto [left, right] = s.merges[rank];
      if (left.empty() || right.empty()) continue;  // malformed entry: can never match
      joined.assign(left).append(right);
      merges_.add(bpe_symbol_id(left), bpe_symbol_id(right), static_cast<int32_t>(rank),
                  bpe_symbol_id(joined));
    }
  }
  // Special tokens: control and unknown ones are found only with parse_special; user-defined
  // ones always (llama.cpp pre-tokenizes them before everything else).
  std::vector<SpecialTokenMatcher::Entry> entries;
  for (int32_t id = 0; id < vocab_->size(); ++id) {
    const TokenType t = vocab_->type(id);
    if (t != TokenType::control && t != TokenType::user_defined && t != TokenType::unknown)
      continue;
    const bool rstrip =
        std::find(s.rstrip_tokens.begin(), s.rstrip_tokens.end(), id) != s.rstrip_tokens.end();
    entries.push_back({id, vocab_->text(id), false, rstrip, t == TokenType::user_defined});
  }
  special_ = SpecialTokenMatcher(std::move(entries));
}

int32_t GgufTokenizer::bpe_symbol_id(std::string_view encoded) {
  const int32_t id = vocab_->find(encoded);
  if (id >= 0) return id;
  auto [it, inserted] = extra_index_.try_emplace(std::string(encoded), 0);
  if (inserted) {
    it->second = vocab_->size() + static_cast<int32_t>(extra_symbols_.size());
    extra_symbols_.push_back(it->first);
  }
  return it->second;
}

void GgufTokenizer::check_id(int32_t id) const {
  if (!vocab_->valid(id)) {
    throw Error(ErrorCode::invalid_argument, "token id " + std::to_string(id) +
                                                 " is outside the vocabulary (0.." +
                                                 std::to_string(vocab_->size() - 1) + ")");
  }
}

std::vector<int32_t> GgufTokenizer::encode(std::string_view text, bool add_special,
                                           bool parse_special) const {
  std::vector<int32_t> out;
  if (add_special && add_bos_ && bos_ >= 0) out.push_back(bos_);
  const auto fragments = special_.partition_longest_first(text, parse_special);
  bool previous_special = true;  // SentencePiece: the first piece gets the space prefix too
  for (const Fragment& f : fragments) {
    if (!f.is_text()) {
      out.push_back(f.token);
      previous_special = true;
      continue;
    }
    const std::string_view piece = text.substr(f.offset, f.length);
    if (spm_) {
      encode_spm_text(piece, add_space_prefix_ && previous_special, out);
    } else {
      encode_bpe_text(piece, out);
    }
    previous_special = false;
  }
  if (add_special && add_eos_ && eos_ >= 0) out.push_back(eos_);
  return out;
}

void GgufTokenizer::encode_spm_text(std::string_view text, bool space_prefix,
                                    std::vector<int32_t>& out) const {
  // SentencePiece stores spaces as U+2581 "▁". The buffer is reused across calls.
  thread_local std::string escaped;
  escaped.clear();
  escaped.reserve(text.size() + 8);
  if (space_prefix) escaped.append("\xE2\x96\x81");
  for (char c : text) {
    if (c == ' ') {
      escaped.append("\xE2\x96\x81");
    } else {
      escaped.push_back(c);
    }
  }
  spm_tokenize(escaped, *vocab_, byte_token_, out);
}

void GgufTokenizer::encode_bpe_text(std::string_view raw, std::vector<int32_t>& out) const {
  // llama.cpp splits text as code points: undecodable bytes become U+FFFD.
  std::string text = sanitize_utf8_lenient(raw);
  if (text.size() > UINT32_MAX)
    throw Error(ErrorCode::invalid_argument, "text too long to tokenize");
  // PCRE2 counts U+180E as whitespace; Unicode (and llama.cpp) do not. Match on a copy where it
  // is replaced by U+200B, a format character of the same length that is not whitespace.
  std::string match_copy;
  std::string_view subject = text;
  if (text.find("\xE1\xA0\x8E") != std::string::npos) {
    match_copy = text;
    for (size_t p = 0; (p = match_copy.find("\xE1\xA0\x8E", p)) != std::string::npos; p += 3)
      match_copy.replace(p, 3, "\xE2\x80\x8B");
    subject = match_copy;
  }
  std::vector<Chunk> chunks;
  if (!text.empty()) chunks.push_back({0, static_cast<uint32_t>(text.size())});
  for (const auto& r : regexes_) r.split(subject, chunks);

  BpeScratch scratch;
  std::vector<BpeSymbol> symbols;
  std::string encoded;
  for (const Chunk& c : chunks) {
    const std::string_view word = std::string_view(text).substr(c.offset, c.length);
    if (pre_.ignore_merges) {
      encoded = encode_byte_level(word);
      const int32_t id = vocab_->find(encoded);
      if (id >= 0) {
        out.push_back(id);
        continue;
      }
    }
    symbols.clear();
    for (uint32_t i = 0; i < word.size(); ++i)
      symbols.push_back({byte_symbol_[static_cast<unsigned char>(word[i])], i, 1});
    bpe_merge(symbols, merges_, scratch);
    for (const BpeSymbol& s : symbols) emit_bpe_symbol(word, s, out);
  }
}

void GgufTokenizer::emit_bpe_symbol(std::string_view word, const BpeSymbol& s,
                                    std::vector<int32_t>& out) const {
  if (s.id < vocab_->size()) {
    out.push_back(s.id);
    return;
  }
  // A symbol that is not a token: llama.cpp looks up each byte of its byte-level text.
  const std::string encoded = encode_byte_level(word.substr(s.offset, s.length));
  for (char c : encoded) {
    const int32_t id = vocab_->find(std::string_view(&c, 1));
    if (id >= 0) out.push_back(id);
  }
}

std::string GgufTokenizer::token_to_piece(int32_t id) const {
  check_id(id);
  const std::string_view text = vocab_->text(id);
  switch (vocab_->type(id)) {
    case TokenType::control:
    case TokenType::unknown:
    case TokenType::user_defined:
      return std::string(text);
    case TokenType::normal: {
      if (spm_) {
        std::string out;
        for (size_t p = 0; p < text.size();) {
          if (text.compare(p, 3, "\xE2\x96\x81") == 0) {
            out.push_back(' ');
            p += 3;
          } else {
            out.push_back(text[p++]);
          }
        }
        return out;
      }
      std::string out;
      if (decode_byte_level(text, out)) return out;
      // llama.cpp's llama_decode_text marks characters outside the byte map.
      out.clear();
      const std::string clean = sanitize_utf8_lenient(text);
      for (size_t p = 0; p < clean.size();) {
        const size_t start = p;
        const uint32_t cp = decode_utf8_at(clean, p);
        if (auto b = unicode_to_byte(cp)) {
          out.push_back(static_cast<char>(*b));
          continue;
        }
        static constexpr char kHex[] = "0123456789abcdef";
        out.append("[UNK_BYTE_0x");
        for (size_t k = start; k < p; ++k) {
          const auto u = static_cast<unsigned char>(clean[k]);
          out.push_back(kHex[u >> 4]);
          out.push_back(kHex[u & 15]);
        }
        out.append(text).append("]");
      }
      return out;
    }
    case TokenType::byte:
      if (spm_ && text.size() == 6 && text.starts_with("<0x")) {
        const auto hex = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
        return std::string(1, static_cast<char>(hex(text[3]) * 16 + hex(text[4])));
      }
      return {};
    default:
      return {};  // unused / undefined tokens print nothing
  }
}

std::string GgufTokenizer::decode_with(std::span<const int32_t> ids,
                                       const DecodeOptions& options) const {
  std::string out;
  bool strip_space = add_space_prefix_ && !options.continued;
  for (int32_t id : ids) {
    std::string piece = token_to_piece(id);
    if (strip_space && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    strip_space = false;
    out.append(piece);
  }
  if (options.clean_up_spaces.value_or(cleans_up_spaces())) out = llama_clean_spaces(out);
  return out;
}

std::string_view GgufTokenizer::token_text(int32_t id) const {
  check_id(id);
  return vocab_->text(id);
}

TokenType GgufTokenizer::token_type(int32_t id) const {
  check_id(id);
  return vocab_->type(id);
}

bool GgufTokenizer::is_end_of_generation(int32_t id) const {
  return std::binary_search(end_of_generation_.begin(), end_of_generation_.end(), id);
}

}  // namespace inference::tokenizer
