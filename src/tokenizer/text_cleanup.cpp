#include "tokenizer/text_cleanup.hpp"

#include <utility>

namespace inference::tokenizer {

std::string llama_clean_spaces(std::string_view in) {
  std::string text(in);
  if (text.empty()) return text;
  // Pass 1: a space before ? ! . , is dropped.
  {
    std::string out(1, text[0]);
    for (size_t i = 1; i < text.size(); ++i) {
      const char x = text[i];
      if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) out.pop_back();
      out.push_back(x);
    }
    text = std::move(out);
  }
  // Pass 2: " ' " becomes "'". The dropped space is blanked in place, as llama.cpp does, so a
  // following apostrophe does not see it.
  {
    std::string out(1, text[0]);
    for (size_t i = 1; i < text.size(); ++i) {
      const char x = text[i];
      if (x == '\'' && i + 1 < text.size() && text[i - 1] == ' ' && text[i + 1] == ' ') {
        out.pop_back();
        text[++i] = '\0';
      }
      out.push_back(x);
    }
    text = std::move(out);
  }
  // Pass 3: " 's" " 'm" " 're" " 've" lose the space (" 't" " 'd" " 'll" keep it).
  {
    std::string out(1, text[0]);
    for (size_t i = 1; i < text.size(); ++i) {
      const char x = text[i];
      if (text[i - 1] == ' ' && x == '\'' && i + 1 < text.size()) {
        const char x1 = text[i + 1];
        if (x1 == 's' || x1 == 'm') {
          out.pop_back();
        } else if (i + 2 < text.size()) {
          const char x2 = text[i + 2];
          if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) out.pop_back();
        }
      }
      out.push_back(x);
    }
    text = std::move(out);
  }
  return text;
}

std::string hf_clean_up_tokenization(std::string_view in) {
  static constexpr std::pair<std::string_view, std::string_view> kRules[] = {
      {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
  };
  std::string text(in);
  for (const auto& [from, to] : kRules) {
    if (text.find(from) == std::string::npos) continue;
    std::string out;
    out.reserve(text.size());
    size_t pos = 0;
    for (size_t hit; (hit = text.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
      out.append(text, pos, hit - pos).append(to);
    }
    out.append(text, pos, std::string::npos);
    text = std::move(out);
  }
  return text;
}

}  // namespace inference::tokenizer
