// infer bench-grammar VOCAB (--json-schema F | --grammar F | --regex R | --any-json)
//     [--sample FILE] [-r REPS] [--json]
// What constrained decoding costs per token, without a forward pass: compiles the constraint
// (timed), builds the vocabulary trie (timed, once per tokenizer), then replays a realistic
// output — the sample text tokenized by the model's own tokenizer, or a seeded random walk —
// timing mask() before each token and accept() after it, with a fresh constraint per
// repetition (cold matcher caches, as for a new request). CPU time of this thread, so other
// load on the machine does not inflate the figures. VOCAB: any GGUF (vocab-only is enough).
#include <algorithm>
#include <cmath>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "cli/command.hpp"
#include "cli/generation_flags.hpp"
#include "engine/generation/token_constraint.hpp"
#include "grammar/compile.hpp"
#include "grammar/tool_calls.hpp"
#include "inference/error.hpp"
#include "tokenizer/tokenizer.hpp"

namespace inference::cli {
namespace {

struct BenchGrammarOptions {
  std::string vocab;
  ConstraintFlags constraint;
  std::string tools;  // an OpenAI-style tools array: the tool-call grammar is benchmarked
  std::string format = "hermes";
  std::string sample;
  int reps = 5;
  bool json = false;
};

double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// A seeded walk through the allowed tokens, ending as soon as an end token is allowed.
std::vector<int32_t> random_output(const OutputConstraint& c, const tokenizer::Tokenizer& tok) {
  auto constraint = generation::make_token_constraint(c, tok);
  std::mt19937 rng(42);
  std::vector<float> logits(static_cast<size_t>(tok.n_vocab()));
  std::vector<int32_t> ids;
  for (int step = 0; step < 256; ++step) {
    std::fill(logits.begin(), logits.end(), 0.0f);
    constraint->mask(logits);
    std::vector<int32_t> allowed;
    for (int32_t i = 0; i < tok.n_vocab(); ++i) {
      if (std::isinf(logits[static_cast<size_t>(i)])) continue;
      if (tok.is_end_of_generation(i)) return ids;
      allowed.push_back(i);
    }
    if (allowed.empty()) break;
    ids.push_back(allowed[rng() % allowed.size()]);
    constraint->accept(ids.back());
    if (constraint->exhausted()) break;
  }
  return ids;
}

// The constraint for --tools: the tool-call grammar (tool_choice required) in --format.
OutputConstraint tools_constraint(const BenchGrammarOptions& o, double& compile_ms) {
  std::ifstream in(o.tools, std::ios::binary);
  if (!in) throw Error(ErrorCode::not_found, "--tools: cannot read '" + o.tools + "'");
  std::stringstream text;
  text << in.rdbuf();
  // ordered_json: properties are generated in the order the schema lists them.
  const auto list = nlohmann::ordered_json::parse(text.str(), nullptr, false);
  if (!list.is_array()) throw Error(ErrorCode::invalid_argument, "--tools: expected a JSON array");
  std::vector<grammar::ToolSpec> specs;
  for (const auto& t : list) {
    const auto& f = t.contains("function") ? t["function"] : t;
    specs.push_back({f.value("name", ""), f.value("description", ""),
                     f.contains("parameters") ? f["parameters"].dump() : ""});
  }
  grammar::ToolCallFormat format = grammar::ToolCallFormat::generic;
  for (auto candidate : {grammar::ToolCallFormat::llama3, grammar::ToolCallFormat::hermes,
                         grammar::ToolCallFormat::mistral, grammar::ToolCallFormat::generic})
    if (grammar::to_string(candidate) == o.format) format = candidate;
  const double t = thread_seconds();
  OutputConstraint c{
      OutputConstraint::Kind::gbnf,
      grammar::tool_call_gbnf(format, specs, {grammar::ToolChoice::Mode::required, ""})};
  (void)grammar::compile_constraint(c);
  compile_ms = (thread_seconds() - t) * 1e3;
  return c;
}

void run(const BenchGrammarOptions& o) {
  double tools_compile_ms = 0;
  const OutputConstraint c =
      o.tools.empty() ? o.constraint.constraint() : tools_constraint(o, tools_compile_ms);
  if (c.kind == OutputConstraint::Kind::none)
    throw ExitRequest{kUsage, "give --json-schema, --grammar, --regex or --any-json"};
  auto tok = tokenizer::Tokenizer::load(o.vocab);

  double t = thread_seconds();
  (void)grammar::compile_constraint(c);
  // For --tools, compilation includes building the GBNF from the tools' schemas.
  const double compile_ms = o.tools.empty() ? (thread_seconds() - t) * 1e3 : tools_compile_ms;
  t = thread_seconds();
  auto first = generation::make_token_constraint(c, *tok);  // builds the shared trie
  const double first_ms = (thread_seconds() - t) * 1e3;

  std::vector<int32_t> ids;
  if (!o.sample.empty()) {
    std::ifstream in(o.sample, std::ios::binary);
    if (!in) throw Error(ErrorCode::not_found, "--sample: cannot read '" + o.sample + "'");
    std::stringstream text;
    text << in.rdbuf();
    std::string s = text.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    ids = tok->encode(s, false, false);
  } else {
    ids = random_output(c, *tok);
  }

  std::vector<double> per_token;  // microseconds, every token of every repetition
  std::vector<float> logits(static_cast<size_t>(tok->n_vocab()));
  for (int rep = 0; rep < std::max(1, o.reps); ++rep) {
    auto constraint = generation::make_token_constraint(c, *tok);
    for (size_t i = 0; i < ids.size(); ++i) {
      std::fill(logits.begin(), logits.end(), 0.0f);
      const double start = thread_seconds();
      constraint->mask(logits);
      per_token.push_back((thread_seconds() - start) * 1e6);
      if (std::isinf(logits[static_cast<size_t>(ids[i])]))
        throw Error(ErrorCode::invalid_argument,
                    "--sample: token " + std::to_string(i) + " ('" + tok->token_to_piece(ids[i]) +
                        "') is not allowed by the constraint at that point");
      constraint->accept(ids[i]);
    }
  }
  std::vector<double> sorted = per_token;
  std::sort(sorted.begin(), sorted.end());
  auto pct = [&](double p) {
    return sorted.empty()
               ? 0.0
               : sorted[std::min(sorted.size() - 1,
                                 static_cast<size_t>(p * static_cast<double>(sorted.size())))];
  };
  double sum = 0;
  for (double v : per_token) sum += v;
  const double mean = per_token.empty() ? 0.0 : sum / static_cast<double>(per_token.size());
  if (o.json) {
    std::cout << nlohmann::json{{"vocab", o.vocab},
                                {"n_vocab", tok->n_vocab()},
                                {"tokens", ids.size()},
                                {"reps", o.reps},
                                {"compile_ms", compile_ms},
                                {"first_constraint_ms", first_ms},
                                {"mask_us_mean", mean},
                                {"mask_us_p50", pct(0.5)},
                                {"mask_us_p99", pct(0.99)},
                                {"mask_us_max", sorted.empty() ? 0.0 : sorted.back()}}
                     .dump()
              << "\n";
    return;
  }
  std::cout << "vocabulary: " << tok->n_vocab() << " tokens; output: " << ids.size() << " tokens x "
            << o.reps << " reps\n"
            << "compile: " << compile_ms
            << " ms; first constraint (incl. vocabulary trie): " << first_ms << " ms\n"
            << "mask per token: mean " << mean << " us, p50 " << pct(0.5) << " us, p99 "
            << pct(0.99) << " us, max " << (sorted.empty() ? 0.0 : sorted.back()) << " us\n";
}

void setup(CLI::App& root) {
  auto* cmd = root.add_subcommand("bench-grammar",
                                  "Time grammar compilation and per-token masks over a vocabulary");
  auto o = std::make_shared<BenchGrammarOptions>();
  cmd->add_option("vocab", o->vocab, "GGUF file (vocab-only is enough) or tokenizer.json")
      ->required();
  add_constraint_flags(cmd, o->constraint);
  cmd->add_option("--tools", o->tools,
                  "OpenAI-style tools array (JSON file): benchmark the tool-call grammar");
  cmd->add_option("--format", o->format, "Tool-call syntax: llama3, hermes, mistral, generic")
      ->capture_default_str();
  cmd->add_option("--sample", o->sample,
                  "Output to replay (tokenized by the model's tokenizer); default: a random walk");
  cmd->add_option("-r,--reps", o->reps, "Repetitions, each with a fresh constraint")
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->callback([o] { run(*o); });
}

const CommandRegistration kRegister{63, setup};

}  // namespace
}  // namespace inference::cli
