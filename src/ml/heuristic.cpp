#include "ml/heuristic.hpp"

#include <algorithm>
#include <string>
#include <unordered_set>
#include <vector>

#include "ml/pcre_regex.hpp"

namespace inference::ml {
namespace {

// Apostrophes: ASCII and the typographic right quote, both common in model output.
#define APOS "['\u2019]"

struct Patterns {
  PcreRegex compliance{
      "as an ai|i cannot|i can" APOS
      "t|i can not|language model|i apologi[sz]e|not permitted|"
      "i" APOS "m not able to|i am not able to|i" APOS
      "m unable to|i am unable to|"
      "i must decline|against my (?:guidelines|programming)|i do not have personal|"
      "i don" APOS "t have personal"};
  PcreRegex preamble{
      "^(?:as an ai|sure,? here" APOS "s|sure,? here is|okay,? let" APOS "s|ok,? let" APOS
      "s|great question|certainly!|absolutely!|of course!|what a (?:great|fascinating|"
      "wonderful) question)"};
  PcreRegex first_person{"\\b(?:i" APOS "(?:m|ve|ll|d)|i|me|my|mine|myself)\\b"};
  PcreRegex narrative_opener{
      "^(?:once upon a time|long ago|in a (?:land|world|time|village|kingdom|city)|there "
      "(?:was|once was|lived)|it was a (?:dark|cold|quiet|long|bright))"};
  PcreRegex story{
      "[\"\u201c][^\"\u201d\\n]{1,200}[\"\u201d],?\\s*(?:she|he|they|i)?\\s*(?:said|asked|"
      "whispered|replied|shouted)|\\b(?:story|tale|poem|verse|character|protagonist|chapter|"
      "narrator)\\b"};
  PcreRegex metaphor{
      "\\b(?:like a|as if|as though|tapestry|whisper(?:s|ed)?|echo(?:es|ed)?|dance[sd]?|"
      "shadows?|heart|soul|river|ocean|storm|bloom(?:s|ed)?|embers?|weav(?:e|es|ing))\\b"};
  PcreRegex heading_or_bold{"^#{1,6}\\s|\\*\\*[^*\\n]+\\*\\*", /*multiline=*/true};
  PcreRegex ethics{
      "\\b(?:utilitarian\\w*|deontolog\\w*|virtue ethics|consequentialis\\w*|kantian|"
      "categorical imperative|social contract|autonomy|consent|sovereignty|dignity|justice|"
      "(?:ethical|moral) framework)\\b"};
  PcreRegex technical{
      "\\b(?:algorithms?|functions?|variables?|databases?|latency|throughput|architecture|"
      "protocols?|encryption|neural|gradients?|tensors?|compilers?|kernels?|api|regex|"
      "recursion|complexity|hypothes[ie]s|entropy)\\b"};
  PcreRegex emotion{
      "\\b(?:feel(?:s|ing|ings)?|felt|joy(?:ful)?|sad(?:ness)?|grief|griev\\w*|lov(?:e|es|ed)|"
      "lonel\\w*|fear(?:s|ful)?|afraid|anger|angry|hope(?:s|ful)?|longing|tender(?:ness)?|"
      "ach(?:e|es|ed|ing)|compassion\\w*|empath\\w*|sorrow\\w*|delight\\w*|anxious|anxiety|"
      "grateful|gratitude|warmth|vulnerab\\w*)\\b"};
  PcreRegex truncation{"<\\|endoftext\\|>|<\\|im_end\\|>|<\\|eot_id\\|>|<end_of_turn>|</s>"};
  PcreRegex starts_error{"^error"};
  PcreRegex broken{"<pad>|<unused|</?[a-z][a-z0-9]*(?:\\s[^<>]*)?/?>"};
};
#undef APOS

const Patterns& patterns() {
  static const Patterns p;
  return p;
}

std::string_view trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n\f\v");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n\f\v");
  return s.substr(b, e - b + 1);
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

size_t word_count(std::string_view s) {
  size_t n = 0;
  bool in_word = false;
  for (unsigned char c : s) {
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

int capped(size_t v, int cap) {
  return static_cast<int>(std::min<size_t>(v, cap));
}

int creative_form(std::string_view text, std::string_view trimmed) {
  const Patterns& p = patterns();
  int score = 0;
  size_t lines = 0, short_lines = 0;
  size_t start = 0;
  for (;;) {
    const size_t nl = text.find('\n', start);
    const std::string_view line =
        text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    ++lines;
    if (utf8_length(line) < 60) ++short_lines;
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  if (lines > 6 && short_lines * 2 > lines) score += 2;
  if (p.narrative_opener.search(trimmed)) score += 1;
  if (p.story.search(text)) score += 1;
  score += capped(p.metaphor.count(text), 3);
  return score;
}

int engagement_depth(std::string_view text, std::string_view trimmed) {
  const Patterns& p = patterns();
  if (trimmed.empty() || p.starts_error.search(trimmed)) return 0;
  int score = 0;
  if (p.heading_or_bold.search(text)) score += 1;
  if (p.ethics.search(text)) score += 2;
  score += capped(p.technical.count(text), 3);
  const size_t words = word_count(text);
  if (words > 200) score += 1;
  if (words > 400) score += 1;
  return score;
}

int degeneration(std::string_view text, std::string_view trimmed) {
  if (trimmed.empty()) return 10;
  if (patterns().truncation.search(text)) return 5;
  if (trimmed.ends_with("...") || trimmed.ends_with("\u2026")) return 5;
  // Repeated-sentence ratio over "."-split sentences (trimmed, ASCII case folded, empties out).
  std::vector<std::string> sentences;
  size_t start = 0;
  for (;;) {
    const size_t dot = text.find('.', start);
    std::string_view piece = trim(
        text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (!piece.empty()) {
      std::string s(piece);
      for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      sentences.push_back(std::move(s));
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (sentences.empty()) return 0;
  std::unordered_set<std::string> unique(sentences.begin(), sentences.end());
  const double r = 1.0 - static_cast<double>(unique.size()) / static_cast<double>(sentences.size());
  if (r > 0.5) return 5;
  if (r > 0.3) return 3;
  if (r > 0.15) return 1;
  return 0;
}

int empty_broken(std::string_view text, std::string_view trimmed) {
  const Patterns& p = patterns();
  if (trimmed.empty() || utf8_length(trimmed) < 10) return 1;
  if (p.starts_error.search(trimmed)) return 1;
  return p.broken.search(text) ? 1 : 0;
}

double n(double x, double cap) {
  return std::min(x / cap, 1.0);
}

}  // namespace

double lek_score(const HeuristicScores& s) {
  const double positive = (2.0 * n(s.engagement_depth, 5) + 3.0 * n(s.creative_form, 4) +
                           2.0 * n(s.emotional_register, 5) + 1.5 * n(s.first_person, 4)) /
                          8.5;
  const double negative = (5.0 * n(s.compliance_markers, 5) + 3.0 * n(s.formulaic_preamble, 1) +
                           4.0 * n(s.degeneration, 5) + 20.0 * n(s.empty_broken, 1)) /
                          32.0;
  return std::clamp(positive * (1.0 - negative), 0.0, 1.0);
}

HeuristicScores score_heuristic(std::string_view text) {
  const Patterns& p = patterns();
  const std::string_view trimmed = trim(text);
  HeuristicScores s;
  s.compliance_markers = static_cast<int>(p.compliance.count(text));
  s.formulaic_preamble = p.preamble.search(trimmed) ? 1 : 0;
  s.first_person = static_cast<int>(p.first_person.count(text));
  s.creative_form = creative_form(text, trimmed);
  s.engagement_depth = engagement_depth(text, trimmed);
  s.emotional_register = capped(p.emotion.count(text), 10);
  s.degeneration = degeneration(text, trimmed);
  s.empty_broken = empty_broken(text, trimmed);
  s.lek_score = lek_score(s);
  return s;
}

nlohmann::json to_json(const HeuristicScores& s) {
  return {{"compliance_markers", s.compliance_markers},
          {"formulaic_preamble", s.formulaic_preamble},
          {"first_person", s.first_person},
          {"creative_form", s.creative_form},
          {"engagement_depth", s.engagement_depth},
          {"emotional_register", s.emotional_register},
          {"degeneration", s.degeneration},
          {"empty_broken", s.empty_broken},
          {"lek_score", s.lek_score}};
}

}  // namespace inference::ml
