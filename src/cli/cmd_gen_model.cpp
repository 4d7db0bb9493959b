// infer gen-model — writes a random-weight GGUF model of a named real shape (Llama-3.2-1B,
// Gemma-3-1B, Qwen2.5-0.5B, tiny test shapes): a thin wrapper over testing::generate_model.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/command.hpp"
#include "convert/file_type.hpp"
#include "inference/error.hpp"
#include "testing/generate_model.hpp"

namespace inference::cli {
namespace {

struct GenModelArgs {
  std::string shape;
  std::string out;
  std::string vocab_from;
  testing::GenerateModelOptions options;
};

void run_gen_model(GenModelArgs& a) {
  const testing::ModelShape* shape = testing::find_model_shape(a.shape);
  if (shape == nullptr) {
    throw ExitRequest{kUsage, "gen-model: unknown shape '" + a.shape +
                                  "' (known: " + testing::model_shape_names() + ")"};
  }
  if (!convert::parse_file_type(a.options.type)) {
    throw ExitRequest{kUsage, "gen-model: unknown --type '" + a.options.type +
                                  "' (F32, F16, BF16, Q8_0, Q4_0, Q4_K_M, Q5_K_M, Q6_K, …)"};
  }
  if (a.out.empty()) throw ExitRequest{kUsage, "gen-model: --out FILE is required"};
  if (a.options.threads < 0) throw ExitRequest{kUsage, "gen-model: --threads must be >= 0"};
  a.options.vocab_from = a.vocab_from;
  const bool progress = isatty(STDERR_FILENO) != 0;
  if (progress) {
    a.options.progress = [](size_t done, size_t total) {
      std::fprintf(stderr, "\rgen-model: %zu/%zu tensors", done, total);
    };
  }
  testing::GeneratedModel result;
  try {
    result = testing::generate_model(*shape, a.out, a.options);
  } catch (const Error& e) {
    throw Error(e.code(), std::string("gen-model: ") + e.what());  // the command, as before
  }
  if (progress) std::fprintf(stderr, "\n");
  std::cout << "wrote " << a.out << ": " << shape->name << " " << result.type << ", "
            << result.n_tensors << " tensors, " << result.parameters << " parameters, "
            << std::filesystem::file_size(a.out) << " bytes\n";
}

void setup_gen_model(CLI::App& root) {
  auto* cmd = root.add_subcommand(
      "gen-model", "Write a random-weight GGUF model of a named shape (for benchmarks and tests)");
  auto a = std::make_shared<GenModelArgs>();
  cmd->add_option("--shape", a->shape, "Shape: " + testing::model_shape_names())->required();
  cmd->add_option("--type", a->options.type,
                  "File type: F32, F16, BF16, Q8_0, Q4_K_M, … (default F16)");
  cmd->add_option("--out", a->out, "Output .gguf file")->required();
  cmd->add_option("--seed", a->options.seed, "Random seed (default 1)");
  cmd->add_option("--vocab-from", a->vocab_from,
                  "Copy the tokenizer from this GGUF (its size must match the shape's vocab)");
  cmd->add_option("-t,--threads", a->options.threads, "Threads (default: all)");
  cmd->callback([a] { run_gen_model(*a); });
}

const CommandRegistration kRegister{80, setup_gen_model};

}  // namespace
}  // namespace inference::cli
