#include "ml/summary.hpp"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>

namespace inference::ml {
namespace {

// Fields that are not scores: they are reported per item but never averaged.
const std::set<std::string>& not_averaged() {
  static const std::set<std::string> s = {"extracted", "expected", "pred", "pred_norm",
                                          "answer",    "tokens",   "nll",  "perplexity"};
  return s;
}

struct Mean {
  double sum = 0.0;
  size_t n = 0;
};

}  // namespace

nlohmann::json build_summary(const std::vector<nlohmann::json>& items, nlohmann::json metadata) {
  std::map<std::string, std::map<std::string, Mean>> means;
  std::map<std::string, std::pair<double, double>> ppl;  // model -> (nll, tokens)
  nlohmann::json per_prompt = nlohmann::json::object();
  for (const auto& item : items) {
    const std::string model = item.value("model", "");
    per_prompt[model].push_back(item);
    auto& m = means[model];
    for (const auto& [suite, value] : item.items()) {
      if (!value.is_object()) continue;
      if (suite == "perplexity") {
        if (value.contains("tokens") && value.contains("nll")) {
          ppl[model].first += value["nll"].get<double>();
          ppl[model].second += value["tokens"].get<double>();
        }
        continue;
      }
      for (const auto& [field, v] : value.items()) {
        if (not_averaged().count(field)) continue;
        double x = 0.0;
        if (v.is_boolean()) {
          x = v.get<bool>() ? 1.0 : 0.0;
        } else if (v.is_number()) {
          x = v.get<double>();
        } else {
          continue;
        }
        auto& mean = m[suite + "." + field];
        mean.sum += x;
        ++mean.n;
      }
    }
  }
  nlohmann::json averages = nlohmann::json::object();
  for (const auto& [model, metrics] : means) {
    nlohmann::json row = nlohmann::json::object();
    for (const auto& [metric, mean] : metrics)
      if (mean.n) row[metric] = mean.sum / static_cast<double>(mean.n);
    if (auto it = ppl.find(model); it != ppl.end() && it->second.second > 0) {
      row["perplexity.perplexity"] = std::exp(it->second.first / it->second.second);
      row["perplexity.tokens"] = it->second.second;
    }
    averages[model] = row;
  }
  return {{"metadata", std::move(metadata)},
          {"model_averages", std::move(averages)},
          {"per_prompt", std::move(per_prompt)}};
}

nlohmann::json compare_summaries(const nlohmann::json& old_summary,
                                 const nlohmann::json& new_summary) {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  auto averages = [](const nlohmann::json& s) -> const nlohmann::json& {
    auto it = s.find("model_averages");
    return it != s.end() && it->is_object() ? *it : kEmpty;
  };
  const auto& a = averages(old_summary);
  const auto& b = averages(new_summary);
  std::set<std::string> models;
  for (const auto& [k, v] : a.items()) models.insert(k);
  for (const auto& [k, v] : b.items()) models.insert(k);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& model : models) {
    const auto& ma = a.contains(model) && a[model].is_object() ? a[model] : kEmpty;
    const auto& mb = b.contains(model) && b[model].is_object() ? b[model] : kEmpty;
    std::set<std::string> metrics;
    for (const auto& [k, v] : ma.items()) metrics.insert(k);
    for (const auto& [k, v] : mb.items()) metrics.insert(k);
    nlohmann::json row = nlohmann::json::object();
    for (const auto& metric : metrics) {
      const nlohmann::json o = ma.contains(metric) && ma[metric].is_number() ? ma[metric] : nullptr;
      const nlohmann::json n = mb.contains(metric) && mb[metric].is_number() ? mb[metric] : nullptr;
      nlohmann::json d = nullptr;
      if (o.is_number() && n.is_number()) d = n.get<double>() - o.get<double>();
      row[metric] = {{"old", o}, {"new", n}, {"delta", d}};
    }
    out[model] = row;
  }
  return out;
}

std::string format_comparison(const nlohmann::json& comparison) {
  auto num = [](const nlohmann::json& v, bool sign) {
    if (!v.is_number()) return std::string("-");
    char buf[32];
    std::snprintf(buf, sizeof buf, sign ? "%+.4f" : "%.4f", v.get<double>());
    return std::string(buf);
  };
  std::string out;
  char line[256];
  for (const auto& [model, metrics] : comparison.items()) {
    out += "model " + (model.empty() ? std::string("(unnamed)") : model) + "\n";
    std::snprintf(line, sizeof line, "  %-34s %12s %12s %12s\n", "metric", "old", "new", "delta");
    out += line;
    for (const auto& [metric, v] : metrics.items()) {
      std::snprintf(line, sizeof line, "  %-34s %12s %12s %12s\n", metric.c_str(),
                    num(v["old"], false).c_str(), num(v["new"], false).c_str(),
                    num(v["delta"], true).c_str());
      out += line;
    }
  }
  return out;
}

}  // namespace inference::ml
