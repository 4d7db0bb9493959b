#include "ml/classifier.hpp"

#include <algorithm>
#include <chrono>
#include <memory>

#include "inference/error.hpp"
#include "ml/fingerprint.hpp"
#include "ml/json_splice.hpp"
#include "ml/label_match.hpp"
#include "ml/progress.hpp"
#include "ml/run_store.hpp"

namespace inference::ml {
namespace {

struct Record {
  std::string line;  // the original text, spliced on output
  std::optional<std::string> text;
  std::optional<std::string> truth;
};

std::string cut_utf8(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return std::string(s.substr(0, end));
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}

}  // namespace

const std::string& default_classify_template() {
  static const std::string t =
      "Classify the text into exactly one of these categories: {labels}.\n\n"
      "Text: {text}\n\nCategory:";
  return t;
}

std::string build_classify_prompt(const std::string& tmpl, const std::vector<std::string>& labels,
                                  std::string_view text) {
  if (tmpl.find("{text}") == std::string::npos)
    throw Error(ErrorCode::invalid_argument, "the classify template has no {text} placeholder");
  std::string joined;
  for (const auto& l : labels) joined += (joined.empty() ? "" : ", ") + l;
  std::string out = tmpl;
  replace_all(out, "{labels}", joined);
  // {text} last, so braces inside the text are never taken for placeholders.
  const size_t at = out.find("{text}");
  out.replace(at, 6, text);
  return out;
}

nlohmann::json ClassifyReport::to_json() const {
  nlohmann::json labels_json = nlohmann::json::object();
  for (const auto& [k, v] : per_label) labels_json[k] = v;
  return {{"total", total},
          {"skipped", skipped},
          {"classified", classified},
          {"resumed", resumed},
          {"per_label", labels_json},
          {"seconds", seconds},
          {"prompts_per_second", prompts_per_second},
          {"prompt_tokens", prompt_tokens},
          {"problems", problems.size()}};
}

ClassifyReport classify_corpus(const Context& ctx, TextModel& model, std::istream& in,
                               std::ostream* out, const ClassifyOptions& options,
                               const std::string& truth_field) {
  if (options.labels.empty()) throw Error(ErrorCode::invalid_argument, "no labels given");
  if (options.batch_size < 1) throw Error(ErrorCode::invalid_argument, "--batch-size must be >= 1");
  const std::string& tmpl =
      options.prompt_template.empty() ? default_classify_template() : options.prompt_template;
  build_classify_prompt(tmpl, options.labels, "");  // validates the template up front

  ClassifyReport report;
  std::vector<Record> records;
  size_t usable = 0;
  for_each_json_line(
      in,
      [&](size_t, std::string_view line, nlohmann::json&& o) {
        Record r;
        r.line = std::string(line);
        auto it = o.find(options.field);
        if (it != o.end() && it->is_string() && (options.sample == 0 || usable < options.sample)) {
          r.text = it->get<std::string>();
          ++usable;
        }
        if (!truth_field.empty()) {
          auto t = o.find(truth_field);
          if (t != o.end() && t->is_string()) r.truth = t->get<std::string>();
        }
        records.push_back(std::move(r));
      },
      report.problems);
  report.total = records.size();

  Fingerprint fp;
  fp.add(options.input_fingerprint).add(options.model_name).add(options.field).add(tmpl);
  for (const auto& l : options.labels) fp.add(l);
  fp.add(std::to_string(options.max_text_bytes)).add(std::to_string(options.sample));

  std::vector<std::optional<nlohmann::json>> results(records.size());
  std::unique_ptr<RunStore> store;
  if (!options.run_dir.empty()) {
    store = std::make_unique<RunStore>(options.run_dir, "classify", fp.hex(), options.restart);
    for (auto& [i, text] : store->load()) {
      if (i < 0 || static_cast<size_t>(i) >= results.size()) continue;
      results[static_cast<size_t>(i)] = nlohmann::json::parse(text);
      ++report.resumed;
    }
  }
  std::vector<size_t> pending;
  for (size_t i = 0; i < records.size(); ++i)
    if (records[i].text && !results[i]) pending.push_back(i);

  Progress progress(options.progress, "classify", usable, report.resumed, options.progress_tty);
  GenerateConfig config{.max_tokens = 1, .temperature = 0.0f};
  config.logprobs = 20;
  const auto start = std::chrono::steady_clock::now();
  const auto batch = static_cast<size_t>(options.batch_size);
  for (size_t b = 0; b < pending.size(); b += batch) {
    if (ctx.cancelled()) throw Error(ctx.status());
    const size_t e = std::min(pending.size(), b + batch);
    std::vector<std::string> prompts;
    for (size_t k = b; k < e; ++k)
      prompts.push_back(build_classify_prompt(
          tmpl, options.labels, cut_utf8(*records[pending[k]].text, options.max_text_bytes)));
    std::vector<ClassifyResult> got = model.classify(ctx, prompts, config);
    if (got.size() != prompts.size())
      throw Error(ErrorCode::backend, "classify returned " + std::to_string(got.size()) +
                                          " results for " + std::to_string(prompts.size()) +
                                          " prompts");
    report.prompt_tokens += model.metrics().prompt_tokens;
    for (size_t k = b; k < e; ++k) {
      const ClassifyResult& c = got[k - b];
      nlohmann::json r;
      if (!c.status.ok()) {
        if (ctx.cancelled()) throw Error(ctx.status());  // not stored: redone on resume
        r = {{"error", c.status.to_string()}};
      } else {
        // Log-probabilities over the label set: the best alternative naming each label.
        nlohmann::json lp = nlohmann::json::object();
        for (const auto& alt : c.token.top_logprobs) {
          const std::string l = match_label(alt.text, options.labels);
          if (l != "unknown" && !lp.contains(l)) lp[l] = alt.logprob;
        }
        r = {{"label", match_label(c.token.text, options.labels)},
             {"token", c.token.text},
             {"logprobs", lp}};
      }
      if (store) store->put(static_cast<int64_t>(pending[k]), r.dump());
      results[pending[k]] = std::move(r);
    }
    progress.advance(e - b);
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report.prompts_per_second =
      report.seconds > 0 ? static_cast<double>(pending.size()) / report.seconds : 0.0;
  progress.finish();

  for (size_t i = 0; i < records.size(); ++i) {
    std::optional<std::string> label;
    if (results[i] && results[i]->contains("label")) {
      label = (*results[i])["label"].get<std::string>();
      ++report.classified;
      ++report.per_label[*label];
    } else if (records[i].text) {
      ++report.skipped;
      if (results[i] && results[i]->contains("error"))
        report.problems.push_back({i + 1, (*results[i])["error"].get<std::string>()});
    } else {
      ++report.skipped;
    }
    if (out) {
      if (label) {
        std::string line =
            splice_json_field(records[i].line, options.label_field, nlohmann::json(*label).dump());
        if (!options.logprobs_field.empty())
          line = splice_json_field(line, options.logprobs_field,
                                   results[i]->value("logprobs", nlohmann::json::object()).dump());
        *out << line << '\n';
      } else {
        *out << records[i].line << '\n';
      }
    }
    report.labels.push_back(label);
    report.truth.push_back(records[i].truth);
  }
  return report;
}

nlohmann::json calibration_report(const ClassifyReport& a, const ClassifyReport& b) {
  size_t both = 0, agree = 0, truth_n = 0, a_right = 0, b_right = 0;
  std::map<std::pair<std::string, std::string>, size_t> confusion;
  const size_t n = std::min(a.labels.size(), b.labels.size());
  for (size_t i = 0; i < n; ++i) {
    if (!a.labels[i] || !b.labels[i]) continue;
    ++both;
    if (*a.labels[i] == *b.labels[i]) {
      ++agree;
    } else {
      ++confusion[{*a.labels[i], *b.labels[i]}];
    }
    if (i < a.truth.size() && a.truth[i]) {
      ++truth_n;
      a_right += *a.labels[i] == *a.truth[i];
      b_right += *b.labels[i] == *a.truth[i];
    }
  }
  std::vector<std::pair<size_t, std::pair<std::string, std::string>>> pairs;
  for (const auto& [k, v] : confusion) pairs.push_back({v, k});
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const auto& x, const auto& y) { return x.first > y.first; });
  nlohmann::json conf = nlohmann::json::array();
  for (const auto& [count, p] : pairs)
    conf.push_back({{"a", p.first}, {"b", p.second}, {"count", count}});
  nlohmann::json j = {{"records", both},
                      {"agreement", both ? static_cast<double>(agree) / both : 0.0},
                      {"confusion", conf}};
  if (truth_n) {
    j["truth_records"] = truth_n;
    j["accuracy_a"] = static_cast<double>(a_right) / truth_n;
    j["accuracy_b"] = static_cast<double>(b_right) / truth_n;
  }
  return j;
}

}  // namespace inference::ml
