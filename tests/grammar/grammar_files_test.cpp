// The grammars/ files (our own equivalents of llama.cpp's grammars/ directory) load, accept
// and reject what they should, and constrain random token walks over a real vocabulary to
// outputs that independent checks (nlohmann's parser, std::regex, a small expression parser)
// accept.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>

#include "engine/generation/token_constraint.hpp"
#include "grammar/gbnf_parser.hpp"
#include "grammar/matcher.hpp"
#include "support/testdata.hpp"
#include "tokenizer/tokenizer.hpp"

namespace inference::grammar {
namespace {

std::string grammar_file(const std::string& name) {
  return test::read_file(test::source_dir() / "grammars" / name);
}

// UTF-8 → UTF-32 so that std::wregex counts characters, not bytes.
std::wstring widen(const std::string& s) {
  std::wstring out;
  for (size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    const int n = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : 4;
    uint32_t cp = n == 1 ? b0 : n == 2 ? (b0 & 0x1F) : n == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    for (int k = 1; k < n && i + static_cast<size_t>(k) < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) & 0x3F);
    out.push_back(static_cast<wchar_t>(cp));
    i += static_cast<size_t>(n);
  }
  return out;
}

Matcher matcher_for(const std::string& name) {
  return Matcher(std::make_shared<const Grammar>(parse_gbnf(grammar_file(name))));
}

// expr ::= term (('+'|'-') term)*, term ::= factor (('*'|'/') factor)*, factor ::= '-'? (num | '('
// expr ')')
bool parse_arith(const std::string& s, size_t& i);
void skip_space(const std::string& s, size_t& i) {
  while (i < s.size() && s[i] == ' ') ++i;
}
bool parse_factor(const std::string& s, size_t& i) {
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '(') {
    ++i;
    skip_space(s, i);
    if (!parse_arith(s, i)) return false;
    skip_space(s, i);
    if (i >= s.size() || s[i] != ')') return false;
    ++i;
    return true;
  }
  const size_t start = i;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  return i > start;
}
bool parse_term(const std::string& s, size_t& i) {
  if (!parse_factor(s, i)) return false;
  for (;;) {
    size_t j = i;
    skip_space(s, j);
    if (j >= s.size() || (s[j] != '*' && s[j] != '/')) return true;
    ++j;
    skip_space(s, j);
    i = j;
    if (!parse_factor(s, i)) return false;
  }
}
bool parse_arith(const std::string& s, size_t& i) {
  if (!parse_term(s, i)) return false;
  for (;;) {
    size_t j = i;
    skip_space(s, j);
    if (j >= s.size() || (s[j] != '+' && s[j] != '-')) return true;
    ++j;
    skip_space(s, j);
    i = j;
    if (!parse_term(s, i)) return false;
  }
}
bool is_arith(const std::string& s) {
  size_t i = 0;
  return parse_arith(s, i) && i == s.size();
}

TEST(GrammarFiles, AcceptAndReject) {
  auto json = matcher_for("json.gbnf");
  EXPECT_TRUE(json.matches(R"({"a": [1, -2.5e3, "x\n", true, null, {}]})"));
  EXPECT_FALSE(json.matches(R"({"a": [1,]})"));
  auto arith = matcher_for("arithmetic.gbnf");
  EXPECT_TRUE(arith.matches("(1 + 2) * -3/4"));
  EXPECT_FALSE(arith.matches("1 + * 2"));
  auto list = matcher_for("list.gbnf");
  EXPECT_TRUE(list.matches("- eggs\n- milk\n"));
  EXPECT_FALSE(list.matches("- eggs\nmilk\n"));
  auto chess = matcher_for("chess.gbnf");
  EXPECT_TRUE(chess.matches("1. e4 e5 2. Nf3 Nc6 3. Bb5 a6 4. O-O Nxe4+"));
  EXPECT_FALSE(chess.matches("1. e9"));
}

TEST(GrammarFiles, RandomWalksStayInsideTheGrammar) {
  static const auto tok =
      tokenizer::Tokenizer::load(test::testdata_dir() / "vocab/ggml-vocab-gpt-2.gguf");
  const std::wregex list_re(L"^(- [^\\n\\r]{1,60}\\n){1,10}$");
  const std::regex chess_re("^[1-9][0-9]?\\. \\S+( \\S+)?( [1-9][0-9]?\\. \\S+( \\S+)?)*$");
  int complete = 0;
  for (const char* name : {"json.gbnf", "arithmetic.gbnf", "list.gbnf", "chess.gbnf"}) {
    const std::string source = grammar_file(name);
    for (uint32_t seed = 0; seed < 5; ++seed) {
      auto c = generation::make_token_constraint({OutputConstraint::Kind::gbnf, source}, *tok);
      std::mt19937 rng(seed + 17);
      std::vector<float> logits(static_cast<size_t>(tok->n_vocab()));
      std::string text;
      bool ended = false;
      for (int step = 0; step < 120 && !ended; ++step) {
        std::fill(logits.begin(), logits.end(), 0.0f);
        c->mask(logits);
        std::vector<int32_t> allowed;
        bool end_allowed = false;
        for (int32_t i = 0; i < tok->n_vocab(); ++i) {
          if (std::isinf(logits[static_cast<size_t>(i)])) continue;
          if (tok->is_end_of_generation(i)) {
            end_allowed = true;
          } else {
            allowed.push_back(i);
          }
        }
        if (end_allowed && (allowed.empty() || rng() % 3 == 0)) {
          ended = true;
          break;
        }
        ASSERT_FALSE(allowed.empty());
        const int32_t id = allowed[rng() % allowed.size()];
        c->accept(id);
        text += tok->token_to_piece(id);
        ended = c->exhausted();
      }
      SCOPED_TRACE(std::string(name) + ": " + text);
      Matcher check = matcher_for(name);
      EXPECT_NE(check.advance(check.start(), text), Matcher::kDead);
      if (!ended) continue;
      ++complete;
      EXPECT_TRUE(check.matches(text));
      const std::string n = name;
      bool independent_ok = true;
      if (n == "json.gbnf") independent_ok = nlohmann::json::accept(text);
      if (n == "arithmetic.gbnf") independent_ok = is_arith(text);
      if (n == "list.gbnf") independent_ok = std::regex_match(widen(text), list_re);
      if (n == "chess.gbnf") independent_ok = std::regex_match(text, chess_re);
      EXPECT_TRUE(independent_ok);
    }
  }
  EXPECT_GT(complete, 8);
}

}  // namespace
}  // namespace inference::grammar
