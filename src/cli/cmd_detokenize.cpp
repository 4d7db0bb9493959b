// infer detokenize MODEL [IDS...] — the text of token ids, as the model's tokenizer decodes
// them (special tokens as their text). --jsonl: one JSON array of ids per stdin line in, one
// JSON string per line out.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "inference/error.hpp"
#include "tokenizer/tokenizer.hpp"

namespace inference::cli {
namespace {

struct DetokenizeOptions {
  std::string model;
  std::vector<int32_t> ids;
  bool jsonl = false;
};

std::string json_text(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void run_jsonl(const tokenizer::Tokenizer& tok) {
  std::string line;
  for (size_t number = 1; std::getline(std::cin, line); ++number) {
    const auto where = "stdin line " + std::to_string(number) + ": ";
    const auto value = nlohmann::json::parse(line, nullptr, false);
    bool ok = value.is_array();
    std::vector<int32_t> ids;
    for (size_t i = 0; ok && i < value.size(); ++i) {
      ok = value[i].is_number_integer() && value[i].get<int64_t>() >= INT32_MIN &&
           value[i].get<int64_t>() <= INT32_MAX;
      if (ok) ids.push_back(value[i].get<int32_t>());
    }
    std::cout.flush();
    if (!ok)
      throw Error(ErrorCode::invalid_argument,
                  where + "expected one JSON array of token ids per line");
    try {
      std::cout << json_text(tok.decode(ids)) << "\n";
    } catch (const Error& e) {
      throw Error(e.code(), where + e.what());
    }
  }
}

void setup_detokenize(CLI::App& root) {
  auto o = std::make_shared<DetokenizeOptions>();
  auto* cmd = root.add_subcommand("detokenize", "Text of token ids");
  cmd->add_option("MODEL", o->model, "GGUF file, tokenizer.json, or Hugging Face model directory")
      ->required();
  cmd->add_option("IDS", o->ids, "Token ids (written as raw text, without a trailing newline)");
  cmd->add_flag("--jsonl", o->jsonl,
                "Read one JSON array of ids per stdin line, write one JSON string per line");
  cmd->callback([o] {
    const auto tok = tokenizer::Tokenizer::load(o->model);
    if (o->jsonl) return run_jsonl(*tok);
    std::cout << tok->decode(o->ids);
  });
}

const CommandRegistration kRegister{61, setup_detokenize};

}  // namespace
}  // namespace inference::cli
