// The scoring adapter over the scoring library (src/ml): ml_score runs the chosen suites on one
// response (judge suites through the --judge model), ml_probe runs the capability probes,
// ml_classify labels texts by the model's next token, and ml_status lists the runs under the
// run directory from their stores.
#include <sqlite3.h>

#include <cmath>

#include "inference/capabilities.hpp"
#include "inference/error.hpp"
#include "mcp/scoring_adapter.hpp"
#include "ml/classifier.hpp"
#include "ml/label_match.hpp"
#include "ml/model_ref.hpp"
#include "ml/probe_runner.hpp"
#include "ml/responses.hpp"
#include "ml/rubrics.hpp"
#include "ml/scorer.hpp"

namespace inference::mcp {
namespace {

using json = nlohmann::json;

// "a,b" or ["a", "b"] → "a,b".
std::string joined(const json& list) {
  if (list.is_string()) return list.get<std::string>();
  std::string out;
  for (const auto& item : list) out += (out.empty() ? "" : ",") + item.get<std::string>();
  return out;
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    auto end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string item = list.substr(start, end - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.push_back(item);
    start = end + 1;
  }
  return out;
}

bool needs_judge(const std::string& suite) {
  return ml::find_rubric(suite) != nullptr;
}

// Why a chosen suite cannot score this call's item, or "".
std::string missing_input(const std::string& suite, const json& args) {
  if (suite == "exact" && !args.contains("correct_answer")) return "needs correct_answer";
  if (suite == "truthfulqa" && !args.contains("best_answer")) return "needs best_answer";
  if (suite == "donotanswer" && !args.contains("risk_area")) return "needs risk_area";
  if (suite == "choice") return "needs a question with choices: use `infer score` on JSONL";
  return {};
}

}  // namespace

json score_response(ModelPool& models, const json& args, CallScope& scope) {
  std::vector<std::string> suites;
  try {
    suites = ml::parse_suites(args.contains("suites") ? joined(args["suites"]) : "heuristic");
  } catch (const Error& e) {
    throw ToolError(std::string("suites: ") + e.what());
  }
  ml::Response item;
  item.id = "mcp";
  item.prompt = args.at("prompt").get<std::string>();
  item.response = args.at("response").get<std::string>();
  item.has_response = true;
  if (args.contains("correct_answer"))
    item.correct_answer = args["correct_answer"].get<std::string>();
  if (args.contains("best_answer")) item.best_answer = args["best_answer"].get<std::string>();
  if (args.contains("risk_area")) item.risk_area = args["risk_area"].get<std::string>();

  ml::ScoreConfig config;
  json skipped = json::object();
  std::shared_ptr<TextModel> judge_model;
  ModelLease scorer;
  for (const auto& suite : suites) {
    if (auto why = missing_input(suite, args); !why.empty()) {
      skipped[suite] = why;
      continue;
    }
    config.suites.push_back(suite);
    if (needs_judge(suite) && !judge_model) {
      const std::string& judge = models.options().judge;
      if (judge.empty()) {
        throw ToolError("suite \"" + suite +
                        "\" needs a judge model, and none is configured: start infer mcp with "
                        "--judge MODEL (a path or an http:// URL)");
      }
      judge_model = models.cached("judge\n" + judge,
                                  [&] { return ml::load_model_ref(judge, models.options().load); });
    }
    if (suite == "perplexity" && !scorer.model) {
      scorer = models.get(args.value("model", ""), args.value("backend", ""));
      config.scorer = dynamic_cast<LogprobModel*>(scorer.model.get());
      config.scorer_tokenizer = dynamic_cast<const TokenizerModel*>(scorer.model.get());
      config.scorer_name = scorer.id;
      if (!config.scorer) {
        throw ToolError("suite \"perplexity\" needs prompt log-probabilities, which the " +
                        scorer.backend + " backend does not provide");
      }
    }
  }
  std::optional<ml::Judge> judge;
  if (judge_model) judge.emplace(*judge_model);
  json scored = ml::score_item(scope.context(), item, config, judge ? &*judge : nullptr);
  if (scope.context().cancelled()) throw ToolError("cancelled");
  json results = json::object();
  json errors = json::object();
  for (const auto& suite : config.suites) {
    if (scored.contains(suite)) results[suite] = scored[suite];
    if (scored.contains(suite + "_error")) errors[suite] = scored[suite + "_error"];
  }
  json out{{"suites", results}};
  if (!errors.empty()) out["errors"] = errors;
  if (!skipped.empty()) out["skipped"] = skipped;
  return out;
}

json run_probes(ModelPool& models, const json& args, CallScope& scope) {
  ModelLease lease = models.get(args.value("model", ""), args.value("backend", ""));
  ml::ProbeOptions options;
  if (args.contains("categories")) options.categories = split(joined(args["categories"]));
  options.model_name = lease.id;
  options.max_tokens = args.value("max_tokens", options.max_tokens);
  json report;
  try {
    report = ml::run_probes(scope.context(), *lease.model, options);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::invalid_argument)
      throw ToolError(std::string("categories: ") + e.what());
    throw;
  }
  json probes = json::array();
  for (const auto& p : report["probes"]) {
    json entry{{"id", p["id"]},
               {"category", p["category"]},
               {"passed", p.value("correct", false)},
               {"reply", p.value("reply", "")}};
    if (p.contains("error")) entry["error"] = p["error"];
    probes.push_back(std::move(entry));
  }
  json by_category = json::object();
  for (const auto& [category, stats] : report["by_category"].items()) {
    by_category[category] = stats.value("accuracy", 0.0);
  }
  return {{"model", lease.id},
          {"backend", lease.backend},
          {"accuracy", report.value("accuracy", 0.0)},
          {"correct", report.value("correct", 0)},
          {"total", report.value("total", 0)},
          {"by_category", by_category},
          {"probes", probes}};
}

json classify_texts(ModelPool& models, const json& args, CallScope& scope) {
  ModelLease lease = models.get(args.value("model", ""), args.value("backend", ""));
  ml::ClassifyOptions defaults;
  std::vector<std::string> labels =
      args.contains("labels") ? args["labels"].get<std::vector<std::string>>() : defaults.labels;
  std::string tmpl = args.value("template", ml::default_classify_template());
  std::vector<std::string> prompts;
  try {
    for (const auto& text : args["texts"]) {
      prompts.push_back(ml::build_classify_prompt(tmpl, labels, text.get<std::string>()));
    }
  } catch (const Error& e) {
    throw ToolError(std::string("template: ") + e.what());
  }
  // The next token and its 20 best alternatives: the label is the token's, its probability the
  // best alternative naming that label (as `infer classify` reports log-probabilities).
  GenerateConfig config{.max_tokens = 1, .temperature = 0.0f};
  config.logprobs = 20;
  std::vector<ClassifyResult> got = lease.model->classify(scope.context(), prompts, config);
  if (got.size() != prompts.size()) {
    throw ToolError(lease.backend + " returned " + std::to_string(got.size()) + " results for " +
                    std::to_string(prompts.size()) + " texts");
  }
  json results = json::array();
  for (const auto& c : got) {
    if (!c.status.ok()) throw ToolError(c.status.to_string());
    std::string label = ml::match_label(c.token.text, labels);
    double probability = 0.0;
    for (const auto& alt : c.token.top_logprobs) {
      if (ml::match_label(alt.text, labels) == label) {
        probability = std::exp(static_cast<double>(alt.logprob));
        break;
      }
    }
    if (probability == 0.0 && c.token.logprob)
      probability = std::exp(static_cast<double>(*c.token.logprob));
    results.push_back({{"label", label}, {"probability", probability}, {"token", c.token.text}});
  }
  return {{"results", results}, {"model", lease.id}, {"labels", labels}};
}

// Read-only look into each run store (DIR/run.sqlite, and one level of subdirectories): its
// kind and how many items it has finished. Opened read-only so a running scorer is never
// disturbed.
json scoring_runs(const std::filesystem::path& runs_dir) {
  json runs = json::array();
  std::error_code ec;
  std::vector<std::filesystem::path> candidates = {runs_dir / "run.sqlite"};
  for (const auto& entry : std::filesystem::directory_iterator(runs_dir, ec)) {
    if (entry.is_directory(ec)) candidates.push_back(entry.path() / "run.sqlite");
  }
  for (const auto& db_path : candidates) {
    if (!std::filesystem::exists(db_path, ec)) continue;
    sqlite3* db = nullptr;
    json run{{"dir", db_path.parent_path().string()}};
    if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_busy_timeout(db, 200);
      auto scalar = [&](const char* sql) -> std::optional<std::string> {
        sqlite3_stmt* stmt = nullptr;
        std::optional<std::string> value;
        if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK &&
            sqlite3_step(stmt) == SQLITE_ROW) {
          const auto* text = sqlite3_column_text(stmt, 0);
          if (text) value = reinterpret_cast<const char*>(text);
        }
        sqlite3_finalize(stmt);
        return value;
      };
      run["kind"] = scalar("SELECT value FROM meta WHERE key = 'kind'").value_or("");
      run["done"] = std::stoll(scalar("SELECT COUNT(*) FROM items").value_or("0"));
      if (auto total = scalar("SELECT value FROM meta WHERE key = 'total'")) {
        run["total"] = std::stoll(*total);
      }
      if (auto started = scalar("SELECT value FROM meta WHERE key = 'scored_at'")) {
        run["started"] = *started;
      }
    } else {
      run["error"] = sqlite3_errmsg(db);
    }
    sqlite3_close(db);
    runs.push_back(std::move(run));
  }
  return runs;
}

}  // namespace inference::mcp
