// ml/responses.hpp — the responses JSONL format scored by `infer score`.
//
// One object per line: id, prompt, response, model, optional domain, elapsed_seconds,
// correct_answer (exact), best_answer (TruthfulQA), risk_area (DoNotAnswer); or, for the
// multiple-choice suite, {id, question, choices[], answer}. Which fields are required depends on
// the suites that run, so the reader keeps the whole object and checks per suite.
#pragma once

#include <cstddef>
#include <filesystem>
#include <istream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ml/jsonl_reader.hpp"

namespace inference::ml {

struct Response {
  size_t line = 0;  ///< 1-based line in the input
  std::string id;
  std::string prompt;
  std::string response;
  std::string model;
  std::string domain;
  std::optional<double> elapsed_seconds;
  std::optional<std::string> correct_answer;
  std::optional<std::string> best_answer;
  std::optional<std::string> risk_area;
  // multiple choice
  std::string question;
  std::vector<std::string> choices;
  std::optional<int> answer;  ///< index into choices
  bool has_response = false;  ///< the `response` field was present
};

/// What the reader found: the items in input order, and the lines it skipped.
struct ResponseSet {
  std::vector<Response> items;
  std::vector<LineProblem> problems;
  size_t lines = 0;
};

/// Converts one JSON object; throws std::invalid_argument naming the field that is wrong.
/// `id` (string or integer) is required; every other field is optional but must have its type.
Response parse_response(const nlohmann::json& object, size_t line);

ResponseSet read_responses(std::istream& in);
/// Throws inference::Error(not_found) when the file cannot be opened.
ResponseSet read_responses(const std::filesystem::path& path);

}  // namespace inference::ml
