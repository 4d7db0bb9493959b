// infer quantize IN OUT TYPE — rewrites a GGUF model (or a Hugging Face Safetensors directory)
// with its weights in another block format: a thin wrapper over convert::quantize_model, which
// follows llama.cpp's published llama-quantize rules (convert/tensor_types.hpp).
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.hpp"
#include "convert/file_type.hpp"
#include "convert/quantize_model.hpp"

namespace inference::cli {
namespace {

struct QuantizeArgs {
  std::string in;
  std::string out;
  convert::QuantizeOptions options;
};

/// Draws "[=====>    ]  45% name" on stderr (only when it is a terminal).
class ProgressBar {
 public:
  ProgressBar() : enabled_(isatty(STDERR_FILENO) != 0) {}
  void update(uint64_t done, uint64_t total, std::string_view label) {
    if (!enabled_) return;
    const int width = 30;
    const double f = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
    const int filled = static_cast<int>(f * width);
    std::string bar(static_cast<size_t>(filled), '=');
    if (filled < width) bar += '>';
    bar.resize(width, ' ');
    const std::string text(label);
    std::fprintf(stderr, "\r[%s] %3d%% %-48.48s", bar.c_str(), static_cast<int>(f * 100),
                 text.c_str());
    std::fflush(stderr);
  }
  void finish() {
    if (enabled_) std::fprintf(stderr, "\n");
  }

 private:
  bool enabled_;
};

void run_quantize(const QuantizeArgs& a) {
  if (!convert::parse_quantize_type(a.options.type)) {
    throw ExitRequest{kUsage, "quantize: unknown or unsupported type '" + a.options.type + "' (" +
                                  std::string(convert::kQuantizeTypeNames) + ")"};
  }
  ProgressBar bar;
  const auto result = convert::quantize_model(
      a.in, a.out, a.options, [&](uint64_t done, uint64_t total, std::string_view label) {
        bar.update(done, total, label);
      });
  bar.finish();
  std::fprintf(stderr, "quantize: %s -> %s (%s): %.1f MiB -> %.1f MiB, %zu tensors\n", a.in.c_str(),
               a.out.c_str(), result.type.c_str(), static_cast<double>(result.in_bytes) / (1 << 20),
               static_cast<double>(result.out_bytes) / (1 << 20), result.n_tensors);
}

void setup_quantize(CLI::App& root) {
  auto a = std::make_shared<QuantizeArgs>();
  auto* cmd = root.add_subcommand(
      "quantize",
      "Write a GGUF model (from a GGUF or a Safetensors directory) with its weights in another "
      "format (llama.cpp's rules)");
  cmd->add_option("IN", a->in,
                  "Input GGUF, or Hugging Face directory (config.json, *.safetensors, "
                  "tokenizer.json), with F32, F16 or BF16 weights")
      ->required();
  cmd->add_option("OUT", a->out, "Output GGUF")->required();
  cmd->add_option("TYPE", a->options.type,
                  "F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, Q4_K_M, Q5_K_M")
      ->required();
  cmd->add_flag("--pure", a->options.pure,
                "Every weight gets TYPE (no Q6_K output, no _M promotions; fallbacks still apply)");
  cmd->add_flag("--allow-requantize", a->options.allow_requantize,
                "Allow converting tensors that are already quantised");
  cmd->add_option("-t,--threads", a->options.threads, "Threads (default: one per physical core)");
  cmd->callback([a] { run_quantize(*a); });
}

const CommandRegistration kRegister{70, setup_quantize};

}  // namespace
}  // namespace inference::cli
