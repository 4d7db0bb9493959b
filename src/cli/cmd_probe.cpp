// infer probe — run our capability probes against a model (any backend) and report accuracy
// overall and by category, with every reply and verdict. Resumable with --run DIR.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/generation_flags.hpp"
#include "inference/error.hpp"
#include "ml/model_ref.hpp"
#include "ml/probe_runner.hpp"
#include "ml/progress.hpp"

namespace inference::cli {
namespace {

struct ProbeCmdOptions {
  std::string model;
  LoadFlags load;
  std::vector<std::string> categories;
  bool json = false;
  int max_tokens = 512;
  int concurrency = 1;
  std::string run_dir;
  bool restart = false;
};

std::string one_line(const std::string& s, size_t max) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  }
  return out;
}

void run_probe_cmd(const ProbeCmdOptions& o) {
  LoadConfig lc = o.load.config();
  lc.parallel_slots = std::max(1, o.concurrency);
  auto model = ml::load_model_ref(o.model, lc);
  ml::ProbeOptions po;
  po.categories = o.categories;
  po.max_tokens = o.max_tokens;
  po.concurrency = o.concurrency;
  po.run_dir = o.run_dir;
  po.restart = o.restart;
  po.model_name = o.model;
  po.progress = o.json ? nullptr : &std::cerr;
  po.progress_tty = ml::stderr_is_tty();
  InterruptCanceller canceller;
  const Context ctx = canceller.arm();
  nlohmann::json report;
  try {
    report = ml::run_probes(ctx, *model, po);
  } catch (const Error& e) {
    if (canceller.interrupted() || e.code() == ErrorCode::cancelled)
      throw ExitRequest{kInterrupted, "probe: interrupted" +
                                          (o.run_dir.empty() ? std::string()
                                                             : "; rerun to continue " + o.run_dir)};
    throw;
  }
  if (o.json) {
    std::cout << report.dump(2) << "\n";
    return;
  }
  for (const auto& p : report["probes"]) {
    std::cout << (p["correct"].get<bool>() ? "PASS " : "FAIL ") << p["id"].get<std::string>()
              << ": " << one_line(p["reply"].get<std::string>(), 70);
    if (p.contains("error")) std::cout << " [" << p["error"].get<std::string>() << "]";
    std::cout << "\n";
  }
  std::cout << "\n";
  for (const auto& [cat, c] : report["by_category"].items())
    std::cout << cat << ": " << c["correct"] << "/" << c["total"] << "\n";
  std::cout << "overall: " << report["correct"] << "/" << report["total"] << " ("
            << static_cast<int>(report["accuracy"].get<double>() * 100.0 + 0.5) << "%)\n";
}

void setup_probe(CLI::App& root) {
  auto* cmd =
      root.add_subcommand("probe", "Run capability probes (math, logic, reasoning, code, word)");
  auto o = std::make_shared<ProbeCmdOptions>();
  cmd->add_option("model", o->model, "Model file, directory or http(s) URL")->required();
  add_load_flags(cmd, o->load);
  cmd->add_option("--categories", o->categories, "Categories to run (default: all)")
      ->delimiter(',');
  cmd->add_flag("--json", o->json, "The full report as JSON");
  cmd->add_option("-n,--max-tokens", o->max_tokens, "Most tokens per reply")->capture_default_str();
  cmd->add_option("--concurrency", o->concurrency, "Probes in flight at once")
      ->capture_default_str();
  cmd->add_option("--run", o->run_dir, "Run directory (resumable)");
  cmd->add_flag("--restart", o->restart, "Discard a run directory made with another config");
  cmd->callback([o] { run_probe_cmd(*o); });
}

const CommandRegistration kRegister{73, setup_probe};

}  // namespace
}  // namespace inference::cli
