// infer score — score a responses JSONL with the chosen suites (src/ml does the work), and
// `infer score compare OLD.json NEW.json`. Resumable with --run DIR.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/command.hpp"
#include "cli/generation_flags.hpp"
#include "inference/capabilities.hpp"
#include "inference/error.hpp"
#include "ml/fingerprint.hpp"
#include "ml/model_ref.hpp"
#include "ml/progress.hpp"
#include "ml/scorer.hpp"
#include "ml/summary.hpp"

namespace inference::cli {
namespace {

struct ScoreOptions {
  std::string input;
  std::string suites = "heuristic";
  std::string judge;
  std::string judge_backend;
  int judge_max_tokens = 512;
  bool no_constraint = false;
  std::string model;
  LoadFlags load;
  int concurrency = 4;
  std::string run_dir;
  bool restart = false;
  std::string out;
  std::string items;
  std::string ppl_field = "response";
  int ppl_window = 512;
  bool text = false;
  bool quiet = false;
  // compare
  std::string old_path, new_path;
  bool json = false;
};

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::not_found, "cannot open " + path);
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw Error(ErrorCode::invalid_argument, path + " is not a score summary (JSON object)");
  return j;
}

void write_text(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::cout << text;
    return;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw Error(ErrorCode::backend, "writing " + path + " failed");
}

void run_compare(const ScoreOptions& o) {
  const auto cmp = ml::compare_summaries(read_json_file(o.old_path), read_json_file(o.new_path));
  std::cout << (o.json ? cmp.dump(2) + "\n" : ml::format_comparison(cmp));
}

void run_score_cmd(const ScoreOptions& o) {
  ml::ScoreConfig config;
  config.suites = ml::parse_suites(o.suites);
  if (o.concurrency < 1) throw ExitRequest{kUsage, "score: --concurrency must be >= 1"};
  config.concurrency = o.concurrency;
  config.perplexity_field = o.ppl_field;
  config.perplexity_window = o.ppl_window;
  config.judge_options.max_tokens = o.judge_max_tokens;
  config.judge_options.use_constraint = !o.no_constraint;

  ml::ResponseSet input;
  ml::Fingerprint input_fp;
  if (o.text) {
    std::ifstream in(o.input, std::ios::binary);
    if (!in) throw Error(ErrorCode::not_found, "cannot open " + o.input);
    std::stringstream ss;
    ss << in.rdbuf();
    ml::Response r;
    r.id = o.input;
    r.response = ss.str();
    r.has_response = true;
    input.items.push_back(std::move(r));
    config.perplexity_field = "response";
  } else {
    input = ml::read_responses(o.input);
  }
  input_fp.add_file(o.input);
  for (const auto& p : input.problems)
    std::cerr << "score: " << o.input << ":" << p.line << ": skipped: " << p.message << "\n";

  std::unique_ptr<TextModel> judge, scorer;
  if (!o.judge.empty()) {
    LoadConfig lc = o.load.config();
    lc.backend = o.judge_backend;
    lc.parallel_slots = o.concurrency;  // N judge calls in flight share one batched model
    judge = ml::load_model_ref(o.judge, lc);
    config.judge = judge.get();
    config.judge_name = o.judge;
  }
  if (!o.model.empty()) {
    scorer = ml::load_model_ref(o.model, o.load.config());
    config.scorer = dynamic_cast<LogprobModel*>(scorer.get());
    if (!config.scorer)
      throw Error(ErrorCode::unsupported, "the " + scorer->info().backend +
                                              " backend has no log-probabilities for " + o.model);
    config.scorer_tokenizer = dynamic_cast<TokenizerModel*>(scorer.get());
    config.scorer_name = scorer->info().name.empty() ? o.model : scorer->info().name;
    const auto n_ctx = scorer->info().context_length;
    if (n_ctx > 0 && config.perplexity_window > n_ctx)
      config.perplexity_window = static_cast<int32_t>(n_ctx);
  }
  config.config_text = o.model + "|" + o.judge_backend + "|" + (o.text ? "text" : "jsonl") + "|" +
                       (o.no_constraint ? "free" : "schema");

  ml::ScoreRunOptions run;
  run.run_dir = o.run_dir;
  run.restart = o.restart;
  run.input_fingerprint = input_fp.hex();
  run.progress = o.quiet ? nullptr : &std::cerr;
  run.progress_tty = ml::stderr_is_tty();

  InterruptCanceller canceller;
  const Context ctx = canceller.arm();
  ml::ScoreOutput result;
  try {
    result = ml::run_score(ctx, input, config, run);
  } catch (const Error& e) {
    if (canceller.interrupted() || e.code() == ErrorCode::cancelled) {
      std::string msg = "score: interrupted";
      if (!o.run_dir.empty())
        msg += "; finished items are kept in " + o.run_dir + ": run the same command to continue";
      throw ExitRequest{kInterrupted, msg};
    }
    throw;
  }
  write_text(o.out, result.summary.dump(2) + "\n");
  if (!o.items.empty()) {
    std::string lines;
    for (const auto& item : result.items) lines += item.dump() + "\n";
    write_text(o.items, lines);
  }
  std::cerr << "score: " << result.items.size() << " items (" << result.resumed << " resumed, "
            << result.scored << " scored at " << result.items_per_second << "/s), "
            << input.problems.size() << " lines skipped\n";
}

void setup_score(CLI::App& root) {
  auto* cmd = root.add_subcommand(
      "score", "Score responses JSONL: heuristic, exact, judge, perplexity and choice suites");
  auto o = std::make_shared<ScoreOptions>();
  cmd->add_option("responses", o->input, "Responses JSONL (or a text file with --text)");
  cmd->add_option("--suites", o->suites,
                  "heuristic,exact,semantic,capability,truthfulqa,donotanswer,toxigen,"
                  "perplexity,choice or all")
      ->capture_default_str();
  cmd->add_option("--judge", o->judge, "Judge model for the judge suites: a file or http(s) URL");
  cmd->add_option("--judge-backend", o->judge_backend, "Backend for the judge (default: best)");
  cmd->add_option("--judge-max-tokens", o->judge_max_tokens, "Most tokens per judge reply")
      ->capture_default_str();
  cmd->add_flag("--no-constraint", o->no_constraint,
                "Do not ask the judge backend for JSON-Schema-constrained replies");
  cmd->add_option("--model", o->model, "Model scored by perplexity and choice (log-probabilities)");
  add_load_flags(cmd, o->load);
  cmd->add_option("--concurrency", o->concurrency, "Items in flight at once")
      ->capture_default_str();
  cmd->add_option("--run", o->run_dir,
                  "Run directory: results are stored as they finish; rerun to resume");
  cmd->add_flag("--restart", o->restart, "Discard a run directory made with other input/config");
  cmd->add_option("--out", o->out, "Summary JSON file (default: stdout)");
  cmd->add_option("--items", o->items, "Per-item results JSONL file");
  cmd->add_option("--ppl-field", o->ppl_field,
                  "Field perplexity scores: response, prompt, question")
      ->check(CLI::IsMember({"response", "prompt", "question"}))
      ->capture_default_str();
  cmd->add_option("--ppl-window", o->ppl_window, "Perplexity window in tokens")
      ->capture_default_str();
  cmd->add_flag("--text", o->text, "The input is one plain text (for perplexity)");
  cmd->add_flag("-q,--quiet", o->quiet, "No progress output");

  auto* compare =
      cmd->add_subcommand("compare", "Compare two score summaries per model and metric");
  compare->add_option("old", o->old_path, "Old summary JSON")->required();
  compare->add_option("new", o->new_path, "New summary JSON")->required();
  compare->add_flag("--json", o->json, "JSON output");
  compare->callback([o] { run_compare(*o); });

  cmd->callback([o, cmd, compare] {
    if (compare->parsed()) return;
    if (o->input.empty()) throw ExitRequest{kUsage, "score: give a responses JSONL file"};
    (void)cmd;
    run_score_cmd(*o);
  });
}

const CommandRegistration kRegister{72, setup_score};

}  // namespace
}  // namespace inference::cli
