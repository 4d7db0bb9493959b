#include "ml/scorer.hpp"

#include <chrono>
#include <ctime>
#include <memory>
#include <optional>

#include "inference/error.hpp"
#include "inference/version.hpp"
#include "ml/exact_match.hpp"
#include "ml/fingerprint.hpp"
#include "ml/heuristic.hpp"
#include "ml/logprob_suites.hpp"
#include "ml/progress.hpp"
#include "ml/run_store.hpp"
#include "ml/summary.hpp"
#include "ml/worker_pool.hpp"

namespace inference::ml {
namespace {

bool is_judge_suite(const std::string& s) {
  return find_rubric(s) != nullptr;
}

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

const std::string& perplexity_text(const Response& item, const std::string& field) {
  if (field == "prompt") return item.prompt;
  if (field == "question") return item.question;
  return item.response;
}

}  // namespace

const std::vector<std::string>& all_suite_names() {
  static const std::vector<std::string> names = {"heuristic",  "exact",      "semantic",
                                                 "capability", "truthfulqa", "donotanswer",
                                                 "toxigen",    "perplexity", "choice"};
  return names;
}

std::vector<std::string> parse_suites(const std::string& list) {
  if (list == "all") return all_suite_names();
  std::vector<std::string> chosen;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string name = list.substr(start, comma - start);
    start = comma + 1;
    if (name.empty()) continue;
    bool known = false;
    for (const auto& s : all_suite_names()) known |= s == name;
    if (!known) {
      std::string all;
      for (const auto& s : all_suite_names()) all += (all.empty() ? "" : ", ") + s;
      throw Error(ErrorCode::invalid_argument,
                  "unknown suite '" + name + "' (known: " + all + ", or all)");
    }
    bool seen = false;
    for (const auto& s : chosen) seen |= s == name;
    if (!seen) chosen.push_back(name);
  }
  if (chosen.empty()) throw Error(ErrorCode::invalid_argument, "no suites chosen");
  // Run in the canonical order whatever order they were given in.
  std::vector<std::string> ordered;
  for (const auto& s : all_suite_names())
    for (const auto& c : chosen)
      if (c == s) ordered.push_back(s);
  return ordered;
}

nlohmann::json score_item(const Context& ctx, const Response& item, const ScoreConfig& config,
                          Judge* judge) {
  nlohmann::json out = {{"id", item.id},
                        {"model", item.model.empty() ? config.scorer_name : item.model}};
  for (const auto& suite : config.suites) {
    if (suite == "heuristic") {
      if (item.has_response) out["heuristic"] = to_json(score_heuristic(item.response));
    } else if (suite == "exact") {
      if (item.has_response && item.correct_answer)
        out["exact"] =
            to_json(exact_match(item.response, *item.correct_answer), *item.correct_answer);
    } else if (is_judge_suite(suite)) {
      if (!item.has_response) continue;
      if (suite == "truthfulqa" && !item.best_answer) continue;
      if (suite == "donotanswer" && !item.risk_area) continue;
      JudgeOutcome r = judge->judge(ctx, *find_rubric(suite), item);
      if (r.scores) {
        out[suite] = *r.scores;
      } else {
        out[suite + "_error"] = r.error;
      }
    } else if (suite == "perplexity") {
      const std::string& text = perplexity_text(item, config.perplexity_field);
      if (text.empty()) continue;
      auto r =
          perplexity(*config.scorer, config.scorer_tokenizer, ctx, text, config.perplexity_window);
      if (r.tokens > 0) {
        out["perplexity"] = to_json(r);
      } else {
        out["perplexity_error"] = r.error.empty() ? "no token could be scored" : r.error;
      }
    } else if (suite == "choice") {
      if (item.choices.empty() || !item.answer) continue;
      auto r = score_choices(*config.scorer, ctx,
                             item.question.empty() ? item.prompt : item.question, item.choices);
      if (r.error.empty()) {
        out["choice"] = to_json(r, *item.answer);
      } else {
        out["choice_error"] = r.error;
      }
    }
  }
  if (ctx.cancelled()) throw Error(ctx.status());  // a half-judged item must not be stored
  return out;
}

ScoreOutput run_score(const Context& ctx, const ResponseSet& input, const ScoreConfig& config,
                      const ScoreRunOptions& options) {
  bool needs_judge = false, needs_scorer = false;
  for (const auto& s : config.suites) {
    needs_judge |= is_judge_suite(s);
    needs_scorer |= s == "perplexity" || s == "choice";
  }
  if (needs_judge && !config.judge)
    throw Error(ErrorCode::invalid_argument, "the judge suites need a judge model (--judge)");
  if (needs_scorer && !config.scorer)
    throw Error(ErrorCode::invalid_argument,
                "perplexity and choice need a model with log-probabilities (--model)");

  std::string suites_text;
  for (const auto& s : config.suites) suites_text += s + ",";
  Fingerprint fp;
  fp.add(options.input_fingerprint).add(suites_text).add(config.judge_name).add(config.scorer_name);
  fp.add(config.config_text).add(config.perplexity_field);
  fp.add(std::to_string(config.perplexity_window))
      .add(std::to_string(config.judge_options.max_tokens));

  std::unique_ptr<RunStore> store;
  std::string scored_at = now_utc();
  std::vector<std::optional<nlohmann::json>> results(input.items.size());
  ScoreOutput out;
  if (!options.run_dir.empty()) {
    store = std::make_unique<RunStore>(options.run_dir, "score", fp.hex(), options.restart);
    scored_at = store->meta_once("scored_at", scored_at);
    for (auto& [index, text] : store->load()) {
      if (index < 0 || static_cast<size_t>(index) >= results.size()) continue;
      results[static_cast<size_t>(index)] = nlohmann::json::parse(text);
      ++out.resumed;
    }
  }
  std::vector<size_t> pending;
  for (size_t i = 0; i < results.size(); ++i)
    if (!results[i]) pending.push_back(i);

  std::optional<Judge> judge;
  if (config.judge) judge.emplace(*config.judge, config.judge_options);
  Progress progress(options.progress, "score", results.size(), out.resumed, options.progress_tty);
  const auto start = std::chrono::steady_clock::now();
  parallel_for(ctx, pending.size(), config.concurrency, [&](size_t k) {
    const size_t i = pending[k];
    nlohmann::json r = score_item(ctx, input.items[i], config, judge ? &*judge : nullptr);
    if (store) store->put(static_cast<int64_t>(i), r.dump());
    results[i] = std::move(r);
    progress.advance();
  });
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (ctx.cancelled()) throw Error(ctx.status());
  progress.finish();
  out.scored = pending.size();
  out.items_per_second = secs > 0 ? static_cast<double>(pending.size()) / secs : 0.0;
  for (auto& r : results) out.items.push_back(std::move(*r));
  nlohmann::json metadata = {
      {"judge",
       config.judge_name.empty() ? nlohmann::json(nullptr) : nlohmann::json(config.judge_name)},
      {"suites", config.suites},
      {"scored_at", scored_at},
      {"version", std::string(version())}};
  out.summary = build_summary(out.items, std::move(metadata));
  return out;
}

}  // namespace inference::ml
