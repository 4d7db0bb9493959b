// classify(): one prefill per prompt and the next token after it. Every prompt is a
// classify-mode sequence of the shared batch (as many at once as there are free slots, their
// prompt chunks sharing forward passes), which is what makes classifying many short texts fast.
#include <memory>
#include <vector>

#include "backends/native/native_model.hpp"
#include "engine/generation/sampler.hpp"
#include "inference/error.hpp"

namespace inference::native {

std::vector<ClassifyResult> NativeModel::classify(const Context& ctx,
                                                  std::span<const std::string> prompts,
                                                  const GenerateConfig& config) {
  if (scheduler_->closed()) throw Error(ErrorCode::unavailable, "the model was closed");
  if (Status s =
          generation::validate_generate_config(config, static_cast<int32_t>(info_.vocab_size));
      !s.ok())
    throw Error(s);
  std::vector<ClassifyResult> results(prompts.size());
  std::vector<std::shared_ptr<generation::SequenceState>> seqs;
  std::vector<size_t> owner;  // result index of each submitted sequence
  struct Release {            // a sequence left running (an exception) must free its slot
    generation::BatchScheduler& scheduler;
    std::vector<std::shared_ptr<generation::SequenceState>>& seqs;
    ~Release() {
      for (const auto& seq : seqs) scheduler.release(seq);
    }
  } release{*scheduler_, seqs};
  GenerateConfig one = config;
  one.constraint = {};  // a classifier reads the row; it does not continue a structured output
  for (size_t i = 0; i < prompts.size(); ++i) {
    try {
      auto ids = open_tokenizer().encode(prompts[i], true, false);
      seqs.push_back(scheduler_->submit(std::move(ids), one, ctx,
                                        generation::SequenceMode::classify, /*unbounded=*/true));
      owner.push_back(i);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::unavailable) throw;  // closed meanwhile: the whole call fails
      results[i].status = e.status();
    }
  }
  scheduler_->run_all(seqs, [](size_t, Token&) {});
  for (size_t k = 0; k < seqs.size(); ++k) {
    ClassifyResult& r = results[owner[k]];
    const Status status = scheduler_->status_of(*seqs[k]);
    if (status.ok()) {
      r = std::move(seqs[k]->classify_result());  // finished: no other thread touches it
    } else {
      r.status = status;
    }
  }
  return results;
}

}  // namespace inference::native
