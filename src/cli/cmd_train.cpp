// infer train: fine-tune a LoRA adapter on a JSONL file (chat or text) — thin over src/train.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/command.hpp"
#include "cli/generation_flags.hpp"
#include "inference/backend.hpp"
#include "inference/capabilities.hpp"
#include "inference/error.hpp"
#include "train/train_run.hpp"

namespace inference::cli {
namespace {

struct TrainOptions {
  train::TrainRunConfig run;
  std::string data, valid, targets = "q_proj,v_proj";
  int32_t seq_len = 512;
  bool json = false;
};

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string duration(double seconds) {
  const long s = static_cast<long>(seconds);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  return buffer;
}

void run(TrainOptions& o) {
  o.run.lora.targets = split(o.targets);
  // The model's own tokenizer and chat template prepare the data.
  auto model = load_model(o.run.model, {.backend = "native", .context_length = 64});
  auto* tokenizer = dynamic_cast<TokenizerModel*>(model.get());
  if (tokenizer == nullptr) throw Error(ErrorCode::unsupported, "the model has no tokenizer");
  const auto train_data = train::load_train_jsonl(o.data, *tokenizer, o.seq_len);
  std::optional<train::TrainDataset> valid_data;
  if (!o.valid.empty()) valid_data = train::load_train_jsonl(o.valid, *tokenizer, o.seq_len);
  model.reset();
  std::cerr << "train: " << train_data.examples.size() << " examples";
  if (train_data.skipped)
    std::cerr << " (" << train_data.skipped << " without trained tokens skipped)";
  if (train_data.truncated)
    std::cerr << " (" << train_data.truncated << " cut to " << o.seq_len << " tokens)";
  std::cerr << "\n";

  const bool tty = isatty(STDERR_FILENO) != 0;
  InterruptCanceller canceller;
  const Context ctx = canceller.arm();
  auto summary = train::run_training(
      ctx, o.run, train_data, valid_data ? &*valid_data : nullptr,
      [&](const train::TrainProgress& p) {
        if (o.json) {
          std::cout << "{\"step\":" << p.step << ",\"loss\":" << p.loss
                    << ",\"lr\":" << p.learning_rate << ",\"grad_norm\":" << p.grad_norm
                    << ",\"tokens_per_second\":" << p.tokens_per_second;
          if (p.valid_loss) std::cout << ",\"valid_loss\":" << *p.valid_loss;
          std::cout << "}\n" << std::flush;
        }
        const bool report = tty || p.step == p.total_steps || p.valid_loss || p.checkpoint_saved ||
                            p.step % 10 == 0;
        if (!report) return;
        const int width = 24;
        const int filled = static_cast<int>(width * p.step / std::max<int64_t>(1, p.total_steps));
        std::fprintf(stderr, "%s[%s%s] %lld/%lld loss %.4f lr %.2e %.0f tok/s ETA %s%s%s%s",
                     tty ? "\r" : "", std::string(static_cast<size_t>(filled), '#').c_str(),
                     std::string(static_cast<size_t>(width - filled), '.').c_str(),
                     static_cast<long long>(p.step), static_cast<long long>(p.total_steps), p.loss,
                     p.learning_rate, p.tokens_per_second, duration(p.eta_seconds).c_str(),
                     p.valid_loss ? (" valid " + std::to_string(*p.valid_loss)).c_str() : "",
                     p.checkpoint_saved ? " (checkpoint)" : "", tty ? "" : "\n");
      });
  if (tty) std::fputc('\n', stderr);
  if (summary.cancelled) {
    std::cerr << "train: interrupted at step " << summary.steps
              << "; a checkpoint was saved — run again with --resume to continue\n";
    throw ExitRequest{kInterrupted, ""};
  }
  std::cerr << "train: " << summary.steps << " steps";
  if (summary.resumed_from) std::cerr << " (resumed at " << summary.resumed_from << ")";
  std::cerr << ", final loss " << summary.final_loss;
  if (summary.valid_loss) std::cerr << ", validation loss " << *summary.valid_loss;
  std::cerr << "; adapter written to " << summary.adapter_dir.string() << "\n";
}

void setup_train(CLI::App& root) {
  auto* cmd = root.add_subcommand("train", "Train a LoRA adapter on JSONL data (chat or text)");
  auto o = std::make_shared<TrainOptions>();
  cmd->add_option("model", o->run.model, "Base model: GGUF file or Safetensors directory")
      ->required();
  cmd->add_option("--data", o->data, "Training JSONL: {\"messages\":[…]} or {\"text\":…} per line")
      ->required();
  cmd->add_option("--valid", o->valid, "Validation JSONL (same formats)");
  cmd->add_option("--out", o->run.out_dir, "Adapter directory (PEFT files + checkpoints)")
      ->required();
  cmd->add_option("--rank", o->run.lora.rank, "LoRA rank")->capture_default_str();
  cmd->add_option("--alpha", o->run.lora.alpha, "LoRA alpha (scale = alpha / rank)")
      ->capture_default_str();
  cmd->add_option("--targets", o->targets,
                  "Projections: q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj")
      ->capture_default_str();
  cmd->add_option("--lr", o->run.optimizer.learning_rate, "Peak learning rate")
      ->capture_default_str();
  cmd->add_option("--batch-size", o->run.batch_size, "Sequences per step")->capture_default_str();
  cmd->add_option("--seq-len", o->seq_len, "Longest sequence in tokens (longer ones are cut)")
      ->capture_default_str();
  auto* steps = cmd->add_option("--steps", o->run.steps, "Optimizer steps");
  cmd->add_option("--epochs", o->run.epochs, "Passes over the data (when --steps is not given)")
      ->excludes(steps);
  cmd->add_option("--warmup", o->run.optimizer.warmup_steps, "Linear warm-up steps");
  cmd->add_option("--schedule", o->run.optimizer.schedule, "cosine or constant")
      ->check(CLI::IsMember({"cosine", "constant"}))
      ->capture_default_str();
  cmd->add_option("--weight-decay", o->run.optimizer.weight_decay, "AdamW weight decay");
  cmd->add_option("--clip", o->run.optimizer.clip_norm, "Gradient-norm clip (0 = off)")
      ->capture_default_str();
  cmd->add_flag("--grad-checkpoint", o->run.grad_checkpoint,
                "Recompute activations in the backward pass");
  cmd->add_flag("--exact", o->run.exact_products,
                "Quantised bases: float products over dequantised weights (slower) instead of "
                "the 8-bit prompt-processing kernels");
  cmd->add_flag("--resident-weights", o->run.resident_weights,
                "Keep the forward weights unpacked in the GEMM's panel form: faster steps for "
                "~1.25 bytes per weight more memory");
  cmd->add_option("--save-every", o->run.save_every, "Checkpoint every K steps");
  cmd->add_option("--valid-every", o->run.valid_every, "Validation loss every K steps");
  cmd->add_flag("--resume", o->run.resume, "Continue from the latest checkpoint in --out");
  cmd->add_option("--keep-checkpoints", o->run.keep_checkpoints,
                  "Newest checkpoints kept (0 = all)")
      ->capture_default_str();
  cmd->add_option("--seed", o->run.lora.seed, "Seed of the initialisation and the data order");
  cmd->add_option("-t,--threads", o->run.threads, "Threads (0 = one per physical core)");
  cmd->add_flag("--json", o->json, "One JSON object per step on stdout");
  cmd->callback([o] { run(*o); });
}

const CommandRegistration kRegister{75, setup_train};

}  // namespace
}  // namespace inference::cli
