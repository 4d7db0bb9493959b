// ml/classifier.hpp — corpus pre-sort (`infer classify`): each record's text goes into a
// prompt that ends where the label's first token comes next; one classify() call per batch
// (argmax next token + log-probabilities); the matched label is spliced into the original
// line, every other byte kept. Resumable through a RunStore.
#pragma once

#include <filesystem>
#include <istream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "inference/context.hpp"
#include "inference/text_model.hpp"
#include "ml/jsonl_reader.hpp"

namespace inference::ml {

struct ClassifyOptions {
  std::vector<std::string> labels = {"technical", "creative", "ethical", "casual"};
  std::string field = "prompt";           ///< the text to classify
  std::string label_field = "domain_1b";  ///< where the label is written
  /// When set, also write {label: logprob} (the best top-20 alternative naming each label).
  std::string logprobs_field;
  std::string prompt_template;  ///< "" = the default; {labels} and {text} are filled
  int batch_size = 8;
  size_t max_text_bytes = 4000;  ///< longer texts are cut (at a UTF-8 boundary)
  size_t sample = 0;             ///< 0 = every record; else the first N usable records
  std::filesystem::path run_dir;
  bool restart = false;
  std::string model_name;         ///< part of the run fingerprint
  std::string input_fingerprint;  ///< hash of the corpus
  std::ostream* progress = nullptr;
  bool progress_tty = false;
};

/// The default prompt template.
const std::string& default_classify_template();
/// The template filled for one text. Throws Error(invalid_argument) if it lacks {text}.
std::string build_classify_prompt(const std::string& tmpl, const std::vector<std::string>& labels,
                                  std::string_view text);

struct ClassifyReport {
  size_t total = 0;       ///< records read (JSON objects)
  size_t skipped = 0;     ///< records without a usable text field, or whose prompt failed
  size_t classified = 0;  ///< records labelled (incl. "unknown")
  size_t resumed = 0;     ///< labels taken from the run store
  std::map<std::string, size_t> per_label;
  double seconds = 0.0;               ///< classification time in this process
  double prompts_per_second = 0.0;    ///< prompts classified by this process per second
  int64_t prompt_tokens = 0;          ///< from the backend's metrics, when it reports them
  std::vector<LineProblem> problems;  ///< malformed lines and per-record failures
  /// Per record (input order): the label, or nullopt when skipped; and the raw truth value.
  std::vector<std::optional<std::string>> labels;
  std::vector<std::optional<std::string>> truth;
  nlohmann::json to_json() const;
};

/// Classifies the corpus in `in`; writes every record (labelled ones spliced, skipped ones as
/// they were) to `out` when it is non-null. `truth_field` is read into report.truth.
ClassifyReport classify_corpus(const Context& ctx, TextModel& model, std::istream& in,
                               std::ostream* out, const ClassifyOptions& options,
                               const std::string& truth_field = "");

/// Agreement of two labelings of the same records, the confusion pairs (a != b, by count) and,
/// when truth is present, each model's accuracy against it.
nlohmann::json calibration_report(const ClassifyReport& a, const ClassifyReport& b);

}  // namespace inference::ml
