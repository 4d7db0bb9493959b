// Judge calls on the native backend run together through the continuous-batching scheduler:
// the N calls in flight are sequences of one batch (one forward pass per step for all of them),
// never more than N at once, and far fewer forward passes than judging one item at a time.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "inference/backend.hpp"
#include "inference/capabilities.hpp"
#include "ml/scorer.hpp"
#include "support/testdata.hpp"

namespace inference::ml {
namespace {

// Forwards to the native model. Each chat() submits its sequence, then waits (bounded) until
// `parties` calls have submitted theirs, so every round's calls are queued before any of them
// is pulled: the scheduler then runs them as one batch. It records how many sequences the
// scheduler held at each rendezvous and the most calls ever in flight.
class RendezvousModel : public TextModel {
 public:
  RendezvousModel(TextModel& inner, int parties) : inner_(inner), parties_(parties) {}

  TokenStream chat(const Context& ctx, std::span<const Message> messages,
                   const GenerateConfig& config) override {
    const int now = ++in_flight;
    for (int seen = most_in_flight.load();
         now > seen && !most_in_flight.compare_exchange_weak(seen, now);) {
    }
    auto stream = inner_.chat(ctx, messages, config);
    std::unique_lock lock(mu_);
    const int round = round_;
    if (++arrived_ == parties_) {
      const auto state = dynamic_cast<ServingStats&>(inner_).serving_state();
      held_at_rendezvous.push_back(state.queued + state.active);
      arrived_ = 0;
      ++round_;
      cv_.notify_all();
    } else {
      // Bounded: a scorer that ran calls one at a time would leave the round short.
      cv_.wait_for(lock, std::chrono::seconds(10), [&] { return round_ != round; });
    }
    --in_flight;
    return stream;
  }
  TokenStream generate(const Context& ctx, std::string_view prompt,
                       const GenerateConfig& config) override {
    return inner_.generate(ctx, prompt, config);
  }
  std::vector<ClassifyResult> classify(const Context& ctx, std::span<const std::string> prompts,
                                       const GenerateConfig& config) override {
    return inner_.classify(ctx, prompts, config);
  }
  std::vector<BatchResult> batch_generate(const Context& ctx, std::span<const std::string> prompts,
                                          const GenerateConfig& config) override {
    return inner_.batch_generate(ctx, prompts, config);
  }
  std::string model_type() const override { return inner_.model_type(); }
  ModelInfo info() const override { return inner_.info(); }
  GenerateMetrics metrics() const override { return inner_.metrics(); }
  Status err() const override { return inner_.err(); }
  void close() override {}

  std::atomic<int> in_flight{0};
  std::atomic<int> most_in_flight{0};
  std::vector<int64_t> held_at_rendezvous;  // guarded by mu_ while calls run

 private:
  TextModel& inner_;
  const int parties_;
  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;
  int round_ = 0;
};

Response item(int i) {
  Response r;
  r.id = std::to_string(i);
  r.prompt = "Say something kind about item " + r.id;
  r.response = "Here is answer " + r.id + ", as kind as I can make it.";
  r.has_response = true;
  r.model = "m";
  return r;
}

// Forward passes the scheduler ran to judge `items` items `concurrency` at a time.
uint64_t judge_steps(TextModel& native, int items, int concurrency, RendezvousModel* gate) {
  ResponseSet set;
  for (int i = 0; i < items; ++i) set.items.push_back(item(i));
  ScoreConfig config;
  config.suites = {"toxigen"};
  config.judge = gate ? static_cast<TextModel*>(gate) : &native;
  config.concurrency = concurrency;
  config.judge_options.max_tokens = 12;
  config.judge_options.use_constraint = false;  // free text: every item takes two full calls
  auto& stats = dynamic_cast<ServingStats&>(native);
  const uint64_t before = stats.serving_state().steps;
  auto out = run_score(Context::background(), set, config, {});
  EXPECT_EQ(out.items.size(), static_cast<size_t>(items));
  return stats.serving_state().steps - before;
}

TEST(NativeJudge, ConcurrentCallsShareTheBatchAndStayWithinTheBound) {
  const auto path = test::testdata_dir() / "models/e2e/e2e-spm-mistral-Q4_K_M.gguf";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared test data not found";
  constexpr int kConcurrency = 4;
  // As `infer score --judge` loads it: one slot per judge call in flight.
  auto native = load_model(
      path,
      {.backend = "native", .context_length = 2048, .parallel_slots = kConcurrency, .threads = 1});
  RendezvousModel gate(*native, kConcurrency);
  const uint64_t batched = judge_steps(*native, kConcurrency, kConcurrency, &gate);
  EXPECT_LE(gate.most_in_flight.load(), kConcurrency);
  // Every round, all N calls were sequences of the scheduler at once (queued for one batch).
  ASSERT_FALSE(gate.held_at_rendezvous.empty());
  for (int64_t held : gate.held_at_rendezvous) EXPECT_EQ(held, kConcurrency);

  const uint64_t one_by_one = judge_steps(*native, kConcurrency, 1, nullptr);
  // Batched, N calls advance together: about 1/N of the forward passes (at least 1/1.5 here,
  // allowing for replies that end early at different lengths).
  EXPECT_LT(batched * 3, one_by_one * 2) << "batched " << batched << ", one by one " << one_by_one;
  native->close();
}

}  // namespace
}  // namespace inference::ml
