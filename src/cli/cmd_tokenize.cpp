// infer tokenize MODEL [TEXT] — the token ids (and pieces) of a text, as the model's own
// tokenizer makes them. MODEL: a GGUF file (vocab-only is enough), a tokenizer.json, or a
// Hugging Face model directory. --jsonl: one JSON string per stdin line in, one JSON array of
// ids per line out (batch mode for tools and tests). Hidden --bench: encoding speed in MB/s.
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "inference/error.hpp"
#include "tokenizer/tokenizer.hpp"

namespace inference::cli {
namespace {

struct TokenizeOptions {
  std::string model;
  std::string text;
  std::string file;
  bool has_text = false;
  bool jsonl = false;
  bool json = false;
  bool special = false;
  bool no_bos = false;
  double bench_seconds = 0;
};

std::string json_text(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string read_all(std::istream& in) {
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void run_jsonl(const tokenizer::Tokenizer& tok, const TokenizeOptions& o) {
  std::string line;
  for (size_t number = 1; std::getline(std::cin, line); ++number) {
    const auto value = nlohmann::json::parse(line, nullptr, false);
    if (value.is_discarded() || !value.is_string()) {
      std::cout.flush();
      throw Error(ErrorCode::invalid_argument,
                  "stdin line " + std::to_string(number) + ": expected one JSON string per line");
    }
    const auto ids = tok.encode(value.get_ref<const std::string&>(), !o.no_bos, o.special);
    std::cout << nlohmann::json(ids).dump() << "\n";
  }
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Encodes `text` repeatedly for about `seconds` of CPU time and reports the throughput per
// core (CPU time, so that other load on the machine does not distort it).
void run_bench(const tokenizer::Tokenizer& tok, const std::string& text, const TokenizeOptions& o) {
  if (text.empty()) throw Error(ErrorCode::invalid_argument, "--bench needs a non-empty text");
  size_t rounds = 0, tokens = 0;
  const double start = cpu_seconds();
  double elapsed = 0;
  do {
    tokens += tok.encode(text, !o.no_bos, o.special).size();
    ++rounds;
    elapsed = cpu_seconds() - start;
  } while (elapsed < o.bench_seconds);
  const double mb = static_cast<double>(text.size() * rounds) / 1e6;
  std::cout << "bytes " << text.size() << " rounds " << rounds << " tokens/round "
            << tokens / rounds << " cpu_seconds " << elapsed << " MB/s/core " << mb / elapsed
            << "\n";
}

void setup_tokenize(CLI::App& root) {
  auto o = std::make_shared<TokenizeOptions>();
  auto* cmd = root.add_subcommand("tokenize", "Token ids and pieces of a text");
  cmd->add_option("MODEL", o->model, "GGUF file, tokenizer.json, or Hugging Face model directory")
      ->required();
  cmd->add_option("TEXT", o->text, "Text to tokenize (default: all of stdin)");
  cmd->add_option("--file", o->file, "Read the text from this file");
  cmd->add_flag("--jsonl", o->jsonl,
                "Read one JSON string per stdin line, write one JSON array of ids per line");
  cmd->add_flag("--json", o->json, "Write {\"ids\": [...], \"pieces\": [...]} as one JSON line");
  cmd->add_flag("--special", o->special,
                "Parse special-token text (e.g. <|im_start|>) into those tokens");
  cmd->add_flag("--no-bos", o->no_bos, "Do not add BOS/EOS (the model's add_bos/add_eos rules)");
  cmd->add_option("--bench", o->bench_seconds, "Measure encoding speed for this many seconds")
      ->group("");
  cmd->callback([o, cmd] {
    const auto tok = tokenizer::Tokenizer::load(o->model);
    if (o->jsonl) return run_jsonl(*tok, *o);
    std::string text;
    if (!o->file.empty()) {
      std::ifstream in(o->file, std::ios::binary);
      if (!in) throw Error(ErrorCode::not_found, o->file + ": cannot open");
      text = read_all(in);
    } else if (cmd->count("TEXT") > 0) {
      text = o->text;
    } else {
      text = read_all(std::cin);
    }
    if (o->bench_seconds > 0) return run_bench(*tok, text, *o);
    const auto ids = tok->encode(text, !o->no_bos, o->special);
    if (o->json) {
      nlohmann::json pieces = nlohmann::json::array();
      for (int32_t id : ids) pieces.push_back(tok->token_to_piece(id));
      std::cout << nlohmann::json{{"ids", ids}, {"pieces", pieces}}.dump(
                       -1, ' ', false, nlohmann::json::error_handler_t::replace)
                << "\n";
      return;
    }
    for (int32_t id : ids) std::cout << id << "\t" << json_text(tok->token_to_piece(id)) << "\n";
  });
}

const CommandRegistration kRegister{60, setup_tokenize};

}  // namespace
}  // namespace inference::cli
