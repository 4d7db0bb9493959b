// infer gen-lora — writes a random LoRA adapter (GGUF LoRA format) for a named model shape, the
// partner of gen-model for measuring the cost of unmerged adapters (`infer bench --lora`): a thin
// wrapper over testing::generate_lora.
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/command.hpp"
#include "inference/error.hpp"
#include "testing/generate_lora.hpp"

namespace inference::cli {
namespace {

struct GenLoraArgs {
  std::string shape;
  std::string out;
  std::string targets;  // comma-separated; empty = all seven
  testing::GenerateLoraOptions options;
};

void run_gen_lora(GenLoraArgs& a) {
  const testing::ModelShape* shape = testing::find_model_shape(a.shape);
  if (shape == nullptr)
    throw ExitRequest{kUsage, "gen-lora: unknown shape '" + a.shape +
                                  "' (known: " + testing::model_shape_names() + ")"};
  if (!a.targets.empty()) {
    a.options.targets.clear();
    std::stringstream list(a.targets);
    for (std::string t; std::getline(list, t, ',');)
      if (!t.empty()) a.options.targets.push_back(t);
  }
  const auto result = testing::generate_lora(*shape, a.out, a.options);
  std::cout << "wrote " << a.out << ": rank " << a.options.rank << " LoRA for " << shape->name
            << ", " << result.n_tensors << " tensors, " << result.parameters << " parameters, "
            << std::filesystem::file_size(a.out) << " bytes\n";
}

void setup_gen_lora(CLI::App& root) {
  auto* cmd = root.add_subcommand(
      "gen-lora", "Write a random LoRA adapter (GGUF) for a named shape (for benchmarks)");
  auto a = std::make_shared<GenLoraArgs>();
  cmd->add_option("--shape", a->shape, "Shape: " + testing::model_shape_names())->required();
  cmd->add_option("--out", a->out, "Output .gguf file")->required();
  cmd->add_option("--rank", a->options.rank, "LoRA rank")->capture_default_str();
  cmd->add_option("--alpha", a->options.alpha, "LoRA alpha (scale = alpha / rank)")
      ->capture_default_str();
  cmd->add_option("--targets", a->targets,
                  "Comma-separated projections (default: q,k,v,o,gate,up,down _proj)");
  cmd->add_option("--seed", a->options.seed, "Random seed")->capture_default_str();
  cmd->callback([a] { run_gen_lora(*a); });
}

const CommandRegistration kRegister{81, setup_gen_lora};

}  // namespace
}  // namespace inference::cli
