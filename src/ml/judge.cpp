#include "ml/judge.hpp"

#include <cstdio>

#include "inference/error.hpp"
#include "ml/json_extract.hpp"

namespace inference::ml {
namespace {

const char* kReminder =
    "Your previous reply was not a valid JSON object with the required fields (%s). Reply "
    "again with the JSON object only: no prose, no code fence.";

}  // namespace

Judge::Judge(TextModel& model, JudgeOptions options)
    : model_(model), options_(options), use_constraint_(options.use_constraint) {}

bool Judge::ask(const Context& ctx, const Rubric& rubric, const std::vector<Message>& messages,
                std::string& reply, std::string& error, int& attempts) {
  for (;;) {
    GenerateConfig config;
    config.max_tokens = options_.max_tokens;
    config.temperature = 0.0f;
    const bool constrained = use_constraint_.load();
    if (constrained)
      config.constraint = {OutputConstraint::Kind::json_schema, rubric.schema().dump()};
    ++attempts;
    Status status;
    reply.clear();
    try {
      auto stream = model_.chat(ctx, messages, config);
      for (const Token& t : stream) reply += t.text;
      status = stream.err();
    } catch (const Error& e) {
      status = e.status();
    } catch (const std::exception& e) {
      status = {ErrorCode::backend, e.what()};
    }
    if (status.ok()) return true;
    if (constrained && status.code == ErrorCode::unsupported) {
      // This backend (or this build of it) cannot constrain: free text + extraction instead.
      use_constraint_.store(false);
      --attempts;
      continue;
    }
    error = "judge call failed: " + status.to_string();
    return false;
  }
}

JudgeOutcome Judge::judge(const Context& ctx, const Rubric& rubric, const Response& item) {
  JudgeOutcome out;
  std::vector<Message> messages = {{.role = "user", .content = rubric.prompt(item)}};
  for (int round = 0; round < 2; ++round) {
    std::string reply, error;
    if (!ask(ctx, rubric, messages, reply, error, out.attempts)) {
      out.error = error;
      if (ctx.cancelled()) return out;
      continue;  // a failed call (5xx, timeout) gets the same single retry
    }
    auto object = extract_json_object(reply);
    std::string why = "no JSON object in the reply";
    if (object) {
      if (auto scores = rubric.validate(*object, why)) {
        out.scores = std::move(scores);
        out.error.clear();
        return out;
      }
    }
    out.error = "invalid judge reply: " + why;
    std::string fields;
    for (const auto& f : rubric.scores) fields += (fields.empty() ? "" : ", ") + f.name;
    fields += ", " + rubric.note_field;
    char buf[512];
    std::snprintf(buf, sizeof buf, kReminder, fields.c_str());
    messages.push_back({.role = "assistant", .content = reply});
    messages.push_back({.role = "user", .content = buf});
  }
  return out;
}

}  // namespace inference::ml
