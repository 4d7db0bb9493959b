#include "ml/probe_runner.hpp"

#include <map>
#include <memory>
#include <optional>

#include "inference/error.hpp"
#include "ml/fingerprint.hpp"
#include "ml/probes.hpp"
#include "ml/progress.hpp"
#include "ml/run_store.hpp"
#include "ml/worker_pool.hpp"

namespace inference::ml {

nlohmann::json run_probes(const Context& ctx, TextModel& model, const ProbeOptions& options) {
  for (const auto& c : options.categories) {
    bool known = false;
    for (const auto& k : probe_categories()) known |= k == c;
    if (!known)
      throw Error(ErrorCode::invalid_argument,
                  "unknown probe category '" + c + "' (known: math, logic, reasoning, code, word)");
  }
  std::vector<const Probe*> chosen;
  for (const auto& p : all_probes()) {
    bool in = options.categories.empty();
    for (const auto& c : options.categories) in |= c == p.category;
    if (in) chosen.push_back(&p);
  }
  Fingerprint fp;
  fp.add(options.model_name).add(std::to_string(options.max_tokens));
  for (const Probe* p : chosen) fp.add(p->id).add(p->prompt);

  std::unique_ptr<RunStore> store;
  std::vector<std::optional<nlohmann::json>> results(chosen.size());
  size_t resumed = 0;
  if (!options.run_dir.empty()) {
    store = std::make_unique<RunStore>(options.run_dir, "probe", fp.hex(), options.restart);
    for (auto& [i, text] : store->load()) {
      if (i < 0 || static_cast<size_t>(i) >= results.size()) continue;
      results[static_cast<size_t>(i)] = nlohmann::json::parse(text);
      ++resumed;
    }
  }
  std::vector<size_t> pending;
  for (size_t i = 0; i < results.size(); ++i)
    if (!results[i]) pending.push_back(i);
  Progress progress(options.progress, "probe", chosen.size(), resumed, options.progress_tty);
  parallel_for(ctx, pending.size(), options.concurrency, [&](size_t k) {
    const size_t i = pending[k];
    const Probe& p = *chosen[i];
    std::vector<Message> messages = {{.role = "user", .content = p.prompt}};
    std::string reply;
    Status status;
    try {
      auto stream = model.chat(ctx, messages, {.max_tokens = options.max_tokens});
      for (const Token& t : stream) reply += t.text;
      status = stream.err();
    } catch (const Error& e) {
      status = e.status();
    }
    if (ctx.cancelled()) throw Error(ctx.status());
    nlohmann::json r = {{"id", p.id},       {"category", p.category},
                        {"topic", p.topic}, {"prompt", p.prompt},
                        {"reply", reply},   {"correct", status.ok() && check_probe(p, reply)}};
    if (!status.ok()) r["error"] = status.to_string();
    if (store) store->put(static_cast<int64_t>(i), r.dump());
    results[i] = std::move(r);
    progress.advance();
  });
  if (ctx.cancelled()) throw Error(ctx.status());
  progress.finish();

  nlohmann::json probes = nlohmann::json::array();
  std::map<std::string, std::pair<int, int>> by_cat;
  int correct = 0;
  for (auto& r : results) {
    const bool ok = (*r)["correct"].get<bool>();
    correct += ok;
    auto& c = by_cat[(*r)["category"].get<std::string>()];
    c.first += ok;
    ++c.second;
    probes.push_back(std::move(*r));
  }
  nlohmann::json cats = nlohmann::json::object();
  for (const auto& name : probe_categories()) {
    auto it = by_cat.find(name);
    if (it == by_cat.end()) continue;
    cats[name] = {{"correct", it->second.first},
                  {"total", it->second.second},
                  {"accuracy", static_cast<double>(it->second.first) / it->second.second}};
  }
  const auto total = static_cast<int>(results.size());
  return {{"model", options.model_name},
          {"correct", correct},
          {"total", total},
          {"accuracy", total ? static_cast<double>(correct) / total : 0.0},
          {"by_category", cats},
          {"probes", probes}};
}

}  // namespace inference::ml
