// infer classify — sort a corpus by a model's next-token label (src/ml/classifier does the
// work): batched classify() calls, the label spliced into each record byte for byte,
// --calibrate against a second model. Resumable with --run DIR.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/command.hpp"
#include "cli/generation_flags.hpp"
#include "inference/error.hpp"
#include "ml/classifier.hpp"
#include "ml/fingerprint.hpp"
#include "ml/model_ref.hpp"
#include "ml/progress.hpp"

namespace inference::cli {
namespace {

struct ClassifyCmdOptions {
  std::string model;
  LoadFlags load;
  std::string in, out;
  std::string field = "prompt";
  std::vector<std::string> labels = {"technical", "creative", "ethical", "casual"};
  std::string template_file;
  int batch_size = 8;
  std::string label_field = "domain_1b";
  std::string logprobs_field;
  std::string calibrate;
  std::string truth_field = "domain";
  size_t sample = 0;
  std::string run_dir;
  bool restart = false;
  bool json = false;
};

void print_report(const ml::ClassifyReport& r, const std::string& name) {
  std::cerr << "classify (" << name << "): " << r.total << " records, " << r.classified
            << " labelled, " << r.skipped << " skipped, " << r.resumed << " resumed; "
            << r.prompts_per_second << " prompts/s\n";
  for (const auto& [label, n] : r.per_label) std::cerr << "  " << label << ": " << n << "\n";
}

void run_classify_cmd(const ClassifyCmdOptions& o) {
  if (o.batch_size < 1) throw ExitRequest{kUsage, "classify: --batch-size must be >= 1"};
  ml::ClassifyOptions co;
  co.labels = o.labels;
  co.field = o.field;
  co.label_field = o.label_field;
  co.logprobs_field = o.logprobs_field;
  co.batch_size = o.batch_size;
  co.sample = o.sample;
  co.run_dir = o.run_dir;
  co.restart = o.restart;
  co.model_name = o.model;
  co.progress = &std::cerr;
  co.progress_tty = ml::stderr_is_tty();
  if (!o.template_file.empty()) {
    std::ifstream t(o.template_file, std::ios::binary);
    if (!t) throw Error(ErrorCode::not_found, "cannot open template " + o.template_file);
    std::stringstream ss;
    ss << t.rdbuf();
    co.prompt_template = ss.str();
  }
  co.input_fingerprint = ml::Fingerprint().add_file(o.in).hex();

  LoadConfig lc = o.load.config();
  lc.parallel_slots = o.batch_size;  // one KV slot per prompt of a batch: one shared prefill
  auto model = ml::load_model_ref(o.model, lc);

  std::ifstream in(o.in, std::ios::binary);
  if (!in) throw Error(ErrorCode::not_found, "cannot open " + o.in);
  const std::string tmp = o.out + ".partial";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(ErrorCode::invalid_argument, "cannot write " + tmp);

  InterruptCanceller canceller;
  const Context ctx = canceller.arm();
  ml::ClassifyReport a, b;
  try {
    a = ml::classify_corpus(ctx, *model, in, &out, co, o.truth_field);
    out.close();
    if (!out) throw Error(ErrorCode::backend, "writing " + tmp + " failed");
    // The output appears whole or not at all: a killed run never leaves a half file behind.
    std::filesystem::rename(tmp, o.out);
    for (const auto& p : a.problems)
      std::cerr << "classify: " << o.in << ":" << p.line << ": " << p.message << "\n";
    print_report(a, o.model);
    nlohmann::json report = {{"stats", a.to_json()}};
    if (!o.calibrate.empty()) {
      model.reset();
      auto model_b = ml::load_model_ref(o.calibrate, lc);
      std::ifstream in_b(o.in, std::ios::binary);
      ml::ClassifyOptions cb = co;
      cb.run_dir.clear();  // the calibration pass is a sample, not a resumable run
      cb.model_name = o.calibrate;
      b = ml::classify_corpus(ctx, *model_b, in_b, nullptr, cb, o.truth_field);
      print_report(b, o.calibrate);
      report["calibration"] = ml::calibration_report(a, b);
      const auto& cal = report["calibration"];
      std::cerr << "agreement: " << cal["agreement"].get<double>() * 100.0 << "% of "
                << cal["records"] << " records\n";
      for (const auto& c : cal["confusion"])
        std::cerr << "  " << c["a"].get<std::string>() << " -> " << c["b"].get<std::string>()
                  << ": " << c["count"] << "\n";
      if (cal.contains("accuracy_a"))
        std::cerr << "accuracy vs '" << o.truth_field << "': " << o.model << " "
                  << cal["accuracy_a"] << ", " << o.calibrate << " " << cal["accuracy_b"] << "\n";
    }
    if (o.json) std::cout << report.dump(2) << "\n";
  } catch (const Error& e) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    if (canceller.interrupted() || e.code() == ErrorCode::cancelled)
      throw ExitRequest{kInterrupted, "classify: interrupted" +
                                          (o.run_dir.empty() ? std::string()
                                                             : "; rerun to continue " + o.run_dir)};
    throw;
  }
}

void setup_classify(CLI::App& root) {
  auto* cmd = root.add_subcommand("classify",
                                  "Label every record of a JSONL corpus by a model's next token");
  auto o = std::make_shared<ClassifyCmdOptions>();
  cmd->add_option("model", o->model, "Model file, directory or http(s) URL")->required();
  add_load_flags(cmd, o->load);
  cmd->add_option("--in", o->in, "Corpus JSONL")->required();
  cmd->add_option("--out", o->out, "Output JSONL (every record, label added)")->required();
  cmd->add_option("--field", o->field, "Field holding the text")->capture_default_str();
  cmd->add_option("--labels", o->labels, "Labels")->delimiter(',')->capture_default_str();
  cmd->add_option("--template", o->template_file,
                  "Prompt template file with {text} (and optionally {labels})");
  cmd->add_option("--batch-size", o->batch_size, "Prompts per classify call")
      ->capture_default_str();
  cmd->add_option("--label-field", o->label_field, "Field the label is written to")
      ->capture_default_str();
  cmd->add_option("--logprobs-field", o->logprobs_field,
                  "Also write the labels' log-probabilities (from the top 20) to this field");
  cmd->add_option("--calibrate", o->calibrate, "Second model: agreement and confusion pairs");
  cmd->add_option("--truth-field", o->truth_field, "Ground-truth label field for --calibrate")
      ->capture_default_str();
  cmd->add_option("--sample", o->sample, "Classify only the first N usable records (0 = all)");
  cmd->add_option("--run", o->run_dir, "Run directory (resumable)");
  cmd->add_flag("--restart", o->restart, "Discard a run directory made with other input/config");
  cmd->add_flag("--json", o->json, "Print the stats (and calibration) as JSON on stdout");
  cmd->callback([o] { run_classify_cmd(*o); });
}

const CommandRegistration kRegister{74, setup_classify};

}  // namespace
}  // namespace inference::cli
