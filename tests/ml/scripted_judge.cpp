#include "scripted_judge.hpp"

#include <thread>

namespace inference::test {
namespace {

class OneShotSource : public TokenSource {
 public:
  OneShotSource(std::string text, Status status)
      : text_(std::move(text)), status_(std::move(status)) {}
  bool next(Token& out) override {
    if (sent_) {
      final_ = status_;
      return false;
    }
    sent_ = true;
    if (text_.empty()) {
      final_ = status_;
      return false;
    }
    out.text = text_;
    return true;
  }
  Status status() const override { return final_; }

 private:
  std::string text_;
  Status status_, final_;
  bool sent_ = false;
};

}  // namespace

TokenStream ScriptedJudge::generate(const Context&, std::string_view, const GenerateConfig&) {
  return TokenStream(Status{ErrorCode::unsupported, "scripted judge: chat only"});
}

TokenStream ScriptedJudge::chat(const Context& ctx, std::span<const Message> messages,
                                const GenerateConfig& config) {
  ++calls;
  const int now = ++in_flight;
  int seen = max_in_flight.load();
  while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
  }
  std::vector<Message> copy(messages.begin(), messages.end());
  ScriptedReply reply = script_(copy, config);
  if (config.constraint.kind != OutputConstraint::Kind::none) {
    ++constrained_calls;
    if (reply.throw_unsupported_if_constrained) {
      --in_flight;
      throw Error(ErrorCode::unsupported, "scripted judge: no constrained decoding");
    }
  }
  if (reply.delay.count() > 0) ctx.sleep_for(reply.delay);
  --in_flight;
  if (ctx.cancelled()) return TokenStream(ctx.status());
  return TokenStream(std::make_unique<OneShotSource>(reply.text, reply.status));
}

std::vector<ClassifyResult> ScriptedJudge::classify(const Context&, std::span<const std::string>,
                                                    const GenerateConfig&) {
  throw Error(ErrorCode::unsupported, "scripted judge: chat only");
}

std::vector<BatchResult> ScriptedJudge::batch_generate(const Context&, std::span<const std::string>,
                                                       const GenerateConfig&) {
  throw Error(ErrorCode::unsupported, "scripted judge: chat only");
}

}  // namespace inference::test
