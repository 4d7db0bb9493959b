// ml/probe_runner.hpp — running the probes against a model (any backend), resumably.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "inference/context.hpp"
#include "inference/text_model.hpp"

namespace inference::ml {

struct ProbeOptions {
  std::vector<std::string> categories;  ///< empty: all
  int32_t max_tokens = 512;
  int concurrency = 1;
  std::filesystem::path run_dir;  ///< empty: no run store
  bool restart = false;
  std::string model_name;  ///< part of the run fingerprint
  std::ostream* progress = nullptr;
  bool progress_tty = false;
};

/// {model, accuracy, correct, total, by_category{cat:{correct,total,accuracy}},
///  probes:[{id, category, topic, prompt, reply, correct, error?}]}. Throws
/// Error(invalid_argument) for an unknown category.
nlohmann::json run_probes(const Context& ctx, TextModel& model, const ProbeOptions& options);

}  // namespace inference::ml
