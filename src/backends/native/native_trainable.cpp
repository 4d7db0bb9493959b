// NativeModel's TrainableModel and AdapterModel capabilities: LoRA training through the
// trainer of src/train (exact backward pass on the frozen base, AdamW) and the list of the
// adapters the engine applies unmerged.
#include <mutex>

#include "backends/native/native_model.hpp"
#include "inference/error.hpp"
#include "train/adamw.hpp"
#include "train/lora_checkpoint.hpp"
#include "train/lora_trainer.hpp"

namespace inference::native {

namespace {

[[noreturn]] void invalid(const std::string& what) {
  throw Error(ErrorCode::invalid_argument, what);
}

}  // namespace

void NativeModel::set_training_source(std::filesystem::path model, int32_t threads) {
  std::lock_guard lock(train_mu_);
  train_model_path_ = std::move(model);
  train_threads_ = threads;
}

void NativeModel::apply_lora(const LoraConfig& config) {
  std::lock_guard lock(train_mu_);
  if (train_model_path_.empty())
    throw Error(ErrorCode::unsupported, "this model was not loaded from a file it can train on");
  // The trainer maps the same file: its pages are shared with the serving engine's.
  if (!trainer_)
    trainer_ = std::make_unique<train::LoraTrainer<float>>(train_model_path_, train_threads_);
  trainer_->init(train::LoraTrainConfig{
      .rank = config.rank, .alpha = config.alpha, .targets = config.targets, .seed = config.seed});
  train_steps_ = 0;
}

TrainStepResult NativeModel::train_step(std::span<const TrainExample> batch,
                                        const TrainStepConfig& config) {
  std::lock_guard lock(train_mu_);
  if (!trainer_) invalid("train_step: no adapter to train; call apply_lora() first");
  if (batch.empty()) invalid("train_step: the batch is empty");
  if (!(config.learning_rate >= 0.0)) invalid("train_step: learning_rate must be >= 0");
  int64_t trained = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    const TrainExample& e = batch[i];
    if (e.tokens.size() != e.mask.size())
      invalid("train_step: example " + std::to_string(i) + " has " +
              std::to_string(e.tokens.size()) + " tokens but " + std::to_string(e.mask.size()) +
              " mask entries");
    for (size_t t = 1; t < e.mask.size(); ++t) trained += e.mask[t] != 0 ? 1 : 0;
  }
  if (trained == 0) invalid("train_step: no example of the batch has a trained token");
  trainer_->zero_grad();
  double loss = 0.0;
  // Gradients of the mean over the batch's trained tokens, as `infer train` does.
  for (const TrainExample& e : batch)
    loss += trainer_->accumulate(e.tokens, e.mask, 1.0 / static_cast<double>(trained));
  train::OptimizerConfig opt;
  opt.learning_rate = config.learning_rate;
  opt.beta1 = config.beta1;
  opt.beta2 = config.beta2;
  opt.epsilon = config.epsilon;
  opt.weight_decay = config.weight_decay;
  opt.clip_norm = config.clip_norm;
  opt.schedule = "constant";
  ++train_steps_;
  TrainStepResult result;
  result.step = train_steps_;
  result.grad_norm = train::adamw_step(trainer_->lora(), opt, train_steps_, config.learning_rate);
  result.loss = loss / static_cast<double>(trained);
  result.trained_tokens = trained;
  return result;
}

double NativeModel::evaluate_loss(std::span<const TrainExample> examples) {
  std::lock_guard lock(train_mu_);
  if (!trainer_) invalid("evaluate_loss: no adapter; call apply_lora() first");
  double loss = 0.0;
  int64_t trained = 0;
  for (size_t i = 0; i < examples.size(); ++i) {
    const TrainExample& e = examples[i];
    if (e.tokens.size() != e.mask.size())
      invalid("evaluate_loss: example " + std::to_string(i) + ": tokens and mask sizes differ");
    for (size_t t = 1; t < e.mask.size(); ++t) trained += e.mask[t] != 0 ? 1 : 0;
    loss += trainer_->loss(e.tokens, e.mask);
  }
  if (trained == 0) invalid("evaluate_loss: no trained token in the examples");
  return loss / static_cast<double>(trained);
}

void NativeModel::save_adapter(const std::filesystem::path& dir) const {
  std::lock_guard lock(train_mu_);
  if (!trainer_) invalid("save_adapter: no adapter; call apply_lora() first");
  train::save_peft_adapter(trainer_->lora(), trainer_->hparams(), trainer_->qk_permuted(),
                           train_model_path_.string(), dir);
}

}  // namespace inference::native
